#include "emulator/mqtt/mqtt_server.h"

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "emulator/util/log.h"

namespace offcloud {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 4096;

// One TCP connection. Reads run in the connection's coroutine; sends may
// come from any thread (deliveries happen on the publisher's thread) and are
// queued on the connection's strand, written one after the other.
class Connection : public MqttLink, public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(tcp::socket socket) : stream_(std::move(socket)) {}

  void send(std::string bytes) override {
    asio::post(stream_.get_executor(), [self = shared_from_this(), bytes = std::move(bytes)] {
      if (self->closed_ || self->closing_) return;
      if (self->queued_bytes_ + bytes.size() > MqttLimits::kMaxQueuedBytes) {
        // A reader this slow would hold the broker's memory: it goes. (The
        // message being written stays until its write completes.)
        while (self->queue_.size() > (self->writing_ ? 1 : 0)) {
          self->queued_bytes_ -= self->queue_.back().size();
          self->queue_.pop_back();
        }
        self->closing_ = true;
        if (!self->writing_) self->shut();
        return;
      }
      self->queued_bytes_ += bytes.size();
      self->queue_.push_back(std::move(bytes));
      if (!self->writing_) self->write_next();
    });
  }

  void close() override {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->closing_ = true;
      if (!self->writing_) self->shut();
    });
  }

  auto executor() { return stream_.get_executor(); }

  // The connection's life, CONNECT to close; `self` keeps it alive.
  static asio::awaitable<void> run(std::shared_ptr<Connection> self, MqttBroker& broker) {
    co_await self->serve(broker);
  }

 private:
  asio::awaitable<void> serve(MqttBroker& broker) {
    boost::system::error_code ignored;
    auto endpoint = stream_.socket().remote_endpoint(ignored);
    std::string remote = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    auto session = std::make_shared<MqttSession>(broker, weak_from_this(), remote);
    char chunk[kReadChunk];
    for (;;) {
      stream_.expires_after(session->silence_allowed());
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(chunk), kNoThrow);
      if (ec || closing_ || !session->on_bytes(std::string_view(chunk, n))) break;
    }
    session->on_closed();
    close();
  }

  void write_next() {
    if (queue_.empty()) {
      writing_ = false;
      if (closing_) shut();
      return;
    }
    writing_ = true;
    asio::async_write(stream_.socket(), asio::buffer(queue_.front()),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (!self->queue_.empty()) {
                          self->queued_bytes_ -= self->queue_.front().size();
                          self->queue_.pop_front();
                        }
                        if (ec) {
                          self->queue_.clear();
                          self->queued_bytes_ = 0;
                          self->closing_ = true;
                        }
                        self->write_next();
                      });
  }

  void shut() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  std::deque<std::string> queue_;  // on the strand only
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool closed_ = false;
};

}  // namespace

struct MqttServer::Impl {
  Impl(Options o, MqttBroker& b)
      : options(std::move(o)),
        broker(b),
        ioc(static_cast<int>(options.threads)),
        acceptor(asio::make_strand(ioc)) {
    tcp::endpoint endpoint(asio::ip::make_address(options.host), options.port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
  }

  asio::awaitable<void> accept_loop() {
    while (!stopping) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), kNoThrow);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) break;
        log(LogLevel::kWarn, "mqtt accept failed: " + ec.message());
        asio::steady_timer pause(ioc, std::chrono::milliseconds(50));
        co_await pause.async_wait(kNoThrow);
        continue;
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto connection = std::make_shared<Connection>(std::move(socket));
      asio::co_spawn(connection->executor(), Connection::run(connection, broker),
                     [](std::exception_ptr error) {
                       if (!error) return;
                       try {
                         std::rethrow_exception(error);
                       } catch (const std::exception& e) {
                         log(LogLevel::kError, std::string("mqtt connection failed: ") + e.what());
                       }
                     });
    }
  }

  // Persistent sessions nobody came back for go, once a minute.
  asio::awaitable<void> expiry_loop() {
    asio::steady_timer timer(ioc);
    while (!stopping) {
      timer.expires_after(std::chrono::seconds(60));
      auto [ec] = co_await timer.async_wait(kNoThrow);
      if (ec || stopping) break;
      broker.expire_sessions();
    }
  }

  Options options;
  MqttBroker& broker;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  std::atomic<bool> stopping{false};
  std::vector<std::thread> threads;
  std::once_flag stopped;
};

MqttServer::MqttServer(Options options, MqttBroker& broker)
    : impl_(std::make_unique<Impl>(std::move(options), broker)) {}

MqttServer::~MqttServer() {
  stop();
}

std::uint16_t MqttServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

void MqttServer::start() {
  asio::co_spawn(impl_->acceptor.get_executor(), impl_->accept_loop(), asio::detached);
  asio::co_spawn(impl_->ioc, impl_->expiry_loop(), asio::detached);
  for (unsigned i = 0; i < std::max(1u, impl_->options.threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
}

void MqttServer::stop() {
  std::call_once(impl_->stopped, [this] {
    impl_->stopping = true;
    asio::post(impl_->acceptor.get_executor(), [this] {
      boost::system::error_code ignored;
      impl_->acceptor.close(ignored);
    });
    impl_->broker.close_all();
    // Connections end once their last bytes (an MQTT 5 DISCONNECT) are
    // written; a moment for that, then the loop stops.
    if (!impl_->threads.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    impl_->ioc.stop();
    for (std::thread& thread : impl_->threads) thread.join();
    impl_->threads.clear();
  });
}

}  // namespace offcloud

#include "emulator/mqtt/mqtt_server.h"

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "emulator/auth/local_ca.h"
#include "emulator/util/log.h"

namespace offcloud {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// Read per system call, into the thread's buffer.
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr std::size_t kTlsReadChunk = 16 * 1024;  // one TLS record
// How long a TLS client has to finish its handshake.
constexpr auto kHandshakeTime = std::chrono::seconds(10);

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// The certificate a TLS client proved it holds the key of, read by the CA.
std::optional<CertificateFacts> peer_certificate(TlsStream& stream, const LocalCa& ca) {
  X509* peer = SSL_get_peer_certificate(stream.native_handle());
  if (!peer) return std::nullopt;
  int size = i2d_X509(peer, nullptr);
  std::string der(static_cast<std::size_t>(std::max(size, 0)), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(peer, &out);
  X509_free(peer);
  std::string error;
  return ca.read(der, &error);
}

// One connection, over plain TCP or TLS. Reads run in the connection's
// coroutine; sends may come from any thread (deliveries happen on the
// publisher's thread) and are queued on the connection's strand, written one
// after the other.
template <class Stream>
class Connection : public MqttLink, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  explicit Connection(Stream stream) : stream_(std::move(stream)) {}

  void send(std::string bytes) override {
    asio::post(stream_.get_executor(), [self = shared_from_this(), bytes = std::move(bytes)] {
      if (self->closed_ || self->closing_) return;
      if (self->queued_bytes_ + bytes.size() > MqttLimits::kMaxQueuedBytes) {
        // A reader this slow would hold the broker's memory: it goes. (What
        // is being written stays until its write completes.)
        for (const std::string& dropped : self->queue_) self->queued_bytes_ -= dropped.size();
        self->queue_.clear();
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
  // The same over TLS, the handshake first.
  static asio::awaitable<void> run(std::shared_ptr<Connection> self, MqttBroker& broker,
                                   const LocalCa& ca) {
    co_await self->serve_tls(broker, ca);
  }

 private:
  using std::enable_shared_from_this<Connection<Stream>>::shared_from_this;
  using std::enable_shared_from_this<Connection<Stream>>::weak_from_this;

  beast::tcp_stream& transport() { return beast::get_lowest_layer(stream_); }

  // Mutual TLS, as AWS IoT Core's port 8883: the client must present a
  // certificate; which one is registered (and active) is the broker's
  // question at CONNECT.
  asio::awaitable<void> serve_tls(MqttBroker& broker, const LocalCa& ca) {
    transport().expires_after(kHandshakeTime);
    auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, kNoThrow);
    std::optional<CertificateFacts> certificate;
    if (!ec) certificate = peer_certificate(stream_, ca);
    if (!certificate) {
      closing_ = true;
      shut();
      co_return;
    }
    // A pointer to a local, not a temporary, in the co_await (GCC 12).
    const CertificateFacts* presented = &*certificate;
    co_await serve(broker, presented);
  }

  asio::awaitable<void> serve(MqttBroker& broker, const CertificateFacts* certificate = nullptr) {
    boost::system::error_code ignored;
    auto endpoint = transport().socket().remote_endpoint(ignored);
    std::string remote = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    auto session = std::make_shared<MqttSession>(broker, weak_from_this(), remote);
    if (certificate) session->present_certificate(*certificate);
    std::unique_ptr<char[]> tls_buffer;
    for (;;) {
      transport().expires_after(session->silence_allowed());
      std::size_t n = 0;
      boost::system::error_code ec;
      if constexpr (std::is_same_v<Stream, PlainStream>) {
        // An idle connection holds no read buffer (10,000 of them would
        // hold 40 MiB): one byte is awaited, then what else has arrived is
        // read at once into the thread's buffer.
        char first;
        std::tie(ec, n) = co_await stream_.async_read_some(asio::buffer(&first, 1), kNoThrow);
        if (!ec && n == 1) {
          thread_buffer()[0] = first;
          boost::system::error_code more_ec;
          tcp::socket& socket = transport().socket();
          if (!socket.non_blocking()) socket.non_blocking(true, more_ec);
          std::size_t more =
              socket.read_some(asio::buffer(thread_buffer() + 1, kReadChunk - 1), more_ec);
          n += more_ec ? 0 : more;
        }
        if (ec || closing_ || !session->on_bytes(std::string_view(thread_buffer(), n))) break;
      } else {
        // TLS decrypts into the buffer before the coroutine resumes, while
        // the thread may serve another connection: the buffer is its own.
        if (!tls_buffer) tls_buffer = std::make_unique<char[]>(kTlsReadChunk);
        std::tie(ec, n) = co_await stream_.async_read_some(
            asio::buffer(tls_buffer.get(), kTlsReadChunk), kNoThrow);
        if (ec || closing_ || !session->on_bytes(std::string_view(tls_buffer.get(), n))) break;
      }
    }
    session->on_closed();
    close();
  }

  // Read into between two co_awaits only, so one per thread serves every
  // connection.
  static char* thread_buffer() {
    thread_local std::unique_ptr<char[]> buffer(new char[kReadChunk]);
    return buffer.get();
  }

  // Everything queued goes out in one gather write: a subscriber of a
  // busy topic gets many messages per system call, not one.
  void write_next() {
    if (queue_.empty()) {
      writing_ = false;
      if (closing_) shut();
      return;
    }
    writing_ = true;
    batch_.swap(queue_);
    buffers_.clear();
    for (const std::string& bytes : batch_) buffers_.push_back(asio::buffer(bytes));
    asio::async_write(stream_, buffers_,
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        for (const std::string& sent : self->batch_) {
                          self->queued_bytes_ -= sent.size();
                        }
                        self->batch_.clear();
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
    // TLS clients are not sent a close_notify: AWS IoT drops the
    // connection, and waiting for the peer's would let it hold us.
    boost::system::error_code ignored;
    transport().socket().shutdown(tcp::socket::shutdown_both, ignored);
    transport().socket().close(ignored);
  }

  Stream stream_;
  // On the strand only: what waits, and what is being written.
  std::vector<std::string> queue_;
  std::vector<std::string> batch_;
  std::vector<asio::const_buffer> buffers_;
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
        acceptor(asio::make_strand(ioc)),
        tls(asio::ssl::context::tls_server) {
    if (options.ca) configure_tls();
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
      if (options.ca) {
        auto connection = std::make_shared<Connection<TlsStream>>(
            TlsStream(beast::tcp_stream(std::move(socket)), tls));
        asio::co_spawn(connection->executor(),
                       Connection<TlsStream>::run(connection, broker, *options.ca), report);
      } else {
        auto connection = std::make_shared<Connection<PlainStream>>(PlainStream(std::move(socket)));
        asio::co_spawn(connection->executor(), Connection<PlainStream>::run(connection, broker),
                       report);
      }
    }
  }

  static void report(std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log(LogLevel::kError, std::string("mqtt connection failed: ") + e.what());
    }
  }

  // TLS 1.2 and 1.3 with the CA's server certificate; a client certificate
  // is required but not chained here: certificates registered without a CA
  // (RegisterCertificateWithoutCA) are as good as the CA's own, so the
  // broker decides by the certificate's registration, as AWS IoT does. The
  // handshake still proves the client holds the certificate's key.
  void configure_tls() {
    tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    const std::string& chain = options.ca->server_certificate_pem();
    tls.use_certificate_chain(asio::buffer(chain));
    const std::string& key = options.ca->server_key_pem();
    tls.use_private_key(asio::buffer(key), asio::ssl::context::pem);
    tls.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    tls.set_verify_callback([](bool, asio::ssl::verify_context&) { return true; });
    // Ask clients for certificates without naming a CA list, so a client
    // with a certificate from any CA sends it.
    SSL_CTX_set_session_id_context(tls.native_handle(),
                                   reinterpret_cast<const unsigned char*>("offcloud-mqtt"), 13);
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
  asio::ssl::context tls;
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

#include "emulator/http/http_server.h"

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>

#include "emulator/util/log.h"

namespace offcloud {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// How long and how much a rejected upload is read and thrown away, so the
// client sees our error rather than a reset connection.
constexpr auto kDrainTime = std::chrono::seconds(1);
constexpr std::size_t kDrainBytes = 8 * 1024 * 1024;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
// How long a TLS client has to finish its handshake.
constexpr auto kHandshakeTime = std::chrono::seconds(10);

// What stop() needs of a connection, plain or TLS.
struct ConnectionBase {
  virtual ~ConnectionBase() = default;
  // On the connection's strand: a connection mid-request finishes it; an
  // idle or upgraded one is closed now.
  virtual void post_stop() = 0;
  bool idle = true;       // waiting for a request; touched only on the stream's strand
  bool upgraded = false;  // a WebSocket now, closed when the server stops
};

template <class Stream>
struct Connection : ConnectionBase, std::enable_shared_from_this<Connection<Stream>> {
  explicit Connection(Stream s) : stream(std::move(s)) {}
  beast::tcp_stream& transport() { return beast::get_lowest_layer(stream); }
  void post_stop() override {
    asio::post(stream.get_executor(), [self = this->shared_from_this()] {
      if (self->idle || self->upgraded) self->transport().cancel();
    });
  }
  Stream stream;
};

// A connection upgraded to WebSocket. Reads run in the connection's
// coroutine; sends come from any thread, are queued on the connection's
// strand and written one message after the other.
template <class Stream>
class WebSocketChannel : public MessageChannel,
                         public std::enable_shared_from_this<WebSocketChannel<Stream>> {
 public:
  WebSocketChannel(std::shared_ptr<Connection<Stream>> connection, std::size_t max_queued_bytes)
      : connection_(std::move(connection)),
        ws_(connection_->stream),
        max_queued_bytes_(max_queued_bytes) {}

  websocket::stream<Stream&>& ws() { return ws_; }

  void send(std::string bytes) override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this(), bytes = std::move(bytes)] {
      if (self->closing_) return;
      if (self->queued_bytes_ + bytes.size() > self->max_queued_bytes_) {
        // Too slow a reader: it goes (the message being written stays
        // until its write completes).
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
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
      self->closing_ = true;
      if (!self->writing_) self->shut();
    });
  }

 private:
  void write_next() {
    if (queue_.empty()) {
      writing_ = false;
      if (closing_) shut();
      return;
    }
    writing_ = true;
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                      self->queued_bytes_ -= self->queue_.front().size();
                      self->queue_.pop_front();
                      if (ec) {
                        self->queue_.clear();
                        self->queued_bytes_ = 0;
                        self->closing_ = true;
                      }
                      self->write_next();
                    });
  }

  // Ends the TCP connection; the pending read fails and the coroutine ends.
  void shut() {
    if (shut_) return;
    shut_ = true;
    boost::system::error_code ignored;
    connection_->transport().socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  std::shared_ptr<Connection<Stream>> connection_;
  websocket::stream<Stream&> ws_;
  std::size_t max_queued_bytes_;
  std::deque<std::string> queue_;  // on the strand only
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool shut_ = false;
};

using RequestParser = http::request_parser<http::buffer_body>;
constexpr std::size_t kBodyChunk = 64 * 1024;

HttpRequest request_head(const RequestParser& parser, const std::string& remote) {
  const auto& message = parser.get();
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  split_target(&request);
  for (const auto& field : message) {
    request.headers.add(std::string(field.name_string()), std::string(field.value()));
  }
  request.remote_address = remote;
  return request;
}

http::response<http::string_body> to_beast(HttpResponse&& response, bool head_request) {
  http::response<http::string_body> out{static_cast<http::status>(response.status), 11};
  for (const auto& [name, value] : response.headers) out.insert(name, value);
  if (head_request) {
    // HEAD: the length of what GET would send, and no body.
    out.content_length(response.body.size());
  } else {
    out.body() = std::move(response.body);
    out.prepare_payload();
  }
  return out;
}

}  // namespace

struct HttpServer::Impl {
  Impl(Options o, RequestHandler& h)
      : options(std::move(o)),
        handler(h),
        ioc(static_cast<int>(options.threads)),
        control(asio::make_strand(ioc)),
        acceptor(control),
        tls_acceptor(control),
        tls(asio::ssl::context::tls_server),
        signals(control, SIGINT, SIGTERM) {}

  void listen(tcp::acceptor& on, std::uint16_t port);
  void configure_tls();
  asio::awaitable<void> accept_loop(tcp::acceptor& on, bool secure);
  template <class Stream>
  void start(Stream stream);
  template <class Stream>
  asio::awaitable<void> serve(std::shared_ptr<Connection<Stream>> connection);
  asio::awaitable<HttpResponse> dispatch(HttpRequest request);
  template <class Stream>
  asio::awaitable<void> serve_websocket(std::shared_ptr<Connection<Stream>> connection,
                                        http::request<http::buffer_body> upgrade, UpgradePlan plan);
  template <class Stream>
  asio::awaitable<void> send_and_close(Stream& stream, HttpResponse response, bool drain);
  void stop();

  template <class Stream>
  asio::awaitable<bool> send(Stream& stream, HttpResponse response, bool head_request,
                             bool keep_alive);

  Options options;
  RequestHandler& handler;
  asio::io_context ioc;
  // The accept loop, the signals and stop() run here, one at a time: with
  // several network threads they would otherwise touch the acceptor at once.
  asio::strand<asio::io_context::executor_type> control;
  tcp::acceptor acceptor;
  tcp::acceptor tls_acceptor;  // open only with options.tls_port
  asio::ssl::context tls;
  asio::signal_set signals;
  std::atomic<bool> stopping{false};

  std::mutex mutex;
  std::unordered_map<std::uint64_t, std::shared_ptr<ConnectionBase>> connections;
  std::uint64_t next_connection = 0;
};

asio::awaitable<void> HttpServer::Impl::accept_loop(tcp::acceptor& on, bool secure) {
  while (!stopping) {
    auto strand = asio::make_strand(ioc);  // each connection's own
    auto [ec, socket] = co_await on.async_accept(strand, kNoThrow);
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) break;
      // Out of file descriptors, most likely: back off instead of spinning.
      log(LogLevel::kWarn, "accept failed: " + ec.message());
      asio::steady_timer pause(ioc, std::chrono::milliseconds(50));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (secure) {
      start(TlsStream(beast::tcp_stream(std::move(socket)), tls));
    } else {
      start(PlainStream(std::move(socket)));
    }
  }
}

template <class Stream>
void HttpServer::Impl::start(Stream stream) {
  auto connection = std::make_shared<Connection<Stream>>(std::move(stream));
  std::uint64_t id;
  {
    std::lock_guard lock(mutex);
    id = next_connection++;
    connections.emplace(id, connection);
  }
  asio::co_spawn(connection->stream.get_executor(), serve(connection),
                 [this, id](std::exception_ptr error) {
                   if (error) {
                     try {
                       std::rethrow_exception(error);
                     } catch (const std::exception& e) {
                       log(LogLevel::kError, std::string("connection failed: ") + e.what());
                     }
                   }
                   std::lock_guard lock(mutex);
                   connections.erase(id);
                 });
}

void HttpServer::Impl::listen(tcp::acceptor& on, std::uint16_t port) {
  tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(options.host, std::to_string(port));
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  on.open(endpoint.protocol());
  on.set_option(tcp::acceptor::reuse_address(true));
  on.bind(endpoint);
  on.listen(asio::socket_base::max_listen_connections);
}

// TLS 1.2 and 1.3 with the given certificate; clients present none.
void HttpServer::Impl::configure_tls() {
  tls.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  tls.use_certificate_chain(asio::buffer(options.tls_certificate_pem));
  tls.use_private_key(asio::buffer(options.tls_key_pem), asio::ssl::context::pem);
}

// Where a handler's answer goes: kept if it comes before handle() returns
// (most do), else handed to the waiting coroutine from whatever thread.
struct PendingAnswer {
  std::mutex mutex;
  std::optional<HttpResponse> early;
  std::function<void(HttpResponse)> waiting;
};

asio::awaitable<HttpResponse> HttpServer::Impl::dispatch(HttpRequest request) {
  auto pending = std::make_shared<PendingAnswer>();
  handler.handle(std::move(request), [pending](HttpResponse response) {
    std::unique_lock lock(pending->mutex);
    if (!pending->waiting) {
      pending->early = std::move(response);
      return;
    }
    auto waiting = std::move(pending->waiting);
    lock.unlock();
    waiting(std::move(response));
  });
  // An answer given already costs no trip through the executor.
  std::optional<HttpResponse> early;
  {
    std::lock_guard lock(pending->mutex);
    early.swap(pending->early);
  }
  if (early) co_return std::move(*early);
  // Otherwise the coroutine resumes on its own executor once it comes. The
  // initiation captures a plain pointer (`pending` outlives the co_await):
  // GCC 12 destroys temporaries with destructors in a co_await expression
  // twice.
  PendingAnswer* waiting_for = pending.get();
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(HttpResponse)>(
      [waiting_for](auto completion) {
        auto shared = std::make_shared<decltype(completion)>(std::move(completion));
        auto resume = [shared](HttpResponse response) {
          auto executor = asio::get_associated_executor(*shared);
          asio::post(executor, [shared, response = std::move(response)]() mutable {
            (*shared)(std::move(response));
          });
        };
        std::unique_lock lock(waiting_for->mutex);
        if (waiting_for->early) {
          HttpResponse response = std::move(*waiting_for->early);
          waiting_for->early.reset();
          lock.unlock();
          return resume(std::move(response));
        }
        waiting_for->waiting = std::move(resume);
      },
      asio::use_awaitable);
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::send_and_close(Stream& stream, HttpResponse response,
                                                       bool drain) {
  auto message = to_beast(std::move(response), false);
  message.keep_alive(false);
  beast::tcp_stream& transport = beast::get_lowest_layer(stream);
  transport.expires_after(options.idle_timeout);
  auto [ec, written] = co_await http::async_write(stream, message, kNoThrow);
  boost::system::error_code ignored;
  transport.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (ec || !drain) co_return;
  // Closing with unread bytes would make the kernel send a reset, and the
  // client could lose the response; read a bounded amount first.
  transport.expires_after(kDrainTime);
  std::vector<char> sink(64 * 1024);
  for (std::size_t total = 0; total < kDrainBytes;) {
    auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(sink), kNoThrow);
    if (read_ec) break;
    total += n;
  }
}

template <class Stream>
asio::awaitable<bool> HttpServer::Impl::send(Stream& stream, HttpResponse answer, bool head_request,
                                             bool keep_alive) {
  beast::tcp_stream& transport = beast::get_lowest_layer(stream);
  transport.expires_after(options.idle_timeout);
  if (!answer.body_source) {
    auto response = to_beast(std::move(answer), head_request);
    response.keep_alive(keep_alive);
    if (head_request) {
      http::response_serializer<http::string_body> serializer(response);
      auto [ec, n] = co_await http::async_write_header(stream, serializer, kNoThrow);
      co_return !ec;
    }
    auto [ec, n] = co_await http::async_write(stream, response, kNoThrow);
    co_return !ec;
  }

  // A small streamed body (most S3 GETs) is read whole and goes out with its
  // header in one write.
  if (!head_request && answer.body_source->size() <= kBodyChunk) {
    std::shared_ptr<BodySource> source = std::move(answer.body_source);
    answer.body.resize(source->size());
    for (std::size_t done = 0; done < answer.body.size();) {
      std::size_t n = source->read(answer.body.data() + done, answer.body.size() - done);
      if (n == 0) co_return false;  // the source shrank: the client must not think it is whole
      done += n;
    }
    auto response = to_beast(std::move(answer), false);
    response.keep_alive(keep_alive);
    auto [ec, n] = co_await http::async_write(stream, response, kNoThrow);
    co_return !ec;
  }

  // A streamed body: the header, then the source's pieces as they are read.
  std::shared_ptr<BodySource> source = std::move(answer.body_source);
  http::response<http::buffer_body> response{static_cast<http::status>(answer.status), 11};
  for (const auto& [name, value] : answer.headers) response.insert(name, value);
  response.content_length(source->size());
  response.keep_alive(keep_alive);
  response.body().data = nullptr;
  response.body().more = !head_request && source->size() > 0;
  http::response_serializer<http::buffer_body> serializer(response);
  auto [header_ec, header_n] = co_await http::async_write_header(stream, serializer, kNoThrow);
  if (header_ec || head_request) co_return !header_ec;
  auto chunk = std::make_unique_for_overwrite<char[]>(kBodyChunk);  // not zeroed: overwritten
  std::uint64_t remaining = source->size();
  while (remaining > 0) {
    std::size_t n = source->read(chunk.get(), std::min<std::uint64_t>(kBodyChunk, remaining));
    if (n == 0) co_return false;  // the source shrank: the client must not think it is whole
    remaining -= n;
    response.body().data = chunk.get();
    response.body().size = n;
    response.body().more = remaining > 0;
    transport.expires_after(options.idle_timeout);
    auto [ec, written] = co_await http::async_write(stream, serializer, kNoThrow);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return false;
  }
  response.body().data = nullptr;
  response.body().more = false;
  auto [ec, written] = co_await http::async_write(stream, serializer, kNoThrow);
  co_return !ec;
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::serve(std::shared_ptr<Connection<Stream>> connection) {
  Stream& stream = connection->stream;
  beast::tcp_stream& transport = connection->transport();
  std::string remote;
  {
    boost::system::error_code ec;
    auto endpoint = transport.socket().remote_endpoint(ec);
    if (!ec) remote = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    transport.expires_after(kHandshakeTime);
    auto [handshake_ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kNoThrow);
    if (handshake_ec) {
      transport.close();
      co_return;
    }
  }
  beast::flat_buffer buffer;
  // Beast reads no more than the buffer's free capacity at a time: without
  // this, a body arrives a kilobyte per read, at many times the CPU cost.
  buffer.reserve(kBodyChunk);
  std::vector<char> chunk;  // allocated on the first request with a body
  auto is_parse_error = [](const boost::system::error_code& ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category() &&
           ec != http::error::end_of_stream && ec != http::error::partial_message;
  };
  for (;;) {
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    // The body limit is set once the head is read and the plan is known, so
    // that a declared length over it is answered as an AWS error.
    parser.body_limit(boost::none);

    connection->idle = true;
    if (stopping) break;
    transport.expires_after(options.idle_timeout);
    auto [header_ec, header_bytes] =
        co_await http::async_read_header(stream, buffer, parser, kNoThrow);
    connection->idle = false;
    // Errors are built into named locals before co_await: GCC 12 mishandles
    // temporaries with destructors inside co_await expressions.
    if (header_ec == http::error::header_limit) {
      HttpResponse rejection = handler.reject(RequestFault::kHeaderTooLarge, "", {});
      co_await send_and_close(stream, std::move(rejection), false);
      break;
    }
    if (header_ec) {
      // A parse error deserves an answer; a closed or timed-out connection
      // does not.
      if (is_parse_error(header_ec)) {
        HttpResponse rejection = handler.reject(RequestFault::kMalformed, "", {});
        co_await send_and_close(stream, std::move(rejection), false);
      }
      break;
    }

    HttpRequest request = request_head(parser, remote);
    request.secure = std::is_same_v<Stream, TlsStream>;
    if (websocket::is_upgrade(parser.get())) {
      UpgradePlan upgrade = handler.plan_upgrade(request);
      if (upgrade.refusal || !upgrade.open) {
        HttpResponse refusal = upgrade.refusal ? std::move(*upgrade.refusal) : HttpResponse{};
        if (!upgrade.refusal) refusal.status = 400;
        co_await send_and_close(stream, std::move(refusal), false);
        break;
      }
      co_await serve_websocket(connection, parser.release(), std::move(upgrade));
      co_return;
    }
    bool expects_continue = iequals(request.headers.get("expect"), "100-continue");
    BodyPlan plan = handler.plan_body(request);
    if (plan.refusal) {
      // Refused on its head: the body is never read. A client waiting for
      // 100-continue has not sent it, so there is nothing to drain.
      co_await send_and_close(stream, std::move(*plan.refusal), !expects_continue);
      break;
    }
    auto length = parser.content_length();
    if (!plan.reader && length && *length > options.max_body_bytes) {
      HttpResponse rejection = handler.reject(
          RequestFault::kBodyTooLarge,
          "The request body of " + std::to_string(*length) + " bytes exceeds the maximum of " +
              std::to_string(options.max_body_bytes) + " bytes.",
          request);
      co_await send_and_close(stream, std::move(rejection), !expects_continue);
      break;
    }
    if (!plan.reader) parser.body_limit(options.max_body_bytes);
    // 100 Continue even for an empty body (RFC 9110 lets a server skip it
    // then): botocore keeps the status of a final answer it got instead of
    // 100 and reports it for every later request on that connection, so a
    // later answer that never comes (the server died) reads as 200. Skipped
    // when body bytes arrived with the head (RFC 9110 15.2.1 allows that
    // too): that client sent its body without waiting, and an interim answer
    // it does not wait for could be read as the answer to its next request.
    bool body_arrived = buffer.size() > 0 && length.value_or(1) > 0;
    if (expects_continue && parser.get().version() >= 11 && !body_arrived) {
      http::response<http::empty_body> proceed{http::status::continue_, 11};
      auto [ec, n] = co_await http::async_write(stream, proceed, kNoThrow);
      if (ec) break;
    }

    std::optional<HttpResponse> refusal;
    bool broken = false;
    while (!parser.is_done() && !refusal) {
      if (chunk.empty()) chunk.resize(kBodyChunk);
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      transport.expires_after(options.idle_timeout);
      auto [body_ec, n] = co_await http::async_read(stream, buffer, parser, kNoThrow);
      if (body_ec == http::error::need_buffer) body_ec = {};
      if (body_ec == http::error::body_limit) {
        refusal = handler.reject(RequestFault::kBodyTooLarge,
                                 "The request body exceeds the maximum of " +
                                     std::to_string(options.max_body_bytes) + " bytes.",
                                 request);
        break;
      }
      if (body_ec) {
        if (is_parse_error(body_ec)) {
          refusal = handler.reject(RequestFault::kMalformed, "", request);
        } else if (body_ec == http::error::partial_message) {
          // The client shut its side mid-body and is still owed an answer.
          refusal = handler.reject(RequestFault::kIncompleteBody, "", request);
        } else {
          broken = true;  // closed or timed out: nobody to answer
        }
        break;
      }
      std::string_view piece(chunk.data(), chunk.size() - parser.get().body().size);
      if (plan.reader) {
        refusal = plan.reader->consume(piece);
      } else {
        request.body.append(piece);
      }
    }
    if (broken) break;
    if (!refusal && plan.reader) refusal = plan.reader->finish();
    if (refusal) {
      co_await send_and_close(stream, std::move(*refusal), /*drain=*/true);
      break;
    }
    request.body_reader = std::move(plan.reader);
    bool keep_alive = parser.get().keep_alive();
    bool head_request = request.method == "HEAD";

    HttpResponse answer = co_await dispatch(std::move(request));
    keep_alive = keep_alive && !answer.close && !stopping;
    bool sent = co_await send(stream, std::move(answer), head_request, keep_alive);
    if (!sent || !keep_alive) break;
  }
  boost::system::error_code ignored;
  transport.socket().shutdown(tcp::socket::shutdown_send, ignored);
  transport.close();
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::serve_websocket(
    std::shared_ptr<Connection<Stream>> connection, http::request<http::buffer_body> upgrade,
    UpgradePlan plan) {
  auto channel = std::make_shared<WebSocketChannel<Stream>>(connection, plan.max_queued_bytes);
  auto& ws = channel->ws();
  // The read deadline is the handler's, set on the TCP stream before each
  // read; the WebSocket layer keeps none of its own.
  ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(30),
                                                websocket::stream_base::none(), false});
  std::string subprotocol = plan.subprotocol;
  ws.set_option(websocket::stream_base::decorator([subprotocol](websocket::response_type& res) {
    if (!subprotocol.empty()) res.set(http::field::sec_websocket_protocol, subprotocol);
  }));
  ws.read_message_max(plan.max_message_bytes);
  connection->transport().expires_never();
  auto [accept_ec] = co_await ws.async_accept(upgrade, kNoThrow);
  if (accept_ec) co_return;
  ws.binary(true);
  connection->upgraded = true;
  // stop() runs on this strand: during the handshake it found the
  // connection not upgraded yet and left it to this check.
  if (stopping) co_return;
  std::shared_ptr<ChannelHandler> reader = plan.open(channel);
  beast::flat_buffer buffer;
  while (!stopping) {
    connection->transport().expires_after(reader->silence_allowed());
    auto [ec, n] = co_await ws.async_read(buffer, kNoThrow);
    if (ec) break;
    auto data = buffer.cdata();
    bool keep = reader->on_message(std::string_view(static_cast<const char*>(data.data()), n));
    buffer.consume(buffer.size());
    if (!keep) break;
  }
  reader->on_closed();
  channel->close();
}

void HttpServer::Impl::stop() {
  asio::post(control, [this] {
    if (stopping.exchange(true)) return;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    tls_acceptor.close(ignored);
    signals.cancel(ignored);
    std::lock_guard lock(mutex);
    for (auto& entry : connections) entry.second->post_stop();
  });
}

HttpServer::HttpServer(Options options, RequestHandler& handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {
  impl_->listen(impl_->acceptor, impl_->options.port);
  if (impl_->options.tls_port) {
    impl_->configure_tls();
    impl_->listen(impl_->tls_acceptor, *impl_->options.tls_port);
  }
}

HttpServer::~HttpServer() = default;

std::uint16_t HttpServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

std::uint16_t HttpServer::tls_port() const {
  return impl_->options.tls_port ? impl_->tls_acceptor.local_endpoint().port() : 0;
}

void HttpServer::run() {
  impl_->signals.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log(LogLevel::kInfo,
        std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
    stop();
  });
  asio::co_spawn(impl_->control, impl_->accept_loop(impl_->acceptor, false),
                 [](std::exception_ptr) {});
  if (impl_->options.tls_port) {
    asio::co_spawn(impl_->control, impl_->accept_loop(impl_->tls_acceptor, true),
                   [](std::exception_ptr) {});
  }
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < impl_->options.threads; ++i) {
    threads.emplace_back([this] { impl_->ioc.run(); });
  }
  impl_->ioc.run();
  for (auto& thread : threads) thread.join();
}

void HttpServer::stop() {
  impl_->stop();
}

}  // namespace offcloud

// The HTTP/1.1 front door: one coroutine per connection (keep-alive, chunked
// bodies, Expect: 100-continue), limits on header and body size, a deadline
// on every read so a silent or slow client cannot hold a connection, and a
// graceful stop on SIGINT/SIGTERM. Beast stays behind this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "emulator/api_errors.h"
#include "emulator/http_types.h"

namespace offcloud {

class HttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    unsigned threads = 1;
    std::chrono::milliseconds idle_timeout{60000};
    std::size_t max_header_bytes = 64 * 1024;
    std::size_t max_body_bytes = 16 * 1024 * 1024;
  };
  // Answers a whole request, calling the callback exactly once, on any thread.
  using Handler = std::function<void(HttpRequest&&, std::function<void(HttpResponse)>)>;
  // Shapes an error found before the request was whole (only its head is set).
  using Rejecter = std::function<HttpResponse(ErrorCode, std::string_view, const HttpRequest&)>;

  // Binds and listens; throws std::system_error when it cannot.
  HttpServer(Options options, Handler handler, Rejecter rejecter);
  ~HttpServer();

  std::uint16_t port() const;

  // Serves until stop() or SIGINT/SIGTERM, then returns once the requests in
  // flight are answered.
  void run();
  // Stops accepting, closes idle connections, lets requests in flight finish.
  // Thread-safe and idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace offcloud

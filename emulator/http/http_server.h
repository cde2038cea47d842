// The HTTP/1.1 front door: one coroutine per connection (keep-alive, chunked
// bodies, Expect: 100-continue), limits on header and body size, a deadline
// on every read so a silent or slow client cannot hold a connection, and a
// graceful stop on SIGINT/SIGTERM. The same over TLS on a second port when
// given a certificate. Beast and OpenSSL stay behind this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "emulator/http/request_handler.h"

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
    // Set: HTTPS on this port too (0: the OS picks), with this PEM
    // certificate chain and key.
    std::optional<std::uint16_t> tls_port;
    std::string tls_certificate_pem;
    std::string tls_key_pem;
  };
  // Binds and listens; throws std::system_error when it cannot. `handler`
  // must outlive the server.
  HttpServer(Options options, RequestHandler& handler);
  ~HttpServer();

  std::uint16_t port() const;
  // The HTTPS port; 0 when there is none.
  std::uint16_t tls_port() const;

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

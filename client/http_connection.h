// One HTTP/1.1 connection to an endpoint, kept alive across requests: a
// plain blocking socket, with OpenSSL on top for https. Not thread-safe: a
// thread that sends concurrently owns its own connection.
//
// Writes use MSG_NOSIGNAL, but OpenSSL writes to the socket itself: a
// program using https should ignore SIGPIPE.
#pragma once

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "client/endpoint.h"
#include "client/http_message.h"

namespace offcloud::client {

// The request may or may not have reached the server: no response came.
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ConnectionOptions {
  std::chrono::milliseconds connect_timeout{5000};
  // Bounds each socket read and write, so a stuck server cannot hang a device.
  std::chrono::milliseconds io_timeout{30000};
  bool verify_tls = true;  // false: accept any certificate (self-signed test servers)
  // A PEM file of certificates to trust besides the system's (AWS_CA_BUNDLE).
  std::string ca_file;
};

class HttpConnection {
 public:
  explicit HttpConnection(Endpoint endpoint, ConnectionOptions options = {});
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends the request (adding Content-Length) and reads its response,
  // connecting first when needed. When a kept-alive connection turns out to
  // have been closed by the server before any response byte arrived, it
  // reconnects and sends once more. Throws TransportError.
  Response round_trip(const Request& request);

  void close();
  const Endpoint& endpoint() const { return endpoint_; }
  // How many TCP connections this object has opened.
  int connects() const { return connects_; }

 private:
  struct Socket;
  void connect();
  void send_all(std::string_view data);
  // Appends what arrives to buffer_; false at end of stream.
  bool receive();
  Response read_response(bool head_request, bool* keep_alive);
  std::string read_line();
  void read_exactly(std::size_t size, std::string* out);

  Endpoint endpoint_;
  ConnectionOptions options_;
  std::unique_ptr<Socket> socket_;
  std::string buffer_;  // received, not yet parsed
  int connects_ = 0;
  int requests_on_connection_ = 0;
};

}  // namespace offcloud::client

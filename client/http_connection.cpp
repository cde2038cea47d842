#include "client/http_connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace offcloud::client {
namespace {

// A response head larger than this is not an AWS response.
constexpr std::size_t kMaxHeadBytes = 64 * 1024;

std::string openssl_error() {
  unsigned long code = ERR_get_error();
  if (code == 0) return "unknown TLS error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

timeval to_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000),
          static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// The request bytes, Content-Length included unless the body is empty and the
// method never carries one.
std::string serialize_head(const Request& request) {
  std::string head = request.method + " " + request.target() + " HTTP/1.1\r\n";
  for (const auto& [name, value] : request.headers) {
    if (iequals(name, "content-length")) continue;
    head += name + ": " + value + "\r\n";
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    head += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  head += "\r\n";
  return head;
}

}  // namespace

struct HttpConnection::Socket {
  int fd = -1;
  SSL_CTX* context = nullptr;
  SSL* ssl = nullptr;
  ~Socket() {
    if (ssl) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    if (context) SSL_CTX_free(context);
    if (fd >= 0) ::close(fd);
  }
};

HttpConnection::HttpConnection(Endpoint endpoint, ConnectionOptions options)
    : endpoint_(std::move(endpoint)), options_(options) {}

HttpConnection::~HttpConnection() = default;

void HttpConnection::close() {
  socket_.reset();
  buffer_.clear();
  requests_on_connection_ = 0;
}

void HttpConnection::connect() {
  close();
  std::string where = endpoint_.host_header();
  if (endpoint_.port == (endpoint_.tls ? 443 : 80)) where += ":" + std::to_string(endpoint_.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  int status = getaddrinfo(endpoint_.host.c_str(), std::to_string(endpoint_.port).c_str(), &hints,
                           &addresses);
  if (status != 0) {
    throw TransportError("cannot resolve " + endpoint_.host + ": " + gai_strerror(status));
  }
  auto socket = std::make_unique<Socket>();
  std::string failure = "no address";
  for (addrinfo* address = addresses; address; address = address->ai_next) {
    int fd = ::socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    // Non-blocking only to bound the connect; blocking afterwards.
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int error = 0;
    if (::connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
      error = errno;
      if (error == EINPROGRESS) {
        pollfd waiting{fd, POLLOUT, 0};
        int ready = poll(&waiting, 1, static_cast<int>(options_.connect_timeout.count()));
        socklen_t length = sizeof error;
        if (ready == 0) {
          error = ETIMEDOUT;
        } else if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
          error = errno;
        }
      }
    }
    if (error != 0) {
      failure = std::strerror(error);
      ::close(fd);
      continue;
    }
    fcntl(fd, F_SETFL, flags);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval timeout = to_timeval(options_.io_timeout);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    socket->fd = fd;
    break;
  }
  freeaddrinfo(addresses);
  if (socket->fd < 0) throw TransportError("cannot connect to " + where + ": " + failure);

  if (endpoint_.tls) {
    socket->context = SSL_CTX_new(TLS_client_method());
    if (!socket->context) throw TransportError("TLS: " + openssl_error());
    if (options_.verify_tls) {
      SSL_CTX_set_default_verify_paths(socket->context);
      if (!options_.ca_file.empty() &&
          SSL_CTX_load_verify_locations(socket->context, options_.ca_file.c_str(), nullptr) != 1) {
        throw TransportError("cannot load CA bundle " + options_.ca_file + ": " + openssl_error());
      }
      SSL_CTX_set_verify(socket->context, SSL_VERIFY_PEER, nullptr);
    }
    socket->ssl = SSL_new(socket->context);
    SSL_set_fd(socket->ssl, socket->fd);
    SSL_set_tlsext_host_name(socket->ssl, endpoint_.host.c_str());
    if (options_.verify_tls) {
      // An address is checked against the certificate's IP entries, a name
      // against its DNS names.
      X509_VERIFY_PARAM* param = SSL_get0_param(socket->ssl);
      if (X509_VERIFY_PARAM_set1_ip_asc(param, endpoint_.host.c_str()) != 1) {
        SSL_set1_host(socket->ssl, endpoint_.host.c_str());
      }
    }
    if (SSL_connect(socket->ssl) != 1) {
      std::string why = openssl_error();
      long verify = SSL_get_verify_result(socket->ssl);
      if (verify != X509_V_OK) why = X509_verify_cert_error_string(verify);
      SSL_free(socket->ssl);
      socket->ssl = nullptr;
      throw TransportError("TLS handshake with " + where + " failed: " + why);
    }
  }
  socket_ = std::move(socket);
  ++connects_;
}

void HttpConnection::send_all(std::string_view data) {
  while (!data.empty()) {
    long sent;
    if (socket_->ssl) {
      sent = SSL_write(socket_->ssl, data.data(), static_cast<int>(data.size()));
      if (sent <= 0) throw TransportError("TLS write failed: " + openssl_error());
    } else {
      sent = ::send(socket_->fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      if (sent < 0) throw TransportError(std::string("send failed: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(sent));
  }
}

bool HttpConnection::receive() {
  char chunk[16384];
  while (true) {
    long got;
    if (socket_->ssl) {
      got = SSL_read(socket_->ssl, chunk, sizeof chunk);
      if (got <= 0) {
        int error = SSL_get_error(socket_->ssl, static_cast<int>(got));
        if (error == SSL_ERROR_ZERO_RETURN) return false;
        if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0) return false;
        throw TransportError("TLS read failed: " + openssl_error());
      }
    } else {
      got = ::recv(socket_->fd, chunk, sizeof chunk, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        throw TransportError("no response from " + endpoint_.host_header() + " within " +
                             std::to_string(options_.io_timeout.count()) + " ms");
      }
      if (got < 0) throw TransportError(std::string("receive failed: ") + std::strerror(errno));
      if (got == 0) return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(got));
    return true;
  }
}

std::string HttpConnection::read_line() {
  std::size_t end;
  while ((end = buffer_.find("\r\n")) == std::string::npos) {
    if (buffer_.size() > kMaxHeadBytes) throw TransportError("response line too long");
    if (!receive()) throw TransportError("connection closed by the server mid-response");
  }
  std::string line = buffer_.substr(0, end);
  buffer_.erase(0, end + 2);
  return line;
}

void HttpConnection::read_exactly(std::size_t size, std::string* out) {
  while (buffer_.size() < size) {
    if (!receive()) throw TransportError("connection closed by the server mid-body");
  }
  out->append(buffer_, 0, size);
  buffer_.erase(0, size);
}

Response HttpConnection::read_response(bool head_request, bool* keep_alive) {
  Response response;
  std::string version;
  do {  // 1xx interim responses come before the final one
    response = Response();
    std::string status_line = read_line();
    std::size_t first = status_line.find(' ');
    if (!status_line.starts_with("HTTP/1.") || first == std::string::npos) {
      throw TransportError("not an HTTP response: " + status_line.substr(0, 80));
    }
    version = status_line.substr(0, first);
    std::string_view rest = std::string_view(status_line).substr(first + 1);
    auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), response.status);
    if (error != std::errc()) throw TransportError("bad status line: " + status_line);
    response.reason = std::string(rest.substr(std::min(rest.size(), std::size_t(4))));
    for (std::string line = read_line(); !line.empty(); line = read_line()) {
      std::size_t colon = line.find(':');
      if (colon == std::string::npos) throw TransportError("bad header line: " + line);
      std::size_t value = line.find_first_not_of(" \t", colon + 1);
      std::size_t value_end = line.find_last_not_of(" \t");
      response.headers.emplace_back(
          line.substr(0, colon),
          value == std::string::npos ? "" : line.substr(value, value_end - value + 1));
    }
  } while (response.status >= 100 && response.status < 200);

  const std::string* connection = response.header("connection");
  *keep_alive = connection ? lower(*connection) != "close" : version == "HTTP/1.1";
  if (head_request || response.status == 204 || response.status == 304) return response;
  const std::string* encoding = response.header("transfer-encoding");
  const std::string* length = response.header("content-length");
  if (encoding && lower(*encoding).find("chunked") != std::string::npos) {
    while (true) {
      std::string size_line = read_line();
      std::size_t size = 0;
      auto [end, error] =
          std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
      if (error != std::errc()) throw TransportError("bad chunk size: " + size_line);
      if (size == 0) break;
      read_exactly(size, &response.body);
      if (!read_line().empty()) throw TransportError("chunk not followed by CRLF");
    }
    while (!read_line().empty()) {
    }  // trailers
  } else if (length) {
    std::size_t size = 0;
    auto [end, error] = std::from_chars(length->data(), length->data() + length->size(), size);
    if (error != std::errc()) throw TransportError("bad Content-Length: " + *length);
    read_exactly(size, &response.body);
  } else {
    while (receive()) {
    }  // delimited by the end of the connection
    response.body = std::move(buffer_);
    buffer_.clear();
    *keep_alive = false;
  }
  return response;
}

Response HttpConnection::round_trip(const Request& request) {
  std::string head = serialize_head(request);
  // Small bodies go in the same write as the head: one packet, not two.
  bool together = request.body.size() <= 64 * 1024;
  if (together) head += request.body;
  for (int attempt = 0;; ++attempt) {
    bool reused = socket_ && requests_on_connection_ > 0;
    if (!socket_) connect();
    try {
      send_all(head);
      if (!together) send_all(request.body);
      // A kept-alive connection the server has since closed shows up here as
      // a reset or an end of stream before the first response byte.
      if (buffer_.empty() && !receive()) {
        throw TransportError("connection closed by the server before it answered");
      }
    } catch (const TransportError&) {
      close();
      if (reused && attempt == 0) continue;
      throw;
    }
    ++requests_on_connection_;
    bool keep_alive = false;
    try {
      Response response = read_response(request.method == "HEAD", &keep_alive);
      if (!keep_alive) close();
      return response;
    } catch (const TransportError&) {
      close();
      throw;
    }
  }
}

}  // namespace offcloud::client

// The client's HTTP/1.1 connection and retries against a scripted server on
// loopback: keep-alive, chunked bodies, a kept-alive connection the server
// closed, an endpoint nobody listens on, and which answers are retried.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "client/aws_client.h"
#include "client/http_connection.h"

namespace offcloud::client {
namespace {

// Answers each request with the next scripted response, in order; a
// response marked `then_close` is followed by closing that connection.
class ScriptedServer {
 public:
  struct Reply {
    std::string bytes;
    bool then_close = false;
  };

  explicit ScriptedServer(std::deque<Reply> replies) : replies_(std::move(replies)) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(listener_, 8);
    socklen_t length = sizeof address;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~ScriptedServer() {
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    thread_.join();
  }

  Endpoint endpoint() const { return parse_endpoint("http://127.0.0.1:" + std::to_string(port_)); }
  int accepts() const { return accepts_; }
  int requests() const { return requests_; }

 private:
  void serve() {
    while (true) {
      int fd = accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      ++accepts_;
      std::string buffer;
      bool open = true;
      while (open) {
        std::size_t end;
        while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
          char chunk[4096];
          long got = recv(fd, chunk, sizeof chunk, 0);
          if (got <= 0) {
            open = false;
            break;
          }
          buffer.append(chunk, static_cast<std::size_t>(got));
        }
        if (!open) break;
        std::size_t length_at = buffer.find("Content-Length: ");
        std::size_t body = 0;
        if (length_at != std::string::npos && length_at < end) {
          body = std::stoul(buffer.substr(length_at + 16));
        }
        while (buffer.size() < end + 4 + body) {
          char chunk[4096];
          long got = recv(fd, chunk, sizeof chunk, 0);
          if (got <= 0) break;
          buffer.append(chunk, static_cast<std::size_t>(got));
        }
        buffer.erase(0, end + 4 + body);
        ++requests_;
        Reply reply;
        {
          std::lock_guard lock(mutex_);
          if (replies_.empty()) break;
          reply = replies_.front();
          replies_.pop_front();
        }
        send(fd, reply.bytes.data(), reply.bytes.size(), MSG_NOSIGNAL);
        if (reply.then_close) open = false;
      }
      close(fd);
    }
  }

  int listener_;
  int port_;
  std::mutex mutex_;
  std::deque<Reply> replies_;
  std::atomic<int> accepts_{0};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

Request get(const std::string& path = "/") {
  Request request;
  request.method = "GET";
  request.path = path;
  request.headers.emplace_back("Host", "127.0.0.1");
  return request;
}

TEST(HttpConnection, KeepsOneConnectionForManyRequests) {
  ScriptedServer server({{kOk}, {kOk}, {kOk}});
  HttpConnection connection(server.endpoint());
  for (int i = 0; i < 3; ++i) {
    Response response = connection.round_trip(get());
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "ok");
  }
  EXPECT_EQ(connection.connects(), 1);
  EXPECT_EQ(server.accepts(), 1);
}

TEST(HttpConnection, ReadsChunkedBodiesAndSkipsInterimResponses) {
  ScriptedServer server({{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                          "Transfer-Encoding: chunked\r\nX-Test:  spaced  \r\n\r\n"
                          "3\r\nabc\r\nA;ext=1\r\n0123456789\r\n0\r\n\r\n"},
                         {kOk}});
  HttpConnection connection(server.endpoint());
  Response response = connection.round_trip(get());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "abc0123456789");
  ASSERT_TRUE(response.header("x-test"));
  EXPECT_EQ(*response.header("x-test"), "spaced");
  EXPECT_EQ(connection.round_trip(get()).body, "ok");
  EXPECT_EQ(connection.connects(), 1);
}

TEST(HttpConnection, ReconnectsWhenTheServerClosedAnIdleConnection) {
  ScriptedServer server({{kOk, /*then_close=*/true}, {kOk}});
  HttpConnection connection(server.endpoint());
  EXPECT_EQ(connection.round_trip(get()).status, 200);
  EXPECT_EQ(connection.round_trip(get()).status, 200);
  EXPECT_EQ(connection.connects(), 2);
}

TEST(HttpConnection, ConnectionCloseHeaderIsHonoured) {
  ScriptedServer server(
      {{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", true}, {kOk}});
  HttpConnection connection(server.endpoint());
  EXPECT_EQ(connection.round_trip(get()).status, 200);
  EXPECT_EQ(connection.round_trip(get()).body, "ok");
  EXPECT_EQ(connection.connects(), 2);
}

TEST(HttpConnection, NobodyListeningIsATransportError) {
  int port;
  {
    ScriptedServer server({});
    port = server.endpoint().port;
  }
  HttpConnection connection(parse_endpoint("http://127.0.0.1:" + std::to_string(port)));
  try {
    connection.round_trip(get());
    FAIL() << "no exception";
  } catch (const TransportError& e) {
    EXPECT_NE(std::string(e.what()).find("Connection refused"), std::string::npos) << e.what();
  }
}

ClientOptions fast_retries() {
  ClientOptions options;
  options.retry.base_delay = std::chrono::milliseconds(1);
  return options;
}

TEST(AwsClient, RetriesServerErrorsAndThrottling) {
  ScriptedServer server({{"HTTP/1.1 503 Slow Down\r\nContent-Length: 0\r\n\r\n"},
                         {"HTTP/1.1 400 Bad Request\r\nContent-Length: 32\r\n\r\n"
                          "{\"__type\":\"ThrottlingException\"}"},
                         {kOk}});
  AwsClient client(server.endpoint(), {"AKID", "secret", ""}, "us-east-1", "iotdata",
                   fast_retries());
  EXPECT_EQ(client.call(get()).body, "ok");
  EXPECT_EQ(client.retries(), 2);
  EXPECT_EQ(server.requests(), 3);
}

TEST(AwsClient, GivesUpAfterMaxAttemptsAndDoesNotRetryAuthErrors) {
  std::string unavailable = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
  std::string refused =
      "HTTP/1.1 403 Forbidden\r\nx-amzn-ErrorType: InvalidSignatureException\r\n"
      "Content-Length: 15\r\n\r\n{\"message\":\"x\"}";
  ScriptedServer server({{unavailable}, {unavailable}, {unavailable}, {refused}});
  AwsClient client(server.endpoint(), {"AKID", "secret", ""}, "us-east-1", "iotdata",
                   fast_retries());
  EXPECT_EQ(client.send(get()).status, 500);
  EXPECT_EQ(server.requests(), 3);
  try {
    client.call(get());
    FAIL() << "no exception";
  } catch (const ServiceError& e) {
    EXPECT_EQ(e.code(), "InvalidSignatureException");
    EXPECT_EQ(e.message(), "x");
  }
  EXPECT_EQ(server.requests(), 4);
}

}  // namespace
}  // namespace offcloud::client

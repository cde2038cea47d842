// What the HTTP server asks of the layer above it (the router): how to take
// a request's body, the answer to a whole request, and the answer to a
// request that could not be read. The server knows no AWS: it names what
// went wrong, and the layer above says it in the words of the service the
// request was for.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "emulator/http/http_types.h"

namespace offcloud {

// Why the server could not read a request whole.
enum class RequestFault {
  kHeaderTooLarge,  // the head is over the header limit
  kMalformed,       // not HTTP/1.1 as RFC 9112 writes it
  kBodyTooLarge,    // the body is (or declares itself) over the body limit
  kIncompleteBody,  // the client shut its side before the declared length
};

// A connection upgraded to WebSocket, as the layer above sees it: binary
// messages both ways. Both calls are thread-safe.
class MessageChannel {
 public:
  virtual ~MessageChannel() = default;
  // Queues one binary message; messages go out in order.
  virtual void send(std::string bytes) = 0;
  // Ends the connection once what is queued is written.
  virtual void close() = 0;
};

// What reads an upgraded connection's messages.
class ChannelHandler {
 public:
  virtual ~ChannelHandler() = default;
  // One message's bytes; false ends the connection.
  virtual bool on_message(std::string_view bytes) = 0;
  // The connection ended, by either side. Called once.
  virtual void on_closed() = 0;
  // How long the connection may stay silent before it is closed.
  virtual std::chrono::milliseconds silence_allowed() const = 0;
};

// The answer to a WebSocket upgrade request: a refusal, or the subprotocol
// to accept and the handler for the connection's messages.
struct UpgradePlan {
  std::optional<HttpResponse> refusal;
  std::string subprotocol;                  // echoed in Sec-WebSocket-Protocol when not empty
  std::size_t max_message_bytes = 1 << 20;  // a larger message ends the connection
  // What may wait to be written before the connection is dropped as too
  // slow a reader.
  std::size_t max_queued_bytes = 16 << 20;
  std::function<std::shared_ptr<ChannelHandler>(std::weak_ptr<MessageChannel>)> open;
};

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;

  // Called once the head is read, before any of the body.
  virtual BodyPlan plan_body(HttpRequest& head) = 0;

  // Answers through `reply`, exactly once, from any thread.
  virtual void handle(HttpRequest&& request, std::function<void(HttpResponse)> reply) = 0;

  // A WebSocket upgrade request (its head; it has no body).
  virtual UpgradePlan plan_upgrade(HttpRequest& head) = 0;

  // An error found before the request was whole; `head` may be empty.
  virtual HttpResponse reject(RequestFault fault, std::string_view message,
                              const HttpRequest& head) = 0;
};

}  // namespace offcloud

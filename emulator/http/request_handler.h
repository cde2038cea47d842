// What the HTTP server asks of the layer above it (the router): how to take
// a request's body, the answer to a whole request, and the answer to a
// request that could not be read. The server knows no AWS: it names what
// went wrong, and the layer above says it in the words of the service the
// request was for.
#pragma once

#include <functional>
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

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;

  // Called once the head is read, before any of the body.
  virtual BodyPlan plan_body(HttpRequest& head) = 0;

  // Answers through `reply`, exactly once, from any thread.
  virtual void handle(HttpRequest&& request, std::function<void(HttpResponse)> reply) = 0;

  // An error found before the request was whole; `head` may be empty.
  virtual HttpResponse reject(RequestFault fault, std::string_view message,
                              const HttpRequest& head) = 0;
};

}  // namespace offcloud

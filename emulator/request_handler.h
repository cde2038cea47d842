// What the HTTP server asks of the layer above it (the router): how to take
// a request's body, the answer to a whole request, and the error for a
// request that could not be read.
#pragma once

#include <functional>
#include <string_view>

#include "emulator/api_errors.h"
#include "emulator/http_types.h"

namespace offcloud {

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;

  // Called once the head is read, before any of the body.
  virtual BodyPlan plan_body(HttpRequest& head) = 0;

  // Answers through `reply`, exactly once, from any thread.
  virtual void handle(HttpRequest&& request, std::function<void(HttpResponse)> reply) = 0;

  // An error found before the request was whole; `head` may be empty.
  virtual HttpResponse reject(ErrorCode code, std::string_view message,
                              const HttpRequest& head) = 0;
};

}  // namespace offcloud

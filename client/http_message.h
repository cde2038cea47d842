// What the client sends and receives: plain structs, so the signer and the
// service clients compile without any networking code.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace offcloud::client {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;
  std::string path = "/";  // as sent: already percent-encoded
  Fields query;            // decoded names and values, in sending order
  Fields headers;          // Host included; Content-Length is added when sent
  std::string body;

  // The request-target: path, then the query encoded as SigV4 encodes it.
  std::string target() const;
  // The first header of that name (any case), or nullptr.
  const std::string* header(std::string_view name) const;
  // Replaces every header of that name by one.
  void set_header(std::string_view name, std::string value);
};

struct Response {
  int status = 0;
  std::string reason;
  Fields headers;
  std::string body;

  const std::string* header(std::string_view name) const;
};

bool iequals(std::string_view a, std::string_view b);

}  // namespace offcloud::client

// The request and response every service sees. Plain structs, free of Beast,
// so services and their tests compile without the networking headers.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace offcloud {

// Header fields in arrival order; lookups ignore case, as HTTP requires.
class Headers {
 public:
  void add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every field of that name by one.
  void set(std::string_view name, std::string value);
  // The first field of that name, or nullptr.
  const std::string* find(std::string_view name) const;
  std::string_view get(std::string_view name) const {
    const std::string* value = find(name);
    return value ? std::string_view(*value) : std::string_view();
  }

  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

bool iequals(std::string_view a, std::string_view b);

struct HttpRequest {
  std::string method;
  std::string target;  // the raw request-target
  std::string path;    // target before '?', still percent-encoded
  std::string query;   // target after '?', still percent-encoded
  Headers headers;
  std::string body;
  std::string remote_address;  // "ip:port"
};

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;
  bool close = false;  // close the connection after this response
};

// Splits `target` into path and query.
void split_target(HttpRequest* request);

}  // namespace offcloud

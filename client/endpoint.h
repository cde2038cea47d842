// Where a service lives: "http://127.0.0.1:4566", "https://host", "[::1]:80".
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace offcloud::client {

struct Endpoint {
  bool tls = false;
  std::string host;  // an IPv6 address without its brackets
  int port = 80;

  // What the Host header says, and so what is signed: the port only when it
  // is not the scheme's default, as the AWS SDKs send it.
  std::string host_header() const;
  std::string url() const;
};

// Accepts http:// and https:// URLs with an optional port and an optional
// trailing '/'; throws std::invalid_argument for anything else.
Endpoint parse_endpoint(std::string_view url);

}  // namespace offcloud::client

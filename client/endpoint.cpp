#include "client/endpoint.h"

#include <charconv>

namespace offcloud::client {

std::string Endpoint::host_header() const {
  std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port == (tls ? 443 : 80)) return name;
  return name + ":" + std::to_string(port);
}

std::string Endpoint::url() const {
  return (tls ? "https://" : "http://") + host_header();
}

Endpoint parse_endpoint(std::string_view url) {
  auto invalid = [&](const char* why) {
    return std::invalid_argument("invalid endpoint '" + std::string(url) + "': " + why);
  };
  Endpoint endpoint;
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    endpoint.tls = true;
  } else {
    throw invalid("it must start with http:// or https://");
  }
  if (rest.ends_with("/")) rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) throw invalid("a path is not supported");
  endpoint.port = endpoint.tls ? 443 : 80;
  std::string_view port;
  if (rest.starts_with("[")) {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos) throw invalid("unclosed '['");
    endpoint.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') throw invalid("unexpected text after ']'");
      port = after.substr(1);
    }
  } else {
    std::size_t colon = rest.rfind(':');
    endpoint.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (endpoint.host.empty()) throw invalid("no host");
  if (!port.empty() || rest.ends_with(":")) {
    auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), endpoint.port);
    if (error != std::errc() || end != port.data() + port.size() || endpoint.port < 1 ||
        endpoint.port > 65535) {
      throw invalid("bad port");
    }
  }
  return endpoint;
}

}  // namespace offcloud::client

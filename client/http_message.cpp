#include "client/http_message.h"

#include <algorithm>

#include "client/uri_encoding.h"

namespace offcloud::client {
namespace {

const std::string* find_field(const Fields& fields, std::string_view name) {
  for (const auto& [field, value] : fields) {
    if (iequals(field, name)) return &value;
  }
  return nullptr;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    return lower(x) == lower(y);
  });
}

std::string Request::target() const {
  std::string out = path.empty() ? "/" : path;
  char separator = '?';
  for (const auto& [name, value] : query) {
    out += separator;
    out += uri_encode(name, false);
    // A bare name ("?lifecycle") is how S3 subresources are written.
    if (!value.empty()) out += "=" + uri_encode(value, false);
    separator = '&';
  }
  return out;
}

const std::string* Request::header(std::string_view name) const {
  return find_field(headers, name);
}

void Request::set_header(std::string_view name, std::string value) {
  std::erase_if(headers, [&](const auto& field) { return iequals(field.first, name); });
  headers.emplace_back(std::string(name), std::move(value));
}

const std::string* Response::header(std::string_view name) const {
  return find_field(headers, name);
}

}  // namespace offcloud::client

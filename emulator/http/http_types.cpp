#include "emulator/http/http_types.h"

#include <algorithm>

namespace offcloud {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

void Headers::set(std::string_view name, std::string value) {
  std::erase_if(fields_, [&](const auto& field) { return iequals(field.first, name); });
  fields_.emplace_back(std::string(name), std::move(value));
}

const std::string* Headers::find(std::string_view name) const {
  for (const auto& field : fields_) {
    if (iequals(field.first, name)) return &field.second;
  }
  return nullptr;
}

void split_target(HttpRequest* request) {
  std::string_view target = request->target;
  std::size_t mark = target.find('?');
  request->path = std::string(target.substr(0, mark));
  request->query =
      mark == std::string_view::npos ? std::string() : std::string(target.substr(mark + 1));
}

}  // namespace offcloud

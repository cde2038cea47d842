// The console's files (console/ at the top of the tree), compiled into the
// binary by embed_assets.cmake.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace offcloud::console {

struct Asset {
  std::string_view path;          // under console/, e.g. "js/app.js"
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view etag;          // quoted, from the file's SHA-256
  const unsigned char* data;
  std::size_t size;
};

// Every embedded file, sorted by path.
std::span<const Asset> assets();

}  // namespace offcloud::console

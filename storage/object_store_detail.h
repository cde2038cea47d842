// Helpers object_store.cpp and object_store_multipart.cpp share.
#pragma once

#include <cstdint>
#include <string>

#include "storage/object_store.h"

namespace offcloud::detail {

std::int64_t now_ms();
std::string random_id();                              // 32 hex digits
[[noreturn]] void io_error(const std::string& what);  // throws StorageError with errno's text
std::string to_json(const HeaderList& list);
HeaderList from_json(const std::string& text);
std::string parts_to_json(const std::vector<ObjectPart>& parts);
std::vector<ObjectPart> parts_from_json(const std::string& text);

}  // namespace offcloud::detail

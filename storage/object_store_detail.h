// Helpers object_store.cpp and object_store_multipart.cpp share.
#pragma once

#include <cstdint>
#include <optional>
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

// The columns read_object reads, in its order; `object` and
// `object_version` both have them.
extern const char* const kObjectColumns;
ObjectInfo read_object(const Statement& row);

// Versioning (object_store_versions.cpp).
Versioning versioning_from_text(const std::string& text);  // the bucket.versioning column
std::string new_version_id();
// Sets `column` ("acl", "tags") of bucket/key's version (nullopt: the
// current one), unless it is a delete marker; false when there is none.
bool update_version_column(Database& db, const char* column, const std::string& bucket,
                           const std::string& key, const std::string& value,
                           const std::optional<std::string>& version_id);

}  // namespace offcloud::detail

// JSON text to and from SqlValue. Objects keep their members in the order
// they were written, so a rule's output lists fields in SELECT order.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "rules/sql_value.h"

namespace offcloud {

// nullopt when `text` is not a single JSON document (or nests deeper than
// kMaxJsonDepth). `whole_decimals_as_int` is SQL 2016-03-23's reading of
// 10.0 as the Int 10. A key that appears twice keeps its last value.
std::optional<SqlValue> parse_json(std::string_view text, bool whole_decimals_as_int);
inline constexpr int kMaxJsonDepth = 512;

// Undefined members and array elements are left out; Undefined on its own
// appends nothing.
void append_json(const SqlValue& value, bool whole_decimals_as_int, std::string* out);
std::string to_json(const SqlValue& value, bool whole_decimals_as_int = true);

}  // namespace offcloud

#include "rules/sql_value.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "rules/sql_json.h"

namespace offcloud {

SqlValue SqlValue::array(Array elements) {
  return SqlValue(Make{},
                  std::shared_ptr<const Array>(std::make_shared<Array>(std::move(elements))));
}

SqlValue SqlValue::object(Object members) {
  return SqlValue(Make{},
                  std::shared_ptr<const Object>(std::make_shared<Object>(std::move(members))));
}

const SqlValue* SqlValue::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const Member& member : as_object()) {
    if (member.first == key) return &member.second;
  }
  return nullptr;
}

bool operator==(const SqlValue& a, const SqlValue& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
    return *to_decimal(a) == *to_decimal(b);
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case SqlValue::Type::kArray:
      return a.as_array() == b.as_array();
    case SqlValue::Type::kObject: {
      // Member order does not matter to JSON objects.
      const SqlValue::Object& left = a.as_object();
      if (left.size() != b.as_object().size()) return false;
      for (const SqlValue::Member& member : left) {
        const SqlValue* other = b.find(member.first);
        if (other == nullptr || !(*other == member.second)) return false;
      }
      return true;
    }
    default:
      return a.storage_ == b.storage_;
  }
}

const char* type_name(SqlValue::Type type) {
  switch (type) {
    case SqlValue::Type::kUndefined:
      return "Undefined";
    case SqlValue::Type::kNull:
      return "Null";
    case SqlValue::Type::kBoolean:
      return "Boolean";
    case SqlValue::Type::kInt:
      return "Int";
    case SqlValue::Type::kDecimal:
      return "Decimal";
    case SqlValue::Type::kString:
      return "String";
    case SqlValue::Type::kArray:
      return "Array";
    case SqlValue::Type::kObject:
      return "Object";
  }
  return "?";
}

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// ^-?\d+(\.\d+)?([eE]-?\d+)?$, the only strings AWS reads as numbers.
bool is_numeric_text(std::string_view text) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    return i > start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  if (!digits()) return false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && text[i] == '-') ++i;
    if (!digits()) return false;
  }
  return i == text.size();
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] + 32) : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<double> to_decimal(const SqlValue& value) {
  switch (value.type()) {
    case SqlValue::Type::kInt:
      return static_cast<double>(value.as_int());
    case SqlValue::Type::kDecimal:
      return value.as_decimal();
    case SqlValue::Type::kString: {
      const std::string& text = value.as_string();
      if (!is_numeric_text(text)) return std::nullopt;
      double result = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), result);
      if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
      return result;
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::int64_t> to_int(const SqlValue& value) {
  if (value.is_int()) return value.as_int();
  if (value.is_string()) {
    const std::string& text = value.as_string();
    std::int64_t result = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), result);
    if (error == std::errc() && end == text.data() + text.size()) return result;
  }
  if (value.is_decimal() || value.is_string()) {
    std::optional<double> decimal = to_decimal(value);
    if (!decimal || !std::isfinite(*decimal)) return std::nullopt;
    double truncated = std::trunc(*decimal);
    if (truncated < -9.2233720368547758e18 || truncated >= 9.2233720368547758e18) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(truncated);
  }
  return std::nullopt;
}

std::optional<bool> to_boolean(const SqlValue& value) {
  switch (value.type()) {
    case SqlValue::Type::kBoolean:
      return value.as_boolean();
    case SqlValue::Type::kInt:
      return value.as_int() != 0;
    case SqlValue::Type::kDecimal:
      return value.as_decimal() != 0;
    case SqlValue::Type::kString:
      if (equals_ignoring_case(value.as_string(), "true")) return true;
      if (equals_ignoring_case(value.as_string(), "false")) return false;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::optional<std::string> to_string(const SqlValue& value, bool whole_decimals_as_int) {
  switch (value.type()) {
    case SqlValue::Type::kUndefined:
    case SqlValue::Type::kNull:
      return std::nullopt;
    case SqlValue::Type::kString:
      return value.as_string();
    default: {
      std::string text;
      append_json(value, whole_decimals_as_int, &text);
      return text;
    }
  }
}

void append_decimal(double value, bool whole_as_int, std::string* out) {
  if (!std::isfinite(value)) {
    // JSON has no NaN or infinity; AWS's functions return Undefined instead,
    // so only arithmetic overflow gets here.
    out->append("null");
    return;
  }
  bool whole = value == std::trunc(value) && std::fabs(value) < 9.2233720368547758e18;
  if (whole && whole_as_int) {
    out->append(std::to_string(static_cast<std::int64_t>(value)));
    return;
  }
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)error;  // 32 bytes always fit a double
  std::string_view text(buffer, static_cast<std::size_t>(end - buffer));
  out->append(text);
  if (text.find_first_of(".e") == std::string_view::npos) out->append(".0");
}

}  // namespace offcloud

// A value of AWS IoT SQL: the JSON types plus Int/Decimal split and
// Undefined, which is what a missing key, a failed conversion or a function
// given bad arguments evaluates to. Undefined is not JSON: it disappears from
// output objects, and serializes to nothing on its own.
//
// Arrays and objects are immutable and shared, so selecting a subtree of a
// payload copies a pointer, not the subtree.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace offcloud {

class SqlValue {
 public:
  // The order matches the alternatives of Storage.
  enum class Type : std::uint8_t {
    kUndefined,
    kNull,
    kBoolean,
    kInt,
    kDecimal,
    kString,
    kArray,
    kObject
  };
  using Array = std::vector<SqlValue>;
  using Member = std::pair<std::string, SqlValue>;
  using Object = std::vector<Member>;  // in insertion order; keys are unique

  SqlValue() = default;  // Undefined
  static SqlValue null() { return SqlValue(Make{}, Null{}); }
  static SqlValue boolean(bool value) { return SqlValue(Make{}, value); }
  static SqlValue integer(std::int64_t value) { return SqlValue(Make{}, value); }
  static SqlValue decimal(double value) { return SqlValue(Make{}, value); }
  static SqlValue string(std::string value) { return SqlValue(Make{}, std::move(value)); }
  static SqlValue array(Array elements);
  static SqlValue object(Object members);

  Type type() const { return static_cast<Type>(storage_.index()); }
  bool is_undefined() const { return type() == Type::kUndefined; }
  bool is_null() const { return type() == Type::kNull; }
  bool is_boolean() const { return type() == Type::kBoolean; }
  bool is_int() const { return type() == Type::kInt; }
  bool is_decimal() const { return type() == Type::kDecimal; }
  bool is_number() const { return is_int() || is_decimal(); }
  bool is_string() const { return type() == Type::kString; }
  bool is_array() const { return type() == Type::kArray; }
  bool is_object() const { return type() == Type::kObject; }

  // Each requires the matching type.
  bool as_boolean() const { return std::get<bool>(storage_); }
  std::int64_t as_int() const { return std::get<std::int64_t>(storage_); }
  double as_decimal() const { return std::get<double>(storage_); }
  const std::string& as_string() const { return std::get<std::string>(storage_); }
  const Array& as_array() const { return *std::get<std::shared_ptr<const Array>>(storage_); }
  const Object& as_object() const { return *std::get<std::shared_ptr<const Object>>(storage_); }

  // The member named `key` of an object; nullptr if absent or not an object.
  const SqlValue* find(std::string_view key) const;

  // Structural equality as the `=` operator sees it once types are known:
  // Int 1 equals Decimal 1.0, and arrays/objects compare element-wise.
  friend bool operator==(const SqlValue& a, const SqlValue& b);

 private:
  struct Null {
    bool operator==(const Null&) const = default;
  };
  using Storage = std::variant<std::monostate, Null, bool, std::int64_t, double, std::string,
                               std::shared_ptr<const Array>, std::shared_ptr<const Object>>;
  struct Make {};
  template <typename T>
  SqlValue(Make, T&& value) : storage_(std::forward<T>(value)) {}

  Storage storage_;
};

const char* type_name(SqlValue::Type type);

// The conversions of AWS's "Data types" page, used when a function or an
// operator gets an argument of another type. nullopt where the page says
// Undefined. Strings convert to numbers only when they match
// ^-?\d+(\.\d+)?([eE]-?\d+)?$, as AWS documents.
std::optional<double> to_decimal(const SqlValue& value);
// Decimals (and numeric strings) truncate toward zero.
std::optional<std::int64_t> to_int(const SqlValue& value);
// Numbers are true unless zero; strings only "true"/"false", any case.
std::optional<bool> to_boolean(const SqlValue& value);
// Strings as they are, numbers and booleans as they print, arrays and
// objects as JSON. Null and Undefined do not convert.
std::optional<std::string> to_string(const SqlValue& value, bool whole_decimals_as_int = true);

// How a Decimal prints: the shortest text that reads back as the same double.
// `whole_as_int` (SQL 2016-03-23) prints 10.0 as 10; otherwise as 10.0.
void append_decimal(double value, bool whole_as_int, std::string* out);

}  // namespace offcloud

#include "rules/sql_operators.h"

#include <cmath>
#include <optional>

namespace offcloud {
namespace {

std::optional<std::int64_t> int_arithmetic(SqlOperator op, std::int64_t a, std::int64_t b) {
  std::int64_t result = 0;
  switch (op) {
    case SqlOperator::kAdd:
      if (__builtin_add_overflow(a, b, &result)) return std::nullopt;
      return result;
    case SqlOperator::kSubtract:
      if (__builtin_sub_overflow(a, b, &result)) return std::nullopt;
      return result;
    case SqlOperator::kMultiply:
      if (__builtin_mul_overflow(a, b, &result)) return std::nullopt;
      return result;
    case SqlOperator::kDivide:
      if (a == INT64_MIN && b == -1) return std::nullopt;
      return a / b;
    case SqlOperator::kModulo:
      if (b == -1) return 0;
      return a % b;
    default:
      return std::nullopt;
  }
}

double decimal_arithmetic(SqlOperator op, double a, double b) {
  switch (op) {
    case SqlOperator::kAdd:
      return a + b;
    case SqlOperator::kSubtract:
      return a - b;
    case SqlOperator::kMultiply:
      return a * b;
    case SqlOperator::kDivide:
      return a / b;
    default:
      return std::fmod(a, b);
  }
}

}  // namespace

SqlValue apply_arithmetic(SqlOperator op, const SqlValue& left, const SqlValue& right) {
  if (left.is_undefined() || right.is_undefined()) return SqlValue();
  if (op == SqlOperator::kAdd && (left.is_string() || right.is_string())) {
    std::optional<std::string> a = to_string(left);
    std::optional<std::string> b = to_string(right);
    if (!a || !b) return SqlValue();
    return SqlValue::string(*a + *b);
  }
  bool divides = op == SqlOperator::kDivide || op == SqlOperator::kModulo;
  if (left.is_int() && right.is_int()) {
    if (divides && right.as_int() == 0) return SqlValue();
    if (std::optional<std::int64_t> result = int_arithmetic(op, left.as_int(), right.as_int())) {
      return SqlValue::integer(*result);
    }
  }
  // Only numbers and numeric strings take part; booleans do not convert.
  if (left.is_boolean() || right.is_boolean()) return SqlValue();
  std::optional<double> a = to_decimal(left);
  std::optional<double> b = to_decimal(right);
  if (!a || !b) return SqlValue();
  if (divides && *b == 0) return SqlValue();
  double result = decimal_arithmetic(op, *a, *b);
  if (!std::isfinite(result)) return SqlValue();
  return SqlValue::decimal(result);
}

SqlValue negate(const SqlValue& operand) {
  if (operand.is_int() && operand.as_int() != INT64_MIN)
    return SqlValue::integer(-operand.as_int());
  if (operand.is_boolean()) return SqlValue();
  std::optional<double> value = to_decimal(operand);
  if (!value) return SqlValue();
  return SqlValue::decimal(-*value);
}

namespace {

std::optional<bool> logical_operand(const SqlValue& value) {
  if (value.is_boolean()) return value.as_boolean();
  if (value.is_string()) return to_boolean(value);
  return std::nullopt;
}

}  // namespace

SqlValue logical_and(const SqlValue& left, const SqlValue& right) {
  std::optional<bool> a = logical_operand(left);
  std::optional<bool> b = logical_operand(right);
  if (!a || !b) return SqlValue();
  return SqlValue::boolean(*a && *b);
}

SqlValue logical_or(const SqlValue& left, const SqlValue& right) {
  std::optional<bool> a = logical_operand(left);
  std::optional<bool> b = logical_operand(right);
  if (!a || !b) return SqlValue();
  return SqlValue::boolean(*a || *b);
}

SqlValue logical_not(const SqlValue& operand) {
  std::optional<bool> value = logical_operand(operand);
  if (!value) return SqlValue();
  return SqlValue::boolean(!*value);
}

SqlValue equals(const SqlValue& left, const SqlValue& right) {
  if (left.is_undefined() || right.is_undefined()) return SqlValue();
  return SqlValue::boolean(left == right);
}

SqlValue not_equals(const SqlValue& left, const SqlValue& right) {
  if (left.is_undefined() || right.is_undefined()) return SqlValue();
  return SqlValue::boolean(!(left == right));
}

SqlValue compare(SqlOperator op, const SqlValue& left, const SqlValue& right) {
  if (left.is_int() && right.is_int()) {
    std::int64_t a = left.as_int(), b = right.as_int();
    switch (op) {
      case SqlOperator::kLess:
        return SqlValue::boolean(a < b);
      case SqlOperator::kLessEqual:
        return SqlValue::boolean(a <= b);
      case SqlOperator::kGreater:
        return SqlValue::boolean(a > b);
      default:
        return SqlValue::boolean(a >= b);
    }
  }
  std::optional<double> a = to_decimal(left);
  std::optional<double> b = to_decimal(right);
  if (!a || !b) return SqlValue();
  switch (op) {
    case SqlOperator::kLess:
      return SqlValue::boolean(*a < *b);
    case SqlOperator::kLessEqual:
      return SqlValue::boolean(*a <= *b);
    case SqlOperator::kGreater:
      return SqlValue::boolean(*a > *b);
    default:
      return SqlValue::boolean(*a >= *b);
  }
}

SqlValue contained_in(const SqlValue& needle, const SqlValue& haystack) {
  if (needle.is_undefined() || !haystack.is_array()) return SqlValue();
  for (const SqlValue& element : haystack.as_array()) {
    if (element == needle) return SqlValue::boolean(true);
  }
  return SqlValue::boolean(false);
}

}  // namespace offcloud

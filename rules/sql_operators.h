// The operators of AWS IoT SQL, with the operand rules of AWS's "Operators"
// page. Any operand that the page does not give a row for makes the result
// Undefined; so does an Undefined operand, except that `=`/`<>` with
// mismatched (defined) types are simply false/true.
#pragma once

#include "rules/sql_ast.h"
#include "rules/sql_value.h"

namespace offcloud {

// Int op Int stays Int (integer division truncates; overflow becomes
// Decimal); a Decimal operand makes a Decimal; numeric strings convert to
// Decimal. `+` with a String operand concatenates instead, converting the
// other operand to a string. Division or modulo by zero is Undefined.
SqlValue apply_arithmetic(SqlOperator op, const SqlValue& left, const SqlValue& right);

SqlValue negate(const SqlValue& operand);

// Booleans, or the strings "true"/"false" in any case.
SqlValue logical_and(const SqlValue& left, const SqlValue& right);
SqlValue logical_or(const SqlValue& left, const SqlValue& right);
SqlValue logical_not(const SqlValue& operand);

// `=`: numbers compare by value, strings/arrays/objects structurally, Null
// equals Null; different types are unequal.
SqlValue equals(const SqlValue& left, const SqlValue& right);
SqlValue not_equals(const SqlValue& left, const SqlValue& right);

// `<`, `<=`, `>`, `>=`: both operands are converted to Decimal first, so
// "20" > 3 is true and "abc" > 3 is Undefined.
SqlValue compare(SqlOperator op, const SqlValue& left, const SqlValue& right);

// `x IN array`: whether an element equals x.
SqlValue contained_in(const SqlValue& needle, const SqlValue& haystack);

}  // namespace offcloud

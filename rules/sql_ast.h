// The parsed form of an AWS IoT SQL statement: what sql_parser produces and
// sql_evaluator walks. Names are resolved while parsing (functions to their
// implementation, @variables to a slot), so evaluation does no lookups by
// name except into the payload.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "rules/sql_value.h"

namespace offcloud {

// awsIotSqlVersion. 2016-03-23 is what AWS gives new rules.
enum class SqlVersion { k2015_10_08, k2016_03_23 };

struct SqlFunctionSpec;  // sql_functions.h
struct SqlSelect;

enum class SqlExprKind {
  kLiteral,   // literal
  kField,     // name: a key of the current row (the payload, or a sub-select's element)
  kWildcard,  // *: the whole current row
  kVariable,  // @name: variable_slot
  kMember,    // operands[0].name
  kIndex,     // operands[0][operands[1]]
  kUnary,     // op operands[0]
  kBinary,    // operands[0] op operands[1]
  kCall,      // function(operands...)
  kCase,      // see has_case_subject / has_else
  kArray,     // [operands...]
  kObject,    // {keys[i]: operands[i]...}
  kSubquery,  // (SELECT ... FROM array-expression ...)
};

enum class SqlOperator {
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kModulo,
  kEqual,
  kNotEqual,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kAnd,
  kOr,
  kIn,
  kNot,     // unary
  kNegate,  // unary
};

struct SqlExpr {
  SqlExprKind kind;
  std::size_t position;  // of the token the expression starts at, for errors
  SqlOperator op = SqlOperator::kAdd;
  SqlValue literal;
  std::string name;
  std::size_t variable_slot = 0;
  const SqlFunctionSpec* function = nullptr;
  // kCase: [subject] (when, then)... [else]
  bool has_case_subject = false;
  bool has_else = false;
  std::vector<std::unique_ptr<SqlExpr>> operands;
  std::vector<std::string> keys;  // kObject
  std::unique_ptr<SqlSelect> subquery;
};

struct SqlSelectItem {
  std::unique_ptr<SqlExpr> expr;  // kWildcard for *
  std::string output_name;        // the AS name, or one derived from expr
};

struct SqlSelect {
  bool select_value = false;  // SELECT VALUE expr: the output is expr itself
  std::vector<SqlSelectItem> items;
  std::string topic_filter;         // the top-level FROM
  std::unique_ptr<SqlExpr> source;  // a sub-select's FROM: the array it ranges over
  std::unique_ptr<SqlExpr> where;   // may be null
};

struct SqlAssignment {
  std::string name;  // without '@'
  std::unique_ptr<SqlExpr> value;
};

// [SET @a = expr, ...] SELECT ... FROM 'topic/filter' [WHERE ...]
struct SqlStatement {
  SqlVersion version = SqlVersion::k2016_03_23;
  std::vector<SqlAssignment> variables;  // slot i is variables[i], set in order
  SqlSelect select;
};

}  // namespace offcloud

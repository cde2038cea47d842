// The last stage of AWS IoT SQL: a parsed statement run against one message.
// The payload is parsed as JSON at most once per evaluation, and only if the
// statement looks into it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rules/sql_ast.h"
#include "rules/sql_context.h"
#include "rules/sql_value.h"

namespace offcloud {

// The payload the rule's actions get, or nullopt when WHERE is not true
// (false, Undefined, or not a Boolean). SELECT * alone passes a non-JSON
// payload through as its raw bytes; fields of a non-JSON payload are
// Undefined, and Undefined fields are left out of the output object.
// SELECT VALUE of an Undefined expression yields an empty payload.
std::optional<std::string> evaluate_statement(const SqlStatement& statement,
                                              const EvaluationContext& context);

// The @variables of `statement`'s SET clause, for substitution templates.
std::vector<SqlValue> evaluate_variables(const SqlStatement& statement,
                                         const EvaluationContext& context);

// One expression against context.message; `variables` fills @slots.
SqlValue evaluate_expression(const SqlExpr& expr, SqlVersion version,
                             const EvaluationContext& context,
                             const std::vector<SqlValue>& variables = {});

}  // namespace offcloud

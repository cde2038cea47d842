// The second stage of AWS IoT SQL: tokens to a SqlStatement (sql_ast.h).
// Besides syntax it checks what AWS checks when a rule is created: the FROM
// topic filter, known function names, versions (nested SELECTs and encode()
// need 2016-03-23), and @variables set once before use. Functions that call
// other AWS services are refused here, since offcloud runs offline.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rules/sql_ast.h"
#include "rules/sql_tokenizer.h"

namespace offcloud {

// Throws SqlParseError.
SqlStatement parse_sql(std::string_view sql, SqlVersion version);

// One expression, such as the inside of a substitution template's ${...}.
// `variables` are the @names it may use, slot i being variables[i].
// Throws SqlParseError.
std::unique_ptr<SqlExpr> parse_sql_expression(std::string_view text, SqlVersion version,
                                              const std::vector<std::string>& variables = {});

// "2015-10-08" or "2016-03-23"; false for anything else. An empty version
// means AWS's default for new rules, 2016-03-23.
bool parse_sql_version(std::string_view text, SqlVersion* version);
const char* sql_version_name(SqlVersion version);

}  // namespace offcloud

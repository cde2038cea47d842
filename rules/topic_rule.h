// A topic rule's SQL, compiled once when the rule is created and evaluated
// for every matching message: the per-message cost is matching the topic
// filter and walking the AST, never re-parsing the SQL.
//
// SQL versions (awsIotSqlVersion) differ where offcloud implements AWS's
// differences: 2016-03-23 reads whole-number decimals such as 10.0 as the Int
// 10 and prints them so; it alone allows nested SELECTs over arrays and the
// encode() function. 2015-10-08 keeps 10.0 a Decimal.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rules/sql_ast.h"
#include "rules/sql_context.h"
#include "rules/sql_tokenizer.h"
#include "rules/topic_filter.h"

namespace offcloud {

class CompiledRule {
 public:
  CompiledRule(std::string sql, SqlStatement statement);

  const std::string& sql() const { return sql_; }
  SqlVersion version() const { return statement_->version; }
  const TopicFilter& topic_filter() const { return topic_filter_; }
  const SqlStatement& statement() const { return *statement_; }
  // The @names of the SET clause, for templates that use them.
  const std::vector<std::string>& variable_names() const { return variable_names_; }

  // The output payload, or nullopt when the topic does not match the FROM
  // filter or WHERE rejects the message.
  std::optional<std::string> evaluate(const EvaluationContext& context) const;

 private:
  std::string sql_;
  // Behind a pointer so that CompiledRule moves without invalidating the
  // AST's internal references.
  std::unique_ptr<const SqlStatement> statement_;
  TopicFilter topic_filter_;
  std::vector<std::string> variable_names_;
};

// `version` as in CreateTopicRule's awsIotSqlVersion ("" = 2016-03-23).
std::variant<CompiledRule, SqlParseError> compile_rule(std::string_view sql,
                                                       std::string_view version = "");

// A substitution template, as actions take them: text with ${expression}
// parts, each any IoT SQL expression, e.g. "${topic()}/${timestamp()}.json".
class CompiledTemplate {
 public:
  // Undefined expands to nothing; strings expand without quotes; other
  // values as JSON. `variables` are the rule's SET values, in slot order.
  std::string expand(const EvaluationContext& context,
                     const std::vector<SqlValue>& variables = {}) const;

 private:
  friend std::variant<CompiledTemplate, SqlParseError> compile_template(
      std::string_view text, SqlVersion version, const std::vector<std::string>& variable_names);
  struct Part {
    std::string literal;
    std::shared_ptr<const SqlExpr> expr;  // null for literal text
  };
  SqlVersion version_ = SqlVersion::k2016_03_23;
  std::vector<Part> parts_;
};

std::variant<CompiledTemplate, SqlParseError> compile_template(
    std::string_view text, SqlVersion version = SqlVersion::k2016_03_23,
    const std::vector<std::string>& variable_names = {});

// Compiles and expands in one step; a template that does not parse expands
// to itself.
std::string expand_template(std::string_view text, const EvaluationContext& context);

}  // namespace offcloud

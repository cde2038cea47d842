#include "rules/topic_rule.h"

#include "rules/sql_evaluator.h"
#include "rules/sql_json.h"
#include "rules/sql_parser.h"

namespace offcloud {

CompiledRule::CompiledRule(std::string sql, SqlStatement statement)
    : sql_(std::move(sql)),
      statement_(std::make_unique<const SqlStatement>(std::move(statement))),
      topic_filter_(statement_->select.topic_filter) {
  for (const SqlAssignment& assignment : statement_->variables) {
    variable_names_.push_back(assignment.name);
  }
}

std::optional<std::string> CompiledRule::evaluate(const EvaluationContext& context) const {
  if (context.message == nullptr || !topic_filter_.matches(context.message->topic)) {
    return std::nullopt;
  }
  return evaluate_statement(*statement_, context);
}

std::variant<CompiledRule, SqlParseError> compile_rule(std::string_view sql,
                                                       std::string_view version) {
  SqlVersion parsed_version;
  if (!parse_sql_version(version, &parsed_version)) {
    return SqlParseError{
        "Unsupported awsIotSqlVersion " + std::string(version) + "; use 2015-10-08 or 2016-03-23",
        0};
  }
  try {
    return CompiledRule(std::string(sql), parse_sql(sql, parsed_version));
  } catch (const SqlParseError& error) {
    return error;
  }
}

std::string CompiledTemplate::expand(const EvaluationContext& context,
                                     const std::vector<SqlValue>& variables) const {
  std::string out;
  for (const Part& part : parts_) {
    if (!part.expr) {
      out += part.literal;
      continue;
    }
    SqlValue value = evaluate_expression(*part.expr, version_, context, variables);
    if (value.is_string()) {
      out += value.as_string();
    } else {
      append_json(value, version_ == SqlVersion::k2016_03_23, &out);
    }
  }
  return out;
}

std::variant<CompiledTemplate, SqlParseError> compile_template(
    std::string_view text, SqlVersion version, const std::vector<std::string>& variable_names) {
  CompiledTemplate result;
  result.version_ = version;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t open = text.find("${", at);
    if (open == std::string_view::npos) break;
    // The expression ends at the matching brace: object literals nest.
    int depth = 0;
    std::size_t close = open + 2;
    char quote = 0;
    for (; close < text.size(); ++close) {
      char c = text[close];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '{') {
        ++depth;
      } else if (c == '}') {
        if (depth == 0) break;
        --depth;
      }
    }
    if (close >= text.size()) {
      return SqlParseError{"unterminated ${ in substitution template", open};
    }
    if (open > at) result.parts_.push_back({std::string(text.substr(at, open - at)), nullptr});
    std::string_view inside = text.substr(open + 2, close - open - 2);
    try {
      result.parts_.push_back(
          {{},
           std::shared_ptr<const SqlExpr>(parse_sql_expression(inside, version, variable_names))});
    } catch (SqlParseError& error) {
      error.position += open + 2;
      return error;
    }
    at = close + 1;
  }
  if (at < text.size()) result.parts_.push_back({std::string(text.substr(at)), nullptr});
  return result;
}

std::string expand_template(std::string_view text, const EvaluationContext& context) {
  auto compiled = compile_template(text);
  if (std::holds_alternative<SqlParseError>(compiled)) return std::string(text);
  return std::get<CompiledTemplate>(compiled).expand(context);
}

}  // namespace offcloud

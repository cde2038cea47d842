#include "emulator/iot/iot_sql_check.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "rules/topic_rule.h"

namespace offcloud {
namespace {

using json = nlohmann::json;

HttpResponse invalid(std::string message, const RequestContext& context) {
  return error_response(Protocol::kRestJson,
                        {ErrorCode::kInvalidRequestException, std::move(message)},
                        context.request_id);
}

}  // namespace

HttpResponse check_rule_sql(const HttpRequest& request, RequestContext& context) {
  context.operation = "CheckRuleSql";
  if (request.method != "POST") {
    return invalid("POST is the only method of " + std::string(kSqlCheckPath) + ".", context);
  }
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("sql") || !body["sql"].is_string()) {
    return invalid("The body must be a JSON object with the rule's \"sql\" as a string.", context);
  }
  std::string version;
  if (body.contains("awsIotSqlVersion") && !body["awsIotSqlVersion"].is_null()) {
    if (!body["awsIotSqlVersion"].is_string()) {
      return invalid("awsIotSqlVersion must be a string.", context);
    }
    version = body["awsIotSqlVersion"].get<std::string>();
  }
  const std::string sql = body["sql"].get<std::string>();
  auto compiled = compile_rule(sql, version);
  json out;
  if (auto* rule = std::get_if<CompiledRule>(&compiled)) {
    out = {{"ok", true}, {"topic_filter", rule->statement().select.topic_filter}};
  } else {
    const SqlParseError& error = std::get<SqlParseError>(compiled);
    // The line and column of make_parse_error's "Line L:C", as numbers.
    std::size_t offset = std::min(error.position, sql.size());
    std::size_t line_start = sql.rfind('\n', offset == 0 ? 0 : offset - 1);
    line_start = line_start == std::string::npos || offset == 0 ? 0 : line_start + 1;
    out = {{"ok", false},
           {"code", "SqlParseException"},
           {"message", error.message},
           {"line", 1 + std::count(sql.begin(), sql.begin() + offset, '\n')},
           {"column", offset - line_start},
           {"offset", offset}};
  }
  HttpResponse response;
  response.headers.add("Content-Type", "application/json");
  response.headers.add("Cache-Control", "no-store");
  response.body = out.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

}  // namespace offcloud

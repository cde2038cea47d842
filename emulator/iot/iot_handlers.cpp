#include "emulator/iot/iot_handlers.h"

#include <nlohmann/json.hpp>

#include "emulator/iot/iot_scope.h"
#include "emulator/iot/iot_sql_check.h"
#include "emulator/iot/topic_rule_payload.h"
#include "emulator/util/log.h"
#include "rules/sql_parser.h"
#include "storage/digest.h"

namespace offcloud {
namespace {

constexpr std::string_view kRulesPath = "/rules";
constexpr std::size_t kMaxRuleNameLength = 128;
constexpr std::int64_t kMaxListResults = 10000;  // TopicRuleMaxResults
constexpr std::int64_t kDefaultListResults = 1000;

HttpResponse json_response(const std::string& body) {
  HttpResponse response;
  response.headers.add("Content-Type", "application/json");
  response.body = body;
  return response;
}

HttpResponse json_response(const nlohmann::json& body) {
  return json_response(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse error(ErrorCode code, std::string message, const RequestContext& context) {
  return error_response(Protocol::kRestJson, {code, std::move(message)}, context.request_id);
}

// AWS answers every operation on a rule that does not exist as if the
// caller were not allowed to see it.
HttpResponse no_such_rule(const std::string& name, const RequestContext& context) {
  return error(ErrorCode::kUnauthorizedException, "Access to topic rule '" + name + "' was denied",
               context);
}

// RuleName: ^[a-zA-Z0-9_]+$, 1 to 128 characters.
bool valid_rule_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxRuleNameLength) return false;
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string rule_arn(const AccountRegion& scope, const std::string& name) {
  return "arn:aws:iot:" + scope.region + ":" + scope.account_id + ":rule/" + name;
}

std::optional<std::int64_t> parse_count(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string sql_version_of(const CompiledTopicRule* rule) {
  return sql_version_name(rule ? rule->sql.version() : SqlVersion::k2016_03_23);
}

}  // namespace

IotService::IotService(RuleStore& store, RulesEngine& engine, IotRegistry& registry,
                       const LocalCa& ca)
    : store_(store), engine_(engine), registry_(registry, ca) {
  for (const StoredTopicRule& stored : store_.list_all()) {
    auto definition = parse_topic_rule_payload(stored.payload);
    std::string why;
    if (auto* rule = std::get_if<RuleDefinition>(&definition)) {
      auto compiled = engine_.compile({stored.account_id, stored.region}, stored.name, *rule);
      if (auto* ok = std::get_if<std::shared_ptr<const CompiledTopicRule>>(&compiled)) {
        engine_.put(*ok, !stored.disabled);
        continue;
      }
      why = std::get<RuleCompileError>(compiled).message;
    } else {
      why = std::get<std::string>(definition);
    }
    // Only a payload stored by another version of offcloud can get here.
    log(LogLevel::kWarn,
        "topic rule " + stored.name + " does not compile and will not run: " + why);
  }
}

std::vector<IamRequest> IotService::iam_requests(const HttpRequest& request,
                                                 const QueryParams& /*query*/,
                                                 const RequestContext& context) const {
  std::optional<std::string> path = percent_decode(request.path);
  if (!path) return {};
  const std::string& method = request.method;
  if (*path == kSqlCheckPath) return {};  // reads and changes nothing (iot_sql_check.h)
  if (*path == "/endpoint") return {{"iot:DescribeEndpoint", "*"}};
  if (*path == kRulesPath) return {{"iot:ListTopicRules", "*"}};
  if (!path->starts_with(std::string(kRulesPath) + "/")) {
    return registry_.iam_requests(request, context);
  }
  std::string name = path->substr(kRulesPath.size() + 1);
  std::string action;
  if (std::size_t slash = name.find('/'); slash != std::string::npos) {
    action = name.substr(slash + 1);
    name.resize(slash);
  }
  std::string operation;
  if (action == "enable" || action == "disable") {
    operation = action == "enable" ? "EnableTopicRule" : "DisableTopicRule";
  } else if (!action.empty()) {
    return {};
  } else if (method == "POST") {
    operation = "CreateTopicRule";
  } else if (method == "GET") {
    operation = "GetTopicRule";
  } else if (method == "PATCH") {
    operation = "ReplaceTopicRule";
  } else if (method == "DELETE") {
    operation = "DeleteTopicRule";
  } else {
    return {};
  }
  return {{"iot:" + operation,
           "arn:aws:iot:" + context.region + ":" + context.principal.account_id + ":rule/" + name}};
}

void IotService::handle(HttpRequest& request, RequestContext& context, Reply reply) {
  std::string_view method = request.method;
  auto not_allowed = [&] {
    return reply(error(ErrorCode::kMethodNotAllowedException, "", context));
  };
  auto unknown = [&] {
    reply(error(ErrorCode::kUnknownOperationException,
                "No IoT operation at " + std::string(method) + " " + request.path + ".", context));
  };
  std::optional<std::string> path = percent_decode(request.path);
  if (!path) {
    return reply(error(ErrorCode::kInvalidRequestException,
                       "The path is not correctly percent-encoded.", context));
  }

  if (*path == kSqlCheckPath) return reply(check_rule_sql(request, context));
  if (*path == "/endpoint") {
    context.operation = "DescribeEndpoint";
    if (method != "GET") return not_allowed();
    return reply(describe_endpoint(request, context));
  }
  if (*path == kRulesPath) {
    context.operation = "ListTopicRules";
    if (method != "GET") return not_allowed();
    return reply(list_topic_rules(context));
  }
  if (!path->starts_with(std::string(kRulesPath) + "/")) {
    return reply(registry_.handle(request, context));
  }

  std::string name = path->substr(kRulesPath.size() + 1);
  std::string action;
  if (std::size_t slash = name.find('/'); slash != std::string::npos) {
    action = name.substr(slash + 1);
    name.resize(slash);
  }
  if (action == "enable" || action == "disable") {
    context.operation = action == "enable" ? "EnableTopicRule" : "DisableTopicRule";
    if (method != "POST") return not_allowed();
  } else if (!action.empty()) {
    return unknown();
  } else if (method == "POST") {
    context.operation = "CreateTopicRule";
  } else if (method == "GET") {
    context.operation = "GetTopicRule";
  } else if (method == "PATCH") {
    context.operation = "ReplaceTopicRule";
  } else if (method == "DELETE") {
    context.operation = "DeleteTopicRule";
  } else {
    return not_allowed();
  }
  if (!valid_rule_name(name)) {
    return reply(error(
        ErrorCode::kInvalidRequestException,
        "The rule name " + name + " is not valid: use 1 to 128 letters, digits and underscores.",
        context));
  }

  try {
    if (!action.empty()) return reply(set_topic_rule_enabled(name, action == "enable", context));
    if (method == "POST") return reply(create_topic_rule(name, request, context));
    if (method == "GET") return reply(get_topic_rule(name, context));
    if (method == "PATCH") return reply(replace_topic_rule(name, request, context));
    return reply(delete_topic_rule(name, context));
  } catch (const StorageError& e) {
    log(LogLevel::kError, "topic rule " + name + ": " + e.what());
    return reply(error(ErrorCode::kInternalException, "", context));
  }
}

std::variant<std::shared_ptr<const CompiledTopicRule>, HttpResponse> IotService::compile(
    const std::string& name, const std::string& payload, bool* disabled, RequestContext& context) {
  auto definition = parse_topic_rule_payload(payload);
  if (auto* why = std::get_if<std::string>(&definition)) {
    return error(ErrorCode::kInvalidRequestException, *why, context);
  }
  const RuleDefinition& rule = std::get<RuleDefinition>(definition);
  *disabled = rule.disabled;
  auto compiled = engine_.compile(iot_scope(context), name, rule);
  if (auto* failure = std::get_if<RuleCompileError>(&compiled)) {
    ErrorCode code = failure->kind == RuleCompileError::Kind::kSql
                         ? ErrorCode::kSqlParseException
                         : ErrorCode::kInvalidRequestException;
    return error(code, failure->message, context);
  }
  return std::get<std::shared_ptr<const CompiledTopicRule>>(std::move(compiled));
}

HttpResponse IotService::create_topic_rule(const std::string& name, HttpRequest& request,
                                           RequestContext& context) {
  bool disabled = false;
  auto compiled = compile(name, request.body, &disabled, context);
  if (auto* refusal = std::get_if<HttpResponse>(&compiled)) return std::move(*refusal);
  auto& rule = std::get<std::shared_ptr<const CompiledTopicRule>>(compiled);

  std::lock_guard lock(changes_);
  AccountRegion scope = iot_scope(context);
  StoredTopicRule stored{scope.account_id, scope.region,         name, request.body, now_ms(),
                         disabled,         rule_arn(scope, name)};
  if (!store_.insert(stored)) {
    return error(ErrorCode::kResourceAlreadyExistsException,
                 "A topic rule named " + name + " already exists.", context);
  }
  engine_.put(std::move(rule), !disabled);
  return json_response(std::string());
}

HttpResponse IotService::get_topic_rule(const std::string& name, RequestContext& context) {
  AccountRegion scope = iot_scope(context);
  std::optional<StoredTopicRule> stored = store_.get(scope.account_id, scope.region, name);
  if (!stored) return no_such_rule(name, context);
  std::shared_ptr<const CompiledTopicRule> rule = engine_.find(scope, name);
  std::string body = "{\"ruleArn\":" + nlohmann::json(stored->arn).dump() + ",\"rule\":" +
                     topic_rule_json({stored->name, stored->payload, stored->created_ms,
                                      stored->disabled, sql_version_of(rule.get())}) +
                     "}";
  return json_response(body);
}

HttpResponse IotService::list_topic_rules(RequestContext& context) {
  std::int64_t max_results = kDefaultListResults;
  if (const std::string* text = find_param(context.query, "maxResults")) {
    auto value = parse_count(*text);
    if (!value || *value < 1 || *value > kMaxListResults) {
      return error(ErrorCode::kInvalidRequestException,
                   "maxResults must be between 1 and " + std::to_string(kMaxListResults) + ".",
                   context);
    }
    max_results = *value;
  }
  std::optional<bool> disabled;
  if (const std::string* text = find_param(context.query, "ruleDisabled")) {
    if (*text != "true" && *text != "false") {
      return error(ErrorCode::kInvalidRequestException, "ruleDisabled must be true or false.",
                   context);
    }
    disabled = *text == "true";
  }
  std::string from;
  if (const std::string* token = find_param(context.query, "nextToken")) {
    if (!base64_decode(*token, &from) || from.empty()) {
      return error(ErrorCode::kInvalidRequestException, "The nextToken is not valid.", context);
    }
  }
  const std::string* topic = find_param(context.query, "topic");

  nlohmann::json rules = nlohmann::json::array();
  nlohmann::json body = nlohmann::json::object();
  AccountRegion scope = iot_scope(context);
  for (const StoredTopicRule& stored : store_.list(scope.account_id, scope.region)) {
    if (stored.name < from) continue;
    if (disabled && stored.disabled != *disabled) continue;
    std::shared_ptr<const CompiledTopicRule> rule = engine_.find(scope, stored.name);
    std::string pattern = rule ? rule->sql.topic_filter().text() : std::string();
    if (topic && pattern != *topic) continue;
    if (static_cast<std::int64_t>(rules.size()) == max_results) {
      body["nextToken"] = base64_encode(stored.name);
      break;
    }
    rules.push_back({{"ruleArn", stored.arn},
                     {"ruleName", stored.name},
                     {"topicPattern", pattern},
                     {"createdAt", static_cast<double>(stored.created_ms) / 1000.0},
                     {"ruleDisabled", stored.disabled}});
  }
  body["rules"] = std::move(rules);
  return json_response(body);
}

HttpResponse IotService::replace_topic_rule(const std::string& name, HttpRequest& request,
                                            RequestContext& context) {
  bool disabled = false;
  auto compiled = compile(name, request.body, &disabled, context);
  if (auto* refusal = std::get_if<HttpResponse>(&compiled)) return std::move(*refusal);

  std::lock_guard lock(changes_);
  AccountRegion scope = iot_scope(context);
  if (!store_.replace(scope.account_id, scope.region, name, request.body, disabled)) {
    return no_such_rule(name, context);
  }
  engine_.put(std::get<std::shared_ptr<const CompiledTopicRule>>(std::move(compiled)), !disabled);
  return json_response(std::string());
}

HttpResponse IotService::delete_topic_rule(const std::string& name, RequestContext& context) {
  std::lock_guard lock(changes_);
  AccountRegion scope = iot_scope(context);
  if (!store_.erase(scope.account_id, scope.region, name)) return no_such_rule(name, context);
  engine_.remove(scope, name);
  return json_response(std::string());
}

HttpResponse IotService::set_topic_rule_enabled(const std::string& name, bool enabled,
                                                RequestContext& context) {
  std::lock_guard lock(changes_);
  AccountRegion scope = iot_scope(context);
  if (!store_.set_disabled(scope.account_id, scope.region, name, !enabled)) {
    return no_such_rule(name, context);
  }
  engine_.set_enabled(scope, name, enabled);
  return json_response(std::string());
}

HttpResponse IotService::describe_endpoint(const HttpRequest& request, RequestContext& context) {
  if (const std::string* type = find_param(context.query, "endpointType")) {
    if (*type != "iot:Data" && *type != "iot:Data-ATS" && *type != "iot:CredentialProvider" &&
        *type != "iot:Jobs") {
      return error(ErrorCode::kInvalidRequestException,
                   "Endpoint type " + *type +
                       " is not valid; use iot:Data, iot:Data-ATS, iot:CredentialProvider or "
                       "iot:Jobs.",
                   context);
    }
  }
  // Every endpoint type is this server: answer with the address the client
  // reached it at, so the data plane can be called where this was.
  std::string host(request.headers.get("Host"));
  if (host.empty()) host = "127.0.0.1";
  return json_response(nlohmann::json{{"endpointAddress", host}});
}

}  // namespace offcloud

#include "rules/rules_engine.h"

#include <nlohmann/json.hpp>

#include "rules/sql_evaluator.h"
#include "rules/sql_functions.h"
#include "rules/topic_index.h"
#include "storage/digest.h"

namespace offcloud {
namespace {

constexpr std::string_view kBasicIngestPrefix = "$aws/rules/";

// What newuuid() gives in `context`: the error payload's trace id.
std::string trace_id(const EvaluationContext& context) {
  static const SqlFunctionSpec* newuuid = find_sql_function("newuuid");
  SqlValue value = newuuid->impl(nullptr, 0, {context, SqlVersion::k2016_03_23});
  return value.is_string() ? value.as_string() : std::string();
}

}  // namespace

struct RulesEngine::ScopeRules {
  std::vector<std::shared_ptr<const CompiledTopicRule>> rules;  // enabled only
  std::map<std::string, std::size_t, std::less<>> by_name;      // index into rules
  TopicIndex index;                                             // FROM filter -> index
};

struct RulesEngine::Snapshot {
  std::map<AccountRegion, ScopeRules> scopes;
};

RulesEngine::RulesEngine(MessageBus& bus, ObjectStore& objects, RulesEngineOptions options)
    : bus_(bus), options_(std::move(options)), snapshot_(std::make_shared<Snapshot>()) {
  targets_.bus = &bus;
  targets_.objects = &objects;
  // "#" never matches topics starting with '$' (MQTT), so reserved topics,
  // basic ingest among them, need a subscription of their own.
  auto deliver = [this](const Message& message) { on_message(message); };
  subscriptions_.push_back(bus_.subscribe_all_scopes(TopicFilter("#"), deliver));
  subscriptions_.push_back(bus_.subscribe_all_scopes(TopicFilter("$aws/#"), deliver));
}

RulesEngine::~RulesEngine() {
  for (MessageBus::SubscriptionId id : subscriptions_) bus_.unsubscribe(id);
}

std::variant<std::shared_ptr<const CompiledTopicRule>, RuleCompileError> RulesEngine::compile(
    const AccountRegion& scope, const std::string& name, const RuleDefinition& definition) {
  auto sql = compile_rule(definition.sql, definition.sql_version);
  if (auto* error = std::get_if<SqlParseError>(&sql)) {
    return RuleCompileError{RuleCompileError::Kind::kSql, error->message};
  }
  auto rule = std::make_shared<CompiledTopicRule>(
      CompiledTopicRule{scope, name, std::get<CompiledRule>(std::move(sql)), {}, nullptr});
  if (options_.counters) rule->counter = options_.counters->rule(scope, name);
  auto compile_one = [&](const ActionSpec& spec,
                         std::unique_ptr<RuleAction>* out) -> std::optional<RuleCompileError> {
    auto action = compile_action(spec, rule->sql.version(), rule->sql.variable_names(), targets_);
    if (auto* error = std::get_if<SqlParseError>(&action)) {
      return RuleCompileError{RuleCompileError::Kind::kTemplate, error->message};
    }
    *out = std::get<std::unique_ptr<RuleAction>>(std::move(action));
    return std::nullopt;
  };
  for (const ActionSpec& spec : definition.actions) {
    std::unique_ptr<RuleAction> action;
    if (auto error = compile_one(spec, &action)) return *error;
    rule->actions.push_back(std::move(action));
  }
  if (definition.error_action) {
    if (auto error = compile_one(*definition.error_action, &rule->error_action)) return *error;
  }
  return std::shared_ptr<const CompiledTopicRule>(std::move(rule));
}

void RulesEngine::put(std::shared_ptr<const CompiledTopicRule> rule, bool enabled) {
  std::lock_guard lock(mutex_);
  RuleKey key{rule->scope, rule->name};
  rules_[std::move(key)] = Entry{std::move(rule), enabled};
  rebuild_locked();
}

void RulesEngine::remove(const AccountRegion& scope, const std::string& name) {
  std::lock_guard lock(mutex_);
  if (rules_.erase(RuleKey{scope, name}) > 0) rebuild_locked();
}

void RulesEngine::set_enabled(const AccountRegion& scope, const std::string& name, bool enabled) {
  std::lock_guard lock(mutex_);
  auto it = rules_.find(RuleKey{scope, name});
  if (it == rules_.end() || it->second.enabled == enabled) return;
  it->second.enabled = enabled;
  rebuild_locked();
}

std::shared_ptr<const CompiledTopicRule> RulesEngine::find(const AccountRegion& scope,
                                                           const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = rules_.find(RuleKey{scope, name});
  return it == rules_.end() ? nullptr : it->second.rule;
}

void RulesEngine::set_firehose_sink(FirehoseSink* sink) {
  targets_.firehose.store(sink);
}

void RulesEngine::rebuild_locked() {
  auto next = std::make_shared<Snapshot>();
  for (const auto& [key, entry] : rules_) {
    if (!entry.enabled) continue;
    ScopeRules& scope = next->scopes[key.first];
    std::size_t id = scope.rules.size();
    scope.rules.push_back(entry.rule);
    scope.by_name.emplace(key.second, id);
    scope.index.add(entry.rule->sql.topic_filter().text(), id);
  }
  snapshot_ = std::move(next);
}

std::shared_ptr<const RulesEngine::Snapshot> RulesEngine::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

void RulesEngine::on_message(const Message& message) {
  std::shared_ptr<const Snapshot> snapshot = this->snapshot();
  auto scope = snapshot->scopes.find(message.scope);
  if (scope == snapshot->scopes.end()) return;  // no rule in the message's account and region
  const ScopeRules* rules = &scope->second;
  if (message.topic.starts_with(kBasicIngestPrefix)) {
    // "$aws/rules/<rule>/<topic>": the rule sees <topic>, and only it sees
    // the message. AWS makes the FROM clause optional for such rules, so
    // its filter does not apply.
    std::string_view rest = std::string_view(message.topic).substr(kBasicIngestPrefix.size());
    std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return;
    auto it = rules->by_name.find(rest.substr(0, slash));
    if (it == rules->by_name.end()) return;
    Message seen = message;
    seen.topic = std::string(rest.substr(slash + 1));
    run_rule(*rules->rules[it->second], seen, message);
    return;
  }
  for (std::size_t id : rules->index.match(message.topic)) {
    run_rule(*rules->rules[id], message, message);
  }
}

void RulesEngine::run_rule(const CompiledTopicRule& rule, const Message& seen,
                           const Message& original) {
  EvaluationContext context;
  context.message = &seen;
  context.account_id = rule.scope.account_id;
  context.now_ms = options_.now_ms;
  context.new_uuid = options_.new_uuid;
  std::optional<std::string> output;
  std::vector<SqlValue> variables;
  try {
    output = evaluate_statement(rule.sql.statement(), context);
    if (output && !rule.sql.variable_names().empty()) {
      variables = evaluate_variables(rule.sql.statement(), context);
    }
  } catch (const std::exception& e) {
    // AWS reports SQL failures in its logs, not to the error action.
    warn("rule " + rule.name + ": evaluating the SQL for a message on " + original.topic +
         " failed: " + e.what());
    report({RuleFailure::Stage::kSql, rule.scope, rule.name, original.topic, "", "", e.what()});
    if (rule.counter) rule.counter->failed();
    return;
  }
  if (!output) return;
  if (rule.counter) rule.counter->matched();

  ActionInput input{*output, context, variables};
  std::vector<ActionFailure> failures;
  for (const auto& action : rule.actions) {
    try {
      if (auto failure = action->run(input)) failures.push_back(std::move(*failure));
    } catch (const std::exception& e) {
      failures.push_back({action->name(), "", e.what()});
    }
  }
  if (failures.empty()) return;
  if (rule.counter) rule.counter->failed();
  for (const ActionFailure& failure : failures) {
    warn("rule " + rule.name + ": " + failure.failed_action + " failed: " + failure.error_message);
    report({RuleFailure::Stage::kAction, rule.scope, rule.name, original.topic,
            failure.failed_action, failure.failed_resource, failure.error_message});
  }
  if (rule.error_action) run_error_action(rule, input, original, failures);
}

void RulesEngine::run_error_action(const CompiledTopicRule& rule, const ActionInput& failed,
                                   const Message& original,
                                   const std::vector<ActionFailure>& failures) {
  // One message per rule and message, listing every failed action, with
  // the keys in the order AWS's documentation shows them.
  nlohmann::ordered_json payload = {
      {"ruleName", rule.name},
      {"topic", original.topic},
      {"cloudwatchTraceId", trace_id(failed.context)},
      {"clientId", original.client_id},
      {"base64OriginalPayload", base64_encode(original.payload)},
      {"failures", nlohmann::ordered_json::array()},
  };
  for (const ActionFailure& failure : failures) {
    payload["failures"].push_back({{"failedAction", failure.failed_action},
                                   {"failedResource", failure.failed_resource},
                                   {"errorMessage", failure.error_message}});
  }
  std::string text = payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // The error action's templates still see the original message (topic(),
  // clientid(), ...) and the rule's variables; its output is the error payload.
  ActionInput input{text, failed.context, failed.variables, /*error_action=*/true};
  try {
    if (auto failure = rule.error_action->run(input)) {
      warn("rule " + rule.name + ": the error action failed too: " + failure->error_message);
      report({RuleFailure::Stage::kErrorAction, rule.scope, rule.name, original.topic,
              failure->failed_action, failure->failed_resource, failure->error_message});
    }
  } catch (const std::exception& e) {
    warn("rule " + rule.name + ": the error action failed too: " + e.what());
    report({RuleFailure::Stage::kErrorAction, rule.scope, rule.name, original.topic,
            rule.error_action->name(), "", e.what()});
  }
}

void RulesEngine::warn(std::string_view text) const {
  if (options_.log_warning) options_.log_warning(text);
}

void RulesEngine::report(RuleFailure failure) const {
  if (options_.report_failure) options_.report_failure(failure);
}

}  // namespace offcloud

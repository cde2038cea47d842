// The AWS IoT rules engine: every message on the bus is matched against the
// enabled topic rules' FROM filters, each matching rule's SQL is evaluated,
// and its actions run on the output. A rule with failed actions runs its
// errorAction once with AWS's error payload. Messages on basic ingest topics
// ($aws/rules/<rule>/<topic>) go to that one rule alone.
//
// Rules are compiled once (SQL and action templates) when created, replaced
// or loaded at start-up. The set of rules is an immutable snapshot with a
// topic index, swapped whole on every change, so matching never waits for
// the control plane and a republish may re-enter the engine freely.
//
// Every rule lives in an account and region (its AccountRegion) and sees only
// the messages of that scope, as on AWS; the snapshot indexes each scope
// apart, so a message costs one lookup of its scope.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rules/firehose_sink.h"
#include "rules/flow_counters.h"
#include "rules/message_bus.h"
#include "rules/rule_actions.h"
#include "rules/rule_definition.h"
#include "rules/topic_rule.h"
#include "storage/object_store.h"

namespace offcloud {

struct CompiledTopicRule {
  AccountRegion scope;  // the rule's account and region: it sees their messages only
  std::string name;
  CompiledRule sql;
  std::vector<std::unique_ptr<RuleAction>> actions;
  std::unique_ptr<RuleAction> error_action;  // may be null
  RuleCounter* counter = nullptr;            // its matches and errors; null: not counted
};

// Why a rule definition does not compile: its SQL (CreateTopicRule's
// SqlParseException) or an action's substitution template.
struct RuleCompileError {
  enum class Kind { kSql, kTemplate };
  Kind kind;
  std::string message;
};

// A rule that failed on a message: its SQL could not be evaluated, an action
// failed, or its error action failed too. For whoever shows it (the
// console's Activity page); the engine only reports it.
struct RuleFailure {
  enum class Stage { kSql, kAction, kErrorAction };
  Stage stage;
  AccountRegion scope;
  std::string rule;
  std::string topic;     // as published
  std::string action;    // "FirehoseAction", ...; empty for kSql
  std::string resource;  // the stream, bucket or topic; may be empty
  std::string message;
};

struct RulesEngineOptions {
  // Unset: the system clock and random UUIDs. Tests fix them.
  std::function<std::int64_t()> now_ms;
  std::function<std::string()> new_uuid;
  // Where failed actions and stopped loops are reported; unset: nowhere.
  std::function<void(std::string_view)> log_warning;
  // Each rule failure, as facts; unset: nowhere. Called on the publishing
  // thread, so it must be quick.
  std::function<void(const RuleFailure&)> report_failure;
  // Where each rule's matches and errors are counted (the console's
  // Overview); null: nowhere. Must outlive the engine.
  FlowCounters* counters = nullptr;
};

class RulesEngine {
 public:
  // Subscribes to `bus`; both must outlive the engine.
  RulesEngine(MessageBus& bus, ObjectStore& objects, RulesEngineOptions options = {});
  ~RulesEngine();
  RulesEngine(const RulesEngine&) = delete;
  RulesEngine& operator=(const RulesEngine&) = delete;

  std::variant<std::shared_ptr<const CompiledTopicRule>, RuleCompileError> compile(
      const AccountRegion& scope, const std::string& name, const RuleDefinition& definition);

  // Adds `rule`, or replaces the rule of the same scope and name.
  void put(std::shared_ptr<const CompiledTopicRule> rule, bool enabled);
  // Each does nothing for an unknown name.
  void remove(const AccountRegion& scope, const std::string& name);
  void set_enabled(const AccountRegion& scope, const std::string& name, bool enabled);
  // The rule of that name, enabled or not; null if none.
  std::shared_ptr<const CompiledTopicRule> find(const AccountRegion& scope,
                                                const std::string& name) const;

  // Until a sink is set, firehose actions fail as for a missing stream.
  // The sink must outlive the engine or be reset to nullptr first.
  void set_firehose_sink(FirehoseSink* sink);

 private:
  struct Entry {
    std::shared_ptr<const CompiledTopicRule> rule;
    bool enabled = false;
  };
  struct ScopeRules;
  struct Snapshot;
  using RuleKey = std::pair<AccountRegion, std::string>;

  void rebuild_locked();
  std::shared_ptr<const Snapshot> snapshot() const;
  void on_message(const Message& message);
  // `seen` is the message as the rule sees it (basic ingest strips the
  // prefix from the topic); `original` is as it was published.
  void run_rule(const CompiledTopicRule& rule, const Message& seen, const Message& original);
  void run_error_action(const CompiledTopicRule& rule, const ActionInput& failed,
                        const Message& original, const std::vector<ActionFailure>& failures);
  void warn(std::string_view text) const;
  void report(RuleFailure failure) const;

  MessageBus& bus_;
  RulesEngineOptions options_;
  ActionTargets targets_;
  mutable std::mutex mutex_;
  std::map<RuleKey, Entry> rules_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<MessageBus::SubscriptionId> subscriptions_;
};

}  // namespace offcloud

// The actions a topic rule runs on its output, compiled once with the rule:
// their substitution templates are parsed at creation, so a message costs
// only the expansion. Each action reports failure the way AWS's error action
// payload describes it (failedAction, failedResource, errorMessage).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "rules/firehose_sink.h"
#include "rules/message_bus.h"
#include "rules/rule_definition.h"
#include "rules/sql_ast.h"
#include "rules/sql_context.h"
#include "rules/sql_tokenizer.h"
#include "rules/sql_value.h"
#include "storage/object_store.h"

namespace offcloud {

// What actions write to. Outlives every action compiled against it.
struct ActionTargets {
  MessageBus* bus = nullptr;
  ObjectStore* objects = nullptr;
  std::atomic<FirehoseSink*> firehose{nullptr};  // none until Firehose registers
};

// One message's rule output and what templates may read.
struct ActionInput {
  const std::string& payload;
  const EvaluationContext& context;        // context.message is the original message
  const std::vector<SqlValue>& variables;  // the rule's SET values
  // Running as a rule's errorAction, which may republish one hop further
  // than actions may, so that it can still report a stopped loop.
  bool error_action = false;
};

struct ActionFailure {
  std::string failed_action;    // "S3Action", "RepublishAction", "FirehoseAction"
  std::string failed_resource;  // bucket, topic or stream
  std::string error_message;
};

// A republish carries the message's hop count plus one; past this many
// hops it fails instead, which ends a rule that republishes into its own
// topic, where AWS would loop for ever.
inline constexpr int kMaxRepublishHops = 8;

class RuleAction {
 public:
  virtual ~RuleAction() = default;
  // AWS's name for it in error payloads: "S3Action", "RepublishAction", ...
  virtual const char* name() const = 0;
  // nullopt on success. May throw (storage errors); the engine reports that
  // as a failure too.
  virtual std::optional<ActionFailure> run(const ActionInput& input) const = 0;
};

// A template that does not parse is a SqlParseError whose message names the
// field; `variable_names` are the rule's @variables.
std::variant<std::unique_ptr<RuleAction>, SqlParseError> compile_action(
    const ActionSpec& spec, SqlVersion version, const std::vector<std::string>& variable_names,
    ActionTargets& targets);

}  // namespace offcloud

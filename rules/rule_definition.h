// What a topic rule says, as CreateTopicRule's TopicRulePayload says it, but
// free of JSON: the API layer parses the payload into this, and the rules
// engine compiles it. Only the actions offcloud can run offline exist here.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace offcloud {

// Publishes the rule's output to `topic` (a substitution template; a leading
// "$$" stands for a reserved topic's "$").
struct RepublishActionSpec {
  std::string topic;
  int qos = 0;
};

// Writes the rule's output as one object; `key` is a substitution template.
struct S3ActionSpec {
  std::string bucket;
  std::string key;
  std::string canned_acl;  // kept for GetTopicRule; offcloud has no ACLs
};

// Sends the rule's output to a Firehose delivery stream, each record
// followed by `separator` when there is one. With batch_mode, an array
// output is one record per element.
struct FirehoseActionSpec {
  std::string stream;
  std::optional<std::string> separator;
  bool batch_mode = false;
};

using ActionSpec = std::variant<RepublishActionSpec, S3ActionSpec, FirehoseActionSpec>;

struct RuleDefinition {
  std::string sql;
  std::string sql_version;  // awsIotSqlVersion; empty for the default
  std::string description;
  bool disabled = false;
  std::vector<ActionSpec> actions;
  std::optional<ActionSpec> error_action;
};

}  // namespace offcloud

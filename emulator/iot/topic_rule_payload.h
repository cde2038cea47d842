// CreateTopicRule's and ReplaceTopicRule's body, the TopicRulePayload JSON,
// checked against the AWS IoT model and turned into a RuleDefinition. Also
// how GetTopicRule shows a stored payload back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "rules/rule_definition.h"

namespace offcloud {

// The definition, or why the payload is refused, as InvalidRequestException's
// message. Actions offcloud cannot run offline (lambda, dynamoDB, ...) are
// refused by name; roleArn is accepted and unused, since there is no IAM.
std::variant<RuleDefinition, std::string> parse_topic_rule_payload(std::string_view body);

struct TopicRuleView {
  std::string name;
  std::string payload;  // as stored
  std::int64_t created_ms = 0;
  bool disabled = false;
  std::string sql_version;  // what the rule runs with, for an omitted awsIotSqlVersion
};

// GetTopicRule's "rule" object, as JSON text.
std::string topic_rule_json(const TopicRuleView& rule);

}  // namespace offcloud

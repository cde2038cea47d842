#include "emulator/iot/topic_rule_payload.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "rules/sql_parser.h"

namespace offcloud {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxActions = 10;  // ActionList's max

// Action kinds of the model that call AWS services offcloud does not have.
constexpr std::array<std::string_view, 20> kOfflineActions = {
    "dynamoDB",
    "dynamoDBv2",
    "lambda",
    "sns",
    "sqs",
    "kinesis",
    "cloudwatchMetric",
    "cloudwatchAlarm",
    "cloudwatchLogs",
    "elasticsearch",
    "salesforce",
    "iotAnalytics",
    "iotEvents",
    "iotSiteWise",
    "stepFunctions",
    "timestream",
    "http",
    "kafka",
    "openSearch",
    "location",
};

constexpr std::array<std::string_view, 8> kCannedAcls = {
    "private",
    "public-read",
    "public-read-write",
    "aws-exec-read",
    "authenticated-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
};

// Why a payload is refused; thrown from deep in the parse, caught at the top.
struct PayloadError {
  std::string message;
};

[[noreturn]] void refuse(std::string message) {
  throw PayloadError{std::move(message)};
}

// Reads members of one JSON object, checking their types.
struct Reader {
  const json& object;
  std::string where;  // "actions[0].s3", for messages

  const json* find(const char* name) const {
    auto it = object.find(name);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }
  std::string string(const char* name, bool required) const {
    const json* value = find(name);
    if (value == nullptr) {
      if (required) refuse(where + "." + name + " is required.");
      return {};
    }
    if (!value->is_string()) refuse(where + "." + name + " must be a string.");
    return value->get<std::string>();
  }
  bool boolean(const char* name) const {
    const json* value = find(name);
    if (value == nullptr) return false;
    if (!value->is_boolean()) refuse(where + "." + name + " must be a boolean.");
    return value->get<bool>();
  }
};

ActionSpec parse_action(const json& action, const std::string& where) {
  if (!action.is_object()) refuse(where + " must be an object.");
  if (action.size() != 1) {
    refuse(where + " must name exactly one action, such as republish, s3 or firehose.");
  }
  const std::string& kind = action.begin().key();
  const json& body = action.begin().value();
  for (std::string_view offline : kOfflineActions) {
    if (kind == offline) {
      refuse("The " + kind +
             " action is not supported offline: it calls another AWS service, which offcloud "
             "does not run. offcloud runs republish, s3 and firehose actions.");
    }
  }
  if (kind != "republish" && kind != "s3" && kind != "firehose") {
    refuse(where + " has an unknown action " + kind + ".");
  }
  if (!body.is_object()) refuse(where + "." + kind + " must be an object.");
  Reader reader{body, where + "." + kind};
  reader.string("roleArn", false);

  if (kind == "republish") {
    RepublishActionSpec republish;
    republish.topic = reader.string("topic", true);
    if (republish.topic.empty()) refuse(reader.where + ".topic must not be empty.");
    if (const json* qos = reader.find("qos")) {
      if (!qos->is_number_integer() || (*qos != 0 && *qos != 1)) {
        refuse(reader.where + ".qos must be 0 or 1.");
      }
      republish.qos = qos->get<int>();
    }
    if (reader.find("headers")) {
      refuse(reader.where + ".headers (MQTT 5 headers) is not supported by offcloud yet.");
    }
    return republish;
  }
  if (kind == "s3") {
    S3ActionSpec s3;
    s3.bucket = reader.string("bucketName", true);
    s3.key = reader.string("key", true);
    s3.canned_acl = reader.string("cannedAcl", false);
    if (s3.bucket.empty()) refuse(reader.where + ".bucketName must not be empty.");
    if (s3.key.empty()) refuse(reader.where + ".key must not be empty.");
    if (!s3.canned_acl.empty() &&
        std::find(kCannedAcls.begin(), kCannedAcls.end(), s3.canned_acl) == kCannedAcls.end()) {
      refuse(reader.where + ".cannedAcl " + s3.canned_acl + " is not a canned ACL.");
    }
    return s3;
  }
  FirehoseActionSpec firehose;
  firehose.stream = reader.string("deliveryStreamName", true);
  if (firehose.stream.empty()) refuse(reader.where + ".deliveryStreamName must not be empty.");
  if (reader.find("separator")) {
    std::string separator = reader.string("separator", false);
    if (separator != "\n" && separator != "\t" && separator != "\r\n" && separator != ",") {
      refuse(reader.where + ".separator must be one of '\\n', '\\t', '\\r\\n' and ','.");
    }
    firehose.separator = separator;
  }
  firehose.batch_mode = reader.boolean("batchMode");
  return firehose;
}

}  // namespace

std::variant<RuleDefinition, std::string> parse_topic_rule_payload(std::string_view body) {
  json payload = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!payload.is_object()) return std::string("The topicRulePayload must be a JSON object.");
  try {
    Reader reader{payload, "topicRulePayload"};
    RuleDefinition rule;
    rule.sql = reader.string("sql", true);
    rule.description = reader.string("description", false);
    rule.disabled = reader.boolean("ruleDisabled");
    rule.sql_version = reader.string("awsIotSqlVersion", false);
    SqlVersion version;
    if (!parse_sql_version(rule.sql_version, &version)) {
      return "awsIotSqlVersion " + rule.sql_version +
             " is not supported; use 2015-10-08 or 2016-03-23.";
    }
    const json* actions = reader.find("actions");
    if (actions == nullptr) return std::string("topicRulePayload.actions is required.");
    if (!actions->is_array()) return std::string("topicRulePayload.actions must be a list.");
    if (actions->size() > kMaxActions) {
      return "A rule has at most " + std::to_string(kMaxActions) + " actions.";
    }
    for (std::size_t i = 0; i < actions->size(); ++i) {
      rule.actions.push_back(parse_action((*actions)[i], "actions[" + std::to_string(i) + "]"));
    }
    if (const json* error_action = reader.find("errorAction")) {
      rule.error_action = parse_action(*error_action, "errorAction");
    }
    return rule;
  } catch (const PayloadError& error) {
    return error.message;
  }
}

std::string topic_rule_json(const TopicRuleView& rule) {
  json payload = json::parse(rule.payload, nullptr, /*allow_exceptions=*/false);
  if (!payload.is_object()) payload = json::object();
  json out = {
      {"ruleName", rule.name},
      {"sql", payload.value("sql", "")},
      {"createdAt", static_cast<double>(rule.created_ms) / 1000.0},
      {"actions", payload.value("actions", json::array())},
      {"ruleDisabled", rule.disabled},
      {"awsIotSqlVersion", payload.value("awsIotSqlVersion", rule.sql_version)},
  };
  if (payload.contains("description")) out["description"] = payload["description"];
  if (payload.contains("errorAction")) out["errorAction"] = payload["errorAction"];
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace offcloud

#include "emulator/iot/topic_rule_payload.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace offcloud {
namespace {

std::string refusal(std::string_view body) {
  auto parsed = parse_topic_rule_payload(body);
  return std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed) : "";
}

TEST(TopicRulePayload, ParsesTheOfflineActions) {
  auto parsed = parse_topic_rule_payload(R"({
    "sql": "SELECT * FROM 'a'", "description": "d", "ruleDisabled": true,
    "awsIotSqlVersion": "2015-10-08",
    "actions": [
      {"republish": {"roleArn": "arn:aws:iam::1:role/r", "topic": "out/${topic()}", "qos": 1}},
      {"s3": {"roleArn": "r", "bucketName": "b", "key": "${timestamp()}", "cannedAcl": "private"}},
      {"firehose": {"roleArn": "r", "deliveryStreamName": "s", "separator": "\r\n",
                    "batchMode": true}}],
    "errorAction": {"republish": {"roleArn": "r", "topic": "errors"}}})");
  ASSERT_TRUE(std::holds_alternative<RuleDefinition>(parsed)) << std::get<std::string>(parsed);
  const RuleDefinition& rule = std::get<RuleDefinition>(parsed);
  EXPECT_EQ(rule.sql, "SELECT * FROM 'a'");
  EXPECT_TRUE(rule.disabled);
  EXPECT_EQ(rule.sql_version, "2015-10-08");
  ASSERT_EQ(rule.actions.size(), 3u);
  const auto& republish = std::get<RepublishActionSpec>(rule.actions[0]);
  EXPECT_EQ(republish.topic, "out/${topic()}");
  EXPECT_EQ(republish.qos, 1);
  const auto& s3 = std::get<S3ActionSpec>(rule.actions[1]);
  EXPECT_EQ(s3.bucket, "b");
  EXPECT_EQ(s3.key, "${timestamp()}");
  const auto& firehose = std::get<FirehoseActionSpec>(rule.actions[2]);
  EXPECT_EQ(firehose.stream, "s");
  EXPECT_EQ(firehose.separator, "\r\n");
  EXPECT_TRUE(firehose.batch_mode);
  ASSERT_TRUE(rule.error_action);
  EXPECT_EQ(std::get<RepublishActionSpec>(*rule.error_action).topic, "errors");
}

TEST(TopicRulePayload, RefusesWhatTheModelOrOfflineForbids) {
  EXPECT_NE(refusal("not json"), "");
  EXPECT_NE(refusal(R"({"actions": []})").find("sql is required"), std::string::npos);
  EXPECT_NE(refusal(R"({"sql": "SELECT * FROM 'a'"})").find("actions is required"),
            std::string::npos);
  std::string lambda =
      refusal(R"({"sql": "SELECT * FROM 'a'", "actions": [{"lambda": {"functionArn": "arn"}}]})");
  EXPECT_NE(lambda.find("lambda action is not supported offline"), std::string::npos) << lambda;
  EXPECT_NE(refusal(R"({"sql": "s", "actions": [{"bogus": {}}]})").find("unknown action bogus"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"sql": "s", "actions": [{"republish": {"topic": "t"}, "s3": {}}]})")
                .find("exactly one"),
            std::string::npos);
  EXPECT_NE(
      refusal(R"({"sql": "s", "actions": [{"republish": {"topic": "t", "qos": 2}}]})").find("qos"),
      std::string::npos);
  EXPECT_NE(refusal(R"({"sql": "s", "actions": [{"s3": {"bucketName": "b"}}]})")
                .find("actions[0].s3.key is required"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"sql": "s", "actions": [
                {"firehose": {"deliveryStreamName": "d", "separator": ";"}}]})")
                .find("separator"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"sql": "s", "actions": [], "awsIotSqlVersion": "2020-01-01"})")
                .find("awsIotSqlVersion"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"sql": "s", "actions": [], "ruleDisabled": "yes"})").find("boolean"),
            std::string::npos);
  std::string eleven = R"({"sql": "s", "actions": [)";
  for (int i = 0; i < 11; ++i)
    eleven += std::string(i ? "," : "") + R"({"s3": {"bucketName": "b", "key": "k"}})";
  EXPECT_NE(refusal(eleven + "]}").find("at most 10"), std::string::npos);
}

TEST(TopicRulePayload, GetTopicRuleShowsThePayloadBack) {
  std::string payload =
      R"({"sql": "SELECT * FROM 'a'", "actions": [{"s3": {"bucketName": "b", "key": "k"}}],)"
      R"( "ruleDisabled": false, "description": "desc"})";
  auto rule = nlohmann::json::parse(
      topic_rule_json({"myRule", payload, 1610293303500, true, "2016-03-23"}));
  EXPECT_EQ(rule["ruleName"], "myRule");
  EXPECT_EQ(rule["sql"], "SELECT * FROM 'a'");
  EXPECT_EQ(rule["description"], "desc");
  EXPECT_DOUBLE_EQ(rule["createdAt"].get<double>(), 1610293303.5);
  EXPECT_EQ(rule["ruleDisabled"], true);  // the stored flag, not the payload's
  EXPECT_EQ(rule["awsIotSqlVersion"], "2016-03-23");
  EXPECT_EQ(rule["actions"][0]["s3"]["bucketName"], "b");
  EXPECT_FALSE(rule.contains("errorAction"));
}

}  // namespace
}  // namespace offcloud

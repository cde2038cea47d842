#include "emulator/s3/s3_post_policy.h"

#include <gtest/gtest.h>

namespace offcloud::s3 {
namespace {

// 2030-01-01T00:00:00Z
constexpr std::int64_t kExpiry = 1893456000000;

PostPolicy parse(const std::string& conditions) {
  std::string error;
  auto policy = parse_post_policy(
      R"({"expiration": "2030-01-01T00:00:00.000Z", "conditions": )" + conditions + "}", &error);
  EXPECT_TRUE(policy) << error;
  return policy.value_or(PostPolicy{});
}

TEST(S3PostPolicy, ParsesEveryConditionForm) {
  PostPolicy policy = parse(
      R"([{"bucket": "b"}, ["eq", "$Key", "k"], ["StArTs-WiTh", "$Content-Type", "image/"],
          ["content-length-range", 1, "10"], {"x-amz-meta-a": "1"}])");
  EXPECT_EQ(policy.expiration_ms, kExpiry);
  ASSERT_EQ(policy.conditions.size(), 5u);
  EXPECT_EQ(policy.conditions[1].field, "key");
  EXPECT_EQ(policy.conditions[2].kind, PostPolicyCondition::Kind::kStartsWith);
  EXPECT_EQ(policy.conditions[2].field, "content-type");
  EXPECT_EQ(policy.length_range(), (std::pair<std::uint64_t, std::uint64_t>{1, 10}));
}

TEST(S3PostPolicy, RefusesInvalidDocuments) {
  for (
      std::string document : {
          std::string("not json"),
          std::string(R"({"conditions": []})"),
          std::string(R"({"expiration": "2030-01-01 00:00:00", "conditions": []})"),
          std::string(R"({"expiration": "2030-01-01T00:00:00Z"})"),
          std::string(R"({"EXPIRATION": "2030-01-01T00:00:00Z", "conditions": []})"),
          std::string(R"({"expiration": "2030-01-01T00:00:00Z", "conditions": [{}]})"),
          std::string(
              R"({"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "key", "k"]]})"),
          std::string(
              R"({"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 0]]})"),
          std::string(
              R"({"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", -1, 5]]})"),
          std::string(
              R"({"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 9, 5]]})"),
          std::string(
              R"({"expiration": "2030-01-01T00:00:00Z", "conditions": [["in", "$key", "k"]]})"),
      }) {
    std::string error;
    EXPECT_FALSE(parse_post_policy(document, &error)) << document;
    EXPECT_TRUE(error.starts_with("Invalid Policy: ")) << error;
  }
}

TEST(S3PostPolicy, ChecksConditionsAndExtraFields) {
  PostPolicy policy = parse(
      R"([{"bucket": "b"}, ["starts-with", "$key", "up/"], ["starts-with", "$x-amz-meta-n", ""],
                {"acl": "private"}])");
  PostFields fields = {{"key", "up/a"},     {"acl", "private"},
                       {"policy", "..."},   {"x-amz-signature", "..."},
                       {"x-ignore-z", "1"}, {"x-amz-meta-n", "any"}};
  EXPECT_EQ(check_post_policy(policy, fields, "b", kExpiry - 1), "");
  EXPECT_EQ(check_post_policy(policy, fields, "b", kExpiry),
            "Invalid according to Policy: Policy expired.");
  EXPECT_EQ(check_post_policy(policy, fields, "other", 0),
            R"(Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "b"])");
  fields[0].second = "down/a";
  EXPECT_EQ(
      check_post_policy(policy, fields, "b", 0),
      R"(Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "up/"])");
  fields[0].second = "up/a";
  fields.emplace_back("content-type", "text/plain");
  fields.emplace_back("success_action_status", "201");
  EXPECT_EQ(check_post_policy(policy, fields, "b", 0),
            "Invalid according to Policy: Extra input fields: content-type, success_action_status");
  // A condition on a field the form lacks fails unless its prefix is empty.
  PostFields without_acl = {{"key", "up/a"}};
  EXPECT_NE(check_post_policy(policy, without_acl, "b", 0), "");
}

}  // namespace
}  // namespace offcloud::s3

#include "emulator/auth/iam_policy.h"

#include <gtest/gtest.h>

namespace offcloud {
namespace {

// The hands-on's policy, verbatim.
constexpr const char* kHandsOnPolicy = R"({
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "VisualEditor0",
            "Effect": "Allow",
            "Action": [
                "iot:Connect",
                "iot:Publish"
            ],
            "Resource": [
                "arn:aws:iot:ap-northeast-1:*:topic/handson/*",
                "arn:aws:iot:*:*:client/*"
            ]
        }
    ]
})";

PolicyDocument parse(const std::string& text) {
  std::string error;
  auto document = parse_policy(text, &error);
  EXPECT_TRUE(document) << error << "\n" << text;
  return document.value_or(PolicyDocument{});
}

// A one-statement policy with `body` spliced in after Effect.
std::string statement(const std::string& effect, const std::string& body) {
  return R"({"Version": "2012-10-17", "Statement": {"Effect": ")" + effect + "\", " + body + "}}";
}

ConditionContext base_context() {
  ConditionContext context;
  context.set("aws:SourceIp", "192.168.1.20");
  context.set("aws:CurrentTime", "2026-03-01T12:00:00Z");
  context.set("aws:SecureTransport", "false");
  context.set("aws:username", "alice");
  context.set("aws:userid", "AIDAEXAMPLE000000001");
  context.set("aws:PrincipalArn", "arn:aws:iam::000000000000:user/alice");
  return context;
}

struct Case {
  const char* name;
  std::vector<std::string> policies;
  const char* action;
  const char* resource;
  Decision want;
};

constexpr const char* kTopic =
    "arn:aws:iot:ap-northeast-1:000000000000:topic/handson/analysisLogData";

class EvaluateTest : public ::testing::TestWithParam<Case> {};

TEST_P(EvaluateTest, Decides) {
  const Case& c = GetParam();
  std::vector<PolicyDocument> documents;
  for (const std::string& text : c.policies) documents.push_back(parse(text));
  std::vector<const PolicyDocument*> pointers;
  for (const PolicyDocument& document : documents) pointers.push_back(&document);
  EXPECT_EQ(evaluate(pointers, c.action, c.resource, base_context()), c.want) << c.name;
}

const std::string kAllowAll = statement("Allow", R"("Action": "*", "Resource": "*")");

INSTANTIATE_TEST_SUITE_P(
    Policies, EvaluateTest,
    ::testing::Values(
        Case{"hands-on allows publish to handson/*",
             {kHandsOnPolicy},
             "iot:Publish",
             kTopic,
             Decision::kAllow},
        Case{"hands-on refuses another topic",
             {kHandsOnPolicy},
             "iot:Publish",
             "arn:aws:iot:ap-northeast-1:000000000000:topic/other/topic",
             Decision::kImplicitDeny},
        Case{"hands-on refuses another region",
             {kHandsOnPolicy},
             "iot:Publish",
             "arn:aws:iot:us-east-1:000000000000:topic/handson/analysisLogData",
             Decision::kImplicitDeny},
        Case{"hands-on allows connect in any region",
             {kHandsOnPolicy},
             "iot:Connect",
             "arn:aws:iot:us-west-2:000000000000:client/device1",
             Decision::kAllow},
        Case{"hands-on refuses another action",
             {kHandsOnPolicy},
             "iot:Subscribe",
             kTopic,
             Decision::kImplicitDeny},
        Case{"action names ignore case", {kHandsOnPolicy}, "IOT:publish", kTopic, Decision::kAllow},
        Case{"resources do not ignore case",
             {kHandsOnPolicy},
             "iot:Publish",
             "arn:aws:iot:ap-northeast-1:000000000000:topic/HANDSON/x",
             Decision::kImplicitDeny},
        Case{"no policy at all is the default deny",
             {},
             "s3:ListAllMyBuckets",
             "arn:aws:s3:::*",
             Decision::kImplicitDeny},
        Case{"explicit deny wins over allow",
             {kAllowAll, statement("Deny", R"("Action": "iot:Publish", "Resource": "*")")},
             "iot:Publish",
             kTopic,
             Decision::kExplicitDeny},
        Case{"deny of another action leaves the allow",
             {kAllowAll, statement("Deny", R"("Action": "iot:Connect", "Resource": "*")")},
             "iot:Publish",
             kTopic,
             Decision::kAllow},
        Case{"deny inside one policy, allow in another statement of it",
             {R"({"Version": "2012-10-17", "Statement": [
                  {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                  {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::logs/*"}]})"},
             "s3:DeleteObject",
             "arn:aws:s3:::logs/2026/01/a.json",
             Decision::kExplicitDeny},
        Case{"action wildcard prefix",
             {statement("Allow", R"("Action": "s3:Get*", "Resource": "*")")},
             "s3:GetObject",
             "arn:aws:s3:::b/k",
             Decision::kAllow},
        Case{"action wildcard prefix refuses others",
             {statement("Allow", R"("Action": "s3:Get*", "Resource": "*")")},
             "s3:PutObject",
             "arn:aws:s3:::b/k",
             Decision::kImplicitDeny},
        Case{"action ? wildcard",
             {statement("Allow", R"("Action": "iot:?ublish", "Resource": "*")")},
             "iot:Publish",
             kTopic,
             Decision::kAllow},
        Case{"NotAction allows everything else",
             {statement("Allow", R"("NotAction": "iam:*", "Resource": "*")")},
             "s3:PutObject",
             "arn:aws:s3:::b/k",
             Decision::kAllow},
        Case{"NotAction does not allow the listed",
             {statement("Allow", R"("NotAction": "iam:*", "Resource": "*")")},
             "iam:CreateUser",
             "arn:aws:iam::000000000000:user/x",
             Decision::kImplicitDeny},
        Case{"Deny with NotAction denies everything else",
             {kAllowAll, statement("Deny", R"("NotAction": ["iot:Publish"], "Resource": "*")")},
             "s3:GetObject",
             "arn:aws:s3:::b/k",
             Decision::kExplicitDeny},
        Case{"NotResource allows outside the listed",
             {statement("Allow", R"("Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*")")},
             "s3:GetObject",
             "arn:aws:s3:::public/k",
             Decision::kAllow},
        Case{"NotResource refuses the listed",
             {statement("Allow", R"("Action": "s3:*", "NotResource": "arn:aws:s3:::secret/*")")},
             "s3:GetObject",
             "arn:aws:s3:::secret/k",
             Decision::kImplicitDeny},
        Case{"wildcard in the middle of a resource",
             {statement(
                 "Allow",
                 R"("Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*/2026/*.json")")},
             "s3:GetObject",
             "arn:aws:s3:::logs/device1/2026/03/a.json",
             Decision::kAllow},
        Case{"wildcard in the middle refuses a different tail",
             {statement(
                 "Allow",
                 R"("Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*/2026/*.json")")},
             "s3:GetObject",
             "arn:aws:s3:::logs/device1/2025/03/a.json",
             Decision::kImplicitDeny},
        Case{"? matches exactly one character",
             {statement("Allow", R"("Action": "iot:Publish",
                                    "Resource": "arn:aws:iot:*:*:topic/room?/temp")")},
             "iot:Publish",
             "arn:aws:iot:ap-northeast-1:000000000000:topic/room12/temp",
             Decision::kImplicitDeny},
        Case{"another account",
             {statement("Allow", R"("Action": "iot:Publish",
                                    "Resource": "arn:aws:iot:*:111122223333:topic/*")")},
             "iot:Publish",
             kTopic,
             Decision::kImplicitDeny},
        Case{"policy variable aws:username",
             {statement("Allow", R"("Action": "s3:*",
                                    "Resource": "arn:aws:s3:::home/${aws:username}/*")")},
             "s3:PutObject",
             "arn:aws:s3:::home/alice/notes.txt",
             Decision::kAllow},
        Case{"policy variable of another user",
             {statement("Allow", R"("Action": "s3:*",
                                    "Resource": "arn:aws:s3:::home/${aws:username}/*")")},
             "s3:PutObject",
             "arn:aws:s3:::home/bob/notes.txt",
             Decision::kImplicitDeny},
        Case{"variables are literal in version 2008-10-17",
             {R"({"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*",
                  "Resource": "arn:aws:s3:::home/${aws:username}/*"}})"},
             "s3:PutObject",
             "arn:aws:s3:::home/alice/notes.txt",
             Decision::kImplicitDeny},
        Case{"an unknown variable matches nothing",
             {statement("Allow", R"("Action": "iot:Publish",
                                    "Resource": "arn:aws:iot:*:*:topic/${iot:ClientId}")")},
             "iot:Publish",
             "arn:aws:iot:ap-northeast-1:000000000000:topic/x",
             Decision::kImplicitDeny}),
    [](const ::testing::TestParamInfo<Case>& info) { return "case" + std::to_string(info.index); });

// Conditions: each operator, with a value that holds and one that does not.
struct ConditionCase {
  const char* condition;  // the Condition block's JSON
  bool holds;
};

class ConditionTest : public ::testing::TestWithParam<ConditionCase> {};

TEST_P(ConditionTest, Decides) {
  const ConditionCase& c = GetParam();
  PolicyDocument document = parse(statement(
      "Allow", std::string(R"("Action": "*", "Resource": "*", "Condition": )") + c.condition));
  ConditionContext context = base_context();
  context.set("s3:prefix", "home/alice/");
  context.set("s3:max-keys", "100");
  context.set("aws:MultiFactorAuthPresent", "false");
  context.add("aws:TagKeys", "team");
  context.add("aws:TagKeys", "env");
  Decision got = evaluate({&document}, "s3:ListBucket", "arn:aws:s3:::b", context);
  EXPECT_EQ(got, c.holds ? Decision::kAllow : Decision::kImplicitDeny) << c.condition;
}

INSTANTIATE_TEST_SUITE_P(
    Operators, ConditionTest,
    ::testing::Values(
        ConditionCase{R"({"StringEquals": {"aws:username": "alice"}})", true},
        ConditionCase{R"({"StringEquals": {"aws:username": "Alice"}})", false},
        ConditionCase{R"({"StringEquals": {"aws:username": ["bob", "alice"]}})", true},
        ConditionCase{R"({"StringEquals": {"AWS:USERNAME": "alice"}})", true},
        ConditionCase{R"({"StringNotEquals": {"aws:username": "bob"}})", true},
        ConditionCase{R"({"StringNotEquals": {"aws:username": ["bob", "alice"]}})", false},
        ConditionCase{R"({"StringEqualsIgnoreCase": {"aws:username": "ALICE"}})", true},
        ConditionCase{R"({"StringNotEqualsIgnoreCase": {"aws:username": "ALICE"}})", false},
        ConditionCase{R"({"StringLike": {"s3:prefix": "home/*"}})", true},
        ConditionCase{R"({"StringLike": {"s3:prefix": "home/${aws:username}/*"}})", true},
        ConditionCase{R"({"StringLike": {"s3:prefix": "public/*"}})", false},
        ConditionCase{R"({"StringNotLike": {"s3:prefix": "public/*"}})", true},
        ConditionCase{R"({"NumericLessThanEquals": {"s3:max-keys": "100"}})", true},
        ConditionCase{R"({"NumericLessThan": {"s3:max-keys": 100}})", false},
        ConditionCase{R"({"NumericGreaterThan": {"s3:max-keys": "10"}})", true},
        ConditionCase{R"({"NumericEquals": {"s3:max-keys": "abc"}})", false},
        ConditionCase{R"({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/a*"}})", true},
        ConditionCase{R"({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/b*"}})", false},
        ConditionCase{
            R"({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::000000000000:user/alice"}})", true},
        ConditionCase{R"({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/b*"}})", true},
        ConditionCase{R"({"IpAddress": {"aws:SourceIp": "192.168.1.0/24"}})", true},
        ConditionCase{R"({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.1.20"]}})", true},
        ConditionCase{R"({"IpAddress": {"aws:SourceIp": "192.168.2.0/24"}})", false},
        ConditionCase{R"({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}})", false},
        ConditionCase{R"({"NotIpAddress": {"aws:SourceIp": "192.168.1.0/24"}})", false},
        ConditionCase{R"({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})", true},
        ConditionCase{R"({"Bool": {"aws:SecureTransport": "false"}})", true},
        ConditionCase{R"({"Bool": {"aws:SecureTransport": true}})", false},
        ConditionCase{R"({"DateLessThan": {"aws:CurrentTime": "2026-12-31T00:00:00Z"}})", true},
        ConditionCase{R"({"DateLessThan": {"aws:CurrentTime": "2026-01-01"}})", false},
        ConditionCase{R"({"DateGreaterThan": {"aws:CurrentTime": "2026-03-01T20:00:00+09:00"}})",
                      true},
        ConditionCase{R"({"DateGreaterThan": {"aws:CurrentTime": "1800000000"}})", false},
        ConditionCase{R"({"DateEquals": {"aws:CurrentTime": "2026-03-01T12:00:00.000Z"}})", true},
        ConditionCase{R"({"Null": {"iot:ClientId": "true"}})", true},
        ConditionCase{R"({"Null": {"aws:username": "true"}})", false},
        ConditionCase{R"({"Null": {"aws:username": "false"}})", true},
        // A missing key: positive operators fail, negated ones hold, IfExists holds.
        ConditionCase{R"({"StringEquals": {"iot:ClientId": "device1"}})", false},
        ConditionCase{R"({"StringNotEquals": {"iot:ClientId": "device1"}})", true},
        ConditionCase{R"({"StringEqualsIfExists": {"iot:ClientId": "device1"}})", true},
        ConditionCase{R"({"StringEqualsIfExists": {"aws:username": "bob"}})", false},
        // Several operators and keys: all must hold.
        ConditionCase{R"({"StringEquals": {"aws:username": "alice"},
                          "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})",
                      false},
        ConditionCase{R"({"StringEquals": {"aws:username": "alice", "s3:prefix": "home/alice/"}})",
                      true},
        // Multi-valued keys.
        ConditionCase{R"({"ForAnyValue:StringEquals": {"aws:TagKeys": ["env", "x"]}})", true},
        ConditionCase{R"({"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "x"]}})", false},
        ConditionCase{R"({"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "team"]}})", true},
        ConditionCase{R"({"ForAllValues:StringEquals": {"iot:ClientId": ["x"]}})", true},
        ConditionCase{R"({"ForAnyValue:StringEquals": {"iot:ClientId": ["x"]}})", false}));

TEST(ConditionTest, DenyWithConditionOnlyDeniesWhenItHolds) {
  PolicyDocument allow = parse(kHandsOnPolicy);
  PolicyDocument deny = parse(statement("Deny", R"("Action": "*", "Resource": "*",
      "Condition": {"NotIpAddress": {"aws:SourceIp": "192.168.0.0/16"}})"));
  ConditionContext inside = base_context();
  EXPECT_EQ(evaluate({&allow, &deny}, "iot:Publish", kTopic, inside), Decision::kAllow);
  ConditionContext outside = base_context();
  outside.set("aws:SourceIp", "203.0.113.9");
  EXPECT_EQ(evaluate({&allow, &deny}, "iot:Publish", kTopic, outside), Decision::kExplicitDeny);
}

TEST(ConditionTest, DeferredKeysAreWorkedOutOnceAndOnlyWhenAsked) {
  int fills = 0;
  auto deferred = [&fills] {
    return ConditionContext([&fills](ConditionContext* keys) {
      ++fills;
      keys->set("aws:SourceIp", "203.0.113.9");
    });
  };
  // A policy without conditions never asks.
  PolicyDocument allow = parse(kHandsOnPolicy);
  EXPECT_EQ(evaluate({&allow}, "iot:Publish", kTopic, deferred()), Decision::kAllow);
  EXPECT_EQ(fills, 0);
  // One with a condition asks once, however often it reads.
  PolicyDocument deny = parse(statement("Deny", R"("Action": "*", "Resource": "*",
      "Condition": {"NotIpAddress": {"aws:SourceIp": "192.168.0.0/16"}})"));
  ConditionContext keys = deferred();
  EXPECT_EQ(evaluate({&allow, &deny}, "iot:Publish", kTopic, keys), Decision::kExplicitDeny);
  EXPECT_EQ(evaluate({&allow, &deny}, "iot:Publish", kTopic, keys), Decision::kExplicitDeny);
  EXPECT_EQ(fills, 1);
  // What set() adds comes after the deferred keys, and wins over them.
  ConditionContext overridden = deferred();
  overridden.set("aws:SourceIp", "192.168.1.1");
  EXPECT_EQ(evaluate({&allow, &deny}, "iot:Publish", kTopic, overridden), Decision::kAllow);
  EXPECT_EQ(fills, 2);
}

struct MalformedCase {
  const char* document;
  const char* message;  // a part of IAM's message
};

class MalformedTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedTest, Refused) {
  std::string error;
  EXPECT_FALSE(parse_policy(GetParam().document, &error)) << GetParam().document;
  EXPECT_NE(error.find(GetParam().message), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Documents, MalformedTest,
    ::testing::Values(MalformedCase{"not json", "Syntax errors"},
                      MalformedCase{"[]", "Syntax errors"},
                      MalformedCase{R"({"Version": "2012-10-17"})", "Syntax errors"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statement": []})",
                                    "Syntax errors"},
                      MalformedCase{R"({"Version": "2020-01-01", "Statement": {"Effect": "Allow",
                         "Action": "*", "Resource": "*"}})",
                                    "valid version"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statement": {"Effect": "Maybe",
                         "Action": "*", "Resource": "*"}})",
                                    "Effect"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                         "Resource": "*"}})",
                                    "must contain actions"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                         "Action": "*"}})",
                                    "must contain resources"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                         "Action": "*", "NotAction": "s3:*", "Resource": "*"}})",
                                    "Syntax errors"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                         "Action": "Publish", "Resource": "*"}})",
                                    "prefaced by a vendor"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                         "Action": "iot:Publish", "Resource": "handson/*"}})",
                                    "must be in ARN format"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                         "Principal": "*", "Action": "*", "Resource": "*"}})",
                                    "should not specify a principal"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                         "Action": "*", "Resource": "*", "Condition": {"StringSortOf": {"a:b": "c"}}}})",
                                    "Invalid Condition type"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                         "Action": "*", "Resource": "*", "Condition": {"StringEquals": "x"}}})",
                                    "Syntax errors"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statement": {"Sid": "has space",
                         "Effect": "Allow", "Action": "*", "Resource": "*"}})",
                                    "alpha-numeric"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statement": [
                         {"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"},
                         {"Sid": "A", "Effect": "Deny", "Action": "*", "Resource": "*"}]})",
                                    "must be unique"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statment": {"Effect": "Allow",
                         "Action": "*", "Resource": "*"}})",
                                    "Syntax errors"},
                      MalformedCase{R"({"Version": "2012-10-17", "Statement": {"Effect": "Allow",
                         "Action": [], "Resource": "*"}})",
                                    "Syntax errors"}));

TEST(WildcardTest, Matches) {
  EXPECT_TRUE(wildcard_match("*", "", false));
  EXPECT_TRUE(wildcard_match("a*b*c", "aXXbYYc", false));
  EXPECT_FALSE(wildcard_match("a*b*c", "aXXbYY", false));
  EXPECT_TRUE(wildcard_match("a?c", "abc", false));
  EXPECT_FALSE(wildcard_match("a?c", "ac", false));
  EXPECT_TRUE(wildcard_match("S3:get*", "s3:GetObject", true));
  EXPECT_FALSE(wildcard_match("S3:get*", "s3:GetObject", false));
}

TEST(ArnMatchTest, ComponentByComponent) {
  EXPECT_TRUE(arn_match("arn:aws:s3:::*", "arn:aws:s3:::bucket/key:with:colons"));
  EXPECT_TRUE(arn_match("arn:aws:iot:*:*:topic/*", kTopic));
  // As one string, "ap-*" would swallow "northeast-1:000000000000:topic/x".
  EXPECT_TRUE(wildcard_match("arn:aws:iot:ap-*:*:topic/handson/*",
                             "arn:aws:iot:ap-northeast-1:000000000000:topic/x:y:topic/handson/z",
                             false));
  EXPECT_FALSE(arn_match("arn:aws:iot:ap-*:*:topic/handson/*",
                         "arn:aws:iot:ap-northeast-1:000000000000:topic/x:y:topic/handson/z"));
  EXPECT_FALSE(arn_match("arn:aws:s3:::*", "*"));
  EXPECT_TRUE(arn_match("*", "*"));
}

// ---- explain() and statement_spans(): what IAM's simulator reports -------

TEST(ExplainTest, AllowNamesTheAllowingStatements) {
  PolicyDocument handson = parse(kHandsOnPolicy);
  PolicyDocument other = parse(statement("Allow", R"("Action": "iot:*", "Resource": "*")"));
  Explanation got = explain({&handson, &other}, "iot:Publish", kTopic, base_context());
  EXPECT_EQ(got.decision, Decision::kAllow);
  ASSERT_EQ(got.matched.size(), 2u);
  EXPECT_EQ(got.matched[0].policy, 0u);
  EXPECT_EQ(got.matched[0].statement, 0u);
  EXPECT_EQ(got.matched[1].policy, 1u);
  EXPECT_TRUE(got.missing_context_keys.empty());
  EXPECT_EQ(got.decision, evaluate({&handson, &other}, "iot:Publish", kTopic, base_context()));
}

TEST(ExplainTest, ImplicitDenyNamesNothing) {
  PolicyDocument handson = parse(kHandsOnPolicy);
  Explanation got =
      explain({&handson}, "iot:Publish", "arn:aws:iot:ap-northeast-1:000000000000:topic/other/x",
              base_context());
  EXPECT_EQ(got.decision, Decision::kImplicitDeny);
  EXPECT_TRUE(got.matched.empty());
}

TEST(ExplainTest, ExplicitDenyNamesOnlyTheDenies) {
  PolicyDocument admin = parse(statement("Allow", R"("Action": "*", "Resource": "*")"));
  PolicyDocument deny = parse(R"({"Version": "2012-10-17", "Statement": [
      {"Sid": "AllowS3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
      {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}]})");
  Explanation got = explain({&admin, &deny}, "s3:DeleteObject", "arn:aws:s3:::b/k", base_context());
  EXPECT_EQ(got.decision, Decision::kExplicitDeny);
  ASSERT_EQ(got.matched.size(), 1u);
  EXPECT_EQ(got.matched[0].policy, 1u);
  EXPECT_EQ(got.matched[0].statement, 1u);
}

TEST(ExplainTest, MissingContextKeysOfCoveringStatementsOnly) {
  PolicyDocument document = parse(R"({"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
       "Condition": {"StringLike": {"s3:prefix": "home/*"}, "Bool": {"aws:MultiFactorAuthPresent": "true"}}},
      {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
       "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "StringEquals": {"s3:ExistingObjectTag/x": "y"}}}]})");
  Explanation got = explain({&document}, "s3:ListBucket", "arn:aws:s3:::b", base_context());
  EXPECT_EQ(got.decision, Decision::kImplicitDeny);
  EXPECT_EQ(got.missing_context_keys,
            (std::vector<std::string>{"aws:MultiFactorAuthPresent", "s3:prefix"}));
  ConditionContext context = base_context();
  context.set("s3:prefix", "home/alice");
  context.set("aws:multifactorauthpresent", "true");
  got = explain({&document}, "s3:ListBucket", "arn:aws:s3:::b", context);
  EXPECT_EQ(got.decision, Decision::kAllow);
  EXPECT_TRUE(got.missing_context_keys.empty());
}

TEST(StatementSpansTest, FromOpeningBraceToJustAfterTheClosingOne) {
  std::vector<StatementSpan> spans = statement_spans(kHandsOnPolicy);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].start.line, 4);
  EXPECT_EQ(spans[0].start.column, 9);
  EXPECT_EQ(spans[0].end.line, 15);
  EXPECT_EQ(spans[0].end.column, 10);
}

TEST(StatementSpansTest, OneLineArraysSingleStatementsAndStrings) {
  std::string text =
      R"({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::a}]{"}, )"
      R"({"Sid": "X", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}], "Version": "2012-10-17"})";
  std::vector<StatementSpan> spans = statement_spans(text);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].start.line, 1);
  EXPECT_EQ(spans[0].start.column, 16);
  std::size_t second = text.find(R"({"Sid")");
  EXPECT_EQ(spans[0].end.column, static_cast<int>(second) - 1);
  EXPECT_EQ(spans[1].start.column, static_cast<int>(second) + 1);
  EXPECT_EQ(spans[1].end.column, static_cast<int>(text.find("],")) + 1);

  // A statement object, not an array; a multi-byte character counts once.
  spans = statement_spans(
      "{\n  \"Id\": \"\xC3\xA9t\xC3\xA9\", \"Statement\": {\"Effect\": \"Allow\", \"Action\": "
      "\"*\", "
      "\"Resource\": \"*\"}\n}");
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].start.line, 2);
  EXPECT_EQ(spans[0].start.column, 29);
  EXPECT_EQ(spans[0].end.line, 2);
  EXPECT_EQ(spans[0].end.column, 80);

  EXPECT_TRUE(statement_spans("{not json").empty());
}

}  // namespace
}  // namespace offcloud

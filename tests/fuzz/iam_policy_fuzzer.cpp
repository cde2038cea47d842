// IAM policy documents, as CreatePolicy, PutUserPolicy and the config file
// hand them over: parsed and validated (parse_policy), then, when accepted,
// evaluated for a fixed set of requests of every service offcloud serves,
// with the condition keys a real request carries (request_conditions) plus
// the ones S3 and IAM add, several of them multi-valued.
#include <cstdint>
#include <string>

#include "emulator/auth/authorizer.h"
#include "emulator/auth/iam_policy.h"

namespace offcloud {
namespace {

struct Ask {
  const char* action;
  const char* resource;
};

constexpr Ask kAsks[] = {
    {"iot:Publish", "arn:aws:iot:ap-northeast-1:000000000000:topic/handson/analysisLogData"},
    {"iot:Publish", "arn:aws:iot:us-east-1:000000000000:topic/$aws/things/x/shadow/update"},
    {"iot:CreateTopicRule", "arn:aws:iot:us-east-1:000000000000:rule/my_rule"},
    {"s3:GetObject", "arn:aws:s3:::bucket/home/alice/notes.txt"},
    {"s3:PutObject", "arn:aws:s3:::Bucket/Home/*?/x"},
    {"s3:ListBucket", "arn:aws:s3:::bucket"},
    {"s3:ListAllMyBuckets", "*"},
    {"firehose:PutRecordBatch", "arn:aws:firehose:us-east-1:000000000000:deliverystream/s-1"},
    {"iam:CreateUser", "arn:aws:iam::000000000000:user/division/alice"},
    {"iam:AttachUserPolicy", "arn:aws:iam::000000000000:user/bob"},
    {"sts:GetCallerIdentity", "*"},
};

ConditionContext make_conditions() {
  Principal alice;
  alice.access_key_id = "AKIAFUZZ";
  alice.arn = "arn:aws:iam::000000000000:user/division/alice";
  alice.user_name = "alice";
  alice.user_id = "AIDAFUZZFUZZFUZZFUZZ";
  ConditionContext context =
      request_conditions(alice, "192.0.2.10:50000", "ap-northeast-1", 1610293303000);
  context.set("s3:prefix", "home/alice/");
  context.set("s3:delimiter", "/");
  context.set("s3:max-keys", "100");
  context.set("iam:PolicyARN", "arn:aws:iam::aws:policy/ReadOnlyAccess");
  context.add("aws:TagKeys", "team");
  context.add("aws:TagKeys", "cost-center");
  return context;
}

}  // namespace
}  // namespace offcloud

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace offcloud;
  static const ConditionContext conditions = make_conditions();
  std::string error;
  std::optional<PolicyDocument> policy =
      parse_policy(std::string_view(reinterpret_cast<const char*>(data), size), &error);
  if (!policy) return 0;
  std::vector<const PolicyDocument*> policies{&*policy};
  for (const Ask& ask : kAsks) evaluate(policies, ask.action, ask.resource, conditions);
  // The policy's own patterns against each other, as IAM's matchers meet
  // user-chosen text on both sides.
  for (const PolicyStatement& statement : policy->statements) {
    for (const std::string& resource : statement.resources) {
      for (const Ask& ask : kAsks) arn_match(resource, ask.resource);
      wildcard_match(resource, resource, true);
    }
    for (const std::string& action : statement.actions) {
      for (const Ask& ask : kAsks) wildcard_match(action, ask.action, true);
    }
  }
  return 0;
}

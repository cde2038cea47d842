#include "emulator/auth/aws_managed_policies.h"

namespace offcloud {

const std::vector<AwsManagedPolicy>& aws_managed_policies() {
  static const std::vector<AwsManagedPolicy> kPolicies = {
      {"AdministratorAccess", "ANPAIWMBCKSKIEE64ZLYK",
       "Provides full access to AWS services and resources.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"},
      {"AmazonKinesisFirehoseFullAccess", "ANPAJMZQMTZ7FRBFHHAHI",
       "Provides full access to all Amazon Kinesis Data Firehose delivery streams.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["firehose:*"],"Resource":"*"}]})"},
      {"AmazonS3FullAccess", "ANPAIFIR6V6BVTRAHWINE",
       "Provides full access to all buckets via the AWS Management Console.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]})"},
      {"AmazonS3ReadOnlyAccess", "ANPAIZTJ4DXE7G6AGAE6M",
       "Provides read only access to all buckets via the AWS Management Console.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]})"},
      {"AWSIoTDataAccess", "ANPAJM2KI2UJDR24XPS2K",
       "This policy gives full access to the AWS IoT messaging actions.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect","iot:Publish","iot:Subscribe","iot:Receive","iot:GetThingShadow","iot:UpdateThingShadow","iot:DeleteThingShadow","iot:ListNamedShadowsForThing"],"Resource":"*"}]})"},
      {"AWSIoTFullAccess", "ANPAJU2FPGG6PQWN72V2G",
       "This policy gives full access to the AWS IoT configuration and messaging actions.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:*","iotjobsdata:*"],"Resource":"*"}]})"},
      {"IAMFullAccess", "ANPAI7XKCFMBPM3QQRRVQ", "Provides full access to IAM.",
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*"],"Resource":"*"}]})"},
  };
  return kPolicies;
}

const AwsManagedPolicy* find_aws_managed_policy(std::string_view arn) {
  if (!arn.starts_with(kAwsManagedPolicyPrefix)) return nullptr;
  std::string_view name = arn.substr(kAwsManagedPolicyPrefix.size());
  for (const AwsManagedPolicy& policy : aws_managed_policies()) {
    if (policy.name == name) return &policy;
  }
  return nullptr;
}

}  // namespace offcloud

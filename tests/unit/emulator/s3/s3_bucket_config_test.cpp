#include "emulator/s3/s3_bucket_config.h"

#include <gtest/gtest.h>

#include "emulator/s3/s3_bucket_policy.h"

namespace offcloud::s3 {
namespace {

std::string lifecycle(const std::string& rules) {
  return "<LifecycleConfiguration>" + rules + "</LifecycleConfiguration>";
}

std::optional<ErrorCode> lifecycle_code(const std::string& rule) {
  auto invalid = validate_lifecycle(lifecycle(rule));
  if (!invalid) return std::nullopt;
  return invalid->code;
}

TEST(S3Lifecycle, AcceptsBothShapes) {
  EXPECT_FALSE(lifecycle_code(
      "<Rule><ID>a</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>"
      "<Expiration><Days>30</Days></Expiration></Rule>"
      "<Rule><Filter/><Status>Disabled</Status><NoncurrentVersionExpiration>"
      "<NoncurrentDays>7</NoncurrentDays></NoncurrentVersionExpiration>"
      "<AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation>"
      "</AbortIncompleteMultipartUpload></Rule>"));
  EXPECT_FALSE(
      lifecycle_code("<Rule><ID>old</ID><Prefix>tmp/</Prefix><Status>Enabled</Status>"
                     "<Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule>"));
  EXPECT_FALSE(lifecycle_code(
      "<Rule><Filter><And><Prefix>a/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And>"
      "</Filter><Status>Enabled</Status><Transition><Days>0</Days>"
      "<StorageClass>GLACIER</StorageClass></Transition></Rule>"));
}

TEST(S3Lifecycle, TransitionsNameAClassLifecycleCanMoveTo) {
  const std::string filter = "<Filter/><Status>Enabled</Status>";
  EXPECT_FALSE(lifecycle_code("<Rule>" + filter +
                              "<NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays>"
                              "<StorageClass>DEEP_ARCHIVE</StorageClass>"
                              "</NoncurrentVersionTransition></Rule>"));
  EXPECT_EQ(lifecycle_code("<Rule>" + filter +
                           "<Transition><Days>1</Days><StorageClass>STANDARD</StorageClass>"
                           "</Transition></Rule>"),
            ErrorCode::kMalformedXML);
  EXPECT_EQ(lifecycle_code("<Rule>" + filter +
                           "<NoncurrentVersionTransition><StorageClass>GLACIER</StorageClass>"
                           "</NoncurrentVersionTransition></Rule>"),
            ErrorCode::kMalformedXML);
}

TEST(S3Lifecycle, RefusesWhatS3Refuses) {
  const std::string filter = "<Filter><Prefix></Prefix></Filter><Status>Enabled</Status>";
  EXPECT_EQ(validate_lifecycle(lifecycle(""))->code, ErrorCode::kMalformedXML);
  EXPECT_EQ(lifecycle_code("<Rule><Status>Enabled</Status><Expiration><Days>1</Days>"
                           "</Expiration></Rule>"),
            ErrorCode::kMalformedXML);
  EXPECT_EQ(lifecycle_code("<Rule><Filter/><Status>enabled</Status><Expiration><Days>1</Days>"
                           "</Expiration></Rule>"),
            ErrorCode::kMalformedXML);
  EXPECT_EQ(lifecycle_code("<Rule>" + filter + "</Rule>"), ErrorCode::kInvalidRequest);
  EXPECT_EQ(lifecycle_code("<Rule>" + filter + "<Expiration><Days>0</Days></Expiration></Rule>"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(lifecycle_code("<Rule>" + filter +
                           "<Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration></Rule>"),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(lifecycle_code("<Rule>" + filter +
                           "<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true"
                           "</ExpiredObjectDeleteMarker></Expiration></Rule>"),
            ErrorCode::kMalformedXML);
  EXPECT_EQ(lifecycle_code("<Rule><ID>" + std::string(256, 'x') + "</ID>" + filter +
                           "<Expiration><Days>1</Days></Expiration></Rule>"),
            ErrorCode::kInvalidArgument);
  const std::string same =
      "<Rule><ID>x</ID>" + filter + "<Expiration><Days>1</Days></Expiration></Rule>";
  EXPECT_EQ(lifecycle_code(same + same), ErrorCode::kInvalidArgument);
  EXPECT_EQ(lifecycle_code("<Rule><Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value>"
                           "</Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days>"
                           "</Expiration></Rule>"),
            ErrorCode::kMalformedXML);
  EXPECT_EQ(lifecycle_code("<Rule><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"
                           "<Status>Enabled</Status><AbortIncompleteMultipartUpload>"
                           "<DaysAfterInitiation>1</DaysAfterInitiation>"
                           "</AbortIncompleteMultipartUpload></Rule>"),
            ErrorCode::kInvalidRequest);
  EXPECT_EQ(lifecycle_code("<Rule><Prefix>a</Prefix><Status>Enabled</Status><Expiration><Days>1"
                           "</Days></Expiration></Rule><Rule>" +
                           filter + "<Expiration><Days>1</Days></Expiration></Rule>"),
            ErrorCode::kInvalidRequest);
}

TEST(S3Encryption, ParsesAndWritesTheDefault) {
  BucketEncryption encryption;
  ASSERT_FALSE(parse_encryption(
      "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
      "<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>"
      "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule>"
      "</ServerSideEncryptionConfiguration>",
      &encryption));
  EXPECT_EQ(encryption.algorithm, "aws:kms");
  EXPECT_EQ(encryption.kms_key_id, "k");
  EXPECT_TRUE(encryption.bucket_key_enabled);
  BucketEncryption again;
  ASSERT_FALSE(parse_encryption(encryption_xml(encryption), &again));
  EXPECT_EQ(again.kms_key_id, "k");
  auto aes_with_key = parse_encryption(
      "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
      "<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>"
      "</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>",
      &encryption);
  ASSERT_TRUE(aes_with_key);
  EXPECT_EQ(aes_with_key->code, ErrorCode::kInvalidArgument);
}

TEST(S3Ownership, TakesTheThreeSettings) {
  std::string ownership;
  EXPECT_FALSE(parse_ownership(ownership_xml("ObjectWriter"), &ownership));
  EXPECT_EQ(ownership, "ObjectWriter");
  EXPECT_TRUE(parse_ownership(ownership_xml("Anyone"), &ownership));
}

TEST(S3PublicAccessBlock, AbsentSettingsAreFalse) {
  PublicAccessBlock block;
  ASSERT_FALSE(parse_public_access_block(
      "<PublicAccessBlockConfiguration><BlockPublicPolicy>true</BlockPublicPolicy>"
      "</PublicAccessBlockConfiguration>",
      &block));
  EXPECT_TRUE(block.block_public_policy);
  EXPECT_FALSE(block.block_public_acls);
  EXPECT_TRUE(parse_public_access_block(
      "<PublicAccessBlockConfiguration><BlockPublicPolicy>yes</BlockPublicPolicy>"
      "</PublicAccessBlockConfiguration>",
      &block));
}

TEST(S3BucketPolicy, NeedsPrincipalsAndStaysInTheBucket) {
  bool is_public = false;
  auto check = [&](const std::string& statement) {
    auto invalid = validate_bucket_policy(
        R"({"Version":"2012-10-17","Statement":[)" + statement + "]}", "bkt", &is_public);
    return invalid ? invalid->message : std::string("ok");
  };
  EXPECT_EQ(check(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject",
                      "Resource":"arn:aws:s3:::bkt/*"})"),
            "ok");
  EXPECT_TRUE(is_public);
  EXPECT_EQ(check(R"({"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root"]},
                      "Action":["s3:GetObject","s3:ListBucket"],
                      "Resource":["arn:aws:s3:::bkt","arn:aws:s3:::bkt/*"]})"),
            "ok");
  EXPECT_FALSE(is_public);
  EXPECT_EQ(check(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject",
                      "Resource":"arn:aws:s3:::bkt/*",
                      "Condition":{"Bool":{"aws:SecureTransport":"true"}}})"),
            "ok");
  EXPECT_FALSE(is_public);
  EXPECT_EQ(check(R"({"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"})"),
            "Missing required field Principal");
  EXPECT_EQ(check(R"({"Effect":"Allow","Principal":{"Nobody":"x"},"Action":"s3:GetObject",
                      "Resource":"arn:aws:s3:::bkt/*"})"),
            "Invalid principal in policy");
  EXPECT_EQ(check(R"({"Effect":"Allow","Principal":"*","Action":"iot:Publish",
                      "Resource":"arn:aws:s3:::bkt/*"})"),
            "Policy has invalid action");
  EXPECT_EQ(check(R"({"Effect":"Allow","Principal":"*","Action":"s3:GetObject",
                      "Resource":"arn:aws:s3:::other/*"})"),
            "Policy has invalid resource");
  EXPECT_TRUE(validate_bucket_policy("nope", "bkt", &is_public));
}

}  // namespace
}  // namespace offcloud::s3

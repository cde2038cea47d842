// Parsing a stored lifecycle configuration into the sweep's rules, in both
// of S3's shapes, and the x-amz-expiration and x-amz-restore headers.
#include "emulator/s3/s3_lifecycle.h"

#include <gtest/gtest.h>

namespace offcloud::s3 {
namespace {

TEST(S3LifecycleTest, ParsesFiltersAndActions) {
  auto rules = parse_lifecycle_rules(R"(<LifecycleConfiguration>
    <Rule><ID>logs</ID><Status>Enabled</Status>
      <Filter><And><Prefix>logs/</Prefix><Tag><Key>t</Key><Value>v</Value></Tag>
        <ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>99</ObjectSizeLessThan>
      </And></Filter>
      <Expiration><Days>3</Days></Expiration>
      <Transition><Date>2030-01-02T00:00:00.000Z</Date><StorageClass>GLACIER</StorageClass></Transition>
      <NoncurrentVersionExpiration><NoncurrentDays>4</NoncurrentDays>
        <NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>
      <NoncurrentVersionTransition><NoncurrentDays>1</NoncurrentDays>
        <StorageClass>DEEP_ARCHIVE</StorageClass></NoncurrentVersionTransition>
    </Rule>
    <Rule><Status>Disabled</Status><Prefix>old/</Prefix>
      <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>
      <AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload>
    </Rule></LifecycleConfiguration>)");
  ASSERT_EQ(rules.size(), 2u);
  const LifecycleRule& first = rules[0];
  EXPECT_EQ(first.id, "logs");
  EXPECT_TRUE(first.enabled);
  EXPECT_EQ(first.filter.prefix, "logs/");
  EXPECT_EQ(first.filter.tags, (HeaderList{{"t", "v"}}));
  EXPECT_EQ(first.filter.size_greater_than, 10u);
  EXPECT_EQ(first.filter.size_less_than, 99u);
  ASSERT_TRUE(first.expiration);
  EXPECT_EQ(first.expiration->days, 3);
  ASSERT_EQ(first.transitions.size(), 1u);
  EXPECT_EQ(first.transitions[0].when.date_ms, 1893542400000LL);  // 2030-01-02
  EXPECT_EQ(first.transitions[0].storage_class, "GLACIER");
  ASSERT_TRUE(first.noncurrent_expiration);
  EXPECT_EQ(first.noncurrent_expiration->days, 4);
  EXPECT_EQ(first.noncurrent_expiration->newer_noncurrent_versions, 2);
  ASSERT_EQ(first.noncurrent_transitions.size(), 1u);
  EXPECT_EQ(first.noncurrent_transitions[0].storage_class, "DEEP_ARCHIVE");
  const LifecycleRule& second = rules[1];
  EXPECT_FALSE(second.enabled);
  EXPECT_EQ(second.filter.prefix, "old/");
  EXPECT_TRUE(second.expired_object_delete_marker);
  EXPECT_FALSE(second.expiration);
  EXPECT_EQ(second.abort_upload_days, 7);
}

TEST(S3LifecycleTest, UnparsableDocumentsHaveNoRules) {
  EXPECT_TRUE(parse_lifecycle_rules("<Lifecycle").empty());
  EXPECT_TRUE(parse_lifecycle_rules("").empty());
}

TEST(S3LifecycleTest, ExpirationAndRestoreHeaders) {
  LifecycleRule rule;
  rule.id = "rule 1";
  rule.enabled = true;
  rule.expiration = LifecycleWhen{std::nullopt, 1893456000000LL};  // 2030-01-01
  ObjectInfo object;
  object.key = "k";
  HttpResponse response;
  add_expiration_header({rule}, object, {}, &response);
  EXPECT_EQ(response.headers.get("x-amz-expiration"),
            "expiry-date=\"Tue, 01 Jan 2030 00:00:00 GMT\", rule-id=\"rule 1\"");
  object.restore_days = 2;
  add_restore_header(object, 0, &response);
  EXPECT_EQ(response.headers.get("x-amz-restore"), "ongoing-request=\"true\"");
  object.restore_days = 0;
  object.restore_expiry_ms = 1893456000000LL;
  HttpResponse restored;
  add_restore_header(object, 0, &restored);
  EXPECT_EQ(restored.headers.get("x-amz-restore"),
            "ongoing-request=\"false\", expiry-date=\"Tue, 01 Jan 2030 00:00:00 GMT\"");
  HttpResponse expired;
  add_restore_header(object, 1893456000000LL, &expired);
  EXPECT_FALSE(expired.headers.find("x-amz-restore"));
}

}  // namespace
}  // namespace offcloud::s3

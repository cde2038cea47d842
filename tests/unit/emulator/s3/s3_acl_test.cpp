#include "emulator/s3/s3_acl.h"

#include <gtest/gtest.h>

namespace offcloud::s3 {
namespace {

constexpr std::string_view kOwner = "owner-id";
constexpr std::string_view kAllUsers = "http://acs.amazonaws.com/groups/global/AllUsers";

Headers headers(std::initializer_list<std::pair<std::string, std::string>> fields) {
  Headers out;
  for (const auto& [name, value] : fields) out.add(name, value);
  return out;
}

TEST(S3Acl, CannedAclsExpandAsS3Does) {
  AclRequest none = acl_from_headers(headers({}), kOwner, false);
  EXPECT_FALSE(none.acl);
  EXPECT_FALSE(none.error);
  AclRequest public_read = acl_from_headers(headers({{"x-amz-acl", "public-read"}}), kOwner, false);
  ASSERT_TRUE(public_read.acl);
  ASSERT_EQ(public_read.acl->grants.size(), 2u);
  EXPECT_EQ(public_read.acl->grants[0].grantee, kOwner);
  EXPECT_EQ(public_read.acl->grants[0].permission, "FULL_CONTROL");
  EXPECT_EQ(public_read.acl->grants[1].grantee, kAllUsers);
  EXPECT_EQ(public_read.acl->grants[1].permission, "READ");
  // log-delivery-write is a bucket's canned ACL only.
  EXPECT_TRUE(acl_from_headers(headers({{"x-amz-acl", "log-delivery-write"}}), kOwner, true).acl);
  EXPECT_EQ(acl_from_headers(headers({{"x-amz-acl", "log-delivery-write"}}), kOwner, false).error,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(acl_from_headers(headers({{"x-amz-acl", "nobody"}}), kOwner, false).error,
            ErrorCode::kInvalidArgument);
}

TEST(S3Acl, GrantHeaders) {
  AclRequest granted =
      acl_from_headers(headers({{"x-amz-grant-read",
                                 "uri=\"http://acs.amazonaws.com/groups/global/AllUsers\", "
                                 "id=\"abc\""},
                                {"x-amz-grant-write-acp", "emailAddress=\"a@example.com\""}}),
                       kOwner, false);
  ASSERT_TRUE(granted.acl);
  ASSERT_EQ(granted.acl->grants.size(), 3u);
  EXPECT_EQ(granted.acl->grants[0].type, "Group");
  EXPECT_EQ(granted.acl->grants[1].type, "CanonicalUser");
  EXPECT_EQ(granted.acl->grants[1].grantee, "abc");
  EXPECT_EQ(granted.acl->grants[2].type, "AmazonCustomerByEmail");
  EXPECT_EQ(granted.acl->grants[2].permission, "WRITE_ACP");
  EXPECT_EQ(acl_from_headers(headers({{"x-amz-grant-read", "who=\"x\""}}), kOwner, false).error,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(acl_from_headers(headers({{"x-amz-acl", "private"}, {"x-amz-grant-read", "id=\"x\""}}),
                             kOwner, false)
                .error,
            ErrorCode::kInvalidRequest);
}

TEST(S3Acl, DocumentsRoundTrip) {
  std::string document =
      "<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>owner-id"
      "</ID></Owner><AccessControlList><Grant><Grantee "
      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\"><URI>" +
      std::string(kAllUsers) +
      "</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList>"
      "</AccessControlPolicy>";
  AclRequest parsed = acl_from_document(document);
  ASSERT_TRUE(parsed.acl);
  Acl stored = decode_acl(encode_acl(*parsed.acl), kOwner);
  ASSERT_EQ(stored.grants.size(), 1u);
  EXPECT_EQ(stored.grants[0].grantee, kAllUsers);
  std::string shown = acl_document(stored, kOwner, "me");
  EXPECT_NE(shown.find("xsi:type=\"Group\"><URI>" + std::string(kAllUsers) + "</URI>"),
            std::string::npos);
  EXPECT_NE(shown.find("<Owner><ID>owner-id</ID><DisplayName>me</DisplayName></Owner>"),
            std::string::npos);
  // The default: the owner's FULL_CONTROL alone.
  Acl fallback = decode_acl("", kOwner);
  ASSERT_EQ(fallback.grants.size(), 1u);
  EXPECT_EQ(fallback.grants[0].permission, "FULL_CONTROL");
  EXPECT_EQ(acl_from_document("<AccessControlPolicy>").error, ErrorCode::kMalformedACLError);
  EXPECT_EQ(acl_from_document("<AccessControlPolicy><Owner/><AccessControlList><Grant><Grantee>"
                              "<ID>x</ID></Grantee><Permission>ALL</Permission></Grant>"
                              "</AccessControlList></AccessControlPolicy>")
                .error,
            ErrorCode::kMalformedACLError);
}

}  // namespace
}  // namespace offcloud::s3

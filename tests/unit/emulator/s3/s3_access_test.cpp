#include "emulator/s3/s3_access.h"

#include <gtest/gtest.h>

#include "emulator/s3/s3_bucket_policy.h"

namespace offcloud::s3 {
namespace {

constexpr Decision kAllow = Decision::kAllow;
constexpr Decision kDeny = Decision::kExplicitDeny;
constexpr Decision kNone = Decision::kImplicitDeny;

AccessVerdict verdict(CallerKind caller, Decision identity, Decision policy, bool acl = false) {
  return combine_access({caller, identity, policy, acl});
}

TEST(S3Access, AnExplicitDenyAnywhereWins) {
  for (CallerKind caller : {CallerKind::kAnonymous, CallerKind::kOwnerRoot, CallerKind::kOwnerUser,
                            CallerKind::kOtherAccount}) {
    EXPECT_EQ(verdict(caller, kAllow, kDeny, true), AccessVerdict::kResourceExplicitDeny);
  }
  EXPECT_EQ(verdict(CallerKind::kOwnerUser, kDeny, kAllow), AccessVerdict::kIdentityExplicitDeny);
  EXPECT_EQ(verdict(CallerKind::kOtherAccount, kDeny, kAllow, true),
            AccessVerdict::kIdentityExplicitDeny);
}

TEST(S3Access, TheOwnersRootMayDoAnythingElse) {
  EXPECT_EQ(verdict(CallerKind::kOwnerRoot, kAllow, kNone), AccessVerdict::kAllow);
}

TEST(S3Access, WithinTheAccountEitherSideAllows) {
  EXPECT_EQ(verdict(CallerKind::kOwnerUser, kAllow, kNone), AccessVerdict::kAllow);
  EXPECT_EQ(verdict(CallerKind::kOwnerUser, kNone, kAllow), AccessVerdict::kAllow);
  EXPECT_EQ(verdict(CallerKind::kOwnerUser, kNone, kNone), AccessVerdict::kNoIdentityAllow);
  // An ACL grants the account, never its users.
  EXPECT_EQ(verdict(CallerKind::kOwnerUser, kNone, kNone, true), AccessVerdict::kNoIdentityAllow);
}

TEST(S3Access, AcrossAccountsBothSidesMustAllow) {
  EXPECT_EQ(verdict(CallerKind::kOtherAccount, kAllow, kAllow), AccessVerdict::kAllow);
  EXPECT_EQ(verdict(CallerKind::kOtherAccount, kAllow, kNone, true), AccessVerdict::kAllow);
  EXPECT_EQ(verdict(CallerKind::kOtherAccount, kNone, kAllow), AccessVerdict::kNoIdentityAllow);
  EXPECT_EQ(verdict(CallerKind::kOtherAccount, kAllow, kNone), AccessVerdict::kNoResourceAllow);
}

TEST(S3Access, AnAnonymousCallerGetsWhatThePolicyOrAclGivesEveryone) {
  EXPECT_EQ(verdict(CallerKind::kAnonymous, kNone, kAllow), AccessVerdict::kAllow);
  EXPECT_EQ(verdict(CallerKind::kAnonymous, kNone, kNone, true), AccessVerdict::kAllow);
  EXPECT_EQ(verdict(CallerKind::kAnonymous, kNone, kNone), AccessVerdict::kNoResourceAllow);
}

TEST(S3Access, AclPermissionsMapToActions) {
  ASSERT_NE(acl_permission_for("s3:ListBucket"), nullptr);
  EXPECT_EQ(acl_permission_for("s3:ListBucket")->permission, "READ");
  EXPECT_FALSE(acl_permission_for("s3:ListBucket")->on_object);
  EXPECT_EQ(acl_permission_for("s3:PutObject")->permission, "WRITE");
  EXPECT_FALSE(acl_permission_for("s3:PutObject")->on_object);
  EXPECT_EQ(acl_permission_for("s3:GetObject")->permission, "READ");
  EXPECT_TRUE(acl_permission_for("s3:GetObject")->on_object);
  EXPECT_EQ(acl_permission_for("s3:PutObjectAcl")->permission, "WRITE_ACP");
  EXPECT_EQ(acl_permission_for("s3:GetBucketAcl")->permission, "READ_ACP");
  EXPECT_EQ(acl_permission_for("s3:PutBucketPolicy"), nullptr);
  EXPECT_EQ(acl_permission_for("s3:DeleteBucket"), nullptr);
}

TEST(S3Access, AclGrantsByIdGroupAndFullControl) {
  Acl acl;
  acl.grants = {{"CanonicalUser", "bob", "", "READ"},
                {"CanonicalUser", "carol", "", "FULL_CONTROL"},
                {"Group", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers", "", "WRITE"},
                {"AmazonCustomerByEmail", "dave@example.com", "", "READ"}};
  EXPECT_TRUE(acl_grants(acl, "READ", {false, "bob"}, false));
  EXPECT_FALSE(acl_grants(acl, "READ_ACP", {false, "bob"}, false));
  EXPECT_TRUE(acl_grants(acl, "WRITE_ACP", {false, "carol"}, false));
  EXPECT_TRUE(acl_grants(acl, "WRITE", {false, "erin"}, false));
  EXPECT_FALSE(acl_grants(acl, "WRITE", {false, "erin"}, /*ignore_public=*/true));
  EXPECT_FALSE(acl_grants(acl, "WRITE", {true, ""}, false));  // anonymous is not authenticated
  EXPECT_FALSE(acl_grants(acl, "READ", {false, "dave@example.com"}, false));
  acl.grants.push_back({"Group", "http://acs.amazonaws.com/groups/global/AllUsers", "", "READ"});
  EXPECT_TRUE(acl_grants(acl, "READ", {true, ""}, false));
  EXPECT_FALSE(acl_grants(acl, "READ", {true, ""}, true));
}

PolicyCaller caller(std::string account, std::string arn, bool root, bool cross) {
  return {false, account, arn, "canon-" + account, root, cross};
}

TEST(S3BucketPolicy, PrincipalsNameWhomTheySay) {
  auto policy = parse_bucket_policy(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"s3:GetObject",
     "Resource":"arn:aws:s3:::b/*"},
    {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/u"},
     "Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"},
    {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},
     "Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*"}]})",
                                    "b");
  ASSERT_TRUE(policy);
  ConditionContext none;
  auto bob_root = caller("444455556666", "arn:aws:iam::444455556666:root", true, true);
  auto bob_user = caller("444455556666", "arn:aws:iam::444455556666:user/x", false, true);
  auto alice_u = caller("111122223333", "arn:aws:iam::111122223333:user/u", false, false);
  auto alice_v = caller("111122223333", "arn:aws:iam::111122223333:user/v", false, false);
  EXPECT_EQ(evaluate_bucket_policy(*policy, bob_root, "s3:GetObject", "arn:aws:s3:::b/k", none),
            kAllow);
  EXPECT_EQ(evaluate_bucket_policy(*policy, bob_user, "s3:GetObject", "arn:aws:s3:::b/k", none),
            kAllow);
  EXPECT_EQ(evaluate_bucket_policy(*policy, bob_root, "s3:PutObject", "arn:aws:s3:::b/k", none),
            kNone);
  EXPECT_EQ(evaluate_bucket_policy(*policy, alice_u, "s3:PutObject", "arn:aws:s3:::b/k", none),
            kAllow);
  EXPECT_EQ(evaluate_bucket_policy(*policy, alice_v, "s3:PutObject", "arn:aws:s3:::b/k", none),
            kNone);
  // Within the owner's account an account principal names its root alone.
  EXPECT_EQ(evaluate_bucket_policy(*policy, alice_v, "s3:DeleteObject", "arn:aws:s3:::b/k", none),
            kNone);
  PolicyCaller anonymous{true, "", "", "", false, true};
  EXPECT_EQ(evaluate_bucket_policy(*policy, anonymous, "s3:GetObject", "arn:aws:s3:::b/k", none),
            kNone);
}

TEST(S3BucketPolicy, EveryoneConditionsAndDeny) {
  auto policy = parse_bucket_policy(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b",
     "Condition":{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}},
    {"Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"s3:*",
     "NotResource":"arn:aws:s3:::b/open/*"}]})",
                                    "b");
  ASSERT_TRUE(policy);
  EXPECT_FALSE(policy->is_public);
  ConditionContext context;
  context.set("aws:username", "u");
  context.set("s3:prefix", "home/u/docs");
  auto bob = caller("444455556666", "arn:aws:iam::444455556666:user/u", false, true);
  EXPECT_EQ(evaluate_bucket_policy(*policy, bob, "s3:ListBucket", "arn:aws:s3:::b", context),
            kAllow);
  context.set("s3:prefix", "home/v/");
  EXPECT_EQ(evaluate_bucket_policy(*policy, bob, "s3:ListBucket", "arn:aws:s3:::b", context),
            kNone);
  // A Deny of an account reaches its users and its root.
  auto alice = caller("111122223333", "arn:aws:iam::111122223333:user/v", false, false);
  EXPECT_EQ(evaluate_bucket_policy(*policy, alice, "s3:GetObject", "arn:aws:s3:::b/k", context),
            kDeny);
  EXPECT_EQ(
      evaluate_bucket_policy(*policy, alice, "s3:GetObject", "arn:aws:s3:::b/open/k", context),
      kNone);
}

TEST(S3BucketPolicy, NotPrincipalAndObjectTags) {
  auto policy = parse_bucket_policy(R"({"Version":"2012-10-17","Statement":[
    {"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject",
     "Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/tier":"secret"}}}]})",
                                    "b");
  ASSERT_TRUE(policy);
  EXPECT_TRUE(policy->reads_object_tags);
  ConditionContext secret;
  secret.set("s3:ExistingObjectTag/tier", "secret");
  auto root = caller("111122223333", "arn:aws:iam::111122223333:root", true, false);
  auto bob = caller("444455556666", "arn:aws:iam::444455556666:root", true, true);
  EXPECT_EQ(evaluate_bucket_policy(*policy, root, "s3:GetObject", "arn:aws:s3:::b/k", secret),
            kNone);
  EXPECT_EQ(evaluate_bucket_policy(*policy, bob, "s3:GetObject", "arn:aws:s3:::b/k", secret),
            kDeny);
  EXPECT_EQ(evaluate_bucket_policy(*policy, bob, "s3:GetObject", "arn:aws:s3:::b/k", {}), kNone);
  EXPECT_FALSE(parse_bucket_policy(R"({"Statement":[]})", "b"));
}

}  // namespace
}  // namespace offcloud::s3

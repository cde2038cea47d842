#include "emulator/s3/s3_access.h"

namespace offcloud::s3 {
namespace {

constexpr std::string_view kAllUsers = "http://acs.amazonaws.com/groups/global/AllUsers";
constexpr std::string_view kAuthenticatedUsers =
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

bool allows(Decision decision) {
  return decision == Decision::kAllow;
}

}  // namespace

AccessVerdict combine_access(const AccessInputs& in) {
  if (in.identity == Decision::kExplicitDeny) return AccessVerdict::kIdentityExplicitDeny;
  if (in.policy == Decision::kExplicitDeny) return AccessVerdict::kResourceExplicitDeny;
  switch (in.caller) {
    case CallerKind::kOwnerRoot:
      return AccessVerdict::kAllow;
    case CallerKind::kOwnerUser:
      // Within one account either side suffices; ACLs grant the account
      // itself, never its users.
      return allows(in.identity) || allows(in.policy) ? AccessVerdict::kAllow
                                                      : AccessVerdict::kNoIdentityAllow;
    case CallerKind::kOtherAccount:
      if (!allows(in.identity)) return AccessVerdict::kNoIdentityAllow;
      return allows(in.policy) || in.acl_allows ? AccessVerdict::kAllow
                                                : AccessVerdict::kNoResourceAllow;
    case CallerKind::kAnonymous:
      return allows(in.policy) || in.acl_allows ? AccessVerdict::kAllow
                                                : AccessVerdict::kNoResourceAllow;
  }
  return AccessVerdict::kNoResourceAllow;
}

const AclPermission* acl_permission_for(std::string_view action) {
  static const std::pair<std::string_view, AclPermission> kMapping[] = {
      {"s3:ListBucket", {"READ", false}},
      {"s3:ListBucketVersions", {"READ", false}},
      {"s3:ListBucketMultipartUploads", {"READ", false}},
      {"s3:PutObject", {"WRITE", false}},
      {"s3:DeleteObject", {"WRITE", false}},
      {"s3:DeleteObjectVersion", {"WRITE", false}},
      {"s3:AbortMultipartUpload", {"WRITE", false}},
      {"s3:ListMultipartUploadParts", {"WRITE", false}},
      {"s3:GetBucketAcl", {"READ_ACP", false}},
      {"s3:PutBucketAcl", {"WRITE_ACP", false}},
      {"s3:GetObject", {"READ", true}},
      {"s3:GetObjectVersion", {"READ", true}},
      {"s3:GetObjectAttributes", {"READ", true}},
      {"s3:GetObjectVersionAttributes", {"READ", true}},
      {"s3:GetObjectAcl", {"READ_ACP", true}},
      {"s3:GetObjectVersionAcl", {"READ_ACP", true}},
      {"s3:PutObjectAcl", {"WRITE_ACP", true}},
      {"s3:PutObjectVersionAcl", {"WRITE_ACP", true}},
  };
  for (const auto& [name, permission] : kMapping) {
    if (name == action) return &permission;
  }
  return nullptr;
}

bool is_public_grant(const AclGrant& grant) {
  return grant.type == "Group" &&
         (grant.grantee == kAllUsers || grant.grantee == kAuthenticatedUsers);
}

bool acl_grants(const Acl& acl, std::string_view permission, const AclCaller& caller,
                bool ignore_public) {
  for (const AclGrant& grant : acl.grants) {
    if (grant.permission != permission && grant.permission != "FULL_CONTROL") continue;
    if (grant.type == "CanonicalUser") {
      if (!caller.anonymous && grant.grantee == caller.canonical_id) return true;
    } else if (grant.type == "Group" && !ignore_public) {
      if (grant.grantee == kAllUsers) return true;
      if (grant.grantee == kAuthenticatedUsers && !caller.anonymous) return true;
    }
  }
  return false;
}

}  // namespace offcloud::s3

// How S3 decides whether a caller may do what it asks, as AWS documents it
// ("How Amazon S3 authorizes a request"): the caller's identity policies,
// the bucket owner's bucket policy and ACLs, weighed by whose account asks.
// Pure code: the inputs are decisions already made (S3Service gathers them
// in s3_authorization.cpp).
#pragma once

#include <string_view>

#include "emulator/auth/iam_policy.h"
#include "emulator/s3/s3_acl.h"

namespace offcloud::s3 {

// Who asks, relative to the resource's owner.
enum class CallerKind {
  kAnonymous,     // no credentials at all
  kOwnerRoot,     // the owning account's root
  kOwnerUser,     // an IAM user of the owning account
  kOtherAccount,  // another account's root or user
};

struct AccessInputs {
  CallerKind caller = CallerKind::kAnonymous;
  Decision identity = Decision::kImplicitDeny;  // the caller's identity policies (a root: kAllow)
  Decision policy = Decision::kImplicitDeny;    // the bucket policy, for this caller
  bool acl_allows = false;                      // an ACL grant that counts (ACLs enabled)
};

enum class AccessVerdict {
  kAllow,
  kIdentityExplicitDeny,  // a Deny in the caller's identity policies
  kResourceExplicitDeny,  // a Deny in the bucket policy
  kNoIdentityAllow,       // the caller's own account allows nothing
  kNoResourceAllow,       // the bucket owner allows nothing
};

// An explicit Deny anywhere wins. The owner's root may do anything else.
// The owner's users: what their identity policies or the bucket policy
// allow. Another account: its own identity policies (a root's allow all)
// AND the bucket owner's policy or ACL. Anonymous: the policy or the ACL.
AccessVerdict combine_access(const AccessInputs& inputs);

// The ACL permission that grants `action` ("s3:GetObject"), and whether it
// is read from the object's ACL (else the bucket's), as AWS's "Mapping of
// ACL permissions and access policy permissions" lists them. nullptr: no
// ACL permission grants it.
struct AclPermission {
  std::string_view permission;  // READ, WRITE, READ_ACP or WRITE_ACP
  bool on_object = false;
};
const AclPermission* acl_permission_for(std::string_view action);

// The grantee a caller is, for ACL grants.
struct AclCaller {
  bool anonymous = false;
  std::string_view canonical_id;  // the caller's account's
};

// Whether `acl` grants `permission` (or FULL_CONTROL) to the caller: by its
// account's canonical id, to AllUsers, or, for a signed request, to
// AuthenticatedUsers. `ignore_public`: IgnorePublicAcls, the two groups'
// grants count for nothing. Grants by email address name nobody offcloud
// knows.
bool acl_grants(const Acl& acl, std::string_view permission, const AclCaller& caller,
                bool ignore_public);

// Whether a grant makes its resource public (AllUsers or AuthenticatedUsers).
bool is_public_grant(const AclGrant& grant);

}  // namespace offcloud::s3

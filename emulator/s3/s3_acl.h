// S3 access control lists as requests state them (a canned ACL in x-amz-acl,
// x-amz-grant-* headers, or an AccessControlPolicy document) and as
// Get{Bucket,Object}Acl shows them. Their grants are enforced in
// s3_access (when the bucket's ownership controls enable ACLs).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/api/api_errors.h"
#include "emulator/http/http_types.h"

namespace offcloud::s3 {

struct AclGrant {
  std::string type;          // "CanonicalUser", "Group" or "AmazonCustomerByEmail"
  std::string grantee;       // the ID, URI or EmailAddress, by type
  std::string display_name;  // CanonicalUser only, may be empty
  std::string permission;    // FULL_CONTROL, WRITE, WRITE_ACP, READ or READ_ACP
};

// Every grant, the owner's too (a canned ACL's owner FULL_CONTROL is one).
struct Acl {
  std::vector<AclGrant> grants;
  // An object's owner when it is not the bucket's: the account that wrote
  // it into a bucket whose ACLs are enabled (ObjectWriter). Empty: the
  // bucket owner's.
  std::string owner_account;
};

// What a request says about the ACL: nothing (neither set), an ACL, or why
// it is refused.
struct AclRequest {
  std::optional<Acl> acl;
  std::optional<ErrorCode> error;
  std::string error_message;
};

// From x-amz-acl or x-amz-grant-* (not both). `owner_id` is the canonical
// user id of the resource's owner; `bucket` says which canned ACLs apply;
// `bucket_owner_id`, when another's, is whom bucket-owner-read and
// bucket-owner-full-control grant.
AclRequest acl_from_headers(const Headers& headers, std::string_view owner_id, bool bucket,
                            std::string_view bucket_owner_id = {});
// From an AccessControlPolicy document (PutBucketAcl, PutObjectAcl).
AclRequest acl_from_document(std::string_view body);

// The store's encoding (JSON), and back; "" is the default ACL: the owner's
// FULL_CONTROL alone. `owner_id` is the bucket owner's canonical id.
std::string encode_acl(const Acl& acl);
Acl decode_acl(const std::string& stored, std::string_view owner_id);

// <AccessControlPolicy> with the owner and the grants.
std::string acl_document(const Acl& acl, std::string_view owner_id,
                         std::string_view owner_display_name);

}  // namespace offcloud::s3

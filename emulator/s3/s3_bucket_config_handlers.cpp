// S3 bucket configurations that are stored, checked and given back:
// policy (and its status), lifecycle, default encryption, object ownership
// and the public access block. Each is one document in the object store,
// deleted with the bucket. New buckets get what AWS gives new buckets:
// BucketOwnerEnforced and every public access block setting on.
#include "emulator/s3/s3_acl.h"
#include "emulator/s3/s3_bucket_config.h"
#include "emulator/s3/s3_bucket_policy.h"
#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_service.h"

namespace offcloud {
namespace {

using namespace s3;

constexpr const char* kPolicy = "policy";
constexpr const char* kLifecycle = "lifecycle";
constexpr const char* kEncryption = "encryption";
constexpr const char* kOwnership = "ownershipControls";
constexpr const char* kPublicAccessBlock = "publicAccessBlock";
// What PutBucketLifecycleConfiguration and GetBucketLifecycleConfiguration
// answer when the request names no other: S3's default since September 2024.
constexpr const char* kTransitionMinimum = "all_storage_classes_128K";

HttpResponse refusal(const S3Call& call, const S3Invalid& invalid) {
  return error(call, invalid.code, invalid.message, invalid.details);
}

HttpResponse no_content() {
  HttpResponse response;
  response.status = 204;
  return response;
}

}  // namespace

std::optional<HttpResponse> S3Service::check_object_ownership_header(S3Call& call) {
  const std::string* ownership = call.http.headers.find("x-amz-object-ownership");
  if (!ownership || valid_ownership(*ownership)) return std::nullopt;
  return error(call, ErrorCode::kInvalidArgument, "Invalid x-amz-object-ownership header",
               {{"ArgumentName", "x-amz-object-ownership"}, {"ArgumentValue", *ownership}});
}

std::optional<HttpResponse> S3Service::refuse_acl(const S3Call& call, const std::string& bucket,
                                                  const std::string& acl,
                                                  const std::string* creating_with_ownership) {
  if (acl.empty()) return std::nullopt;
  // The bucket's owner; the caller's when it is creating the bucket.
  std::string owner = canonical_user_id(call.bucket_state && !creating_with_ownership
                                            ? call.bucket_state->info.owner
                                            : call.context.principal.account_id);
  bool owner_only = true;
  bool is_public = false;
  for (const AclGrant& grant : decode_acl(acl, owner).grants) {
    owner_only = owner_only && grant.type == "CanonicalUser" && grant.grantee == owner &&
                 grant.permission == "FULL_CONTROL";
    is_public =
        is_public || (grant.type == "Group" && (grant.grantee.ends_with("/AllUsers") ||
                                                grant.grantee.ends_with("/AuthenticatedUsers")));
  }
  std::string ownership = "ObjectWriter";  // no controls: ACLs as before they existed
  if (creating_with_ownership) {
    ownership = *creating_with_ownership;
  } else if (auto stored = store_.bucket_config(bucket, kOwnership)) {
    parse_ownership(*stored, &ownership);
  }
  if (ownership == "BucketOwnerEnforced" && !owner_only) {
    return error(call, creating_with_ownership ? ErrorCode::kInvalidBucketAclWithObjectOwnership
                                               : ErrorCode::kAccessControlListNotSupported);
  }
  if (is_public && !creating_with_ownership) {
    PublicAccessBlock block;
    if (auto stored = store_.bucket_config(bucket, kPublicAccessBlock)) {
      parse_public_access_block(*stored, &block);
    }
    if (block.block_public_acls) return error(call, ErrorCode::kAccessDenied);
  }
  return std::nullopt;
}

void S3Service::store_default_bucket_configs(S3Call& call) {
  const std::string* ownership = call.http.headers.find("x-amz-object-ownership");
  store_.put_bucket_config(call.target.bucket, kOwnership,
                           ownership_xml(ownership ? *ownership : "BucketOwnerEnforced"));
  store_.put_bucket_config(call.target.bucket, kPublicAccessBlock,
                           public_access_block_xml({true, true, true, true}));
}

// A config that is one stored document: GET answers it or `missing`,
// DELETE removes it.
HttpResponse S3Service::get_bucket_config(S3Call& call, const char* kind, ErrorCode missing) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  auto stored = store_.bucket_config(call.target.bucket, kind);
  if (!stored) return error(call, missing, "", {{"BucketName", call.target.bucket}});
  return xml_response(*stored);
}

HttpResponse S3Service::delete_bucket_config(S3Call& call, const char* kind) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  store_.delete_bucket_config(call.target.bucket, kind);
  return no_content();
}

HttpResponse S3Service::put_bucket_policy(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  bool is_public = false;
  if (auto invalid = validate_bucket_policy(call.http.body, call.target.bucket, &is_public)) {
    return refusal(call, *invalid);
  }
  PublicAccessBlock block;
  if (auto stored = store_.bucket_config(call.target.bucket, kPublicAccessBlock)) {
    parse_public_access_block(*stored, &block);
  }
  if (is_public && block.block_public_policy) {
    return error(call, ErrorCode::kAccessDenied,
                 "User: " + call.context.principal.arn +
                     " is not authorized to perform: s3:PutBucketPolicy on resource: "
                     "\"arn:aws:s3:::" +
                     call.target.bucket +
                     "\" because public policies are blocked by the BlockPublicPolicy block "
                     "public access setting.");
  }
  if (!store_.put_bucket_config(call.target.bucket, kPolicy, call.http.body)) {
    return no_such_bucket(call);
  }
  return no_content();
}

HttpResponse S3Service::get_bucket_policy(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  auto stored = store_.bucket_config(call.target.bucket, kPolicy);
  if (!stored) {
    return error(call, ErrorCode::kNoSuchBucketPolicy, "", {{"BucketName", call.target.bucket}});
  }
  HttpResponse response;
  response.headers.add("Content-Type", "application/json");
  response.body = std::move(*stored);
  return response;
}

HttpResponse S3Service::delete_bucket_policy(S3Call& call) {
  return delete_bucket_config(call, kPolicy);
}

HttpResponse S3Service::get_bucket_policy_status(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  auto stored = store_.bucket_config(call.target.bucket, kPolicy);
  if (!stored) {
    return error(call, ErrorCode::kNoSuchBucketPolicy, "", {{"BucketName", call.target.bucket}});
  }
  bool is_public = false;
  validate_bucket_policy(*stored, call.target.bucket, &is_public);
  XmlWriter xml("PolicyStatus", kXmlns);
  xml.element("IsPublic", is_public ? "true" : "false");
  return xml_response(xml.finish());
}

HttpResponse S3Service::put_bucket_lifecycle(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  if (auto invalid = validate_lifecycle(call.http.body)) return refusal(call, *invalid);
  if (!store_.put_bucket_config(call.target.bucket, kLifecycle, call.http.body)) {
    return no_such_bucket(call);
  }
  HttpResponse response;
  response.headers.add("x-amz-transition-default-minimum-object-size", kTransitionMinimum);
  return response;
}

HttpResponse S3Service::get_bucket_lifecycle(S3Call& call) {
  HttpResponse response =
      get_bucket_config(call, kLifecycle, ErrorCode::kNoSuchLifecycleConfiguration);
  if (response.status == 200) {
    response.headers.add("x-amz-transition-default-minimum-object-size", kTransitionMinimum);
  }
  return response;
}

HttpResponse S3Service::delete_bucket_lifecycle(S3Call& call) {
  return delete_bucket_config(call, kLifecycle);
}

HttpResponse S3Service::put_bucket_encryption(S3Call& call) {
  BucketEncryption encryption;
  if (auto invalid = parse_encryption(call.http.body, &encryption)) return refusal(call, *invalid);
  if (!store_.put_bucket_config(call.target.bucket, kEncryption, encryption_xml(encryption))) {
    return no_such_bucket(call);
  }
  return {};
}

HttpResponse S3Service::get_bucket_encryption(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  // Every bucket has default encryption on AWS: SSE-S3 unless set otherwise
  // (DeleteBucketEncryption goes back to it).
  auto stored = store_.bucket_config(call.target.bucket, kEncryption);
  return xml_response(stored ? *stored : encryption_xml({}));
}

HttpResponse S3Service::delete_bucket_encryption(S3Call& call) {
  return delete_bucket_config(call, kEncryption);
}

HttpResponse S3Service::put_ownership_controls(S3Call& call) {
  std::string ownership;
  if (auto invalid = parse_ownership(call.http.body, &ownership)) return refusal(call, *invalid);
  if (!store_.put_bucket_config(call.target.bucket, kOwnership, ownership_xml(ownership))) {
    return no_such_bucket(call);
  }
  return {};
}

HttpResponse S3Service::get_ownership_controls(S3Call& call) {
  return get_bucket_config(call, kOwnership, ErrorCode::kOwnershipControlsNotFoundError);
}

HttpResponse S3Service::delete_ownership_controls(S3Call& call) {
  return delete_bucket_config(call, kOwnership);
}

HttpResponse S3Service::put_public_access_block(S3Call& call) {
  PublicAccessBlock block;
  if (auto invalid = parse_public_access_block(call.http.body, &block)) {
    return refusal(call, *invalid);
  }
  if (!store_.put_bucket_config(call.target.bucket, kPublicAccessBlock,
                                public_access_block_xml(block))) {
    return no_such_bucket(call);
  }
  return {};
}

HttpResponse S3Service::get_public_access_block(S3Call& call) {
  return get_bucket_config(call, kPublicAccessBlock,
                           ErrorCode::kNoSuchPublicAccessBlockConfiguration);
}

HttpResponse S3Service::delete_public_access_block(S3Call& call) {
  return delete_bucket_config(call, kPublicAccessBlock);
}

}  // namespace offcloud

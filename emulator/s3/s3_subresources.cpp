// Which configuration operation a request with a subresource (?tagging,
// ?cors, ?policy, ...) is: one table, read by dispatch() to run it and by
// iam_requests() to name the action S3's authorization reference gives it.
#include "emulator/s3/s3_service.h"

namespace offcloud {

const S3Service::SubresourceRoute* S3Service::find_subresource_route(const HttpRequest& request,
                                                                     const QueryParams& query,
                                                                     bool on_object) {
  using S = S3Service;
  static const SubresourceRoute kRoutes[] = {
      {"tagging", "PUT", true, "PutObjectTagging", "PutObjectTagging", &S::put_object_tagging},
      {"tagging", "GET", true, "GetObjectTagging", "GetObjectTagging", &S::get_object_tagging},
      {"tagging", "DELETE", true, "DeleteObjectTagging", "DeleteObjectTagging",
       &S::delete_object_tagging},
      {"tagging", "PUT", false, "PutBucketTagging", "PutBucketTagging", &S::put_bucket_tagging},
      {"tagging", "GET", false, "GetBucketTagging", "GetBucketTagging", &S::get_bucket_tagging},
      {"tagging", "DELETE", false, "DeleteBucketTagging", "PutBucketTagging",
       &S::delete_bucket_tagging},
      {"versioning", "PUT", false, "PutBucketVersioning", "PutBucketVersioning",
       &S::put_bucket_versioning},
      {"versioning", "GET", false, "GetBucketVersioning", "GetBucketVersioning",
       &S::get_bucket_versioning},
      {"cors", "PUT", false, "PutBucketCors", "PutBucketCORS", &S::put_bucket_cors},
      {"cors", "GET", false, "GetBucketCors", "GetBucketCORS", &S::get_bucket_cors},
      {"cors", "DELETE", false, "DeleteBucketCors", "PutBucketCORS", &S::delete_bucket_cors},
      {"policy", "PUT", false, "PutBucketPolicy", "PutBucketPolicy", &S::put_bucket_policy},
      {"policy", "GET", false, "GetBucketPolicy", "GetBucketPolicy", &S::get_bucket_policy},
      {"policy", "DELETE", false, "DeleteBucketPolicy", "DeleteBucketPolicy",
       &S::delete_bucket_policy},
      {"policyStatus", "GET", false, "GetBucketPolicyStatus", "GetBucketPolicyStatus",
       &S::get_bucket_policy_status},
      {"lifecycle", "PUT", false, "PutBucketLifecycleConfiguration", "PutLifecycleConfiguration",
       &S::put_bucket_lifecycle},
      {"lifecycle", "GET", false, "GetBucketLifecycleConfiguration", "GetLifecycleConfiguration",
       &S::get_bucket_lifecycle},
      {"lifecycle", "DELETE", false, "DeleteBucketLifecycle", "PutLifecycleConfiguration",
       &S::delete_bucket_lifecycle},
      {"encryption", "PUT", false, "PutBucketEncryption", "PutEncryptionConfiguration",
       &S::put_bucket_encryption},
      {"encryption", "GET", false, "GetBucketEncryption", "GetEncryptionConfiguration",
       &S::get_bucket_encryption},
      {"encryption", "DELETE", false, "DeleteBucketEncryption", "PutEncryptionConfiguration",
       &S::delete_bucket_encryption},
      {"ownershipControls", "PUT", false, "PutBucketOwnershipControls",
       "PutBucketOwnershipControls", &S::put_ownership_controls},
      {"ownershipControls", "GET", false, "GetBucketOwnershipControls",
       "GetBucketOwnershipControls", &S::get_ownership_controls},
      {"ownershipControls", "DELETE", false, "DeleteBucketOwnershipControls",
       "PutBucketOwnershipControls", &S::delete_ownership_controls},
      {"object-lock", "PUT", false, "PutObjectLockConfiguration",
       "PutBucketObjectLockConfiguration", &S::put_object_lock_configuration},
      {"object-lock", "GET", false, "GetObjectLockConfiguration",
       "GetBucketObjectLockConfiguration", &S::get_object_lock_configuration},
      {"retention", "PUT", true, "PutObjectRetention", "PutObjectRetention",
       &S::put_object_retention},
      {"retention", "GET", true, "GetObjectRetention", "GetObjectRetention",
       &S::get_object_retention},
      {"legal-hold", "PUT", true, "PutObjectLegalHold", "PutObjectLegalHold",
       &S::put_object_legal_hold},
      {"legal-hold", "GET", true, "GetObjectLegalHold", "GetObjectLegalHold",
       &S::get_object_legal_hold},
      {"publicAccessBlock", "PUT", false, "PutPublicAccessBlock", "PutBucketPublicAccessBlock",
       &S::put_public_access_block},
      {"publicAccessBlock", "GET", false, "GetPublicAccessBlock", "GetBucketPublicAccessBlock",
       &S::get_public_access_block},
      {"publicAccessBlock", "DELETE", false, "DeletePublicAccessBlock",
       "PutBucketPublicAccessBlock", &S::delete_public_access_block},
      {"restore", "POST", true, "RestoreObject", "RestoreObject", &S::restore_object},
  };
  auto has = [&](std::string_view name) { return find_param(query, name) != nullptr; };
  if (on_object && (has("uploads") || has("uploadId"))) return nullptr;
  for (const SubresourceRoute& route : kRoutes) {
    if (route.on_object == on_object && route.method == request.method && has(route.subresource)) {
      return &route;
    }
  }
  return nullptr;
}

bool S3Service::serves_anonymously(const HttpRequest& /*request*/,
                                   const QueryParams& /*query*/) const {
  return true;
}

}  // namespace offcloud

#include "emulator/s3/s3_write_options.h"

#include "emulator/s3/s3_acl.h"
#include "emulator/s3/s3_common.h"

namespace offcloud::s3 {

bool is_storage_class(std::string_view name) {
  // botocore's StorageClass enum but the FSx classes, which only FSx access
  // points take.
  static constexpr std::string_view kClasses[] = {
      "STANDARD",       "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
      "GLACIER",        "DEEP_ARCHIVE",       "OUTPOSTS",    "GLACIER_IR", "SNOW",
      "EXPRESS_ONEZONE"};
  for (std::string_view known : kClasses) {
    if (name == known) return true;
  }
  return false;
}

std::optional<HttpResponse> read_write_options(const S3Call& call, ObjectInfo* info) {
  info->storage_class = "STANDARD";
  if (const std::string* storage_class = call.http.headers.find("x-amz-storage-class")) {
    if (!is_storage_class(*storage_class)) {
      return error(call, ErrorCode::kInvalidStorageClass, "",
                   {{"StorageClassRequested", *storage_class}});
    }
    info->storage_class = *storage_class;
  }
  // Who will own the object: the bucket owner, unless the bucket's ACLs are
  // enabled and another account writes it (ObjectWriter; BucketOwnerPreferred
  // hands it over with bucket-owner-full-control). Anonymous writes are the
  // bucket owner's.
  const std::string& writer = call.context.principal.account_id;
  std::string bucket_owner = call.bucket_state ? call.bucket_state->info.owner : writer;
  std::string object_owner = bucket_owner;
  if (call.bucket_state && call.bucket_state->acls_enabled() && !writer.empty() &&
      writer != bucket_owner) {
    bool handed_over = call.bucket_state->ownership == "BucketOwnerPreferred" &&
                       call.http.headers.get("x-amz-acl") == "bucket-owner-full-control";
    if (!handed_over) object_owner = writer;
  }
  AclRequest acl = acl_from_headers(call.http.headers, canonical_user_id(object_owner), false,
                                    canonical_user_id(bucket_owner));
  if (acl.error) return error(call, *acl.error, acl.error_message);
  if (object_owner != bucket_owner) {
    Acl owned = acl.acl ? *acl.acl : decode_acl("", canonical_user_id(object_owner));
    owned.owner_account = object_owner;
    info->acl = encode_acl(owned);
  } else {
    info->acl = acl.acl ? encode_acl(*acl.acl) : std::string();
  }
  return std::nullopt;
}

std::optional<HttpResponse> read_write_condition(const S3Call& call, WriteCondition* condition) {
  if (const std::string* if_none_match = call.http.headers.find("if-none-match")) {
    if (*if_none_match != "*") {
      return error(call, ErrorCode::kNotImplemented, "",
                   {{"Header", "If-None-Match"},
                    {"additionalMessage",
                     "We don't accept the "
                     "provided value of "
                     "If-None-Match header "
                     "for this API"}});
    }
    condition->if_none_match = true;
  }
  if (const std::string* if_match = call.http.headers.find("if-match")) {
    condition->if_match = *if_match;
  }
  return std::nullopt;
}

HttpResponse condition_failed(const S3Call& call, ObjectStore::Status status) {
  switch (status) {
    case ObjectStore::Status::kNoSuchKey:
      return error(call, ErrorCode::kNoSuchKey);
    case ObjectStore::Status::kConflict:
      return error(call, ErrorCode::kConditionalRequestConflict);
    default:
      break;
  }
  std::string condition = call.http.headers.find("if-match") ? "If-Match" : "If-None-Match";
  return error(call, ErrorCode::kPreconditionFailed, "", {{"Condition", condition}});
}

}  // namespace offcloud::s3

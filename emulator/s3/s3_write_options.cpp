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
  AclRequest acl = acl_from_headers(call.http.headers,
                                    canonical_user_id(call.context.principal.account_id), false);
  if (acl.error) return error(call, *acl.error, acl.error_message);
  info->acl = acl.acl ? encode_acl(*acl.acl) : std::string();
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

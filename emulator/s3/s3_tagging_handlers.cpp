// S3 tagging: Put/Get/DeleteObjectTagging, Put/Get/DeleteBucketTagging, and
// the x-amz-tagging header of the operations that write an object. Object
// tags live in the object's row (they go with it, and a new PUT replaces
// them); a bucket's tag set is one of its stored configurations.
#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_service.h"
#include "emulator/s3/s3_tagging.h"
#include "emulator/s3/s3_versioning.h"

namespace offcloud {
namespace {

using namespace s3;

constexpr const char* kBucketTagging = "tagging";

HttpResponse refusal(const S3Call& call, const S3Invalid& invalid) {
  return error(call, invalid.code, invalid.message, invalid.details);
}

HttpResponse no_content() {
  HttpResponse response;
  response.status = 204;
  return response;
}

}  // namespace

std::optional<HttpResponse> S3Service::read_tagging_header(S3Call& call, ObjectInfo* info) {
  const std::string* header = call.http.headers.find("x-amz-tagging");
  if (!header) return std::nullopt;
  if (auto invalid = parse_tagging_header(*header, &info->tags)) return refusal(call, *invalid);
  return std::nullopt;
}

std::optional<HttpResponse> S3Service::copy_tags(S3Call& call, ObjectInfo* info) {
  std::string_view directive = call.http.headers.get("x-amz-tagging-directive");
  if (directive.empty() || directive == "COPY") return std::nullopt;
  if (directive != "REPLACE") {
    return error(
        call, ErrorCode::kInvalidArgument, "Unknown tagging directive.",
        {{"ArgumentName", "x-amz-tagging-directive"}, {"ArgumentValue", std::string(directive)}});
  }
  info->tags.clear();
  return read_tagging_header(call, info);
}

// The tag set of the version ?versionId= names (else the current one)
// becomes `tags`; x-amz-version-id names that version where the bucket is
// versioned.
HttpResponse S3Service::replace_object_tags(S3Call& call, const HeaderList& tags,
                                            HttpResponse response) {
  std::optional<BucketInfo> bucket = store_.bucket(call.target.bucket);
  if (!bucket) return no_such_bucket(call);
  ObjectLookup found = find_object(call);
  if (!found.object) return std::move(found.refusal);
  if (!store_.put_object_tags(call.target.bucket, call.target.key, tags, found.version_id)) {
    return error(call, ErrorCode::kNoSuchKey);
  }
  add_version_header(*bucket, *found.object, &response);
  return response;
}

HttpResponse S3Service::put_object_tagging(S3Call& call) {
  HeaderList tags;
  if (auto invalid = parse_tagging(call.http.body, TagTarget::kObject, &tags)) {
    if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
    return refusal(call, *invalid);
  }
  return replace_object_tags(call, tags, {});
}

HttpResponse S3Service::get_object_tagging(S3Call& call) {
  std::optional<BucketInfo> bucket = store_.bucket(call.target.bucket);
  if (!bucket) return no_such_bucket(call);
  ObjectLookup found = find_object(call);
  if (!found.object) return std::move(found.refusal);
  HttpResponse response = xml_response(tagging_xml(found.object->tags));
  add_version_header(*bucket, *found.object, &response);
  return response;
}

HttpResponse S3Service::delete_object_tagging(S3Call& call) {
  return replace_object_tags(call, {}, no_content());
}

HttpResponse S3Service::put_bucket_tagging(S3Call& call) {
  HeaderList tags;
  if (auto invalid = parse_tagging(call.http.body, TagTarget::kBucket, &tags)) {
    return refusal(call, *invalid);
  }
  // An empty tag set is no tag set: GetBucketTagging then says NoSuchTagSet.
  if (tags.empty()) {
    if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
    store_.delete_bucket_config(call.target.bucket, kBucketTagging);
  } else if (!store_.put_bucket_config(call.target.bucket, kBucketTagging, tagging_xml(tags))) {
    return no_such_bucket(call);
  }
  return no_content();
}

HttpResponse S3Service::get_bucket_tagging(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  auto stored = store_.bucket_config(call.target.bucket, kBucketTagging);
  if (!stored)
    return error(call, ErrorCode::kNoSuchTagSet, "", {{"BucketName", call.target.bucket}});
  return xml_response(*stored);
}

HttpResponse S3Service::delete_bucket_tagging(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  store_.delete_bucket_config(call.target.bucket, kBucketTagging);
  return no_content();
}

}  // namespace offcloud

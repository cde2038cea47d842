// Version ids as S3's requests and responses spell them: the store's ""
// (the null version) is "null" on the wire, and x-amz-version-id is given
// only for buckets that have (or had) versioning.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "emulator/s3/s3_service.h"
#include "storage/object_store.h"

namespace offcloud::s3 {

// "null" for the null version, else the id.
std::string version_id_text(const std::string& stored);

// A version id as a request names it, as the store names it ("null" is
// ""); nullopt when it cannot be one.
std::optional<std::string> parse_version_id(std::string_view text);

// ?versionId=: nullopt when absent; InvalidArgument when malformed.
struct VersionParam {
  std::optional<std::string> id;
  std::optional<HttpResponse> refusal;
};
VersionParam read_version_param(const S3Call& call);

// x-amz-version-id of a response about `info` (GET, HEAD, tagging, ...),
// when its bucket has versioning or had it once.
void add_version_header(const BucketInfo& bucket, const ObjectInfo& info, HttpResponse* response);

// x-amz-version-id of a write: only a new version has one (writes to an
// unversioned or suspended bucket make the null version, which AWS does
// not name there).
void add_written_version_header(const ObjectInfo& committed, HttpResponse* response);

}  // namespace offcloud::s3

// S3 versioning: PutBucketVersioning, GetBucketVersioning,
// ListObjectVersions, and how a request names one version of an object
// (?versionId=), which GET, HEAD, tagging, ACLs and GetObjectAttributes
// share. What versioning does to writes and deletes is the store's
// (storage/object_store_versions.cpp).
#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_object_lock.h"
#include "emulator/s3/s3_service.h"
#include "emulator/s3/s3_versioning.h"
#include "emulator/util/xml.h"

namespace offcloud {
namespace s3 {

std::string version_id_text(const std::string& stored) {
  return stored.empty() ? "null" : stored;
}

std::optional<std::string> parse_version_id(std::string_view text) {
  if (text == "null") return std::string();
  if (!ObjectStore::is_version_id(text)) return std::nullopt;
  return std::string(text);
}

VersionParam read_version_param(const S3Call& call) {
  VersionParam result;
  const std::string* text = param(call, "versionId");
  if (!text) return result;
  if (text->empty()) {
    result.refusal =
        error(call, ErrorCode::kInvalidArgument, "Version id cannot be the empty string",
              {{"ArgumentName", "versionId"}, {"ArgumentValue", ""}});
    return result;
  }
  result.id = parse_version_id(*text);
  if (!result.id) {
    result.refusal = error(call, ErrorCode::kInvalidArgument, "Invalid version id specified",
                           {{"ArgumentName", "versionId"}, {"ArgumentValue", *text}});
  }
  return result;
}

void add_version_header(const BucketInfo& bucket, const ObjectInfo& info, HttpResponse* response) {
  if (bucket.versioning == Versioning::kUnversioned && info.version_id.empty()) return;
  response->headers.add("x-amz-version-id", version_id_text(info.version_id));
}

void add_written_version_header(const ObjectInfo& committed, HttpResponse* response) {
  if (!committed.version_id.empty()) {
    response->headers.add("x-amz-version-id", committed.version_id);
  }
}

}  // namespace s3

namespace {

using namespace s3;

constexpr const char* kMfaRequired = "Mfa Authentication must be used for this request";

}  // namespace

HttpResponse S3Service::put_bucket_versioning(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  auto document = parse_xml(call.http.body);
  if (!document || document->name != "VersioningConfiguration") {
    return error(call, ErrorCode::kMalformedXML);
  }
  // Values outside the schema's enumerations fail its validation, as on
  // AWS; a document without Status configures nothing.
  const XmlElement* status = document->child("Status");
  const XmlElement* mfa_delete = document->child("MfaDelete");
  if (status && status->text != "Enabled" && status->text != "Suspended") {
    return error(call, ErrorCode::kMalformedXML);
  }
  if (mfa_delete && mfa_delete->text != "Enabled" && mfa_delete->text != "Disabled") {
    return error(call, ErrorCode::kMalformedXML);
  }
  // MFA delete needs the root user's MFA device (x-amz-mfa), which no
  // offcloud account has.
  if (mfa_delete && mfa_delete->text == "Enabled") {
    return error(call, ErrorCode::kAccessDenied, kMfaRequired);
  }
  if (!status) return error(call, ErrorCode::kIllegalVersioningConfigurationException);
  Versioning state = status->text == "Enabled" ? Versioning::kEnabled : Versioning::kSuspended;
  // Object Lock keeps every version: its bucket's versioning stays enabled.
  if (state == Versioning::kSuspended &&
      store_.bucket_config(call.target.bucket, kObjectLockConfig)) {
    return error(call, ErrorCode::kInvalidBucketState,
                 "An Object Lock configuration is present on this bucket, so the versioning "
                 "state cannot be changed.");
  }
  if (store_.set_bucket_versioning(call.target.bucket, state) != ObjectStore::Status::kOk) {
    return no_such_bucket(call);
  }
  return {};
}

HttpResponse S3Service::get_bucket_versioning(S3Call& call) {
  auto bucket = store_.bucket(call.target.bucket);
  if (!bucket) return no_such_bucket(call);
  // Never configured: an empty document, as AWS answers.
  XmlWriter xml("VersioningConfiguration", kXmlns);
  if (bucket->versioning == Versioning::kEnabled) xml.element("Status", "Enabled");
  if (bucket->versioning == Versioning::kSuspended) xml.element("Status", "Suspended");
  return xml_response(xml.finish());
}

ObjectLookup S3Service::find_object(S3Call& call) {
  ObjectLookup lookup;
  VersionParam version = read_version_param(call);
  if (version.refusal) {
    lookup.refusal = std::move(*version.refusal);
    return lookup;
  }
  lookup.version_id = version.id;
  std::optional<ObjectInfo> info =
      store_.object_version(call.target.bucket, call.target.key, version.id);
  if (!info) {
    lookup.refusal =
        version.id ? error(call, ErrorCode::kNoSuchVersion, "",
                           {{"Key", call.target.key}, {"VersionId", version_id_text(*version.id)}})
                   : error(call, ErrorCode::kNoSuchKey);
    return lookup;
  }
  if (!info->delete_marker) {
    lookup.object = std::move(info);
    return lookup;
  }
  // A delete marker: the key reads as deleted; named by its id, it is a
  // resource no method but DELETE applies to.
  if (version.id) {
    lookup.refusal = error(call, ErrorCode::kMethodNotAllowed, "",
                           {{"Method", call.http.method}, {"ResourceType", "DeleteMarker"}});
    lookup.refusal.headers.add("Allow", "DELETE");
    lookup.refusal.headers.add("Last-Modified", http_date(info->last_modified_ms));
  } else {
    lookup.refusal = error(call, ErrorCode::kNoSuchKey);
  }
  lookup.refusal.headers.add("x-amz-delete-marker", "true");
  lookup.refusal.headers.add("x-amz-version-id", version_id_text(info->version_id));
  return lookup;
}

HttpResponse S3Service::list_object_versions(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  auto max_keys = parse_max_keys(call, "max-keys");
  if (!max_keys) return error(call, ErrorCode::kInvalidArgument, "Invalid max-keys");
  VersionListRequest request;
  if (const std::string* prefix = param(call, "prefix")) request.prefix = *prefix;
  if (const std::string* delimiter = param(call, "delimiter")) request.delimiter = *delimiter;
  if (const std::string* marker = param(call, "key-marker")) request.key_marker = *marker;
  request.max_keys = *max_keys;
  const std::string* version_marker = param(call, "version-id-marker");
  if (version_marker && !version_marker->empty()) {
    if (request.key_marker.empty()) {
      return error(call, ErrorCode::kInvalidArgument,
                   "A version-id marker cannot be specified without a key marker.",
                   {{"ArgumentName", "version-id-marker"}, {"ArgumentValue", *version_marker}});
    }
    request.version_id_marker = parse_version_id(*version_marker);
    if (!request.version_id_marker) {
      return error(call, ErrorCode::kInvalidArgument, "Invalid version id specified",
                   {{"ArgumentName", "version-id-marker"}, {"ArgumentValue", *version_marker}});
    }
  }
  bool url_encoding = false;
  if (auto refused = s3::read_encoding_type(call, &url_encoding)) return *refused;
  auto encode = [&](std::string_view text) {
    return url_encoding ? uri_encode(text, true) : std::string(text);
  };
  VersionListResult result = store_.list_object_versions(call.target.bucket, request);

  XmlWriter xml("ListVersionsResult", kXmlns);
  xml.element("Name", call.target.bucket)
      .element("Prefix", encode(request.prefix))
      .element("KeyMarker", encode(request.key_marker))
      .element("VersionIdMarker", version_marker ? *version_marker : "");
  if (result.truncated) {
    xml.element("NextKeyMarker", encode(result.next_key_marker));
    if (result.next_version_id_marker) {
      xml.element("NextVersionIdMarker", version_id_text(*result.next_version_id_marker));
    }
  }
  xml.element("MaxKeys", std::to_string(request.max_keys));
  if (!request.delimiter.empty()) xml.element("Delimiter", encode(request.delimiter));
  if (url_encoding) xml.element("EncodingType", "url");
  xml.element("IsTruncated", result.truncated ? "true" : "false");
  // Versions and delete markers interleaved in the listing's order.
  for (const ObjectInfo& object : result.versions) {
    xml.open(object.delete_marker ? "DeleteMarker" : "Version");
    write_owner(xml, call.context.principal.account_id);
    xml.element("Key", encode(object.key))
        .element("VersionId", version_id_text(object.version_id))
        .element("IsLatest", object.is_latest ? "true" : "false")
        .element("LastModified", iso8601(object.last_modified_ms));
    if (!object.delete_marker) {
      xml.element("ETag", quoted_etag(object)).element("Size", std::to_string(object.size));
      for (const auto& [algorithm, value] : object.checksums) {
        xml.element("ChecksumAlgorithm", algorithm);
      }
      if (!object.checksums.empty() && !object.checksum_type.empty()) {
        xml.element("ChecksumType", object.checksum_type);
      }
      xml.element("StorageClass", object.storage_class);
    }
    xml.close();
  }
  for (const std::string& prefix : result.common_prefixes) {
    xml.open("CommonPrefixes").element("Prefix", encode(prefix)).close();
  }
  return xml_response(xml.finish());
}

}  // namespace offcloud

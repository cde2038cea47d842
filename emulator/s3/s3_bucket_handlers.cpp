// S3 bucket operations: CreateBucket, HeadBucket, DeleteBucket, ListBuckets,
// GetBucketLocation, Get{Bucket,Object}Acl and ListObjects (v1 and v2).
#include <charconv>

#include "emulator/s3/s3_acl.h"
#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_service.h"
#include "emulator/util/xml.h"

namespace offcloud {
namespace {

using namespace s3;

constexpr std::string_view kDefaultRegion = "us-east-1";

}  // namespace

std::optional<int> s3::parse_max_keys(const S3Call& call, std::string_view name) {
  const std::string* text = param(call, name);
  if (!text) return 1000;
  int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 0) return std::nullopt;
  return std::min(value, 1000);
}

std::optional<HttpResponse> s3::read_encoding_type(const S3Call& call, bool* url) {
  *url = false;
  const std::string* encoding = param(call, "encoding-type");
  if (!encoding) return std::nullopt;
  if (*encoding != "url") {
    return error(call, ErrorCode::kInvalidArgument, "Invalid Encoding Method specified in Request",
                 {{"ArgumentName", "encoding-type"}, {"ArgumentValue", *encoding}});
  }
  *url = true;
  return std::nullopt;
}

HttpResponse S3Service::list_buckets(S3Call& call) {
  const std::string& account = call.context.principal.account_id;
  // Pages only when asked to (max-buckets), as AWS does; the token is the
  // last name given, base64.
  std::optional<int> max_buckets;
  if (const std::string* text = param(call, "max-buckets")) {
    int value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size() || value < 1 || value > 10000) {
      return error(call, ErrorCode::kInvalidArgument,
                   "Argument max-buckets must be an integer between 1 and 10000.",
                   {{"ArgumentName", "max-buckets"}, {"ArgumentValue", *text}});
    }
    max_buckets = value;
  }
  std::string after;
  if (const std::string* token = param(call, "continuation-token")) {
    if (!base64_decode(*token, &after) || after.empty()) {
      return error(call, ErrorCode::kInvalidArgument,
                   "The continuation token provided is incorrect",
                   {{"ArgumentName", "continuation-token"}});
    }
  }
  const std::string* prefix = param(call, "prefix");
  const std::string* region = param(call, "bucket-region");
  XmlWriter xml("ListAllMyBucketsResult", kXmlns);
  write_owner(xml, account);
  xml.open("Buckets");
  int count = 0;
  std::string last, next;
  for (const BucketInfo& bucket : store_.list_buckets()) {
    if (bucket.owner != account || bucket.name <= after) continue;
    if (prefix && !bucket.name.starts_with(*prefix)) continue;
    if (region && bucket.region != *region) continue;
    if (max_buckets && count == *max_buckets) {
      next = base64_encode(last);
      break;
    }
    xml.open("Bucket")
        .element("Name", bucket.name)
        .element("CreationDate", iso8601(bucket.created_ms))
        .element("BucketRegion", bucket.region)
        .close();
    last = bucket.name;
    ++count;
  }
  xml.close();
  if (!next.empty()) xml.element("ContinuationToken", next);
  if (prefix) xml.element("Prefix", *prefix);
  return xml_response(xml.finish());
}

HttpResponse S3Service::create_bucket(S3Call& call) {
  const std::string& name = call.target.bucket;
  if (std::string why = validate_bucket_name(name); !why.empty()) {
    return error(call, ErrorCode::kInvalidBucketName, why, {{"BucketName", name}});
  }
  std::string region(kDefaultRegion);
  if (!call.http.body.empty()) {
    auto document = parse_xml(call.http.body);
    if (!document || document->name != "CreateBucketConfiguration") {
      return error(call, ErrorCode::kMalformedXML);
    }
    if (const XmlElement* constraint = document->child("LocationConstraint")) {
      if (constraint->text.empty() || constraint->text == kDefaultRegion) {
        return error(call, ErrorCode::kInvalidLocationConstraint);
      }
      region = constraint->text;
    }
  }
  // As on AWS: a regional endpoint other than us-east-1 needs the constraint.
  if (region == kDefaultRegion && !call.context.region.empty() &&
      call.context.region != kDefaultRegion) {
    return error(call, ErrorCode::kIllegalLocationConstraintException);
  }
  // us-east-1's endpoint (s3.amazonaws.com) creates buckets in any region;
  // other regional endpoints only in their own.
  bool global_endpoint = call.context.region.empty() || call.context.region == kDefaultRegion;
  if (region != kDefaultRegion && call.context.region != region && !global_endpoint) {
    return error(call, ErrorCode::kIllegalLocationConstraintException,
                 "The " + region +
                     " location constraint is incompatible for the region "
                     "specific endpoint this request was sent to.");
  }
  const std::string& account = call.context.principal.account_id;
  AclRequest acl = acl_from_headers(call.http.headers, canonical_user_id(account), true);
  if (acl.error) return error(call, *acl.error, acl.error_message);
  if (auto refused = check_object_ownership_header(call)) return std::move(*refused);
  if (acl.acl) {
    const std::string* asked = call.http.headers.find("x-amz-object-ownership");
    std::string ownership = asked ? *asked : "BucketOwnerEnforced";
    if (auto refused = refuse_acl(call, name, encode_acl(*acl.acl), &ownership)) {
      return std::move(*refused);
    }
  }
  ObjectStore::Status created = store_.create_bucket(name, region, account);
  if (created == ObjectStore::Status::kAlreadyExists) {
    // Names are global: another account's bucket takes the name for all.
    auto existing = store_.bucket(name);
    if (existing && existing->owner != account) {
      return error(call, ErrorCode::kBucketAlreadyExists, "", {{"BucketName", name}});
    }
    // us-east-1 answers a repeated create by the owner with 200, for history.
    if (!(existing && existing->region == kDefaultRegion && region == kDefaultRegion)) {
      return error(call, ErrorCode::kBucketAlreadyOwnedByYou, "", {{"BucketName", name}});
    }
  }
  if (created == ObjectStore::Status::kOk) {
    store_default_bucket_configs(call);
    if (iequals(call.http.headers.get("x-amz-bucket-object-lock-enabled"), "true")) {
      enable_object_lock(name);
    }
  }
  if (acl.acl) store_.set_bucket_acl(name, encode_acl(*acl.acl));
  HttpResponse response;
  response.headers.add("Location", "/" + name);
  return response;
}

HttpResponse S3Service::head_bucket(S3Call& call) {
  auto bucket = store_.bucket(call.target.bucket);
  if (!bucket) return no_such_bucket(call);
  HttpResponse response;
  response.headers.add("x-amz-bucket-region", bucket->region);
  return response;
}

HttpResponse S3Service::delete_bucket(S3Call& call) {
  switch (store_.delete_bucket(call.target.bucket)) {
    case ObjectStore::Status::kNoSuchBucket:
      return no_such_bucket(call);
    case ObjectStore::Status::kNotEmpty:
      return error(call, ErrorCode::kBucketNotEmpty, "", {{"BucketName", call.target.bucket}});
    default: {
      HttpResponse response;
      response.status = 204;
      return response;
    }
  }
}

HttpResponse S3Service::get_bucket_location(S3Call& call) {
  auto bucket = store_.bucket(call.target.bucket);
  if (!bucket) return no_such_bucket(call);
  // us-east-1 is reported as an empty constraint, as S3 does.
  std::string region = bucket->region == kDefaultRegion ? "" : bucket->region;
  return xml_response("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"" +
                      std::string(kXmlns) + "\">" + xml_escape(region) + "</LocationConstraint>");
}

HttpResponse S3Service::get_acl(S3Call& call) {
  auto bucket = store_.bucket(call.target.bucket);
  if (!bucket) return no_such_bucket(call);
  std::string stored = bucket->acl;
  if (call.target.has_key) {
    ObjectLookup object = find_object(call);  // the version ?versionId= names
    if (!object.object) return std::move(object.refusal);
    stored = object.object->acl;
  }
  // The bucket's owner, or the account that wrote the object into a bucket
  // with ACLs enabled.
  Acl acl = decode_acl(stored, canonical_user_id(bucket->owner));
  std::string account = acl.owner_account.empty() ? bucket->owner : acl.owner_account;
  return xml_response(acl_document(acl, canonical_user_id(account), owner_display_name(account)));
}

HttpResponse S3Service::put_acl(S3Call& call) {
  auto bucket = store_.bucket(call.target.bucket);
  if (!bucket) return no_such_bucket(call);
  // A canned ACL grants the resource's owner, which a new ACL never changes.
  std::string account = bucket->owner;
  std::optional<std::string> version_id;
  if (call.target.has_key) {
    ObjectLookup object = find_object(call);  // the version ?versionId= names
    if (!object.object) return std::move(object.refusal);
    version_id = object.version_id;
    std::string object_owner = decode_acl(object.object->acl, "").owner_account;
    if (!object_owner.empty()) account = object_owner;
  }
  AclRequest acl = acl_from_headers(call.http.headers, canonical_user_id(account),
                                    !call.target.has_key, canonical_user_id(bucket->owner));
  if (acl.error) return error(call, *acl.error, acl.error_message);
  if (!call.http.body.empty()) {
    if (acl.acl) {
      return error(call, ErrorCode::kUnexpectedContent, "This request does not support content");
    }
    acl = acl_from_document(call.http.body);
    if (acl.error) return error(call, *acl.error, acl.error_message);
  }
  if (!acl.acl) {
    return error(call, ErrorCode::kMissingSecurityHeader,
                 "Your request was missing a required header",
                 {{"MissingHeaderName", "x-amz-acl"}});
  }
  if (account != bucket->owner) acl.acl->owner_account = account;
  std::string encoded = encode_acl(*acl.acl);
  if (auto refused = refuse_acl(call, call.target.bucket, encoded)) return std::move(*refused);
  if (!call.target.has_key) {
    store_.set_bucket_acl(call.target.bucket, encoded);
  } else if (store_.set_object_acl(call.target.bucket, call.target.key, encoded, version_id) !=
             ObjectStore::Status::kOk) {
    return error(call, ErrorCode::kNoSuchKey);
  }
  return HttpResponse{};
}

HttpResponse S3Service::list_objects(S3Call& call, bool v2) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  auto max_keys = parse_max_keys(call, "max-keys");
  if (!max_keys) {
    return error(call, ErrorCode::kInvalidArgument,
                 "Provided max-keys not an integer or within "
                 "integer range");
  }
  bool url_encoding = false;
  if (auto refused = read_encoding_type(call, &url_encoding)) return *refused;
  auto encode = [&](std::string_view text) {
    return url_encoding ? uri_encode(text, /*keep_slash=*/true) : std::string(text);
  };

  ListRequest request;
  if (const std::string* prefix = param(call, "prefix")) request.prefix = *prefix;
  if (const std::string* delimiter = param(call, "delimiter")) request.delimiter = *delimiter;
  request.max_keys = *max_keys;
  std::string token;
  if (v2) {
    if (const std::string* start_after = param(call, "start-after")) request.after = *start_after;
    if (const std::string* continuation = param(call, "continuation-token")) {
      if (!base64_decode(*continuation, &token)) {
        return error(call, ErrorCode::kInvalidArgument,
                     "The continuation token provided is "
                     "incorrect");
      }
      request.after = std::max(request.after, token);
    }
  } else if (const std::string* marker = param(call, "marker")) {
    request.after = *marker;
  }
  ListResult result = store_.list_objects(call.target.bucket, request);

  bool fetch_owner = !v2 || (param(call, "fetch-owner") && *param(call, "fetch-owner") == "true");
  XmlWriter xml("ListBucketResult", kXmlns);
  // encoding-type=url encodes what botocore decodes: in v1 the top-level
  // Prefix is not among them (it stays as sent), in v2 it is.
  xml.element("Name", call.target.bucket)
      .element("Prefix", v2 ? encode(request.prefix) : request.prefix);
  if (v2) {
    if (const std::string* continuation = param(call, "continuation-token")) {
      xml.element("ContinuationToken", *continuation);
    }
    if (const std::string* start_after = param(call, "start-after")) {
      xml.element("StartAfter", encode(*start_after));
    }
    xml.element("KeyCount", std::to_string(result.objects.size() + result.common_prefixes.size()));
  } else {
    xml.element("Marker", encode(request.after));
    // S3 gives NextMarker only with a delimiter; clients use the last key.
    if (result.truncated && !request.delimiter.empty()) {
      xml.element("NextMarker", encode(result.last));
    }
  }
  xml.element("MaxKeys", std::to_string(request.max_keys));
  if (!request.delimiter.empty()) xml.element("Delimiter", encode(request.delimiter));
  if (url_encoding) xml.element("EncodingType", "url");
  xml.element("IsTruncated", result.truncated ? "true" : "false");
  if (v2 && result.truncated) xml.element("NextContinuationToken", base64_encode(result.last));
  for (const ObjectInfo& object : result.objects) {
    xml.open("Contents")
        .element("Key", encode(object.key))
        .element("LastModified", iso8601(object.last_modified_ms))
        .element("ETag", quoted_etag(object))
        .element("Size", std::to_string(object.size));
    for (const auto& [algorithm, value] : object.checksums)
      xml.element("ChecksumAlgorithm", algorithm);
    if (!object.checksums.empty() && !object.checksum_type.empty()) {
      xml.element("ChecksumType", object.checksum_type);
    }
    xml.element("StorageClass", object.storage_class);
    if (fetch_owner) write_owner(xml, object_owner(call, object));
    xml.close();
  }
  for (const std::string& prefix : result.common_prefixes) {
    xml.open("CommonPrefixes").element("Prefix", encode(prefix)).close();
  }
  return xml_response(xml.finish());
}

}  // namespace offcloud

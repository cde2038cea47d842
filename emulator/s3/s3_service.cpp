#include "emulator/s3/s3_service.h"

#include <ctime>

#include "emulator/auth/signature_v2.h"
#include "emulator/s3/s3_acl.h"
#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_post_object.h"
#include "emulator/s3/s3_upload.h"
#include "emulator/util/log.h"
#include "emulator/util/xml.h"
#include "rules/topic_filter.h"  // is_valid_utf8
#include "storage/digest.h"

namespace offcloud {
namespace s3 {

HttpResponse error(const S3Call& call, ErrorCode code, std::string message,
                   std::vector<std::pair<std::string, std::string>> details) {
  if (!call.target.bucket.empty() && code == ErrorCode::kNoSuchBucket) {
    details.emplace_back("BucketName", call.target.bucket);
  }
  if (code == ErrorCode::kNoSuchKey) details.emplace_back("Key", call.target.key);
  details.emplace_back("Resource", call.http.path);
  return error_response(Protocol::kRestXml, {code, std::move(message), std::move(details)},
                        call.context.request_id);
}

std::string canonical_user_id(std::string_view account_id) {
  if (account_id == kAccountId) {
    return "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
  }
  return sha256_hex("offcloud canonical user " + std::string(account_id));
}

std::string owner_display_name(std::string_view account_id) {
  return account_id == kAccountId ? "offcloud" : std::string(account_id);
}

void write_owner(XmlWriter& xml, std::string_view account_id, std::string_view element) {
  xml.open(element)
      .element("ID", canonical_user_id(account_id))
      .element("DisplayName", owner_display_name(account_id))
      .close();
}

std::string object_owner(const S3Call& call, const ObjectInfo& object) {
  if (object.acl.starts_with('{')) {  // only an owner other than the bucket's is written
    std::string owner = decode_acl(object.acl, "").owner_account;
    if (!owner.empty()) return owner;
  }
  return call.bucket_state ? call.bucket_state->info.owner : call.context.principal.account_id;
}

HttpResponse no_such_bucket(const S3Call& call) {
  return error(call, ErrorCode::kNoSuchBucket);
}

HttpResponse access_denied(const S3Call& call) {
  return error(call, ErrorCode::kAccessDenied);
}

HttpResponse xml_response(std::string body, int status) {
  HttpResponse response;
  response.status = status;
  response.headers.add("Content-Type", "application/xml");
  response.body = std::move(body);
  return response;
}

std::string iso8601(std::int64_t epoch_ms) {
  return iso8601_ms(epoch_ms);
}

std::string http_date(std::int64_t epoch_ms) {
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buffer;
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  std::string copy(text);
  for (const char* format : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                             "%a %b %d %H:%M:%S %Y", "%Y-%m-%dT%H:%M:%S"}) {
    std::tm tm{};
    const char* end = strptime(copy.c_str(), format, &tm);
    if (end) return static_cast<std::int64_t>(timegm(&tm)) * 1000;
  }
  return std::nullopt;
}

std::string quoted_etag(const ObjectInfo& info) {
  return "\"" + info.etag + "\"";
}

const std::string* param(const S3Call& call, std::string_view name) {
  return find_param(call.context.query, name);
}

bool has_param(const S3Call& call, std::string_view name) {
  return param(call, name) != nullptr;
}

std::string validate_bucket_name(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) {
    return "Bucket names must be between 3 (min) and 63 (max) characters long.";
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
      return "Bucket names can consist only of lowercase letters, numbers, dots (.), and "
             "hyphens (-).";
    }
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) {
    return "Bucket names must begin and end with a letter or number.";
  }
  if (name.find("..") != std::string_view::npos || name.find(".-") != std::string_view::npos ||
      name.find("-.") != std::string_view::npos) {
    return "Bucket names must not contain two adjacent periods, or a period next to a hyphen.";
  }
  int dots = 0;
  bool digits_and_dots = true;
  for (char c : name) {
    dots += c == '.';
    digits_and_dots = digits_and_dots && ((c >= '0' && c <= '9') || c == '.');
  }
  if (digits_and_dots && dots == 3) return "Bucket names must not be formatted as an IP address.";
  for (std::string_view prefix : {"xn--", "sthree-", "amzn-s3-demo-"}) {
    if (name.starts_with(prefix)) return "Bucket names must not start with " + std::string(prefix);
  }
  for (std::string_view suffix : {"-s3alias", "--ol-s3", ".mrap", "--x-s3"}) {
    if (name.ends_with(suffix)) return "Bucket names must not end with " + std::string(suffix);
  }
  return {};
}

}  // namespace s3

namespace {

// Subresources offcloud answers with NotImplemented, whatever the method:
// none may fall through to CreateBucket, DeleteBucket or ListObjects (or,
// on a key, to PutObject), which would change or list what was not asked.
// clang-format off
constexpr std::string_view kUnimplementedBucketSubresources[] = {
    "website", "notification", "logging", "replication", "accelerate", "requestPayment",
    "analytics", "metrics", "inventory", "intelligent-tiering", "abac", "session",
    "metadataConfiguration", "metadataTable", "metadataInventoryTable", "metadataJournalTable"};
constexpr std::string_view kUnimplementedObjectSubresources[] = {
    "restore", "select", "torrent", "encryption", "renameObject"};
// clang-format on

// Whether dispatch_object() will run PutObject or UploadPart, whose bodies
// stream into a blob: decided from the same parameters in the same order,
// so that the handler always finds the reader it expects.
bool is_streamed_upload(const HttpRequest& head, const QueryParams& query, const S3Target& target) {
  if (head.method != "PUT" || !target.has_key || target.key.empty()) return false;
  if (head.headers.find("x-amz-copy-source")) return false;
  auto has = [&](std::string_view name) { return find_param(query, name) != nullptr; };
  if (has("uploads")) return false;
  if (has("uploadId")) return true;
  for (std::string_view sub : kUnimplementedObjectSubresources) {
    if (has(sub)) return false;
  }
  return !has("acl");
}

std::optional<S3Target> parse_target(const HttpRequest& request) {
  S3Target target;
  std::string_view path = request.path;
  std::string virtual_bucket = s3_virtual_host_bucket(request.headers.get("host"));
  std::string_view rest = path.starts_with('/') ? path.substr(1) : path;
  if (!virtual_bucket.empty()) {
    target.bucket = std::string(virtual_bucket);
    target.has_key = true;
    auto key = percent_decode(rest);
    if (!key) return std::nullopt;
    target.key = std::move(*key);
    target.has_key = !target.key.empty();
    return target;
  }
  std::size_t slash = rest.find('/');
  auto bucket = percent_decode(rest.substr(0, slash));
  if (!bucket) return std::nullopt;
  target.bucket = std::move(*bucket);
  if (slash != std::string_view::npos) {
    auto key = percent_decode(rest.substr(slash + 1));
    if (!key) return std::nullopt;
    target.key = std::move(*key);
    target.has_key = !target.key.empty();
  }
  return target;
}

}  // namespace

bool S3Service::streams_body(const HttpRequest& head, const QueryParams& query) const {
  auto target = parse_target(head);
  return target && !find_subresource_route(head, query, target->has_key) &&
         (is_streamed_upload(head, query, *target) || is_post_object(head, query, *target));
}

BodyPlan S3Service::open_body(HttpRequest& head, RequestContext& context) {
  context.operation = "PutObject";
  auto target = parse_target(head);
  S3Call call{head, context, *target};
  if (is_post_object(head, context.query, call.target)) return open_post_body(call);
  if (s3::has_param(call, "uploadId")) return open_part_body(call);
  auto refuse = [](HttpResponse response) {
    return BodyPlan{nullptr, std::make_shared<HttpResponse>(std::move(response))};
  };
  // Who may write here was decided before (authorize_access).
  if (!bucket_states_.get(call.target.bucket)) return refuse(s3::no_such_bucket(call));
  if (call.target.key.size() > s3::kMaxKeyBytes) {
    return refuse(s3::error(call, ErrorCode::kKeyTooLongError));
  }
  if (!is_valid_utf8(call.target.key)) {
    return refuse(s3::error(call, ErrorCode::kInvalidArgument, "Object keys must be UTF-8."));
  }
  auto upload = UploadReader::open(call, store_);
  if (!upload.reader) return refuse(std::move(upload.refusal));
  return {std::move(upload.reader), nullptr};
}

void S3Service::handle(HttpRequest& request, RequestContext& context, Reply reply) {
  auto target = parse_target(request);
  S3Target empty;
  S3Call call{request, context, target.value_or(empty)};
  // Names that are not UTF-8 name nothing, and could not be echoed back
  // in a well-formed XML error either.
  if (!target || !is_valid_utf8(target->bucket) || !is_valid_utf8(target->key)) {
    return reply(s3::error(call, ErrorCode::kInvalidURI, "Couldn't parse the specified URI."));
  }
  // A preflight is answered from the bucket's CORS rules alone, signed or
  // not (the router lets it through unsigned).
  if (request.method == "OPTIONS") {
    context.operation = "PreflightRequest";
    return reply(preflight(call));
  }
  if (!call.target.bucket.empty()) call.bucket_state = bucket_states_.get(call.target.bucket);
  call.reply = &reply;
  HttpResponse response = dispatch(call);
  if (call.answered_later) return;
  // A bucket request that writes may have changed the bucket's state (the
  // bucket itself, its versioning, ACL or a configuration). POST on a bucket
  // (DeleteObjects, a form upload) changes objects only.
  if (!call.target.bucket.empty() && !call.target.has_key && request.method != "GET" &&
      request.method != "HEAD" && request.method != "POST") {
    bucket_states_.forget(call.target.bucket);
  }
  reply(std::move(response));
}

void S3Service::decorate(const HttpRequest& request, HttpResponse* response) {
  if (request.method == "OPTIONS") return;  // a preflight answers with its own
  // Only a browser's request (it sends Origin) gets CORS headers: the others
  // skip parsing the target again.
  if (!request.headers.find("origin")) return;
  if (auto target = parse_target(request)) add_cors_headers(request, target->bucket, response);
}

HttpResponse S3Service::dispatch(S3Call& call) {
  const std::string& method = call.http.method;
  const S3Target& target = call.target;
  RequestContext& context = call.context;
  auto not_implemented = [&](std::string what) {
    return s3::error(call, ErrorCode::kNotImplemented,
                     "offcloud does not implement " + what + " yet.");
  };

  if (target.bucket.empty()) {
    if (method == "GET") {
      context.operation = "ListBuckets";
      return list_buckets(call);
    }
    return s3::error(call, ErrorCode::kMethodNotAllowed);
  }

  // Who may do what on another account's bucket was decided before the
  // request got here (authorize_access).
  if (const SubresourceRoute* route =
          find_subresource_route(call.http, context.query, target.has_key)) {
    context.operation = std::string(route->operation);
    return (this->*route->handler)(call);
  }

  if (!target.has_key) {
    for (std::string_view sub : kUnimplementedBucketSubresources) {
      if (s3::has_param(call, sub)) {
        return not_implemented("the bucket subresource ?" + std::string(sub));
      }
    }
    if (method == "PUT") {
      if (s3::has_param(call, "acl")) {
        context.operation = "PutBucketAcl";
        return put_acl(call);
      }
      context.operation = "CreateBucket";
      return create_bucket(call);
    }
    if (method == "HEAD") {
      context.operation = "HeadBucket";
      return head_bucket(call);
    }
    if (method == "DELETE") {
      context.operation = "DeleteBucket";
      return delete_bucket(call);
    }
    if (is_post_object(call.http, context.query, target)) {
      context.operation = "PostObject";
      return post_object(call);
    }
    if (method == "POST" && s3::has_param(call, "delete")) {
      context.operation = "DeleteObjects";
      return delete_objects(call);
    }
    if (method == "GET") {
      if (s3::has_param(call, "location")) {
        context.operation = "GetBucketLocation";
        return get_bucket_location(call);
      }
      if (s3::has_param(call, "acl")) {
        context.operation = "GetBucketAcl";
        return get_acl(call);
      }
      if (s3::has_param(call, "versions")) {
        context.operation = "ListObjectVersions";
        return list_object_versions(call);
      }
      if (s3::has_param(call, "uploads")) {
        context.operation = "ListMultipartUploads";
        return list_multipart_uploads(call);
      }
      const std::string* list_type = s3::param(call, "list-type");
      bool v2 = list_type && *list_type == "2";
      context.operation = v2 ? "ListObjectsV2" : "ListObjects";
      return list_objects(call, v2);
    }
    return s3::error(call, ErrorCode::kMethodNotAllowed);
  }

  return dispatch_object(call);
}

HttpResponse S3Service::dispatch_object(S3Call& call) {
  const std::string& method = call.http.method;
  RequestContext& context = call.context;
  auto not_implemented = [&](std::string what) {
    return s3::error(call, ErrorCode::kNotImplemented,
                     "offcloud does not implement " + what + " yet.");
  };
  bool copy = call.http.headers.find("x-amz-copy-source") != nullptr;
  if (s3::has_param(call, "uploads")) {
    if (method != "POST") return s3::error(call, ErrorCode::kMethodNotAllowed);
    context.operation = "CreateMultipartUpload";
    return create_multipart_upload(call);
  }
  if (s3::has_param(call, "uploadId")) {
    if (method == "PUT") {
      context.operation = copy ? "UploadPartCopy" : "UploadPart";
      return copy ? upload_part_copy(call) : upload_part(call);
    }
    if (method == "POST") {
      context.operation = "CompleteMultipartUpload";
      return complete_multipart_upload(call);
    }
    if (method == "DELETE") {
      context.operation = "AbortMultipartUpload";
      return abort_multipart_upload(call);
    }
    if (method == "GET") {
      context.operation = "ListParts";
      return list_parts(call);
    }
    return s3::error(call, ErrorCode::kMethodNotAllowed);
  }
  for (std::string_view sub : kUnimplementedObjectSubresources) {
    if (s3::has_param(call, sub)) {
      return not_implemented("the object subresource ?" + std::string(sub));
    }
  }
  if (method == "GET" && s3::has_param(call, "acl")) {
    context.operation = "GetObjectAcl";
    return get_acl(call);
  }
  if (s3::has_param(call, "acl")) {
    if (method != "PUT") return s3::error(call, ErrorCode::kMethodNotAllowed);
    context.operation = "PutObjectAcl";
    return put_acl(call);
  }
  if (method == "GET" && s3::has_param(call, "attributes")) {
    context.operation = "GetObjectAttributes";
    return get_object_attributes(call);
  }
  if (method == "PUT") {
    context.operation = copy ? "CopyObject" : "PutObject";
    return copy ? copy_object(call) : put_object(call);
  }
  if (method == "GET" || method == "HEAD") {
    context.operation = method == "GET" ? "GetObject" : "HeadObject";
    return get_object(call, method == "HEAD");
  }
  if (method == "DELETE") {
    context.operation = "DeleteObject";
    return delete_object(call);
  }
  return s3::error(call, ErrorCode::kMethodNotAllowed);
}

// The actions S3 checks for each operation, as its authorization reference
// lists them; kept beside dispatch() so the two name the same operations.
std::vector<IamRequest> S3Service::iam_requests(const HttpRequest& request,
                                                const QueryParams& query,
                                                const RequestContext& /*context*/) const {
  auto target = parse_target(request);
  if (!target) return {};
  const std::string& method = request.method;
  auto has = [&](std::string_view name) { return find_param(query, name) != nullptr; };
  if (target->bucket.empty()) {
    return {{"s3:ListAllMyBuckets", "arn:aws:s3:::*"}};
  }
  std::string bucket_arn = "arn:aws:s3:::" + target->bucket;
  if (const SubresourceRoute* route = find_subresource_route(request, query, target->has_key)) {
    std::string resource = bucket_arn + (target->has_key ? "/" + target->key : "");
    return {{"s3:" + std::string(route->action), std::move(resource)}};
  }
  auto on_bucket = [&](std::string action) {
    return std::vector<IamRequest>{{"s3:" + action, bucket_arn}};
  };
  if (!target->has_key) {
    if (method == "PUT") {
      for (auto [sub, action] : {std::pair{"versioning", "PutBucketVersioning"},
                                 {"acl", "PutBucketAcl"},
                                 {"policy", "PutBucketPolicy"},
                                 {"cors", "PutBucketCORS"},
                                 {"lifecycle", "PutLifecycleConfiguration"},
                                 {"tagging", "PutBucketTagging"}}) {
        if (has(sub)) return on_bucket(action);
      }
      // A bucket made with Object Lock configures it and versioning too.
      if (iequals(request.headers.get("x-amz-bucket-object-lock-enabled"), "true")) {
        return {{"s3:CreateBucket", bucket_arn},
                {"s3:PutBucketObjectLockConfiguration", bucket_arn},
                {"s3:PutBucketVersioning", bucket_arn}};
      }
      return on_bucket("CreateBucket");
    }
    if (method == "HEAD") return on_bucket("ListBucket");
    if (method == "DELETE") return on_bucket("DeleteBucket");
    if (method == "POST" && has("delete")) {
      // Every key the batch names; a body S3 cannot read is refused by S3.
      std::vector<IamRequest> asks;
      if (auto document = parse_xml(request.body)) {
        for (const XmlElement* object : document->children_named("Object")) {
          if (const XmlElement* key = object->child("Key")) {
            const char* action =
                object->child("VersionId") ? "s3:DeleteObjectVersion" : "s3:DeleteObject";
            asks.push_back({action, bucket_arn + "/" + key->text});
          }
        }
      }
      return asks;
    }
    if (method != "GET") return {};
    for (auto [sub, action] : {std::pair{"location", "GetBucketLocation"},
                               {"versioning", "GetBucketVersioning"},
                               {"acl", "GetBucketAcl"},
                               {"versions", "ListBucketVersions"},
                               {"uploads", "ListBucketMultipartUploads"}}) {
      if (has(sub)) return on_bucket(action);
    }
    IamRequest list{"s3:ListBucket", bucket_arn};
    for (std::string_view name : {"prefix", "delimiter", "max-keys"}) {
      if (const std::string* value = find_param(query, name)) {
        list.conditions.emplace_back("s3:" + std::string(name), *value);
      }
    }
    return {std::move(list)};
  }

  std::string object_arn = bucket_arn + "/" + target->key;
  // Copies also read their source.
  std::vector<IamRequest> asks;
  auto with_copy_source = [&](std::string action) {
    asks.push_back({"s3:" + action, object_arn});
    if (const std::string* source = request.headers.find("x-amz-copy-source")) {
      std::string_view path = *source;
      if (path.starts_with('/')) path.remove_prefix(1);
      bool versioned = path.find("?versionId=") != std::string_view::npos;
      path = path.substr(0, path.find('?'));
      if (auto decoded = percent_decode(path)) {
        asks.push_back(
            {versioned ? "s3:GetObjectVersion" : "s3:GetObject", "arn:aws:s3:::" + *decoded});
      }
    }
    return asks;
  };
  // A lock given with a write needs the lock's permissions too.
  auto add_lock_asks = [&] {
    if (request.headers.find("x-amz-object-lock-mode") ||
        request.headers.find("x-amz-object-lock-retain-until-date")) {
      asks.push_back({"s3:PutObjectRetention", object_arn});
    }
    if (request.headers.find("x-amz-object-lock-legal-hold")) {
      asks.push_back({"s3:PutObjectLegalHold", object_arn});
    }
  };
  if (has("uploads")) {
    add_lock_asks();
    asks.push_back({"s3:PutObject", object_arn});
    return asks;
  }
  if (has("uploadId")) {
    if (method == "PUT" || method == "POST") return with_copy_source("PutObject");
    if (method == "DELETE") return {{"s3:AbortMultipartUpload", object_arn}};
    if (method == "GET") return {{"s3:ListMultipartUploadParts", object_arn}};
    return {};
  }
  // A request that names a version needs the action's Version form.
  std::string version = has("versionId") ? "Version" : "";
  if (has("acl")) {
    return {{(method == "GET" ? "s3:GetObject" : "s3:PutObject") + version + "Acl", object_arn}};
  }
  if (method == "GET" && has("attributes")) {
    return {{"s3:GetObject" + version + "Attributes", object_arn}};
  }
  if (method == "PUT") {
    // Tags given with the object need the tagging permission too.
    if (request.headers.find("x-amz-tagging")) asks.push_back({"s3:PutObjectTagging", object_arn});
    add_lock_asks();
    return with_copy_source("PutObject");
  }
  if (method == "GET" || method == "HEAD") return {{"s3:GetObject" + version, object_arn}};
  if (method == "DELETE") return {{"s3:DeleteObject" + version, object_arn}};
  return {};
}

}  // namespace offcloud

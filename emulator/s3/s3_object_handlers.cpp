// S3 object operations: PutObject, GetObject, HeadObject, DeleteObject,
// DeleteObjects and CopyObject.
#include <charconv>

#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_customer_key.h"
#include "emulator/s3/s3_encryption.h"
#include "emulator/s3/s3_lifecycle.h"
#include "emulator/s3/s3_object_lock.h"
#include "emulator/s3/s3_service.h"
#include "emulator/s3/s3_upload.h"
#include "emulator/s3/s3_versioning.h"
#include "emulator/s3/s3_write_options.h"
#include "emulator/util/log.h"
#include "emulator/util/xml.h"

namespace offcloud {
namespace {

using namespace s3;

constexpr std::string_view kStoredHeaders[] = {"Content-Encoding", "Content-Disposition",
                                               "Cache-Control", "Content-Language", "Expires"};
constexpr std::size_t kMaxDeleteKeys = 1000;

void add_checksum_headers(const HeaderList& checksums, const std::string& type,
                          HttpResponse* response) {
  for (const auto& [algorithm, value] : checksums) {
    std::string name = "x-amz-checksum-" + algorithm;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    response->headers.add(name, value);
  }
  if (!checksums.empty() && !type.empty()) response->headers.add("x-amz-checksum-type", type);
}

void add_object_headers(const ObjectInfo& info, bool with_checksums, HttpResponse* response) {
  response->headers.add("ETag", quoted_etag(info));
  response->headers.add("Last-Modified", http_date(info.last_modified_ms));
  response->headers.add("Content-Type", info.content_type);
  response->headers.add("Accept-Ranges", "bytes");
  for (const auto& [name, value] : info.headers) response->headers.add(name, value);
  for (const auto& [name, value] : info.metadata)
    response->headers.add("x-amz-meta-" + name, value);
  if (info.storage_class != "STANDARD" && !info.storage_class.empty()) {
    response->headers.add("x-amz-storage-class", info.storage_class);
  }
  if (with_checksums) add_checksum_headers(info.checksums, info.checksum_type, response);
  if (!info.tags.empty()) {
    response->headers.add("x-amz-tagging-count", std::to_string(info.tags.size()));
  }
  add_encryption_headers(info, response);
}

// The part ?partNumber= names: its bytes, or why not.
struct PartRange {
  std::uint64_t first = 0;
  std::uint64_t length = 0;
  const ObjectPart* part = nullptr;  // null: the object is its only part
};

std::optional<int> parse_part_number(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 10000) {
    return std::nullopt;
  }
  return value;
}

std::optional<PartRange> part_range(const ObjectInfo& info, int number) {
  if (info.parts.empty()) {
    // Not made by a multipart upload (or before offcloud kept its parts).
    if (number != 1) return std::nullopt;
    return PartRange{0, info.size, nullptr};
  }
  if (static_cast<std::size_t>(number) > info.parts.size()) return std::nullopt;
  PartRange range;
  for (int i = 0; i + 1 < number; ++i) range.first += info.parts[static_cast<std::size_t>(i)].size;
  range.part = &info.parts[static_cast<std::size_t>(number - 1)];
  range.length = range.part->size;
  return range;
}

class BlobSource : public BodySource {
 public:
  explicit BlobSource(std::unique_ptr<BlobReader> reader) : reader_(std::move(reader)) {}
  std::uint64_t size() const override { return reader_->length(); }
  std::size_t read(char* buffer, std::size_t capacity) override {
    return reader_->read(buffer, capacity);
  }

 private:
  std::unique_ptr<BlobReader> reader_;
};

struct ByteRange {
  std::uint64_t first;
  std::uint64_t length;
};

// "bytes=a-b", "bytes=a-", "bytes=-n". nullopt for a header S3 would ignore;
// a range that starts past the end is reported through `unsatisfiable`.
std::optional<ByteRange> parse_range(std::string_view text, std::uint64_t size,
                                     bool* unsatisfiable) {
  *unsatisfiable = false;
  if (!text.starts_with("bytes=") || text.find(',') != std::string_view::npos) return std::nullopt;
  text.remove_prefix(6);
  std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view digits) -> std::optional<std::uint64_t> {
    if (digits.empty() || digits.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
  };
  std::string_view a = text.substr(0, dash), b = text.substr(dash + 1);
  if (a.empty()) {
    auto suffix = number(b);
    if (!suffix) return std::nullopt;
    if (*suffix == 0) {
      *unsatisfiable = true;
      return std::nullopt;
    }
    std::uint64_t length = std::min(*suffix, size);
    return ByteRange{size - length, length};
  }
  auto first = number(a);
  if (!first) return std::nullopt;
  std::optional<std::uint64_t> last = b.empty() ? first : number(b);
  if (!last || *last < *first) return std::nullopt;
  if (*first >= size) {
    *unsatisfiable = true;
    return std::nullopt;
  }
  if (b.empty()) last = size - 1;
  return ByteRange{*first, std::min(*last, size - 1) - *first + 1};
}

// If-Match and friends, in the order RFC 7232 evaluates them; `prefix` is
// "" for GET/HEAD and "x-amz-copy-source-" for a copy's source.
struct Precondition {
  int status = 0;  // 412, 304, or 0 when the request may proceed
  std::string header;
};

Precondition check_preconditions(const HttpRequest& request, const ObjectInfo& info,
                                 std::string_view prefix = "") {
  std::string etag = quoted_etag(info);
  auto matches = [&](std::string_view list) {
    std::size_t start = 0;
    while (start <= list.size()) {
      std::size_t comma = list.find(',', start);
      std::string_view item = list.substr(start, comma - start);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (item.starts_with("W/")) item.remove_prefix(2);
      if (item == "*" || item == etag || item == info.etag) return true;
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    return false;
  };
  auto header = [&](const char* name) { return request.headers.find(std::string(prefix) + name); };
  auto named = [&](const char* name) {
    std::string full = std::string(prefix) + name;
    // S3 names the condition as the header is usually spelled.
    std::string out;
    bool upper = true;
    for (char c : full) {
      out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
      upper = c == '-';
    }
    return out;
  };
  std::int64_t modified_s = info.last_modified_ms / 1000;
  const std::string* if_match = header("if-match");
  if (if_match && !matches(*if_match)) return {412, named("if-match")};
  if (!if_match) {
    if (const std::string* since = header("if-unmodified-since")) {
      auto t = parse_http_date(*since);
      if (t && modified_s > *t / 1000) return {412, named("if-unmodified-since")};
    }
  }
  const std::string* if_none_match = header("if-none-match");
  int not_modified = prefix.empty() ? 304 : 412;  // a copy has no "not modified"
  if (if_none_match && matches(*if_none_match)) return {not_modified, named("if-none-match")};
  if (!if_none_match) {
    if (const std::string* since = header("if-modified-since")) {
      auto t = parse_http_date(*since);
      if (t && modified_s <= *t / 1000) return {not_modified, named("if-modified-since")};
    }
  }
  return {};
}

}  // namespace

namespace s3 {

void read_object_attributes(const HttpRequest& request, ObjectInfo* info) {
  info->content_type = std::string(request.headers.get("content-type"));
  if (info->content_type.empty()) info->content_type = "binary/octet-stream";
  info->headers.clear();
  info->metadata.clear();
  for (std::string_view name : kStoredHeaders) {
    const std::string* value = request.headers.find(name);
    if (!value) continue;
    std::string stored = *value;
    if (name == "Content-Encoding") {
      // aws-chunked describes the upload, not the object.
      std::string kept;
      std::size_t start = 0;
      while (start <= stored.size()) {
        std::size_t comma = stored.find(',', start);
        std::string token = stored.substr(start, comma - start);
        token.erase(0, token.find_first_not_of(' '));
        token.erase(token.find_last_not_of(' ') + 1);
        if (!token.empty() && token != "aws-chunked") kept += (kept.empty() ? "" : ",") + token;
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      if (kept.empty()) continue;
      stored = kept;
    }
    info->headers.emplace_back(std::string(name), std::move(stored));
  }
  for (const auto& [name, value] : request.headers) {
    if (name.size() > 11 && iequals(std::string_view(name).substr(0, 11), "x-amz-meta-")) {
      std::string key = name.substr(11);
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      info->metadata.emplace_back(std::move(key), value);
    }
  }
}

}  // namespace s3

HttpResponse S3Service::put_object(S3Call& call) {
  auto* upload = dynamic_cast<UploadReader*>(call.http.body_reader.get());
  if (!upload) return error(call, ErrorCode::kInternalError);
  ObjectInfo info;
  info.key = call.target.key;
  read_object_attributes(call.http, &info);
  if (auto refused = read_write_options(call, &info)) return std::move(*refused);
  if (auto refused = refuse_acl(call, call.target.bucket, info.acl)) return std::move(*refused);
  if (auto refused = read_tagging_header(call, &info)) return std::move(*refused);
  if (auto refused = apply_encryption(call, &info, &upload->customer_key())) {
    return std::move(*refused);
  }
  if (auto refused = apply_object_lock(call, &info)) return std::move(*refused);
  if (!info.lock.empty() && !upload->integrity_declared()) {
    return error(call, ErrorCode::kInvalidRequest,
                 "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests "
                 "with Object Lock parameters");
  }
  WriteCondition condition;
  if (auto refused = read_write_condition(call, &condition)) return std::move(*refused);
  condition.seen = upload->seen();
  BlobWriter& blob = upload->blob();
  if (!info.customer_key.empty()) info.customer_key.ivs = {blob.iv()};
  info.checksums = blob.checksums();
  if (!info.checksums.empty()) info.checksum_type = "FULL_OBJECT";
  if (call.reply) {
    // Committed with the other writes waiting then; answered from the
    // store's commit thread. The reply keeps the request (and so `blob`,
    // which its body reader owns) alive until then.
    call.answered_later = true;
    store_.put_object_later(
        call.target.bucket, info, blob, std::move(condition),
        [this, reply = *call.reply, http = &call.http, context = &call.context,
         target = call.target, state = call.bucket_state, info,
         &blob](ObjectStore::Status status, ObjectInfo committed, std::exception_ptr failure) {
          S3Call later{*http, *context, target, state};
          if (failure) {
            try {
              std::rethrow_exception(failure);
            } catch (const std::exception& e) {
              log(LogLevel::kError, "request " + context->request_id + " failed: " + e.what());
            }
            return reply(error(later, ErrorCode::kInternalError));
          }
          reply(put_object_answer(later, info, blob, status, committed));
        });
    return {};
  }
  ObjectInfo committed;
  ObjectStore::Status status =
      store_.put_object(call.target.bucket, info, blob, condition, &committed);
  return put_object_answer(call, info, blob, status, committed);
}

HttpResponse S3Service::put_object_answer(const S3Call& call, const ObjectInfo& info,
                                          BlobWriter& blob, ObjectStore::Status status,
                                          const ObjectInfo& committed) {
  switch (status) {
    case ObjectStore::Status::kOk:
      break;
    case ObjectStore::Status::kNoSuchBucket:
      return no_such_bucket(call);
    default:
      return condition_failed(call, status);
  }
  HttpResponse response;
  response.headers.add("ETag", "\"" + blob.md5_hex() + "\"");
  for (const auto& [algorithm, value] : info.checksums) {
    std::string name = "x-amz-checksum-" + algorithm;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    response.headers.add(name, value);
  }
  if (!info.checksum_type.empty()) response.headers.add("x-amz-checksum-type", info.checksum_type);
  add_encryption_headers(info, &response);
  add_written_version_header(committed, &response);
  if (call.bucket_state) {
    add_expiration_header(call.bucket_state->lifecycle, committed, lifecycle_clock_, &response);
  }
  return response;
}

HttpResponse S3Service::get_object(S3Call& call, bool head, int attempt) {
  if (!call.bucket_state) return no_such_bucket(call);
  const BucketInfo& bucket = call.bucket_state->info;
  std::optional<int> part_number;
  if (const std::string* text = param(call, "partNumber")) {
    part_number = parse_part_number(*text);
    if (!part_number) {
      return error(call, ErrorCode::kInvalidArgument,
                   "Part number must be an integer between 1 and 10000, inclusive",
                   {{"ArgumentName", "partNumber"}, {"ArgumentValue", *text}});
    }
    if (call.http.headers.find("range")) {
      return error(call, ErrorCode::kInvalidRequest,
                   "Cannot specify both Range header and partNumber query parameter");
    }
  }
  CustomerKeyRequest customer_key;  // malformed SSE-C headers are refused before any lookup
  if (auto refused = read_customer_key(call, false, &customer_key)) return std::move(*refused);
  ObjectLookup found = find_object(call);
  if (!found.object) return std::move(found.refusal);
  std::optional<ObjectInfo>& info = found.object;
  if (auto refused = check_customer_key(call, *info, customer_key)) return std::move(*refused);
  // An archived object's bytes need a restored copy; HEAD reads its metadata.
  if (!head) {
    if (auto refused = refuse_archived(call, *info, now_ms())) return std::move(*refused);
  }
  if (Precondition failed = check_preconditions(call.http, *info); failed.status) {
    if (failed.status == 412) {
      return error(call, ErrorCode::kPreconditionFailed, "", {{"Condition", failed.header}});
    }
    HttpResponse not_modified;
    not_modified.status = 304;
    not_modified.headers.add("ETag", quoted_etag(*info));
    not_modified.headers.add("Last-Modified", http_date(info->last_modified_ms));
    return not_modified;
  }

  std::uint64_t first = 0;
  std::optional<std::uint64_t> length;
  bool partial = false;
  if (const std::string* range = call.http.headers.find("range")) {
    bool unsatisfiable = false;
    auto parsed = parse_range(*range, info->size, &unsatisfiable);
    if (unsatisfiable) {
      return error(call, ErrorCode::kInvalidRange, "",
                   {{"RangeRequested", *range}, {"ActualObjectSize", std::to_string(info->size)}});
    }
    if (parsed) {
      first = parsed->first;
      length = parsed->length;
      partial = true;
    }
  }
  std::optional<PartRange> part;
  if (part_number) {
    part = part_range(*info, *part_number);
    if (!part) {
      return error(
          call, ErrorCode::kInvalidPartNumber, "",
          {{"PartNumberRequested", std::to_string(*part_number)},
           {"ActualPartCount", std::to_string(std::max<std::size_t>(info->parts.size(), 1))}});
    }
    first = part->first;
    length = part->length;
    partial = info->size > 0;
  }
  // The row was read without the file: an overwrite or delete in between
  // removes the blob it names. Then all is decided again, on what is there
  // now (a few times at most, as ObjectStore::open_object does).
  std::unique_ptr<BlobReader> reader = store_.open_blob(*info, first, length);
  if (!reader) {
    if (attempt < 4) return get_object(call, head, attempt + 1);
    throw StorageError("object " + call.target.key + " keeps changing under the reader");
  }
  const ObjectInfo& object = *info;
  decrypt_with(object, customer_key, *reader);

  HttpResponse response;
  add_version_header(bucket, object, &response);
  bool checksum_mode = iequals(call.http.headers.get("x-amz-checksum-mode"), "ENABLED");
  add_object_headers(object, checksum_mode && !partial, &response);
  add_lock_headers(call, object, &response);
  if (object.is_latest && call.bucket_state) {
    add_expiration_header(call.bucket_state->lifecycle, object, lifecycle_clock_, &response);
  }
  add_restore_header(object, now_ms(), &response);
  if (part && !object.parts.empty()) {
    response.headers.add("x-amz-mp-parts-count", std::to_string(object.parts.size()));
    // A part's own checksum, as the upload gave it.
    if (checksum_mode && part->part && object.checksum_type == "COMPOSITE") {
      add_checksum_headers(part->part->checksums, "", &response);
    }
  }
  if (partial) {
    response.status = 206;
    response.headers.add("Content-Range", "bytes " + std::to_string(first) + "-" +
                                              std::to_string(first + reader->length() - 1) + "/" +
                                              std::to_string(object.size));
  }
  // response-* query parameters override the stored headers.
  static constexpr std::pair<std::string_view, std::string_view> kOverrides[] = {
      {"response-content-type", "Content-Type"},
      {"response-content-language", "Content-Language"},
      {"response-expires", "Expires"},
      {"response-cache-control", "Cache-Control"},
      {"response-content-disposition", "Content-Disposition"},
      {"response-content-encoding", "Content-Encoding"}};
  for (const auto& [query_name, header] : kOverrides) {
    if (const std::string* value = param(call, query_name)) response.headers.set(header, *value);
  }
  (void)head;  // the server sends a HEAD answer's headers only
  response.body_source = std::make_shared<BlobSource>(std::move(reader));
  return response;
}

HttpResponse S3Service::delete_object(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  VersionParam version = read_version_param(call);
  if (version.refusal) return std::move(*version.refusal);
  DeleteResult deleted =
      store_.delete_object_version(call.target.bucket, call.target.key, version.id,
                                   version.id && bypasses_governance(call, call.target.key));
  if (deleted.locked) return error(call, ErrorCode::kAccessDenied, kObjectLockedMessage);
  HttpResponse response;
  response.status = 204;
  if (deleted.delete_marker) response.headers.add("x-amz-delete-marker", "true");
  if (deleted.version_id) {
    response.headers.add("x-amz-version-id", version_id_text(*deleted.version_id));
  }
  return response;
}

HttpResponse S3Service::delete_objects(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  auto document = parse_xml(call.http.body);
  if (!document || document->name != "Delete") return error(call, ErrorCode::kMalformedXML);
  auto objects = document->children_named("Object");
  if (objects.empty() || objects.size() > kMaxDeleteKeys) {
    return error(call, ErrorCode::kMalformedXML);
  }
  const XmlElement* quiet_element = document->child("Quiet");
  bool quiet = quiet_element && quiet_element->text == "true";
  XmlWriter xml("DeleteResult", kXmlns);
  for (const XmlElement* object : objects) {
    const XmlElement* key = object->child("Key");
    if (!key) return error(call, ErrorCode::kMalformedXML);
    const XmlElement* version = object->child("VersionId");
    std::optional<std::string> version_id;
    if (version) {
      version_id = parse_version_id(version->text);
      if (!version_id) {
        xml.open("Error")
            .element("Key", key->text)
            .element("VersionId", version->text)
            .element("Code", "InvalidArgument")
            .element("Message", "Invalid version id specified")
            .close();
        continue;
      }
    }
    bool bypass = version_id && bypasses_governance(call, key->text);
    DeleteResult deleted =
        store_.delete_object_version(call.target.bucket, key->text, version_id, bypass);
    if (deleted.locked) {
      xml.open("Error").element("Key", key->text);
      if (version) xml.element("VersionId", version->text);
      xml.element("Code", "AccessDenied").element("Message", kObjectLockedMessage).close();
      continue;
    }
    if (!quiet) {
      xml.open("Deleted").element("Key", key->text);
      if (version) xml.element("VersionId", version->text);
      // A delete marker made, or one deleted by its id.
      if (deleted.delete_marker && deleted.version_id) {
        xml.element("DeleteMarker", "true")
            .element("DeleteMarkerVersionId", version_id_text(*deleted.version_id));
      }
      xml.close();
    }
  }
  return xml_response(xml.finish());
}

CopySource S3Service::open_copy_source(S3Call& call) {
  CopySource source;
  std::string_view header = call.http.headers.get("x-amz-copy-source");
  if (std::size_t q = header.find("?versionId="); q != std::string_view::npos) {
    source.version_id = parse_version_id(header.substr(q + 11));
    if (!source.version_id) {
      source.refusal = error(call, ErrorCode::kInvalidArgument, "Invalid version id specified");
      return source;
    }
    header = header.substr(0, q);
  }
  auto decoded = percent_decode(header.starts_with('/') ? header.substr(1) : header);
  std::size_t slash = decoded ? decoded->find('/') : std::string::npos;
  if (!decoded || slash == std::string::npos || slash == 0 || slash + 1 == decoded->size()) {
    source.refusal = error(call, ErrorCode::kInvalidArgument,
                           "Copy Source must mention the source bucket and key: "
                           "sourcebucket/sourcekey");
    return source;
  }
  source.bucket = decoded->substr(0, slash);
  std::string key = decoded->substr(slash + 1);
  auto customer_key = std::make_shared<CustomerKeyRequest>();
  if (auto refused = read_customer_key(call, true, customer_key.get())) {
    source.refusal = std::move(*refused);
    return source;
  }
  S3Call source_call{call.http, call.context, {source.bucket, key, true}};
  std::optional<BucketInfo> source_bucket = store_.bucket(source.bucket);
  if (!source_bucket) {
    source.refusal = no_such_bucket(source_call);
    return source;
  }
  source.versioned_bucket = source_bucket->versioning != Versioning::kUnversioned;
  auto opened = store_.open_object(source.bucket, key, 0, std::nullopt, source.version_id);
  if (!opened) {
    std::optional<ObjectInfo> version =
        source.version_id ? store_.object_version(source.bucket, key, source.version_id)
                          : std::nullopt;
    if (version && version->delete_marker) {
      source.refusal = error(call, ErrorCode::kInvalidRequest,
                             "The source of a copy request may not specifically refer to a "
                             "delete marker by version id.");
    } else if (source.version_id) {
      source.refusal = error(source_call, ErrorCode::kNoSuchVersion, "",
                             {{"Key", key}, {"VersionId", version_id_text(*source.version_id)}});
    } else {
      source.refusal = error(source_call, ErrorCode::kNoSuchKey);
    }
    return source;
  }
  if (auto refused = refuse_archived(call, opened->first, now_ms(), /*copy_source=*/true)) {
    source.refusal = std::move(*refused);
    return source;
  }
  if (auto refused = check_customer_key(call, opened->first, *customer_key)) {
    source.refusal = std::move(*refused);
    return source;
  }
  decrypt_with(opened->first, *customer_key, *opened->second);
  source.info = std::move(opened->first);
  source.reader = std::move(opened->second);
  source.customer_key = std::move(customer_key);
  return source;
}

HttpResponse S3Service::copy_object(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  CopySource source = open_copy_source(call);
  if (!source.reader) return std::move(source.refusal);
  const std::string& source_bucket = source.bucket;
  const std::string& source_key = source.info.key;
  ObjectInfo& info = source.info;
  std::unique_ptr<BlobReader>& reader = source.reader;
  if (Precondition failed = check_preconditions(call.http, info, "x-amz-copy-source-");
      failed.status) {
    return error(call, ErrorCode::kPreconditionFailed, "", {{"Condition", failed.header}});
  }
  std::string_view directive = call.http.headers.get("x-amz-metadata-directive");
  bool replace = directive == "REPLACE";
  if (!directive.empty() && directive != "COPY" && !replace) {
    return error(call, ErrorCode::kInvalidArgument, "Unknown metadata directive.");
  }
  bool new_class = call.http.headers.find("x-amz-storage-class") != nullptr;
  CustomerKeyRequest target_key;
  if (auto refused = read_customer_key(call, false, &target_key)) return std::move(*refused);
  // An SSE-C copy onto itself changes its encryption (a new key, or none).
  bool new_encryption = target_key.present() || !info.customer_key.empty();
  // Copying an older version onto its key restores it: no self-copy.
  bool current_version = !source.version_id || source.info.is_latest;
  if (source_bucket == call.target.bucket && source_key == call.target.key && !replace &&
      !new_class && !new_encryption && current_version) {
    return error(call, ErrorCode::kInvalidRequest,
                 "This copy request is illegal because it is trying to copy an object to itself "
                 "without changing the object's metadata, storage class, website redirect "
                 "location or encryption attributes.");
  }

  ObjectInfo copy = info;
  copy.key = call.target.key;
  copy.etag.clear();
  copy.last_modified_ms = 0;
  if (replace) read_object_attributes(call.http, &copy);
  // The copy is an object of its own: one part, the class and ACL the
  // request gives (STANDARD and private by default), as on AWS.
  copy.parts.clear();
  // A restored copy is the source's, not the new object's.
  copy.restore_days = 0;
  copy.restore_expiry_ms = 0;
  if (auto refused = read_write_options(call, &copy)) return std::move(*refused);
  if (auto refused = refuse_acl(call, call.target.bucket, copy.acl)) return std::move(*refused);
  if (auto refused = copy_tags(call, &copy)) return std::move(*refused);
  if (auto refused = apply_encryption(call, &copy, &target_key)) return std::move(*refused);
  // The copy has its own lock: the request's, else the bucket's default.
  if (auto refused = apply_object_lock(call, &copy)) return std::move(*refused);
  auto blob = store_.new_blob();
  if (target_key.present()) {
    blob->encrypt(*target_key.key, false);
    copy.customer_key.ivs = {blob->iv()};
  }
  for (const auto& [algorithm, value] : info.checksums) {
    if (auto parsed = parse_checksum_algorithm(algorithm)) blob->add_checksum(*parsed);
  }
  std::vector<char> buffer(1 << 20);
  while (std::size_t n = reader->read(buffer.data(), buffer.size())) {
    blob->write(std::string_view(buffer.data(), n));
  }
  blob->close();
  copy.checksums = blob->checksums();
  copy.checksum_type = copy.checksums.empty() ? "" : "FULL_OBJECT";
  ObjectInfo committed;
  if (store_.put_object(call.target.bucket, copy, *blob, {}, &committed) ==
      ObjectStore::Status::kNoSuchBucket) {
    return no_such_bucket(call);
  }
  XmlWriter xml("CopyObjectResult", kXmlns);
  xml.element("LastModified", iso8601(committed.last_modified_ms))
      .element("ETag", "\"" + blob->md5_hex() + "\"");
  HttpResponse response = xml_response(xml.finish());
  add_encryption_headers(copy, &response);
  add_written_version_header(committed, &response);
  if (call.bucket_state) {
    add_expiration_header(call.bucket_state->lifecycle, committed, lifecycle_clock_, &response);
  }
  if (source.versioned_bucket) {
    response.headers.add("x-amz-copy-source-version-id", version_id_text(source.info.version_id));
  }
  return response;
}

}  // namespace offcloud

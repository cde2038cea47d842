// S3 multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
// CompleteMultipartUpload, AbortMultipartUpload, ListParts and
// ListMultipartUploads.
#include <algorithm>
#include <charconv>

#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_customer_key.h"
#include "emulator/s3/s3_encryption.h"
#include "emulator/s3/s3_lifecycle.h"
#include "emulator/s3/s3_service.h"
#include "emulator/s3/s3_upload.h"
#include "emulator/s3/s3_versioning.h"
#include "emulator/s3/s3_write_options.h"
#include "emulator/util/xml.h"

namespace offcloud {
namespace {

using namespace s3;

constexpr int kMaxPartNumber = 10000;

std::optional<int> part_number(const S3Call& call) {
  const std::string* text = param(call, "partNumber");
  if (!text) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 1 ||
      value > kMaxPartNumber) {
    return std::nullopt;
  }
  return value;
}

HttpResponse bad_part_number(const S3Call& call) {
  return error(call, ErrorCode::kInvalidArgument,
               "Part number must be an integer between 1 and 10000, inclusive",
               {{"ArgumentName", "partNumber"}});
}

HttpResponse no_such_upload(const S3Call& call) {
  const std::string* id = param(call, "uploadId");
  return error(call, ErrorCode::kNoSuchUpload, "", {{"UploadId", id ? *id : ""}});
}

// x-amz-checksum-type of CreateMultipartUpload, checked against the
// algorithm as AWS does: CRC64NVME is FULL_OBJECT only, the SHAs COMPOSITE
// only; without the header, FULL_OBJECT for CRC64NVME, else COMPOSITE.
std::optional<HttpResponse> read_checksum_type(const S3Call& call,
                                               std::optional<ChecksumAlgorithm> algorithm,
                                               std::string* type) {
  const std::string* given = call.http.headers.find("x-amz-checksum-type");
  if (!given) {
    if (algorithm) {
      *type = *algorithm == ChecksumAlgorithm::kCrc64Nvme ? "FULL_OBJECT" : "COMPOSITE";
    }
    return std::nullopt;
  }
  if (*given != "COMPOSITE" && *given != "FULL_OBJECT") {
    return error(call, ErrorCode::kInvalidRequest,
                 "Value for x-amz-checksum-type header is invalid.");
  }
  if (!algorithm) {
    return error(call, ErrorCode::kInvalidRequest,
                 "The x-amz-checksum-type header can only be used with the "
                 "x-amz-checksum-algorithm header.");
  }
  bool sha = *algorithm == ChecksumAlgorithm::kSha1 || *algorithm == ChecksumAlgorithm::kSha256;
  if ((*given == "FULL_OBJECT" && sha) ||
      (*given == "COMPOSITE" && *algorithm == ChecksumAlgorithm::kCrc64Nvme)) {
    std::string name(checksum_name(*algorithm));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return error(call, ErrorCode::kInvalidRequest,
                 "The " + *given + " checksum type cannot be used with the " + name +
                     " checksum algorithm.");
  }
  *type = *given;
  return std::nullopt;
}

// The full object's checksum a CompleteMultipartUpload declares
// (x-amz-checksum-<algorithm>), if any.
std::optional<std::string> declared_checksum(const S3Call& call, const UploadInfo& upload) {
  if (!upload.checksum) return std::nullopt;
  std::string name = "x-amz-checksum-" + std::string(checksum_name(*upload.checksum));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (const std::string* value = call.http.headers.find(name)) return *value;
  return std::nullopt;
}

void add_checksum_headers(const HeaderList& checksums, HttpResponse* response) {
  for (const auto& [algorithm, value] : checksums) {
    std::string name = "x-amz-checksum-" + algorithm;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    response->headers.add(name, value);
  }
}

}  // namespace

BodyPlan S3Service::open_part_body(S3Call& call) {
  call.context.operation = "UploadPart";
  auto refuse = [](HttpResponse response) {
    return BodyPlan{nullptr, std::make_shared<HttpResponse>(std::move(response))};
  };
  if (!store_.bucket(call.target.bucket)) return refuse(no_such_bucket(call));
  if (!part_number(call)) return refuse(bad_part_number(call));
  std::optional<UploadInfo> info = store_.upload(call.target.bucket, *param(call, "uploadId"));
  if (!info) return refuse(no_such_upload(call));
  auto upload = UploadReader::open(call, store_);
  if (!upload.reader) return refuse(std::move(upload.refusal));
  // SSE-C: the part is encrypted with the key the upload was created with.
  if (auto refused = check_upload_key(call, *info, upload.reader->customer_key())) {
    return refuse(std::move(*refused));
  }
  return {std::move(upload.reader), nullptr};
}

HttpResponse S3Service::create_multipart_upload(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  std::optional<ChecksumAlgorithm> checksum;
  if (const std::string* algorithm = call.http.headers.find("x-amz-checksum-algorithm")) {
    checksum = parse_checksum_algorithm(*algorithm);
    if (!checksum) {
      return error(call, ErrorCode::kInvalidRequest, "Checksum algorithm provided is unsupported.");
    }
  }
  std::string checksum_type;
  if (auto refused = read_checksum_type(call, checksum, &checksum_type)) return std::move(*refused);
  ObjectInfo attributes;
  attributes.key = call.target.key;
  read_object_attributes(call.http, &attributes);
  if (auto refused = read_write_options(call, &attributes)) return std::move(*refused);
  if (auto refused = refuse_acl(call, call.target.bucket, attributes.acl))
    return std::move(*refused);
  // Tags and encryption wait in the upload for the object completion makes.
  if (auto refused = read_tagging_header(call, &attributes)) return std::move(*refused);
  CustomerKeyRequest customer_key;
  if (auto refused = read_customer_key(call, false, &customer_key)) return std::move(*refused);
  if (auto refused = apply_encryption(call, &attributes, &customer_key)) {
    return std::move(*refused);
  }
  // So does the lock: the default retention counts from the initiation.
  if (auto refused = apply_object_lock(call, &attributes)) return std::move(*refused);
  auto id = store_.create_upload(call.target.bucket, attributes, checksum, checksum_type);
  if (!id) return no_such_bucket(call);
  XmlWriter xml("InitiateMultipartUploadResult", kXmlns);
  xml.element("Bucket", call.target.bucket)
      .element("Key", call.target.key)
      .element("UploadId", *id);
  HttpResponse response = xml_response(xml.finish());
  if (checksum) {
    response.headers.add("x-amz-checksum-algorithm", std::string(checksum_name(*checksum)));
    response.headers.add("x-amz-checksum-type", checksum_type);
  }
  add_encryption_headers(attributes, &response);
  return response;
}

HttpResponse S3Service::upload_part(S3Call& call) {
  auto* upload = dynamic_cast<UploadReader*>(call.http.body_reader.get());
  if (!upload) return error(call, ErrorCode::kInternalError);
  auto number = part_number(call);
  if (!number) return bad_part_number(call);
  PartInfo part;
  part.number = *number;
  BlobWriter& blob = upload->blob();
  part.checksums = blob.checksums();
  part.customer_iv = blob.iv();
  if (!store_.put_part(*param(call, "uploadId"), part, blob)) return no_such_upload(call);
  HttpResponse response;
  response.headers.add("ETag", "\"" + blob.md5_hex() + "\"");
  add_checksum_headers(part.checksums, &response);
  if (upload->customer_key().present()) {
    add_customer_key_headers(upload->customer_key().key_md5, &response);
  }
  return response;
}

HttpResponse S3Service::upload_part_copy(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  auto number = part_number(call);
  if (!number) return bad_part_number(call);
  const std::string& upload_id = *param(call, "uploadId");
  std::optional<UploadInfo> upload = store_.upload(call.target.bucket, upload_id);
  if (!upload) return no_such_upload(call);
  CustomerKeyRequest target_key;
  if (auto refused = read_customer_key(call, false, &target_key)) return std::move(*refused);
  if (auto refused = check_upload_key(call, *upload, target_key)) return std::move(*refused);
  auto source = open_copy_source(call);
  if (!source.reader) return std::move(source.refusal);

  std::uint64_t first = 0, size = source.info.size;
  if (const std::string* range = call.http.headers.find("x-amz-copy-source-range")) {
    // Only the form "bytes=first-last" is allowed here.
    std::string_view text = *range;
    std::size_t dash = text.find('-');
    std::uint64_t a = 0, b = 0;
    bool ok = text.starts_with("bytes=") && dash != std::string_view::npos;
    if (ok) {
      auto r1 = std::from_chars(text.data() + 6, text.data() + dash, a);
      auto r2 = std::from_chars(text.data() + dash + 1, text.data() + text.size(), b);
      ok = r1.ec == std::errc() && r1.ptr == text.data() + dash && r2.ec == std::errc() &&
           r2.ptr == text.data() + text.size() && a <= b;
    }
    if (!ok) {
      return error(call, ErrorCode::kInvalidArgument,
                   "The x-amz-copy-source-range value must be of the form bytes=first-last where "
                   "first and last are the zero-based offsets of the first and last bytes to copy");
    }
    if (b >= source.info.size) {
      return error(call, ErrorCode::kInvalidRange, "",
                   {{"ActualObjectSize", std::to_string(source.info.size)}});
    }
    first = a;
    size = b - a + 1;
  }
  auto reader = store_.open_object(source.bucket, source.info.key, first, size, source.version_id);
  if (!reader) return error(call, ErrorCode::kNoSuchKey);
  if (auto refused = check_customer_key(call, reader->first, *source.customer_key)) {
    return std::move(*refused);
  }
  decrypt_with(reader->first, *source.customer_key, *reader->second);
  auto blob = store_.new_blob();
  if (target_key.present()) blob->encrypt(*target_key.key, false);
  std::vector<char> buffer(1 << 20);
  while (std::size_t n = reader->second->read(buffer.data(), buffer.size())) {
    blob->write(std::string_view(buffer.data(), n));
  }
  blob->close();
  PartInfo part;
  part.number = *number;
  part.customer_iv = blob->iv();
  if (!store_.put_part(upload_id, part, *blob)) return no_such_upload(call);
  XmlWriter xml("CopyPartResult", kXmlns);
  xml.element("LastModified", iso8601(part.last_modified_ms ? part.last_modified_ms : 0))
      .element("ETag", "\"" + blob->md5_hex() + "\"");
  HttpResponse response = xml_response(xml.finish());
  if (target_key.present()) add_customer_key_headers(target_key.key_md5, &response);
  if (source.versioned_bucket) {
    response.headers.add("x-amz-copy-source-version-id", version_id_text(source.info.version_id));
  }
  return response;
}

HttpResponse S3Service::complete_multipart_upload(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  auto document = parse_xml(call.http.body);
  if (!document || document->name != "CompleteMultipartUpload") {
    return error(call, ErrorCode::kMalformedXML);
  }
  std::vector<CompletedPart> parts;
  for (const XmlElement* element : document->children_named("Part")) {
    const XmlElement* number = element->child("PartNumber");
    const XmlElement* etag = element->child("ETag");
    CompletedPart part;
    if (!number || !etag) return error(call, ErrorCode::kMalformedXML);
    auto [end, ec] = std::from_chars(number->text.data(), number->text.data() + number->text.size(),
                                     part.number);
    if (ec != std::errc() || end != number->text.data() + number->text.size()) {
      return error(call, ErrorCode::kMalformedXML);
    }
    part.etag = etag->text;
    parts.push_back(std::move(part));
  }
  if (parts.empty()) {
    return error(call, ErrorCode::kMalformedXML,
                 "The XML you provided was not well-formed or did not validate against our "
                 "published schema");
  }
  WriteCondition condition;
  if (auto refused = read_write_condition(call, &condition)) return std::move(*refused);
  const std::string& upload_id = *param(call, "uploadId");
  std::optional<std::string> expected;
  CustomerKeyRequest customer_key;  // optional here; when given, the upload's
  if (auto refused = read_customer_key(call, false, &customer_key)) return std::move(*refused);
  if (auto upload = store_.upload(call.target.bucket, upload_id)) {
    expected = declared_checksum(call, *upload);
    if (customer_key.present()) {
      if (auto refused = check_upload_key(call, *upload, customer_key)) return std::move(*refused);
    }
  }
  auto result = store_.complete_upload(call.target.bucket, upload_id, parts, condition, expected);
  using S = ObjectStore::CompleteStatus;
  switch (result.status) {
    case S::kNoSuchUpload:
      return no_such_upload(call);
    case S::kNoSuchKey:
      return condition_failed(call, ObjectStore::Status::kNoSuchKey);
    case S::kPreconditionFailed:
      return condition_failed(call, ObjectStore::Status::kPreconditionFailed);
    case S::kConflict:
      return condition_failed(call, ObjectStore::Status::kConflict);
    case S::kBadDigest:
      return error(call, ErrorCode::kBadDigest,
                   "The checksum you specified did not match the calculated checksum.");
    case S::kInvalidPart:
      return error(call, ErrorCode::kInvalidPart, "",
                   {{"PartNumber", std::to_string(result.bad_part)}});
    case S::kInvalidPartOrder:
      return error(call, ErrorCode::kInvalidPartOrder);
    case S::kEntityTooSmall:
      return error(call, ErrorCode::kEntityTooSmall, "",
                   {{"PartNumber", std::to_string(result.bad_part)},
                    {"MinSizeAllowed", std::to_string(ObjectStore::kMinPartSize)}});
    case S::kOk:
      break;
  }
  // A repeated completion answers as the first did, for the same key.
  if (result.repeated && result.object.key != call.target.key) return no_such_upload(call);
  std::string host(call.http.headers.get("host"));
  XmlWriter xml("CompleteMultipartUploadResult", kXmlns);
  xml.element("Location", (call.http.secure ? "https://" : "http://") + host + "/" +
                              call.target.bucket + "/" + uri_encode(call.target.key, true))
      .element("Bucket", call.target.bucket)
      .element("Key", call.target.key)
      .element("ETag", quoted_etag(result.object));
  for (const auto& [algorithm, value] : result.object.checksums) {
    xml.element("Checksum" + algorithm, value);
  }
  if (!result.object.checksums.empty() && !result.object.checksum_type.empty()) {
    xml.element("ChecksumType", result.object.checksum_type);
  }
  HttpResponse response = xml_response(xml.finish());
  // S3's completion names SSE-S3 and SSE-KMS, never SSE-C (botocore's model).
  if (result.object.customer_key.empty()) add_encryption_headers(result.object, &response);
  add_written_version_header(result.object, &response);
  if (call.bucket_state && !result.repeated) {
    add_expiration_header(call.bucket_state->lifecycle, result.object, lifecycle_clock_, &response);
  }
  return response;
}

HttpResponse S3Service::abort_multipart_upload(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  const std::string& id = *param(call, "uploadId");
  if (!store_.upload(call.target.bucket, id) || !store_.abort_upload(id)) {
    return no_such_upload(call);
  }
  HttpResponse response;
  response.status = 204;
  return response;
}

HttpResponse S3Service::list_parts(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  const std::string& id = *param(call, "uploadId");
  auto upload = store_.upload(call.target.bucket, id);
  if (!upload || upload->key != call.target.key) return no_such_upload(call);
  int max_parts = 1000, marker = 0;
  if (const std::string* text = param(call, "max-parts")) {
    std::from_chars(text->data(), text->data() + text->size(), max_parts);
    max_parts = std::clamp(max_parts, 0, 1000);
  }
  if (const std::string* text = param(call, "part-number-marker")) {
    std::from_chars(text->data(), text->data() + text->size(), marker);
  }
  XmlWriter xml("ListPartsResult", kXmlns);
  xml.element("Bucket", call.target.bucket).element("Key", call.target.key).element("UploadId", id);
  write_owner(xml, call.context.principal.account_id, "Initiator");
  write_owner(xml, call.context.principal.account_id, "Owner");
  xml.element("StorageClass", upload->attributes.storage_class)
      .element("PartNumberMarker", std::to_string(marker));
  std::vector<PartInfo> parts;
  for (PartInfo& part : store_.list_parts(id)) {
    if (part.number > marker) parts.push_back(std::move(part));
  }
  bool truncated = static_cast<int>(parts.size()) > max_parts;
  if (truncated) parts.resize(static_cast<std::size_t>(max_parts));
  if (truncated && !parts.empty()) {
    xml.element("NextPartNumberMarker", std::to_string(parts.back().number));
  }
  xml.element("MaxParts", std::to_string(max_parts))
      .element("IsTruncated", truncated ? "true" : "false");
  if (upload->checksum) {
    xml.element("ChecksumAlgorithm", checksum_name(*upload->checksum))
        .element("ChecksumType", upload->checksum_type);
  }
  for (const PartInfo& part : parts) {
    xml.open("Part")
        .element("PartNumber", std::to_string(part.number))
        .element("LastModified", iso8601(part.last_modified_ms))
        .element("ETag", "\"" + part.etag + "\"")
        .element("Size", std::to_string(part.size));
    for (const auto& [algorithm, value] : part.checksums)
      xml.element("Checksum" + algorithm, value);
    xml.close();
  }
  return xml_response(xml.finish());
}

HttpResponse S3Service::list_multipart_uploads(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  UploadListRequest request;
  auto text = [&](std::string_view name) {
    const std::string* value = param(call, name);
    return value ? *value : std::string();
  };
  request.prefix = text("prefix");
  request.delimiter = text("delimiter");
  request.key_marker = text("key-marker");
  request.upload_id_marker = text("upload-id-marker");
  if (const std::string* max = param(call, "max-uploads")) {
    int value = 0;
    auto [end, ec] = std::from_chars(max->data(), max->data() + max->size(), value);
    if (ec == std::errc::result_out_of_range && !max->starts_with('-')) {
      value = 1000;
    } else if (ec != std::errc() || end != max->data() + max->size() || value < 0) {
      return error(call, ErrorCode::kInvalidArgument,
                   "Provided max-uploads not an integer or within integer range",
                   {{"ArgumentName", "max-uploads"}, {"ArgumentValue", *max}});
    }
    request.max_uploads = std::min(value, 1000);
  }
  bool url_encoding = false;
  if (auto refused = s3::read_encoding_type(call, &url_encoding)) return *refused;
  // With encoding-type=url, AWS encodes every key-like element.
  auto encode = [&](std::string_view value) {
    return url_encoding ? uri_encode(value, /*keep_slash=*/true) : std::string(value);
  };
  UploadListResult listing = store_.list_uploads(call.target.bucket, request);
  XmlWriter xml("ListMultipartUploadsResult", kXmlns);
  xml.element("Bucket", call.target.bucket)
      .element("KeyMarker", encode(request.key_marker))
      .element("UploadIdMarker", request.upload_id_marker)
      .element("NextKeyMarker", encode(listing.next_key_marker))
      .element("NextUploadIdMarker", listing.next_upload_id_marker)
      .element("Prefix", encode(request.prefix));
  if (!request.delimiter.empty()) xml.element("Delimiter", encode(request.delimiter));
  xml.element("MaxUploads", std::to_string(request.max_uploads));
  if (url_encoding) xml.element("EncodingType", "url");
  xml.element("IsTruncated", listing.truncated ? "true" : "false");
  for (const UploadInfo& upload : listing.uploads) {
    xml.open("Upload").element("Key", encode(upload.key)).element("UploadId", upload.id);
    write_owner(xml, call.context.principal.account_id, "Initiator");
    write_owner(xml, call.context.principal.account_id, "Owner");
    xml.element("StorageClass", upload.attributes.storage_class)
        .element("Initiated", iso8601(upload.initiated_ms));
    xml.close();
  }
  for (const std::string& common_prefix : listing.common_prefixes) {
    xml.open("CommonPrefixes").element("Prefix", encode(common_prefix)).close();
  }
  return xml_response(xml.finish());
}

}  // namespace offcloud

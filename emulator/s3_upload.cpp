#include "emulator/s3_upload.h"

#include "emulator/log.h"
#include "emulator/s3_common.h"

namespace offcloud {
namespace {

bool is_hex_sha256(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

UploadReader::Opened UploadReader::open(const S3Call& call, ObjectStore& store) {
  std::shared_ptr<UploadReader> reader(new UploadReader());
  reader->request_id_ = call.context.request_id;
  reader->resource_ = call.http.path;
  const Headers& headers = call.http.headers;

  std::string_view content_sha256 = headers.get("x-amz-content-sha256");
  if (content_sha256.starts_with("STREAMING-")) {
    return {nullptr, s3::error(call, ErrorCode::kNotImplemented,
                               "offcloud does not accept aws-chunked (" +
                                   std::string(content_sha256) + ") uploads yet.")};
  }
  if (is_hex_sha256(content_sha256)) {
    reader->declared_sha256 = std::string(content_sha256);
    reader->sha256_.emplace(StreamingDigest::Algorithm::kSha256);
  }
  if (const std::string* md5 = headers.find("content-md5")) {
    std::string raw;
    if (!base64_decode(*md5, &raw) || raw.size() != 16) {
      return {nullptr, s3::error(call, ErrorCode::kInvalidDigest)};
    }
    reader->declared_md5 = std::move(raw);
  }
  for (const auto& [name, value] : headers) {
    std::string_view field = name;
    if (field.size() <= 15 || !iequals(field.substr(0, 15), "x-amz-checksum-")) continue;
    auto algorithm = parse_checksum_algorithm(field.substr(15));
    if (!algorithm) {
      if (iequals(field, "x-amz-checksum-type")) continue;
      return {nullptr, s3::error(call, ErrorCode::kInvalidRequest,
                                 "Unknown checksum header " + std::string(field) + ".")};
    }
    if (reader->declared_checksum) {
      return {nullptr, s3::error(call, ErrorCode::kInvalidRequest,
                                 "Expecting a single x-amz-checksum- header. Multiple checksum "
                                 "Types are not allowed.")};
    }
    reader->declared_checksum.emplace(*algorithm, value);
  }
  try {
    reader->blob_ = store.new_blob();
  } catch (const std::exception& e) {
    log(LogLevel::kError, std::string("cannot create a blob: ") + e.what());
    return {nullptr, s3::error(call, ErrorCode::kInternalError)};
  }
  if (reader->declared_checksum) reader->blob_->add_checksum(reader->declared_checksum->first);
  return {std::move(reader), {}};
}

HttpResponse UploadReader::fail(ErrorCode code, std::string message) {
  return error_response(Protocol::kRestXml, {code, std::move(message), {{"Resource", resource_}}},
                        request_id_);
}

std::optional<HttpResponse> UploadReader::consume(std::string_view bytes) {
  if (sha256_) sha256_->update(bytes);
  try {
    blob_->write(bytes);
  } catch (const std::exception& e) {
    log(LogLevel::kError, std::string("upload failed: ") + e.what());
    return fail(ErrorCode::kInternalError, "");
  }
  return std::nullopt;
}

std::optional<HttpResponse> UploadReader::finish() {
  try {
    blob_->close();
  } catch (const std::exception& e) {
    log(LogLevel::kError, std::string("upload failed: ") + e.what());
    return fail(ErrorCode::kInternalError, "");
  }
  if (sha256_) {
    std::string raw = sha256_->finish();
    if (hex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()) != declared_sha256) {
      return fail(ErrorCode::kXAmzContentSHA256Mismatch, "");
    }
  }
  if (declared_md5) {
    std::string md5_hex = blob_->md5_hex();
    if (md5_hex != hex(reinterpret_cast<const std::uint8_t*>(declared_md5->data()), 16)) {
      return fail(ErrorCode::kBadDigest, "");
    }
  }
  if (declared_checksum) {
    for (const auto& [name, value] : blob_->checksums()) {
      if (value != declared_checksum->second) {
        return fail(ErrorCode::kBadDigest, "The " + name +
                                               " you specified did not match the calculated "
                                               "checksum.");
      }
    }
  }
  return std::nullopt;
}

}  // namespace offcloud

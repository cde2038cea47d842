#include "emulator/s3/s3_upload.h"

#include <cstdlib>

#include "emulator/s3/s3_common.h"
#include "emulator/util/log.h"

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
    bool signed_chunks = content_sha256 == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" ||
                         content_sha256 == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
    bool trailer = content_sha256.ends_with("-TRAILER");
    if (!signed_chunks && content_sha256 != "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
      return {nullptr,
              s3::error(call, ErrorCode::kNotImplemented,
                        "offcloud does not accept " + std::string(content_sha256) + " uploads.")};
    }
    if (signed_chunks && !call.context.signing) {
      return {nullptr, s3::error(call, ErrorCode::kInvalidRequest,
                                 "Signed aws-chunked uploads need a signed Authorization header.")};
    }
    if (const std::string* length = headers.find("x-amz-decoded-content-length")) {
      try {
        reader->decoded_length_ = std::stoull(*length);
      } catch (const std::exception&) {
        return {nullptr, s3::error(call, ErrorCode::kInvalidArgument,
                                   "x-amz-decoded-content-length is not a number.")};
      }
    }
    if (trailer) {
      std::string_view named = headers.get("x-amz-trailer");
      if (named.size() > 15 && iequals(named.substr(0, 15), "x-amz-checksum-")) {
        reader->trailing_checksum_ = parse_checksum_algorithm(named.substr(15));
      }
      if (!named.empty() && !reader->trailing_checksum_) {
        return {nullptr, s3::error(call, ErrorCode::kInvalidRequest,
                                   "The x-amz-trailer header names an unsupported checksum.")};
      }
    }
    UploadReader* self = reader.get();
    reader->chunked_.emplace(signed_chunks ? call.context.signing : std::nullopt, trailer,
                             [self](std::string_view data) { self->blob_->write(data); });
  }
  // Refused before a byte of the body is read, as S3 does.
  std::uint64_t proposed = reader->decoded_length_.value_or(0);
  if (const std::string* length = headers.find("content-length"); length && !reader->chunked_) {
    proposed = std::strtoull(length->c_str(), nullptr, 10);
  }
  if (proposed > s3::kMaxObjectBytes) return {nullptr, reader->too_large(proposed)};
  // Not aws-chunked, so the body is the object's bytes: the blob hashes it
  // with its other digests, on threads when it is large.
  if (is_hex_sha256(content_sha256)) reader->declared_sha256 = std::string(content_sha256);
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
    std::string raw;
    std::size_t expected_bytes = *algorithm == ChecksumAlgorithm::kSha256      ? 32
                                 : *algorithm == ChecksumAlgorithm::kSha1      ? 20
                                 : *algorithm == ChecksumAlgorithm::kCrc64Nvme ? 8
                                                                               : 4;
    if (!base64_decode(value, &raw) || raw.size() != expected_bytes) {
      std::string lower(field);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return {nullptr, s3::error(call, ErrorCode::kInvalidRequest,
                                 "Value for " + lower + " header is invalid.")};
    }
    reader->declared_checksum.emplace(*algorithm, value);
  }
  if (auto refused = s3::read_customer_key(call, false, &reader->customer_key_)) {
    return {nullptr, std::move(*refused)};
  }
  if (headers.find("if-match") || headers.find("if-none-match")) {
    std::optional<ObjectInfo> current = store.head_object(call.target.bucket, call.target.key);
    reader->seen_ = current ? current->blob : std::string();
  }
  try {
    reader->blob_ = store.new_blob();
  } catch (const std::exception& e) {
    log(LogLevel::kError, std::string("cannot create a blob: ") + e.what());
    return {nullptr, s3::error(call, ErrorCode::kInternalError)};
  }
  if (reader->customer_key_.present()) {
    reader->blob_->encrypt(*reader->customer_key_.key, reader->declared_md5.has_value());
  }
  if (!reader->declared_sha256.empty()) reader->blob_->add_sha256();
  if (reader->declared_checksum) reader->blob_->add_checksum(reader->declared_checksum->first);
  if (reader->trailing_checksum_) reader->blob_->add_checksum(*reader->trailing_checksum_);
  return {std::move(reader), {}};
}

HttpResponse UploadReader::fail(ErrorCode code, std::string message) {
  return error_response(Protocol::kRestXml, {code, std::move(message), {{"Resource", resource_}}},
                        request_id_);
}

HttpResponse UploadReader::too_large(std::uint64_t proposed) const {
  HttpResponse refusal = error_response(Protocol::kRestXml,
                                        {ErrorCode::kEntityTooLarge,
                                         "",
                                         {{"ProposedSize", std::to_string(proposed)},
                                          {"MaxSizeAllowed", std::to_string(s3::kMaxObjectBytes)},
                                          {"Resource", resource_}}},
                                        request_id_);
  refusal.status = 400;  // S3's status for it; offcloud's HTTP limit says 413
  return refusal;
}

std::optional<HttpResponse> UploadReader::consume(std::string_view bytes) {
  try {
    if (!chunked_) {
      blob_->write(bytes);
    } else if (!chunked_->feed(bytes)) {
      return chunked_failure();
    }
    // A body that declared no length (or lied about it) stops at the limit.
    if (blob_->size() > s3::kMaxObjectBytes) return too_large(blob_->size());
  } catch (const std::exception& e) {
    log(LogLevel::kError, std::string("upload failed: ") + e.what());
    return fail(ErrorCode::kInternalError, "");
  }
  return std::nullopt;
}

HttpResponse UploadReader::chunked_failure() {
  if (chunked_->failure() == AwsChunkedDecoder::Failure::kBadSignature) {
    return fail(ErrorCode::kSignatureDoesNotMatch, chunked_->error());
  }
  return fail(ErrorCode::kIncompleteBody, chunked_->error());
}

std::optional<HttpResponse> UploadReader::finish() {
  if (chunked_) {
    if (!chunked_->finish()) return chunked_failure();
    if (decoded_length_ && *decoded_length_ != chunked_->decoded_size()) {
      return fail(ErrorCode::kIncompleteBody, "");
    }
    if (trailing_checksum_) {
      std::string name = "x-amz-checksum-" + std::string(checksum_name(*trailing_checksum_));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (const auto& [trailer, value] : chunked_->trailers()) {
        if (trailer == name) declared_checksum.emplace(*trailing_checksum_, value);
      }
    }
  }
  try {
    blob_->close();
  } catch (const std::exception& e) {
    log(LogLevel::kError, std::string("upload failed: ") + e.what());
    return fail(ErrorCode::kInternalError, "");
  }
  if (!declared_sha256.empty() && blob_->sha256_hex() != declared_sha256) {
    return fail(ErrorCode::kXAmzContentSHA256Mismatch, "");
  }
  if (declared_md5) {
    std::string md5_hex = blob_->plaintext_md5_hex();
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

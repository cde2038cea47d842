// Receives a PutObject body as it arrives: writes it to a new blob, hashing
// as it goes, and at the end checks it against what the client declared
// (x-amz-content-sha256, Content-MD5, x-amz-checksum-*), so a corrupted
// upload is refused before it becomes visible.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "emulator/auth/aws_chunked.h"
#include "emulator/s3/s3_customer_key.h"
#include "emulator/s3/s3_service.h"
#include "storage/object_store.h"

namespace offcloud {

class UploadReader : public BodyReader {
 public:
  struct Opened {
    std::shared_ptr<UploadReader> reader;  // null: refused
    HttpResponse refusal;
  };
  static Opened open(const S3Call& call, ObjectStore& store);

  std::optional<HttpResponse> consume(std::string_view bytes) override;
  std::optional<HttpResponse> finish() override;

  BlobWriter& blob() { return *blob_; }
  // What the key held when the request began (its blob id, "" for nothing),
  // for a conditional PutObject: WriteCondition::seen.
  const std::optional<std::string>& seen() const { return seen_; }
  // Whether the client declared the body's Content-MD5 or a checksum (in a
  // header or a trailer), as S3 asks of a write with Object Lock.
  bool integrity_declared() const {
    return declared_md5 || declared_checksum || trailing_checksum_;
  }
  // The SSE-C key the request presented: the blob is encrypted with it.
  const s3::CustomerKeyRequest& customer_key() const { return customer_key_; }

 private:
  UploadReader() = default;
  HttpResponse fail(ErrorCode code, std::string message);
  // EntityTooLarge for a body of `proposed` bytes, over s3::kMaxObjectBytes.
  HttpResponse too_large(std::uint64_t proposed) const;
  HttpResponse chunked_failure();

  std::unique_ptr<BlobWriter> blob_;
  std::optional<AwsChunkedDecoder> chunked_;
  std::optional<std::uint64_t> decoded_length_;         // x-amz-decoded-content-length
  std::optional<ChecksumAlgorithm> trailing_checksum_;  // named by x-amz-trailer
  std::string declared_sha256;                          // hex
  std::optional<std::string> declared_md5;              // raw bytes
  std::optional<std::pair<ChecksumAlgorithm, std::string>> declared_checksum;  // base64
  std::optional<std::string> seen_;
  s3::CustomerKeyRequest customer_key_;
  std::string request_id_;
  std::string resource_;
};

}  // namespace offcloud

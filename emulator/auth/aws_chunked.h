// Decodes S3's aws-chunked upload bodies as they stream in:
//   STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: every chunk signed, each
//     signature chained to the previous one, starting from the request's;
//   STREAMING-UNSIGNED-PAYLOAD-TRAILER: plain chunks, then trailing headers
//     (the checksum boto3 and the JS SDK compute while they send).
// Chunk framing: "<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n", ending
// with a zero-size chunk, optional trailer lines and an empty line.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "emulator/auth/signature_v4.h"

namespace offcloud {

class AwsChunkedDecoder {
 public:
  enum class Failure { kNone, kMalformed, kBadSignature };
  using Sink = std::function<void(std::string_view data)>;

  // `signing` set: chunks (and a trailer, if `trailer`) must carry valid
  // signatures. `trailer`: trailing headers follow the last chunk.
  AwsChunkedDecoder(std::optional<ChunkSigning> signing, bool trailer, Sink sink);

  // False on a framing or signature error; failure() says which.
  bool feed(std::string_view bytes);
  // The body ended: true when it ended exactly after a complete message.
  bool finish();

  Failure failure() const { return failure_; }
  const std::string& error() const { return error_; }
  std::uint64_t decoded_size() const { return decoded_; }
  // Trailing headers, names lower-case (x-amz-checksum-crc32, ...).
  const std::vector<std::pair<std::string, std::string>>& trailers() const { return trailers_; }

 private:
  enum class State { kSizeLine, kData, kDataEnd, kTrailer, kDone };
  bool fail(Failure failure, std::string error);
  bool on_size_line(std::string_view line);
  bool on_chunk_end();
  bool on_trailer_line(std::string_view line);

  std::optional<ChunkSigning> signing_;
  bool trailer_;
  Sink sink_;
  State state_ = State::kSizeLine;
  std::string line_;
  std::uint64_t remaining_ = 0;
  std::uint64_t decoded_ = 0;
  std::string chunk_signature_;
  std::string previous_signature_;
  std::optional<StreamingDigest> chunk_hash_;
  std::vector<std::pair<std::string, std::string>> trailers_;
  std::string trailer_signature_;
  Failure failure_ = Failure::kNone;
  std::string error_;
};

}  // namespace offcloud

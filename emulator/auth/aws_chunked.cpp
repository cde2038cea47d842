#include "emulator/auth/aws_chunked.h"

#include "emulator/auth/signature_v4.h"

namespace offcloud {
namespace {

constexpr std::size_t kMaxLine = 4096;
constexpr std::uint64_t kMaxChunk = std::uint64_t{1} << 40;
const std::string kEmptyHash = sha256_hex("");

}  // namespace

AwsChunkedDecoder::AwsChunkedDecoder(std::optional<ChunkSigning> signing, bool trailer, Sink sink)
    : signing_(std::move(signing)), trailer_(trailer), sink_(std::move(sink)) {
  if (signing_) previous_signature_ = signing_->seed_signature;
}

bool AwsChunkedDecoder::fail(Failure failure, std::string error) {
  failure_ = failure;
  error_ = std::move(error);
  return false;
}

bool AwsChunkedDecoder::feed(std::string_view bytes) {
  if (failure_ != Failure::kNone) return false;
  while (!bytes.empty()) {
    switch (state_) {
      case State::kData: {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
        std::string_view data = bytes.substr(0, n);
        if (chunk_hash_) chunk_hash_->update(data);
        sink_(data);
        decoded_ += n;
        remaining_ -= n;
        bytes.remove_prefix(n);
        if (remaining_ == 0) state_ = State::kDataEnd;
        break;
      }
      case State::kDone:
        return fail(Failure::kMalformed, "Data after the end of the aws-chunked body.");
      default: {
        // Line-oriented states: collect up to CRLF.
        std::size_t newline = bytes.find('\n');
        std::string_view piece =
            bytes.substr(0, newline == std::string_view::npos ? bytes.size() : newline + 1);
        bytes.remove_prefix(piece.size());
        line_.append(piece);
        if (line_.size() > kMaxLine) return fail(Failure::kMalformed, "Chunk header too long.");
        if (newline == std::string_view::npos) break;
        if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
          return fail(Failure::kMalformed, "Chunk lines must end with CRLF.");
        }
        std::string line = line_.substr(0, line_.size() - 2);
        line_.clear();
        bool ok = state_ == State::kSizeLine  ? on_size_line(line)
                  : state_ == State::kDataEnd ? (line.empty() ? on_chunk_end()
                                                              : fail(Failure::kMalformed,
                                                                     "Chunk data longer than "
                                                                     "its declared size."))
                                              : on_trailer_line(line);
        if (!ok) return false;
      }
    }
  }
  return true;
}

bool AwsChunkedDecoder::on_size_line(std::string_view line) {
  std::size_t semicolon = line.find(';');
  std::string_view size_text = line.substr(0, semicolon);
  if (size_text.empty() || size_text.size() > 16) {
    return fail(Failure::kMalformed, "Invalid chunk size.");
  }
  std::uint64_t size = 0;
  for (char c : size_text) {
    int digit = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
    if (digit < 0) return fail(Failure::kMalformed, "Invalid chunk size.");
    size = size * 16 + static_cast<std::uint64_t>(digit);
  }
  if (size > kMaxChunk) return fail(Failure::kMalformed, "Chunk too large.");
  chunk_signature_.clear();
  if (semicolon != std::string_view::npos) {
    std::string_view extension = line.substr(semicolon + 1);
    constexpr std::string_view kSignature = "chunk-signature=";
    if (extension.starts_with(kSignature)) {
      chunk_signature_ = std::string(extension.substr(kSignature.size()));
    }
  }
  if (signing_ && chunk_signature_.empty()) {
    return fail(Failure::kBadSignature, "A chunk has no chunk-signature.");
  }
  remaining_ = size;
  if (signing_) chunk_hash_.emplace(StreamingDigest::Algorithm::kSha256);
  if (size > 0) {
    state_ = State::kData;
    return true;
  }
  // The final, empty chunk: signed like the others, then trailing headers
  // (if any) and an empty line.
  if (signing_ && !on_chunk_end()) return false;
  state_ = State::kTrailer;
  return true;
}

bool AwsChunkedDecoder::on_chunk_end() {
  if (signing_ && chunk_hash_) {
    std::string raw = chunk_hash_->finish();
    chunk_hash_.reset();
    std::string to_sign = "AWS4-HMAC-SHA256-PAYLOAD\n" + signing_->amz_date + "\n" +
                          signing_->scope + "\n" + previous_signature_ + "\n" + kEmptyHash + "\n" +
                          hex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size());
    std::string expected = compute_signature(signing_->key, to_sign);
    if (!constant_time_equals(expected, chunk_signature_)) {
      return fail(Failure::kBadSignature, "The chunk signature does not match.");
    }
    previous_signature_ = expected;
  }
  if (state_ == State::kDataEnd) state_ = State::kSizeLine;
  return true;
}

bool AwsChunkedDecoder::on_trailer_line(std::string_view line) {
  if (line.empty()) {
    if (signing_ && trailer_) {
      std::string headers;
      for (const auto& [name, value] : trailers_) headers += name + ":" + value + "\n";
      std::string to_sign = "AWS4-HMAC-SHA256-TRAILER\n" + signing_->amz_date + "\n" +
                            signing_->scope + "\n" + previous_signature_ + "\n" +
                            sha256_hex(headers);
      if (!constant_time_equals(compute_signature(signing_->key, to_sign), trailer_signature_)) {
        return fail(Failure::kBadSignature, "The trailer signature does not match.");
      }
    }
    state_ = State::kDone;
    return true;
  }
  if (!trailer_) return fail(Failure::kMalformed, "Unexpected data after the final chunk.");
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return fail(Failure::kMalformed, "Malformed trailing header.");
  }
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (name == "x-amz-trailer-signature") {
    trailer_signature_ = std::string(value);
  } else if (trailers_.size() < 16) {
    trailers_.emplace_back(std::move(name), std::string(value));
  }
  return true;
}

bool AwsChunkedDecoder::finish() {
  if (failure_ != Failure::kNone) return false;
  if (state_ != State::kDone) return fail(Failure::kMalformed, "The aws-chunked body ended early.");
  return true;
}

}  // namespace offcloud

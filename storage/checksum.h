// The checksums S3 offers besides MD5 (x-amz-checksum-*): CRC32, CRC32C,
// CRC64NVME, SHA1 and SHA256, computed as a body streams through. Values are
// the big-endian digest bytes, base64-encoded, as S3 puts them in headers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/digest.h"

namespace offcloud {

enum class ChecksumAlgorithm { kCrc32, kCrc32c, kCrc64Nvme, kSha1, kSha256 };

// "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256" (case-insensitive).
std::optional<ChecksumAlgorithm> parse_checksum_algorithm(std::string_view name);
std::string_view checksum_name(ChecksumAlgorithm algorithm);  // "CRC32", ...

// The CRC of A followed by B, from the CRCs of A and of B (base64, as
// Checksum::finish_base64 gives them) and B's length, without reading
// either: a FULL_OBJECT multipart checksum from its parts'. nullopt for the
// SHA algorithms and for values that are not CRCs of the algorithm.
std::optional<std::string> combine_crc_base64(ChecksumAlgorithm algorithm, std::string_view a,
                                              std::string_view b, std::uint64_t b_length);

class Checksum {
 public:
  explicit Checksum(ChecksumAlgorithm algorithm);
  ChecksumAlgorithm algorithm() const { return algorithm_; }
  void update(std::string_view data);
  std::string finish_base64();

 private:
  ChecksumAlgorithm algorithm_;
  std::uint64_t crc_ = 0;
  std::optional<StreamingDigest> digest_;
};

}  // namespace offcloud

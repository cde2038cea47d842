// Hash and encoding primitives shared by the server, the storage layer and
// the client library. Thin wrappers over OpenSSL so that no other header has
// to include OpenSSL's.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace offcloud {

using Sha256 = std::array<std::uint8_t, 32>;

Sha256 sha256(std::string_view data);
Sha256 hmac_sha256(std::string_view key, std::string_view data);
// Raw HMAC-SHA1 bytes: only S3's legacy signature (SigV2) uses it.
std::string hmac_sha1(std::string_view key, std::string_view data);
std::array<std::uint8_t, 16> md5(std::string_view data);

// Lower-case hexadecimal, as SigV4 and S3 ETags spell digests.
std::string hex(const std::uint8_t* data, std::size_t size);
template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& digest) {
  return hex(digest.data(), N);
}
std::string sha256_hex(std::string_view data);

std::string base64_encode(std::string_view data);
// Returns false on any character outside the standard alphabet or bad padding.
bool base64_decode(std::string_view text, std::string* out);

// A digest computed piece by piece, for bodies that never sit in memory whole.
class StreamingDigest {
 public:
  enum class Algorithm { kMd5, kSha1, kSha256 };
  explicit StreamingDigest(Algorithm algorithm);
  ~StreamingDigest();
  StreamingDigest(StreamingDigest&& other) noexcept;
  StreamingDigest& operator=(StreamingDigest&&) = delete;

  void update(std::string_view data);
  // The raw digest bytes; the object cannot be updated afterwards.
  std::string finish();

 private:
  void* context_;  // EVP_MD_CTX
};

// Compares in time that depends only on the sizes, so a signature check does
// not leak how many leading bytes of a guess were right.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace offcloud

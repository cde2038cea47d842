#include "storage/checksum.h"

#include <array>

namespace offcloud {
namespace {

// Reflected CRC tables, slice-by-8 so a checksum keeps up with the disk.
template <typename T>
struct CrcTables {
  std::array<std::array<T, 256>, 8> t;
  explicit constexpr CrcTables(T polynomial) : t{} {
    for (unsigned i = 0; i < 256; ++i) {
      T crc = i;
      for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ polynomial : crc >> 1;
      t[0][i] = crc;
    }
    for (unsigned i = 0; i < 256; ++i) {
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
  }
};

constexpr CrcTables<std::uint32_t> kCrc32(0xEDB88320u);
constexpr CrcTables<std::uint32_t> kCrc32c(0x82F63B78u);
constexpr CrcTables<std::uint64_t> kCrc64Nvme(0x9A6C9329AC4BC9B5ull);

template <typename T>
T crc_update(const CrcTables<T>& tables, T crc, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  const auto& t = tables.t;
  while (n >= 8) {
    std::uint64_t word = 0;
    for (int i = 0; i < 8; ++i) word |= std::uint64_t{p[i]} << (8 * i);
    word ^= crc;
    crc = t[7][word & 0xff] ^ t[6][(word >> 8) & 0xff] ^ t[5][(word >> 16) & 0xff] ^
          t[4][(word >> 24) & 0xff] ^ t[3][(word >> 32) & 0xff] ^ t[2][(word >> 40) & 0xff] ^
          t[1][(word >> 48) & 0xff] ^ t[0][word >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xff];
  return crc;
}

std::string big_endian(std::uint64_t value, int bytes) {
  std::string out(static_cast<std::size_t>(bytes), '\0');
  for (int i = bytes - 1; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

std::optional<std::uint64_t> from_big_endian(std::string_view base64, std::size_t bytes) {
  std::string raw;
  if (!base64_decode(base64, &raw) || raw.size() != bytes) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : raw) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

// a(x) * b(x) modulo the polynomial, in the reflected representation the
// tables use (the top bit is x^0), as zlib's crc32_combine computes it.
template <typename T>
T multiply_mod(T a, T b, T polynomial) {
  if (a == 0) return 0;
  T m = T{1} << (sizeof(T) * 8 - 1);
  T product = 0;
  for (;;) {
    if (a & m) {
      product ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1) ? (b >> 1) ^ polynomial : b >> 1;
  }
  return product;
}

// CRC(A || B) = CRC(A) * x^(8 * |B|) + CRC(B): the pre- and post-inversion
// of these CRCs cancel out.
template <typename T>
T combine(T crc_a, T crc_b, std::uint64_t b_length, T polynomial) {
  T one = T{1} << (sizeof(T) * 8 - 1);
  T shift = one;       // x^0
  T power = one >> 8;  // x^8: one byte
  for (std::uint64_t n = b_length; n; n >>= 1) {
    if (n & 1) shift = multiply_mod(shift, power, polynomial);
    power = multiply_mod(power, power, polynomial);
  }
  return multiply_mod(shift, crc_a, polynomial) ^ crc_b;
}

}  // namespace

std::optional<std::string> combine_crc_base64(ChecksumAlgorithm algorithm, std::string_view a,
                                              std::string_view b, std::uint64_t b_length) {
  if (algorithm == ChecksumAlgorithm::kCrc64Nvme) {
    auto crc_a = from_big_endian(a, 8), crc_b = from_big_endian(b, 8);
    if (!crc_a || !crc_b) return std::nullopt;
    return base64_encode(
        big_endian(combine<std::uint64_t>(*crc_a, *crc_b, b_length, 0x9A6C9329AC4BC9B5ull), 8));
  }
  if (algorithm != ChecksumAlgorithm::kCrc32 && algorithm != ChecksumAlgorithm::kCrc32c) {
    return std::nullopt;
  }
  auto crc_a = from_big_endian(a, 4), crc_b = from_big_endian(b, 4);
  if (!crc_a || !crc_b) return std::nullopt;
  std::uint32_t polynomial = algorithm == ChecksumAlgorithm::kCrc32 ? 0xEDB88320u : 0x82F63B78u;
  return base64_encode(
      big_endian(combine<std::uint32_t>(static_cast<std::uint32_t>(*crc_a),
                                        static_cast<std::uint32_t>(*crc_b), b_length, polynomial),
                 4));
}

std::optional<ChecksumAlgorithm> parse_checksum_algorithm(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  if (upper == "CRC32") return ChecksumAlgorithm::kCrc32;
  if (upper == "CRC32C") return ChecksumAlgorithm::kCrc32c;
  if (upper == "CRC64NVME") return ChecksumAlgorithm::kCrc64Nvme;
  if (upper == "SHA1") return ChecksumAlgorithm::kSha1;
  if (upper == "SHA256") return ChecksumAlgorithm::kSha256;
  return std::nullopt;
}

std::string_view checksum_name(ChecksumAlgorithm algorithm) {
  switch (algorithm) {
    case ChecksumAlgorithm::kCrc32:
      return "CRC32";
    case ChecksumAlgorithm::kCrc32c:
      return "CRC32C";
    case ChecksumAlgorithm::kCrc64Nvme:
      return "CRC64NVME";
    case ChecksumAlgorithm::kSha1:
      return "SHA1";
    case ChecksumAlgorithm::kSha256:
      return "SHA256";
  }
  return "";
}

Checksum::Checksum(ChecksumAlgorithm algorithm) : algorithm_(algorithm) {
  if (algorithm == ChecksumAlgorithm::kSha1) {
    digest_.emplace(StreamingDigest::Algorithm::kSha1);
  } else if (algorithm == ChecksumAlgorithm::kSha256) {
    digest_.emplace(StreamingDigest::Algorithm::kSha256);
  } else {
    crc_ = algorithm == ChecksumAlgorithm::kCrc64Nvme ? ~std::uint64_t{0} : 0xffffffffu;
  }
}

void Checksum::update(std::string_view data) {
  switch (algorithm_) {
    case ChecksumAlgorithm::kCrc32:
      crc_ = crc_update<std::uint32_t>(kCrc32, static_cast<std::uint32_t>(crc_), data);
      break;
    case ChecksumAlgorithm::kCrc32c:
      crc_ = crc_update<std::uint32_t>(kCrc32c, static_cast<std::uint32_t>(crc_), data);
      break;
    case ChecksumAlgorithm::kCrc64Nvme:
      crc_ = crc_update<std::uint64_t>(kCrc64Nvme, crc_, data);
      break;
    default:
      digest_->update(data);
  }
}

std::string Checksum::finish_base64() {
  switch (algorithm_) {
    case ChecksumAlgorithm::kCrc32:
    case ChecksumAlgorithm::kCrc32c:
      return base64_encode(big_endian(~crc_ & 0xffffffffu, 4));
    case ChecksumAlgorithm::kCrc64Nvme:
      return base64_encode(big_endian(~crc_, 8));
    default:
      return base64_encode(digest_->finish());
  }
}

}  // namespace offcloud

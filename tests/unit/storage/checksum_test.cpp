#include "storage/checksum.h"

#include <gtest/gtest.h>

namespace offcloud {
namespace {

std::string of(ChecksumAlgorithm algorithm, std::string_view data, std::size_t piece = 0) {
  Checksum checksum(algorithm);
  if (piece == 0) piece = data.size() ? data.size() : 1;
  for (std::size_t i = 0; i < data.size(); i += piece) checksum.update(data.substr(i, piece));
  return checksum.finish_base64();
}

std::string b64(std::initializer_list<unsigned> bytes) {
  std::string raw;
  for (unsigned b : bytes) raw.push_back(static_cast<char>(b));
  return base64_encode(raw);
}

// The standard check values of each CRC over "123456789".
TEST(Checksum, CheckValues) {
  EXPECT_EQ(of(ChecksumAlgorithm::kCrc32, "123456789"), b64({0xCB, 0xF4, 0x39, 0x26}));
  EXPECT_EQ(of(ChecksumAlgorithm::kCrc32c, "123456789"), b64({0xE3, 0x06, 0x92, 0x83}));
  EXPECT_EQ(of(ChecksumAlgorithm::kCrc64Nvme, "123456789"),
            b64({0xAE, 0x8B, 0x14, 0x86, 0x0A, 0x79, 0x98, 0x88}));
  EXPECT_EQ(of(ChecksumAlgorithm::kSha256, ""), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_EQ(of(ChecksumAlgorithm::kSha1, "abc"), "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
  EXPECT_EQ(of(ChecksumAlgorithm::kCrc32, "hello world"), "DUoRhQ==");
}

TEST(Checksum, SameValueWhateverThePieces) {
  std::string data;
  for (int i = 0; i < 100000; ++i) data.push_back(static_cast<char>(i * 31 + 7));
  for (auto algorithm : {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c,
                         ChecksumAlgorithm::kCrc64Nvme, ChecksumAlgorithm::kSha256}) {
    std::string whole = of(algorithm, data);
    for (std::size_t piece : {1u, 3u, 8u, 13u, 4096u}) {
      EXPECT_EQ(of(algorithm, data, piece), whole) << checksum_name(algorithm) << " " << piece;
    }
  }
}

// A FULL_OBJECT multipart checksum: CRC(A || B) from CRC(A), CRC(B), |B|.
TEST(Checksum, CombinesCrcs) {
  std::string data;
  for (int i = 0; i < 70000; ++i) data.push_back(static_cast<char>(i * 131 + 17));
  for (auto algorithm :
       {ChecksumAlgorithm::kCrc32, ChecksumAlgorithm::kCrc32c, ChecksumAlgorithm::kCrc64Nvme}) {
    for (std::size_t split : {0u, 1u, 9u, 4096u, 69999u, 70000u}) {
      std::string_view a = std::string_view(data).substr(0, split);
      std::string_view b = std::string_view(data).substr(split);
      EXPECT_EQ(combine_crc_base64(algorithm, of(algorithm, a), of(algorithm, b), b.size()),
                of(algorithm, data))
          << checksum_name(algorithm) << " " << split;
    }
  }
  EXPECT_EQ(combine_crc_base64(ChecksumAlgorithm::kCrc32, of(ChecksumAlgorithm::kCrc32, "1234"),
                               of(ChecksumAlgorithm::kCrc32, "56789"), 5),
            b64({0xCB, 0xF4, 0x39, 0x26}));
  EXPECT_FALSE(combine_crc_base64(ChecksumAlgorithm::kSha256, "", "", 0));
  EXPECT_FALSE(combine_crc_base64(ChecksumAlgorithm::kCrc32, "not base64!", "AAAAAA==", 1));
}

TEST(Checksum, Names) {
  EXPECT_EQ(parse_checksum_algorithm("crc32c"), ChecksumAlgorithm::kCrc32c);
  EXPECT_EQ(parse_checksum_algorithm("CRC64NVME"), ChecksumAlgorithm::kCrc64Nvme);
  EXPECT_FALSE(parse_checksum_algorithm("md5"));
  EXPECT_EQ(checksum_name(ChecksumAlgorithm::kSha1), "SHA1");
}

}  // namespace
}  // namespace offcloud

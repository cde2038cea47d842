#include "storage/customer_key.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "storage/digest.h"
#include "storage/object_store.h"
#include "tests/unit/scratch_dir_test.h"

namespace offcloud {
namespace {

std::string unhex(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string hex_of(std::string_view raw) {
  return hex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size());
}

const CustomerKey& test_key() {
  static const CustomerKey key(std::string(kCustomerKeyBytes, 'k'));
  return key;
}

std::string pattern(std::size_t n) {
  std::string data(n, '\0');
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return data;
}

// NIST SP 800-38A, F.5.5 CTR-AES256.Encrypt.
TEST(CustomerCipher, NistVector) {
  CustomerKey key(unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"));
  CustomerCipher cipher(key, {{0, unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")}});
  std::string data = unhex(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
  cipher.apply(0, data.data(), data.size());
  EXPECT_EQ(hex_of(data),
            "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
            "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6");
}

// Any range decrypts alone, wherever it starts and ends within a block, and
// whichever IV (the counter carries across its 64-bit halves and wraps).
TEST(CustomerCipher, RangesOffBlockBoundaries) {
  const std::string plain = pattern(5000);
  for (std::string iv : {std::string(16, '\x01'), unhex("0000000000000000ffffffffffffffff"),
                         std::string(16, '\xff')}) {
    std::string whole = plain;
    CustomerCipher(test_key(), {{0, iv}}).apply(0, whole.data(), whole.size());
    ASSERT_NE(whole, plain);
    for (auto [first, length] : std::initializer_list<std::pair<std::size_t, std::size_t>>{
             {0, 1}, {1, 15}, {5, 100}, {15, 2}, {16, 16}, {17, 33}, {4095, 905}, {4999, 1}}) {
      std::string piece = whole.substr(first, length);
      CustomerCipher(test_key(), {{0, iv}}).apply(first, piece.data(), piece.size());
      EXPECT_EQ(piece, plain.substr(first, length)) << first << "+" << length;
    }
    // One cipher, read in odd pieces and out of order.
    CustomerCipher reader(test_key(), {{0, iv}});
    std::string again = whole;
    for (std::size_t at = 0; at < again.size(); at += 7) {
      reader.apply(at, again.data() + at, std::min<std::size_t>(7, again.size() - at));
    }
    EXPECT_EQ(again, plain);
  }
}

// A multipart object: each part from its own IV, read across the joins.
TEST(CustomerCipher, Segments) {
  const std::string plain = pattern(3000);
  std::string iv1(16, 'a'), iv2(16, 'b'), iv3(16, 'c');
  std::string expected = plain;
  CustomerCipher(test_key(), {{0, iv1}}).apply(0, expected.data(), 1000);
  CustomerCipher(test_key(), {{0, iv2}}).apply(0, expected.data() + 1000, 1001);
  CustomerCipher(test_key(), {{0, iv3}}).apply(0, expected.data() + 2001, 999);
  CustomerCipher joined(test_key(), {{0, iv1}, {1000, iv2}, {2001, iv3}});
  std::string whole = plain;
  joined.apply(0, whole.data(), whole.size());
  EXPECT_EQ(whole, expected);
  for (auto [first, length] : std::initializer_list<std::pair<std::size_t, std::size_t>>{
           {990, 20}, {999, 1003}, {1000, 1}, {2000, 2}, {13, 2980}}) {
    std::string piece = expected.substr(first, length);
    joined.apply(first, piece.data(), piece.size());
    EXPECT_EQ(piece, plain.substr(first, length)) << first << "+" << length;
  }
}

TEST(CustomerKeyRecord, VerifiesWithoutKeepingTheKey) {
  CustomerKeyRecord record = CustomerKeyRecord::for_key(test_key(), "md5==");
  record.ivs = {std::string(16, 'x'), std::string(16, 'y')};
  std::string text = record.encode();
  EXPECT_EQ(text.find(std::string(test_key().bytes())), std::string::npos);
  EXPECT_EQ(text.find(hex_of(test_key().bytes())), std::string::npos);
  EXPECT_EQ(text.find(base64_encode(test_key().bytes())), std::string::npos);
  CustomerKeyRecord back = CustomerKeyRecord::decode(text);
  EXPECT_TRUE(back.matches(test_key()));
  EXPECT_FALSE(back.matches(CustomerKey(std::string(kCustomerKeyBytes, 'l'))));
  EXPECT_EQ(back.key_md5, "md5==");
  EXPECT_EQ(back.ivs, record.ivs);
  // Another record of the same key has another salt, so another HMAC.
  EXPECT_NE(CustomerKeyRecord::for_key(test_key(), "md5==").hmac, record.hmac);
  EXPECT_TRUE(CustomerKeyRecord::decode("").empty());
  EXPECT_THROW(CustomerKeyRecord::decode("a:b:c:zz"), std::exception);
}

class EncryptedBlobTest : public ScratchDirTest {};

// The store's writer encrypts before the file, its reader decrypts any range.
TEST_F(EncryptedBlobTest, PlaintextNeverOnDisk) {
  ObjectStore store((dir_ / "s3").string());
  ASSERT_EQ(store.create_bucket("b", "us-east-1", "000000000000"), ObjectStore::Status::kOk);
  const std::string plain = std::string("SECRET-PLAINTEXT-") + pattern(3 << 20);
  auto blob = store.new_blob();
  blob->encrypt(test_key(), true);
  blob->add_checksum(ChecksumAlgorithm::kCrc32);
  for (std::size_t at = 0; at < plain.size(); at += 100000) blob->write(plain.substr(at, 100000));
  blob->close();
  auto plain_md5 = md5(plain);
  EXPECT_EQ(blob->plaintext_md5_hex(), hex(plain_md5));
  EXPECT_NE(blob->md5_hex(), hex(plain_md5));  // the ETag is not the data's MD5
  Checksum crc(ChecksumAlgorithm::kCrc32);
  crc.update(plain);
  EXPECT_EQ(blob->checksums().at(0).second, crc.finish_base64());
  ObjectInfo info;
  info.key = "k";
  info.customer_key = CustomerKeyRecord::for_key(test_key(), "md5");
  info.customer_key.ivs = {blob->iv()};
  ASSERT_EQ(store.put_object("b", info, *blob), ObjectStore::Status::kOk);

  bool found_blob = false;
  for (const auto& file : std::filesystem::recursive_directory_iterator(dir_)) {
    if (!file.is_regular_file()) continue;
    std::ifstream in(file.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("SECRET-PLAINTEXT-"), std::string::npos) << file.path();
    found_blob = found_blob || bytes.size() == plain.size();
  }
  EXPECT_TRUE(found_blob);

  for (auto [first, length] : std::initializer_list<std::pair<std::uint64_t, std::uint64_t>>{
           {0, 17}, {3, 1 << 20}, {(1 << 20) + 5, 77}, {plain.size() - 9, 9}}) {
    auto opened = store.open_object("b", "k", first, length);
    ASSERT_TRUE(opened);
    ASSERT_FALSE(opened->first.customer_key.empty());
    opened->second->decrypt(ObjectStore::customer_cipher(opened->first, test_key()));
    std::string out(length, '\0');
    std::size_t done = 0;
    while (std::size_t n = opened->second->read(out.data() + done, out.size() - done)) done += n;
    EXPECT_EQ(out, plain.substr(first, length)) << first;
  }
}

}  // namespace
}  // namespace offcloud

#include "storage/customer_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "storage/digest.h"

namespace offcloud {
namespace {

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("no random bytes for SSE-C");
  }
  return out;
}

std::string key_hmac(std::string_view salt_hex, const CustomerKey& key) {
  return hex(hmac_sha256(salt_hex, key.bytes()));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Raw bytes of lower-case hex; throws on anything else (a corrupt index).
std::string unhex(std::string_view text) {
  if (text.size() % 2) throw std::runtime_error("bad SSE-C record");
  std::string out(text.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    int high = hex_digit(text[2 * i]), low = hex_digit(text[2 * i + 1]);
    if (high < 0 || low < 0) throw std::runtime_error("bad SSE-C record");
    out[i] = static_cast<char>(high << 4 | low);
  }
  return out;
}

}  // namespace

CustomerKey::CustomerKey(std::string_view raw) {
  if (raw.size() != kCustomerKeyBytes) throw std::invalid_argument("SSE-C key of the wrong size");
  std::memcpy(raw_, raw.data(), kCustomerKeyBytes);
}

CustomerKey::~CustomerKey() {
  OPENSSL_cleanse(raw_, sizeof raw_);
}

CustomerKeyRecord CustomerKeyRecord::for_key(const CustomerKey& key, std::string key_md5) {
  CustomerKeyRecord record;
  record.key_md5 = std::move(key_md5);
  std::string salt = random_bytes(16);
  record.salt = hex(reinterpret_cast<const std::uint8_t*>(salt.data()), salt.size());
  record.hmac = key_hmac(record.salt, key);
  return record;
}

bool CustomerKeyRecord::matches(const CustomerKey& key) const {
  return !empty() && constant_time_equals(key_hmac(salt, key), hmac);
}

std::string CustomerKeyRecord::encode() const {
  if (empty()) return "";
  // Base64 and hex hold no ':' or ','.
  std::string text = key_md5 + ":" + salt + ":" + hmac + ":";
  for (std::size_t i = 0; i < ivs.size(); ++i) {
    if (i) text += ',';
    text += encode_customer_iv(ivs[i]);
  }
  return text;
}

CustomerKeyRecord CustomerKeyRecord::decode(std::string_view text) {
  CustomerKeyRecord record;
  if (text.empty()) return record;
  std::string_view fields[4];
  for (int i = 0; i < 3; ++i) {
    std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) throw std::runtime_error("bad SSE-C record");
    fields[i] = text.substr(0, colon);
    text.remove_prefix(colon + 1);
  }
  fields[3] = text;
  record.key_md5 = std::string(fields[0]);
  record.salt = std::string(fields[1]);
  record.hmac = std::string(fields[2]);
  for (std::string_view ivs = fields[3]; !ivs.empty();) {
    std::size_t comma = ivs.find(',');
    record.ivs.push_back(decode_customer_iv(ivs.substr(0, comma)));
    ivs = comma == std::string_view::npos ? std::string_view() : ivs.substr(comma + 1);
  }
  return record;
}

std::string new_customer_iv() {
  return random_bytes(kCustomerIvBytes);
}

std::string encode_customer_iv(std::string_view raw) {
  return hex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size());
}

std::string decode_customer_iv(std::string_view text) {
  std::string iv = unhex(text);
  if (!iv.empty() && iv.size() != kCustomerIvBytes) throw std::runtime_error("bad SSE-C IV");
  return iv;
}

CustomerCipher::CustomerCipher(const CustomerKey& key, std::vector<Segment> segments)
    : key_(key), segments_(std::move(segments)), context_(EVP_CIPHER_CTX_new()) {
  if (!context_) throw std::bad_alloc();
  for (const Segment& segment : segments_) {
    if (segment.iv.size() != kCustomerIvBytes) throw std::invalid_argument("bad SSE-C IV");
  }
  if (segments_.empty() || segments_.front().start != 0) {
    throw std::invalid_argument("SSE-C segments must start at 0");
  }
}

CustomerCipher::~CustomerCipher() {
  EVP_CIPHER_CTX_free(static_cast<EVP_CIPHER_CTX*>(context_));
}

void CustomerCipher::seek(std::size_t index, std::uint64_t position) {
  // The counter block for `position`: the IV plus the block number, as a
  // 128-bit big-endian sum (OpenSSL's CTR increments the same way).
  std::uint64_t offset = position - segments_[index].start;
  unsigned char counter[kCustomerIvBytes];
  std::memcpy(counter, segments_[index].iv.data(), kCustomerIvBytes);
  std::uint64_t carry = offset / 16;
  for (int i = kCustomerIvBytes - 1; i >= 0 && carry; --i) {
    std::uint64_t sum = counter[i] + (carry & 0xff);
    counter[i] = static_cast<unsigned char>(sum);
    carry = (carry >> 8) + (sum >> 8);
  }
  auto* context = static_cast<EVP_CIPHER_CTX*>(context_);
  if (EVP_EncryptInit_ex(context, EVP_aes_256_ctr(), nullptr,
                         reinterpret_cast<const unsigned char*>(key_.bytes().data()),
                         counter) != 1) {
    throw std::runtime_error("AES-256-CTR init failed");
  }
  // Into the block: the keystream bytes before `position` are spent.
  if (std::size_t skip = offset % 16) {
    unsigned char scratch[16] = {};
    int out = 0;
    EVP_EncryptUpdate(context, scratch, &out, scratch, static_cast<int>(skip));
  }
  segment_ = index;
  next_ = position;
}

void CustomerCipher::apply(std::uint64_t position, char* data, std::size_t n) {
  auto* context = static_cast<EVP_CIPHER_CTX*>(context_);
  while (n > 0) {
    // The segment holding `position`: the last that starts at or before it.
    auto after = std::upper_bound(
        segments_.begin(), segments_.end(), position,
        [](std::uint64_t at, const Segment& segment) { return at < segment.start; });
    std::size_t index = static_cast<std::size_t>(after - segments_.begin()) - 1;
    std::uint64_t end = after == segments_.end() ? UINT64_MAX : after->start;
    if (index != segment_ || position != next_) seek(index, position);
    std::size_t count = static_cast<std::size_t>(std::min<std::uint64_t>(n, end - position));
    count = std::min<std::size_t>(count, 1 << 30);  // EVP takes an int
    auto* bytes = reinterpret_cast<unsigned char*>(data);
    int out = 0;
    if (EVP_EncryptUpdate(context, bytes, &out, bytes, static_cast<int>(count)) != 1) {
      throw std::runtime_error("AES-256-CTR failed");
    }
    position += count;
    next_ = position;
    data += count;
    n -= count;
  }
}

}  // namespace offcloud

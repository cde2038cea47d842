// SSE-C at rest: objects encrypted with a key the client presents on every
// request (S3's "server-side encryption with customer-provided keys"). The
// bytes go to disk as AES-256-CTR ciphertext under a random IV per object,
// or per part of a multipart object; CTR lets a ranged read start anywhere
// without reading what comes before. The key itself is never stored: the
// index keeps a salted HMAC of it, enough to tell the right key from a
// wrong one, as S3 does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace offcloud {

inline constexpr std::size_t kCustomerKeyBytes = 32;  // AES-256
inline constexpr std::size_t kCustomerIvBytes = 16;   // one AES block: the first counter

// A client's key, 32 raw bytes; wiped when destroyed.
class CustomerKey {
 public:
  // `raw` must be kCustomerKeyBytes long (the caller checked it).
  explicit CustomerKey(std::string_view raw);
  ~CustomerKey();
  CustomerKey(const CustomerKey& other) : CustomerKey(other.bytes()) {}
  CustomerKey& operator=(const CustomerKey&) = delete;
  std::string_view bytes() const { return {raw_, kCustomerKeyBytes}; }

 private:
  char raw_[kCustomerKeyBytes];
};

// What the index keeps of an SSE-C object, upload or part: never the key.
struct CustomerKeyRecord {
  std::string key_md5;  // base64, as the client sent it; responses echo it
  std::string salt;     // hex, random per record
  std::string hmac;     // hex HMAC-SHA256 keyed by the salt, of the key
  // Raw IVs: one per part of a multipart object (in part order), else one.
  std::vector<std::string> ivs;

  bool empty() const { return hmac.empty(); }
  // A new record (fresh salt, no IVs) for `key`.
  static CustomerKeyRecord for_key(const CustomerKey& key, std::string key_md5);
  // Whether `key` is the key this record was made for (constant time).
  bool matches(const CustomerKey& key) const;
  // "" for an empty record; the index column's text.
  std::string encode() const;
  static CustomerKeyRecord decode(std::string_view text);
};

// kCustomerIvBytes random bytes.
std::string new_customer_iv();
// An IV as the index keeps it (hex; "" for none), and back (throws on a
// corrupt one).
std::string encode_customer_iv(std::string_view raw);
std::string decode_customer_iv(std::string_view text);

// The AES-256-CTR keystream of an object laid out in segments (its parts),
// each from its own IV, applied at any byte offset of the object.
class CustomerCipher {
 public:
  struct Segment {
    std::uint64_t start = 0;  // offset in the object; the first is 0
    std::string iv;           // raw
  };
  CustomerCipher(const CustomerKey& key, std::vector<Segment> segments);
  ~CustomerCipher();
  CustomerCipher(const CustomerCipher&) = delete;
  CustomerCipher& operator=(const CustomerCipher&) = delete;

  // XORs data[0, n) with the keystream at object offset `position`, in
  // place: encrypts plaintext and decrypts ciphertext alike.
  void apply(std::uint64_t position, char* data, std::size_t n);

 private:
  // Points the context at `position` of segment `index`.
  void seek(std::size_t index, std::uint64_t position);

  CustomerKey key_;
  std::vector<Segment> segments_;
  void* context_;  // EVP_CIPHER_CTX
  std::size_t segment_ = SIZE_MAX;
  std::uint64_t next_ = 0;  // the object offset the context continues at
};

}  // namespace offcloud

#include "emulator/iam/iam_ids.h"

#include <openssl/rand.h>

#include <stdexcept>
#include <string_view>

namespace offcloud {
namespace {

// Secrets come from OpenSSL's generator: they guard real access.
std::string random_text(std::string_view alphabet, std::size_t length) {
  std::string bytes(length, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(length)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  std::string out;
  out.reserve(length);
  for (char byte : bytes)
    out.push_back(alphabet[static_cast<unsigned char>(byte) % alphabet.size()]);
  return out;
}

constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string new_user_id() {
  return "AIDA" + random_text(kBase32, 17);
}

std::string new_policy_id() {
  return "ANPA" + random_text(kBase32, 17);
}

std::string new_access_key_id() {
  return "AKIA" + random_text(kBase32, 16);
}

std::string new_secret_access_key() {
  return random_text(kBase64, 40);
}

}  // namespace offcloud

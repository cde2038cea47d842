#include "emulator/s3/s3_customer_key.h"

#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_encryption.h"
#include "storage/digest.h"

namespace offcloud::s3 {
namespace {

constexpr std::string_view kAlgorithm = "x-amz-server-side-encryption-customer-algorithm";
constexpr std::string_view kKey = "x-amz-server-side-encryption-customer-key";
constexpr std::string_view kKeyMd5 = "x-amz-server-side-encryption-customer-key-MD5";
// x-amz-copy-source-server-side-encryption-customer-algorithm, ...
constexpr std::string_view kCopySource = "x-amz-copy-source-";

HttpResponse invalid(const S3Call& call, ErrorCode code, std::string message,
                     std::string value = "null") {
  // S3 names the encryption header whichever of the trio was wrong.
  return error(call, code, std::move(message),
               {{"ArgumentName", std::string(kSseHeader)}, {"ArgumentValue", std::move(value)}});
}

std::string md5_base64(std::string_view data) {
  auto digest = md5(data);
  return base64_encode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

}  // namespace

std::optional<HttpResponse> read_customer_key(const S3Call& call, bool copy_source,
                                              CustomerKeyRequest* out) {
  const Headers& headers = call.http.headers;
  // Plain requests look the names up as they are, without a copy.
  auto find = [&](std::string_view name) {
    if (!copy_source) return headers.find(name);
    return headers.find(std::string(kCopySource) + std::string(name.substr(6)));  // no "x-amz-"
  };
  const std::string* algorithm = find(kAlgorithm);
  const std::string* key = find(kKey);
  const std::string* key_md5 = find(kKeyMd5);
  if (!algorithm && !key && !key_md5) return std::nullopt;
  constexpr std::string_view kPrefix =
      "Requests specifying Server Side Encryption with Customer provided keys must provide ";
  if (!copy_source) {
    if (const std::string* sse = headers.find(kSseHeader)) {
      return invalid(call, ErrorCode::kInvalidArgument,
                     "Server Side Encryption with Customer provided key is incompatible with "
                     "the encryption method specified",
                     *sse);
    }
  }
  if (!algorithm) {
    return invalid(call, ErrorCode::kInvalidArgument,
                   std::string(kPrefix) + "a valid encryption algorithm.");
  }
  if (*algorithm != "AES256") {
    return invalid(call, ErrorCode::kInvalidEncryptionAlgorithmError, "", *algorithm);
  }
  if (!key) {
    return invalid(call, ErrorCode::kInvalidArgument,
                   std::string(kPrefix) + "an appropriate secret key.");
  }
  std::string raw;
  bool decoded = base64_decode(*key, &raw);
  // The MD5 is checked before the key's length, as S3 does.
  std::string computed = md5_base64(raw);
  if (key_md5 && (!decoded || *key_md5 != computed)) {
    return invalid(call, ErrorCode::kInvalidArgument,
                   "The calculated MD5 hash of the key did not match the hash that was "
                   "provided.");
  }
  if (!decoded || raw.size() != kCustomerKeyBytes) {
    return invalid(call, ErrorCode::kInvalidArgument,
                   "The secret key was invalid for the specified algorithm.");
  }
  out->key.emplace(raw);
  out->key_md5 = key_md5 ? *key_md5 : computed;
  std::fill(raw.begin(), raw.end(), '\0');
  return std::nullopt;
}

std::optional<HttpResponse> check_customer_key(const S3Call& call, const ObjectInfo& object,
                                               const CustomerKeyRequest& given) {
  if (object.customer_key.empty()) {
    if (!given.present()) return std::nullopt;
    return error(call, ErrorCode::kInvalidRequest,
                 "The encryption parameters are not applicable to this object.");
  }
  if (!given.present()) {
    return error(call, ErrorCode::kInvalidRequest,
                 "The object was stored using a form of Server Side Encryption. The correct "
                 "parameters must be provided to retrieve the object.");
  }
  if (!object.customer_key.matches(*given.key)) {
    return error(call, ErrorCode::kAccessDenied,
                 "Requests specifying Server Side Encryption with Customer provided keys must "
                 "provide the correct secret key.");
  }
  return std::nullopt;
}

std::optional<HttpResponse> check_upload_key(const S3Call& call, const UploadInfo& upload,
                                             const CustomerKeyRequest& given) {
  const CustomerKeyRecord& record = upload.attributes.customer_key;
  if (record.empty() != !given.present()) {
    return error(call, ErrorCode::kInvalidRequest,
                 "The multipart upload initiate requested encryption. Subsequent part requests "
                 "must include the appropriate encryption parameters.");
  }
  if (given.present() && !record.matches(*given.key)) {
    return error(call, ErrorCode::kInvalidRequest,
                 "The provided encryption parameters did not match the ones used originally.");
  }
  return std::nullopt;
}

void decrypt_with(const ObjectInfo& object, const CustomerKeyRequest& given, BlobReader& reader) {
  if (object.customer_key.empty() || !given.present()) return;
  reader.decrypt(ObjectStore::customer_cipher(object, *given.key));
}

void add_customer_key_headers(std::string_view key_md5, HttpResponse* response) {
  response->headers.add(std::string(kAlgorithm), "AES256");
  response->headers.add(std::string(kKeyMd5), std::string(key_md5));
}

}  // namespace offcloud::s3

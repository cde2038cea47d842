// Which server-side encryption a new object gets: the request's
// x-amz-server-side-encryption headers, else the bucket's default
// encryption, else SSE-S3 (AES256), which AWS applies to every new object.
#include "emulator/s3/s3_encryption.h"

#include "emulator/s3/s3_bucket_config.h"
#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_customer_key.h"
#include "emulator/s3/s3_service.h"

namespace offcloud {
namespace s3 {

void add_encryption_headers(const ObjectInfo& info, HttpResponse* response) {
  if (response->headers.find(kSseHeader)) return;
  if (!info.customer_key.empty()) {  // SSE-C: its own headers, no SSE-S3 one
    add_customer_key_headers(info.customer_key.key_md5, response);
    return;
  }
  bool any = false;
  for (const auto& [name, value] : info.headers) {
    if (iequals(std::string_view(name).substr(0, kSseHeader.size()), kSseHeader)) {
      response->headers.add(name, value);
      any = true;
    }
  }
  if (!any) response->headers.add(std::string(kSseHeader), "AES256");
}

}  // namespace s3

namespace {

bool is_kms(std::string_view algorithm) {
  return algorithm == "aws:kms" || algorithm == "aws:kms:dsse";
}

// Drops the x-amz-server-side-encryption* headers `headers` holds.
void erase_encryption_headers(HeaderList* headers) {
  std::erase_if(*headers, [](const auto& header) {
    return iequals(std::string_view(header.first).substr(0, s3::kSseHeader.size()), s3::kSseHeader);
  });
}

}  // namespace

std::optional<HttpResponse> S3Service::apply_encryption(S3Call& call, ObjectInfo* info,
                                                        const s3::CustomerKeyRequest* customer) {
  const Headers& headers = call.http.headers;
  // SSE-C (read_customer_key refused it beside these headers): the bucket's
  // default does not apply, as S3 does not apply it to SSE-C objects.
  info->customer_key = {};
  if (customer && customer->present()) {
    erase_encryption_headers(&info->headers);
    info->customer_key = customer->record();
    return std::nullopt;
  }
  const std::string* algorithm = headers.find(s3::kSseHeader);
  const std::string* key = headers.find(s3::kSseKeyHeader);
  const std::string* bucket_key = headers.find(s3::kSseBucketKeyHeader);
  auto invalid = [&](std::string message, std::string_view name, const std::string& value) {
    return s3::error(call, ErrorCode::kInvalidArgument, std::move(message),
                     {{"ArgumentName", std::string(name)}, {"ArgumentValue", value}});
  };
  s3::BucketEncryption chosen;
  if (algorithm) {
    if (*algorithm != "AES256" && !is_kms(*algorithm)) {
      return invalid("The encryption method specified is not supported", s3::kSseHeader,
                     *algorithm);
    }
    chosen.algorithm = *algorithm;
  } else if (call.bucket_state && call.bucket_state->encryption) {
    chosen = *call.bucket_state->encryption;
  }
  if (key) {
    if (!algorithm || !is_kms(*algorithm)) {
      return invalid(
          "Server Side Encryption with AWS KMS managed key requires HTTP header "
          "x-amz-server-side-encryption : aws:kms",
          s3::kSseHeader, algorithm ? *algorithm : std::string("null"));
    }
    chosen.kms_key_id = *key;
  }
  if (bucket_key) {
    if (!iequals(*bucket_key, "true") && !iequals(*bucket_key, "false")) {
      return invalid("Invalid bucket key enabled value", s3::kSseBucketKeyHeader, *bucket_key);
    }
    chosen.bucket_key_enabled = iequals(*bucket_key, "true");
  }
  // A copy's source carried its own; the new object's are decided here.
  erase_encryption_headers(&info->headers);
  info->headers.emplace_back(std::string(s3::kSseHeader), chosen.algorithm);
  if (is_kms(chosen.algorithm)) {
    const BucketInfo* bucket = call.bucket_state ? &call.bucket_state->info : nullptr;
    std::string prefix = "arn:aws:kms:" + (bucket ? bucket->region : std::string("us-east-1")) +
                         ":" + (bucket ? bucket->owner : std::string(kAccountId)) + ":";
    // S3 names the key by its ARN; without one, the account's AWS managed key.
    std::string& id = chosen.kms_key_id;
    if (id.empty()) id = "alias/aws/s3";
    if (!id.starts_with("arn:")) id = prefix + (id.starts_with("alias/") ? id : "key/" + id);
    info->headers.emplace_back(std::string(s3::kSseKeyHeader), id);
  }
  if (chosen.bucket_key_enabled && is_kms(chosen.algorithm)) {
    info->headers.emplace_back(std::string(s3::kSseBucketKeyHeader), "true");
  }
  return std::nullopt;
}

}  // namespace offcloud

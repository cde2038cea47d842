// S3's legacy query-string signature (SigV2): the presigned URLs that
// `aws s3 presign` (CLI v1) and boto3's default S3 presigning still make,
// with AWSAccessKeyId, Expires and an HMAC-SHA1 Signature. Only presigned
// URLs: every current SDK signs requests themselves with SigV4.
#pragma once

#include <chrono>
#include <optional>

#include "emulator/auth/credential_store.h"
#include "emulator/auth/sigv4_verifier.h"
#include "emulator/http/http_types.h"
#include "emulator/http/uri.h"

namespace offcloud {

bool is_sigv2_presigned(const QueryParams& query);

// The bucket a virtual-hosted S3 request names in its Host header
// ("bucket.localhost:4566", "bucket.s3.<anything>"), or empty.
std::string s3_virtual_host_bucket(std::string_view host);

std::optional<AuthFailure> verify_sigv2_presigned(const HttpRequest& request,
                                                  const QueryParams& query,
                                                  const CredentialStore& credentials,
                                                  std::chrono::system_clock::time_point now,
                                                  Principal* principal);

}  // namespace offcloud

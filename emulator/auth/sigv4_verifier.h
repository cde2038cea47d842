// Decides whether a SigV4-signed request is authentic: the key exists and is
// active, the credential scope matches the request date, the time is within
// AWS's window, and the signature matches the one offcloud computes. For S3
// the signature covers the declared payload hash; whether the body matches
// it is for S3 to check as the body arrives. Knows
// nothing of protocols: auth_errors.h turns a failure into each service's error.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "emulator/auth/credential_store.h"
#include "emulator/auth/signature_v4.h"

namespace offcloud {

enum class AuthFailureKind {
  kMalformed,             // the signature parameters cannot be read
  kUnknownKey,            // no such access key, or it is inactive
  kInvalidToken,          // the session token does not belong to the key
  kBadScope,              // scope date differs from X-Amz-Date, or bad terminator
  kSkewed,                // X-Amz-Date more than 15 minutes from now
  kExpired,               // a presigned URL past X-Amz-Expires
  kSignatureMismatch,     // the signatures differ
  kMissingContentSha256,  // S3 requires x-amz-content-sha256
};

struct AuthFailure {
  AuthFailureKind kind;
  std::string message;  // in the words of AWS's JSON services
  // For kSignatureMismatch: what offcloud signed, so users can debug their
  // signer (S3 returns both in the error body).
  std::string canonical_request;
  std::string string_to_sign;
  std::string server_time;  // yyyymmddThhmmssZ, for skew and expiry errors
};

class SigV4Verifier {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  static constexpr std::chrono::minutes kMaxSkew{15};
  static constexpr std::int64_t kMaxPresignedExpiry = 7 * 24 * 3600;

  explicit SigV4Verifier(const CredentialStore& credentials,
                         Clock clock = &std::chrono::system_clock::now);

  // `query` is the request's decoded query; `s3` selects S3's rules for the
  // canonical path and the payload hash. On success fills `principal`, and
  // `signing` when given (for aws-chunked bodies).
  std::optional<AuthFailure> verify(const HttpRequest& request, const QueryParams& query,
                                    const SigV4Params& params, bool s3, Principal* principal,
                                    ChunkSigning* signing = nullptr);

 private:
  // Signing keys change once a day per (secret, region, service): cached.
  Sha256 signing_key(const std::string& secret, const SigV4Params& params);

  const CredentialStore& credentials_;
  Clock clock_;
  std::mutex cache_mutex_;
  std::unordered_map<std::string, Sha256> key_cache_;
};

// yyyymmddThhmmssZ <-> time point; nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view text);
std::string format_amz_date(std::chrono::system_clock::time_point time);

}  // namespace offcloud

#include "emulator/auth/sigv4_verifier.h"

#include <ctime>

namespace offcloud {
namespace {

bool all_digits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int number(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

AuthFailure failure(AuthFailureKind kind, std::string message) {
  return AuthFailure{kind, std::move(message), {}, {}, {}};
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z' || !all_digits(text.substr(0, 8)) ||
      !all_digits(text.substr(9, 6))) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = number(text.substr(0, 4)) - 1900;
  tm.tm_mon = number(text.substr(4, 2)) - 1;
  tm.tm_mday = number(text.substr(6, 2));
  tm.tm_hour = number(text.substr(9, 2));
  tm.tm_min = number(text.substr(11, 2));
  tm.tm_sec = number(text.substr(13, 2));
  // Years past 2199 are refused like any malformed date: a signature that
  // far from now fails the skew check anyway, and the clock's nanoseconds
  // (and expiry arithmetic on them) overflow past 2262.
  if (tm.tm_year < 70 || tm.tm_year > 299 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string format_amz_date(std::chrono::system_clock::time_point time) {
  std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[17];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &tm);
  return buffer;
}

SigV4Verifier::SigV4Verifier(const CredentialStore& credentials, Clock clock)
    : credentials_(credentials), clock_(std::move(clock)) {}

Sha256 SigV4Verifier::signing_key(const std::string& secret, const SigV4Params& params) {
  std::string cache_key = secret;
  for (const std::string* part : {&params.date, &params.region, &params.service}) {
    cache_key.push_back('\0');
    cache_key += *part;
  }
  std::lock_guard lock(cache_mutex_);
  auto it = key_cache_.find(cache_key);
  if (it != key_cache_.end()) return it->second;
  // Bounded: a flood of made-up regions must not grow memory without end.
  if (key_cache_.size() >= 4096) key_cache_.clear();
  Sha256 key = derive_signing_key(secret, params.date, params.region, params.service);
  key_cache_.emplace(std::move(cache_key), key);
  return key;
}

std::optional<AuthFailure> SigV4Verifier::verify(const HttpRequest& request,
                                                 const QueryParams& query,
                                                 const SigV4Params& params, bool s3,
                                                 Principal* principal, ChunkSigning* signing) {
  std::optional<Credential> credential = credentials_.find(params.access_key_id);
  if (!credential || !credential->active) {
    return failure(AuthFailureKind::kUnknownKey,
                   "The security token included in the request is invalid.");
  }
  if (credential->session_token && params.security_token != credential->session_token) {
    return failure(AuthFailureKind::kInvalidToken,
                   "The security token included in the request is invalid.");
  }

  auto signed_at = parse_amz_date(params.amz_date);
  if (!signed_at) {
    return failure(AuthFailureKind::kMalformed,
                   "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  }
  if (params.date != params.amz_date.substr(0, 8)) {
    return failure(AuthFailureKind::kBadScope,
                   "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                   "date from HTTP: '" +
                       params.date + "' != '" + params.amz_date.substr(0, 8) + "', from '" +
                       params.amz_date + "'.");
  }
  if (params.terminator != "aws4_request") {
    return failure(AuthFailureKind::kBadScope,
                   "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                       params.terminator + "'.");
  }

  auto now = clock_();
  std::string now_text = format_amz_date(now);
  if (params.presigned) {
    std::int64_t expires = params.expires_s.value_or(kMaxPresignedExpiry);
    if (expires < 1 || expires > kMaxPresignedExpiry) {
      return failure(AuthFailureKind::kMalformed,
                     "X-Amz-Expires must be between 1 and 604800 seconds.");
    }
    if (now > *signed_at + std::chrono::seconds(expires)) {
      AuthFailure expired = failure(AuthFailureKind::kExpired, "Request has expired");
      expired.server_time = now_text;
      return expired;
    }
  }
  if (*signed_at < now - kMaxSkew && !params.presigned) {
    AuthFailure skewed =
        failure(AuthFailureKind::kSkewed,
                "Signature expired: " + params.amz_date + " is now earlier than " +
                    format_amz_date(now - kMaxSkew) + " (" + now_text + " - 15 min.)");
    skewed.server_time = now_text;
    return skewed;
  }
  if (*signed_at > now + kMaxSkew) {
    AuthFailure skewed =
        failure(AuthFailureKind::kSkewed,
                "Signature not yet current: " + params.amz_date + " is still later than " +
                    format_amz_date(now + kMaxSkew) + " (" + now_text + " + 15 min.)");
    skewed.server_time = now_text;
    return skewed;
  }

  std::optional<std::string> payload_hash = signed_payload_hash(request, s3, params.presigned);
  if (!payload_hash) {
    return failure(AuthFailureKind::kMissingContentSha256,
                   "Missing required header for this request: x-amz-content-sha256");
  }

  CanonicalRequestParts parts;
  parts.method = request.method;
  parts.uri = canonical_uri(request.path, s3);
  parts.query = canonical_query(query, params.presigned ? "X-Amz-Signature" : "");
  parts.headers = canonical_headers(request.headers, params.signed_headers);
  for (const std::string& name : params.signed_headers) {
    if (!parts.signed_headers.empty()) parts.signed_headers.push_back(';');
    parts.signed_headers += name;
  }
  parts.payload_hash = *payload_hash;

  Sha256 key = signing_key(credential->secret_access_key, params);
  std::string canonical = canonical_request(parts);
  std::string to_sign = string_to_sign(params.amz_date, params.scope(), canonical);
  bool match = constant_time_equals(compute_signature(key, to_sign), params.signature);
  if (!match && params.presigned && params.security_token) {
    // AWS IoT's presigned URLs add the session token after signing, so it
    // is not part of what was signed.
    CanonicalRequestParts without_token = parts;
    without_token.query = canonical_query(query, "X-Amz-Signature", "X-Amz-Security-Token");
    std::string retry =
        string_to_sign(params.amz_date, params.scope(), canonical_request(without_token));
    match = constant_time_equals(compute_signature(key, retry), params.signature);
  }
  if (!match) {
    AuthFailure mismatch =
        failure(AuthFailureKind::kSignatureMismatch,
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.");
    mismatch.canonical_request = std::move(canonical);
    mismatch.string_to_sign = std::move(to_sign);
    return mismatch;
  }

  *principal = credential->principal;
  if (signing) *signing = {key, params.amz_date, params.scope(), params.signature};
  return std::nullopt;
}

}  // namespace offcloud

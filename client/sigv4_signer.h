// AWS Signature Version 4, the client's side: adds an Authorization header
// (sign) or the X-Amz-* query parameters of a presigned URL (presign) to a
// Request. The canonical request is built here from the AWS specification
// alone; only the hash primitives (storage/digest.h) are shared with the
// server, so a canonicalization bug cannot hide on both sides.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "client/credentials.h"
#include "client/http_message.h"

namespace offcloud::client {

// How a service turns the wire path into the canonical path. S3 signs the
// path exactly as sent; every other service removes dot segments and empty
// segments and then percent-encodes the (already encoded) path once more,
// so a topic's %2F is signed as %252F.
struct PathRules {
  bool normalize = true;
  bool encode = true;
};
PathRules path_rules_for(std::string_view service);

struct SignOptions {
  // The payload hash to sign instead of the body's SHA-256: S3's
  // UNSIGNED-PAYLOAD, or a hash computed elsewhere.
  std::optional<std::string> payload_hash;
  // Also send the payload hash as x-amz-content-sha256 (S3 requires it).
  bool content_sha256_header = false;
  // false: send the session token without signing it (what some STS callers
  // do); AWS accepts both.
  bool sign_session_token = true;
};

// The intermediate results, for error messages and tests.
struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

class SigV4Signer {
 public:
  SigV4Signer(Credentials credentials, std::string region, std::string service);
  SigV4Signer(Credentials credentials, std::string region, std::string service, PathRules rules);

  // Sets X-Amz-Date (and X-Amz-Security-Token, x-amz-content-sha256 when
  // they apply) and Authorization. Signs every header the request carries
  // except those a proxy may change (User-Agent, Expect, Connection, ...);
  // the request must have its Host header.
  SigningResult sign(Request* request, std::chrono::system_clock::time_point now,
                     const SignOptions& options = {}) const;

  // Appends the X-Amz-* query parameters, X-Amz-Signature last, for a URL
  // valid `expires` from `now`.
  SigningResult presign(Request* request, std::chrono::system_clock::time_point now,
                        std::chrono::seconds expires, const SignOptions& options = {}) const;

  const std::string& region() const { return region_; }
  const std::string& service() const { return service_; }

 private:
  SigningResult compute(const Request& request, std::string_view amz_date,
                        std::string_view signed_header_names, std::string_view canonical_headers,
                        std::string_view payload_hash) const;
  std::string scope(std::string_view date) const;

  Credentials credentials_;
  std::string region_;
  std::string service_;
  PathRules rules_;
};

// The pieces of a canonical request, exposed for tests.
std::string normalize_path(std::string_view path);
std::string canonical_path(std::string_view wire_path, PathRules rules);
std::string canonical_query_string(const Fields& query);
// "yyyymmddThhmmssZ".
std::string amz_date(std::chrono::system_clock::time_point time);

}  // namespace offcloud::client

// AWS Signature Version 4: reading what a request says about its signature
// (Authorization header or presigned query) and rebuilding the canonical
// request, string to sign and signature exactly as AWS does. Pure functions;
// SigV4Verifier (sigv4_verifier.h) decides whether a request is authentic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/http/http_types.h"
#include "emulator/http/uri.h"
#include "storage/digest.h"

namespace offcloud {

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SigV4Params {
  bool presigned = false;
  std::string access_key_id;
  std::string date;  // credential scope: yyyymmdd
  std::string region;
  std::string service;
  std::string terminator;                   // "aws4_request"
  std::vector<std::string> signed_headers;  // as listed, lower-case
  std::string signature;
  std::string amz_date;                   // yyyymmddThhmmssZ
  std::optional<std::int64_t> expires_s;  // presigned only
  std::optional<std::string> security_token;

  std::string scope() const { return date + "/" + region + "/" + service + "/" + terminator; }
};

// What chained aws-chunked signatures are computed from: the verified
// request's signing key, date, scope and signature (the "seed").
struct ChunkSigning {
  Sha256 key;
  std::string amz_date;
  std::string scope;
  std::string seed_signature;
};

struct ParsedAuth {
  enum class State { kUnsigned, kSigned, kMalformed };
  State state = State::kUnsigned;
  SigV4Params params;
  std::string error;  // why, when kMalformed
};

// Reads the Authorization header, or else the X-Amz-* presigned parameters.
// `query` is the request's decoded query string.
ParsedAuth parse_sigv4(const HttpRequest& request, const QueryParams& query);

// The canonical URI. Every service but S3 normalizes the wire path and
// encodes it again (so %2F is signed as %252F); S3 signs the wire path as is.
std::string canonical_uri(std::string_view wire_path, bool s3);

// Names and values encoded, sorted by name then value. `skip` names a
// parameter left out (X-Amz-Signature in presigned URLs).
std::string canonical_query(const QueryParams& params, std::string_view skip,
                            std::string_view skip_also = {});

// "name:value\n" for each signed header: values of repeated fields joined by
// ',', surrounding space trimmed and inner runs of space folded to one.
std::string canonical_headers(const Headers& headers, const std::vector<std::string>& signed_names);

// The payload hash that was signed. S3 signs the value its client declares
// in x-amz-content-sha256 (a hex digest, UNSIGNED-PAYLOAD or a STREAMING-*
// marker; presigned URLs default to UNSIGNED-PAYLOAD); every other service
// signs the body's actual hash. nullopt: S3 header auth without the header.
std::optional<std::string> signed_payload_hash(const HttpRequest& request, bool s3, bool presigned);

struct CanonicalRequestParts {
  std::string_view method;
  std::string uri;
  std::string query;
  std::string headers;
  std::string signed_headers;  // names joined by ';'
  std::string_view payload_hash;
};
std::string canonical_request(const CanonicalRequestParts& parts);

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

Sha256 derive_signing_key(std::string_view secret, std::string_view date, std::string_view region,
                          std::string_view service);

std::string compute_signature(const Sha256& signing_key, std::string_view string_to_sign);

}  // namespace offcloud

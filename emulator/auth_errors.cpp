#include "emulator/auth_errors.h"

namespace offcloud {
namespace {

// One row per failure kind: the code S3, the JSON services and the query
// services answer with.
struct AuthErrorCodes {
  ErrorCode s3, json, query;
};

AuthErrorCodes codes_for(AuthFailureKind kind, bool presigned) {
  using E = ErrorCode;
  switch (kind) {
    case AuthFailureKind::kMalformed:
      return {presigned ? E::kAuthorizationQueryParametersError : E::kAuthorizationHeaderMalformed,
              E::kIncompleteSignatureException, E::kIncompleteSignature};
    case AuthFailureKind::kUnknownKey:
      return {E::kInvalidAccessKeyId, E::kUnrecognizedClientException, E::kInvalidClientTokenId};
    case AuthFailureKind::kInvalidToken:
      return {E::kInvalidAccessKeyId, E::kUnrecognizedClientException, E::kInvalidClientTokenId};
    case AuthFailureKind::kBadScope:
      return {presigned ? E::kAuthorizationQueryParametersError : E::kAuthorizationHeaderMalformed,
              E::kInvalidSignatureException, E::kSignatureDoesNotMatch};
    case AuthFailureKind::kSkewed:
      return {E::kRequestTimeTooSkewed, E::kInvalidSignatureException, E::kSignatureDoesNotMatch};
    case AuthFailureKind::kExpired:
      return {E::kAccessDenied, E::kInvalidSignatureException, E::kSignatureDoesNotMatch};
    case AuthFailureKind::kSignatureMismatch:
      return {E::kSignatureDoesNotMatch, E::kInvalidSignatureException, E::kSignatureDoesNotMatch};
    case AuthFailureKind::kMissingContentSha256:
      return {E::kInvalidRequest, E::kIncompleteSignatureException, E::kIncompleteSignature};
  }
  return {E::kAccessDenied, E::kAccessDeniedException, E::kAccessDenied};
}

std::string spaced_hex(std::string_view text) {
  std::string bytes = hex(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    if (i) out.push_back(' ');
    out.append(bytes, i, 2);
  }
  return out;
}

}  // namespace

ApiError auth_error(Protocol protocol, const AuthFailure& failure, const SigV4Params& params) {
  AuthErrorCodes codes = codes_for(failure.kind, params.presigned);
  if (protocol == Protocol::kRestJson || protocol == Protocol::kJson) {
    return {codes.json, failure.message};
  }
  if (protocol == Protocol::kQuery) return {codes.query, failure.message};

  ApiError error{codes.s3, ""};
  switch (failure.kind) {
    case AuthFailureKind::kUnknownKey:
      error.details.emplace_back("AWSAccessKeyId", params.access_key_id);
      break;
    case AuthFailureKind::kSignatureMismatch:
      error.details = {{"AWSAccessKeyId", params.access_key_id},
                       {"StringToSign", failure.string_to_sign},
                       {"SignatureProvided", params.signature},
                       {"StringToSignBytes", spaced_hex(failure.string_to_sign)},
                       {"CanonicalRequest", failure.canonical_request},
                       {"CanonicalRequestBytes", spaced_hex(failure.canonical_request)}};
      break;
    case AuthFailureKind::kSkewed:
      error.details = {{"RequestTime", params.amz_date},
                       {"ServerTime", failure.server_time},
                       {"MaxAllowedSkewMilliseconds", "900000"}};
      break;
    case AuthFailureKind::kExpired:
      error.message = "Request has expired";
      error.details = {{"X-Amz-Expires", std::to_string(params.expires_s.value_or(0))},
                       {"ServerTime", failure.server_time}};
      break;
    default:
      error.message = failure.message;
  }
  return error;
}

ApiError missing_authentication_error(Protocol protocol) {
  switch (protocol) {
    case Protocol::kRestJson:
    case Protocol::kJson:
      return {ErrorCode::kMissingAuthenticationTokenException, ""};
    case Protocol::kQuery:
      return {ErrorCode::kMissingAuthenticationToken, ""};
    case Protocol::kRestXml:
      break;
  }
  return {ErrorCode::kAccessDenied, "Anonymous access is forbidden for this operation"};
}

}  // namespace offcloud

// How each protocol reports a failed signature check: S3 with its XML codes
// (and the canonical request, so users can debug their signer), the JSON
// services with x-amzn-ErrorType codes, the query services with theirs.
#pragma once

#include "emulator/api/api_errors.h"
#include "emulator/auth/sigv4_verifier.h"

namespace offcloud {

ApiError auth_error(Protocol protocol, const AuthFailure& failure, const SigV4Params& params);

// The error for a request with no signature at all.
ApiError missing_authentication_error(Protocol protocol);

}  // namespace offcloud

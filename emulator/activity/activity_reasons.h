// Why something failed, as the facts the Activity page words (in the
// reader's language) and fills into its entry. Each reason is a JSON object
// with a "kind":
//   "unsigned"   the request carried no signature;
//   "signature"  its signature was refused: "failure" says which check
//                (unknown_key, invalid_token, bad_scope, skewed, expired,
//                mismatch, malformed, missing_content_sha256), with what the
//                verifier knows: whether the key exists, the scope signed
//                for, how far the client's clock is from offcloud's, and for
//                a mismatch whether the secret "test" would have matched
//                (LocalStack's default, a classroom's commonest slip) and
//                what offcloud signed;
//   "denied"     IAM refused: the action, the resource, and whether a
//                statement denied it or none allowed it; one that did is
//                named: "policy" (an ARN, or an inline policy's name with
//                "policy_inline"), "statement" (its place, from 1), "sid";
//   "mqtt"       the MQTT broker refused a connection before any policy
//                was asked: "code" (the MQTT reason: BadUserNameOrPassword,
//                or NotAuthorized for an unknown or inactive certificate),
//                "client_id", "certificate_id" (the one presented, if any),
//                whether the user name is a key that exists and is active;
//                a policy's refusal on an MQTT port is "denied", as over HTTP;
//   "rule"       a topic rule failed on a message: "stage" (sql, action,
//                error_action), the rule, the topic, the action, its
//                resource and the error.
// Only refusals and failures get here: never the hot path of a request
// that succeeds.
#pragma once

#include <chrono>

#include "emulator/activity/activity_log.h"
#include "emulator/auth/authorizer.h"
#include "emulator/auth/credential_store.h"
#include "emulator/auth/sigv4_verifier.h"
#include "emulator/http/http_types.h"
#include "rules/rules_engine.h"

namespace offcloud {

void note_unsigned(ActivityEntry* entry);

// Credits the entry to the owner of the key the request named (the key's
// owner is who needs to see that a request with their key was refused) and
// says which check failed.
void note_signature_failure(ActivityEntry* entry, const AuthFailure& failure,
                            const SigV4Params& params, const CredentialStore& credentials,
                            std::chrono::system_clock::time_point now);

void note_denial(ActivityEntry* entry, const Denial& denial);

// A connection the MQTT broker refused before any policy was asked,
// credited as a refused signature is to the owner of the key it named.
void note_mqtt_refusal(ActivityEntry* entry, std::string_view code, std::string_view client_id,
                       const std::string& access_key_id, std::string_view certificate_id,
                       const CredentialStore& credentials);

// The entry for a rule's failure: in the rule's account, by the rule.
ActivityEntry rule_failure_entry(const RuleFailure& failure);

// The AWS error code an error response carries: x-amzn-ErrorType, else
// the <Code> of an XML body; empty for a success.
std::string response_error_code(const HttpResponse& response);

}  // namespace offcloud

#include "emulator/activity/activity_reasons.h"

#include "emulator/auth/signature_v4.h"
#include "storage/digest.h"

namespace offcloud {
namespace {

using json = nlohmann::json;

const char* failure_name(AuthFailureKind kind) {
  switch (kind) {
    case AuthFailureKind::kMalformed:
      return "malformed";
    case AuthFailureKind::kUnknownKey:
      return "unknown_key";
    case AuthFailureKind::kInvalidToken:
      return "invalid_token";
    case AuthFailureKind::kBadScope:
      return "bad_scope";
    case AuthFailureKind::kSkewed:
      return "skewed";
    case AuthFailureKind::kExpired:
      return "expired";
    case AuthFailureKind::kSignatureMismatch:
      return "mismatch";
    case AuthFailureKind::kMissingContentSha256:
      return "missing_content_sha256";
  }
  return "malformed";
}

const char* stage_name(RuleFailure::Stage stage) {
  switch (stage) {
    case RuleFailure::Stage::kSql:
      return "sql";
    case RuleFailure::Stage::kAction:
      return "action";
    case RuleFailure::Stage::kErrorAction:
      return "error_action";
  }
  return "action";
}

std::string bounded(std::string text) {
  return truncate_utf8(std::move(text), ActivityLog::kMaxFieldBytes);
}

// Whether the request was signed with the secret "test" instead of the
// key's own: LocalStack's default, left in many a student's environment.
bool signed_with_test_secret(const AuthFailure& failure, const SigV4Params& params,
                             const Credential& credential) {
  if (credential.secret_access_key == kRootSecretAccessKey || failure.string_to_sign.empty()) {
    return false;
  }
  Sha256 key = derive_signing_key(kRootSecretAccessKey, params.date, params.region, params.service);
  return constant_time_equals(compute_signature(key, failure.string_to_sign), params.signature);
}

}  // namespace

void note_unsigned(ActivityEntry* entry) {
  entry->reason = {{"kind", "unsigned"}};
}

// Credits the entry to the owner of the key a refused client named, who
// needs to see that their key was refused; the key, if there is one.
std::optional<Credential> credit_key_owner(ActivityEntry* entry, const std::string& access_key_id,
                                           const CredentialStore& credentials) {
  entry->access_key_id = bounded(access_key_id);
  std::optional<Credential> credential;
  if (!access_key_id.empty()) credential = credentials.find(access_key_id);
  if (credential) {
    entry->account_id = credential->principal.account_id;
    entry->caller_arn = credential->principal.arn;
  }
  return credential;
}

void note_signature_failure(ActivityEntry* entry, const AuthFailure& failure,
                            const SigV4Params& params, const CredentialStore& credentials,
                            std::chrono::system_clock::time_point now) {
  std::optional<Credential> credential = credit_key_owner(entry, params.access_key_id, credentials);
  json reason = {{"kind", "signature"},
                 {"failure", failure_name(failure.kind)},
                 {"message", bounded(failure.message)},
                 {"key_known", credential.has_value()},
                 {"key_active", credential && credential->active},
                 {"presigned", params.presigned}};
  if (!params.date.empty()) {
    reason["scope"] = bounded(params.scope());
    reason["region"] = bounded(params.region);
    reason["service"] = bounded(params.service);
  }
  if (auto signed_at = parse_amz_date(params.amz_date)) {
    reason["request_time"] = params.amz_date;
    reason["skew_seconds"] =
        std::chrono::duration_cast<std::chrono::seconds>(*signed_at - now).count();
  }
  if (!failure.server_time.empty()) reason["server_time"] = failure.server_time;
  if (params.expires_s) reason["expires_seconds"] = *params.expires_s;
  if (failure.kind == AuthFailureKind::kSignatureMismatch) {
    json headers = json::array();
    for (const std::string& name : params.signed_headers) headers.push_back(bounded(name));
    reason["signed_headers"] = std::move(headers);
    reason["secret_is_test"] = credential && signed_with_test_secret(failure, params, *credential);
    reason["canonical_request"] = bounded(failure.canonical_request);
    reason["string_to_sign"] = bounded(failure.string_to_sign);
  }
  entry->reason = std::move(reason);
}

void note_denial(ActivityEntry* entry, const Denial& denial) {
  entry->resource = denial.resource;
  entry->reason = {{"kind", "denied"},
                   {"action", denial.action},
                   {"resource", bounded(denial.resource)},
                   {"explicit_deny", denial.explicit_deny}};
  if (!denial.deny_policy.empty()) {
    entry->reason["policy"] = bounded(denial.deny_policy);
    entry->reason["policy_inline"] = denial.deny_policy_inline;
    entry->reason["statement"] = denial.deny_statement;
    entry->reason["sid"] = bounded(denial.deny_sid);
  }
}

void note_mqtt_refusal(ActivityEntry* entry, std::string_view code, std::string_view client_id,
                       const std::string& access_key_id, std::string_view certificate_id,
                       const CredentialStore& credentials) {
  std::optional<Credential> credential = credit_key_owner(entry, access_key_id, credentials);
  entry->reason = {{"kind", "mqtt"},
                   {"code", bounded(std::string(code))},
                   {"client_id", bounded(std::string(client_id))},
                   {"key_known", credential.has_value()},
                   {"key_active", credential && credential->active}};
  if (!certificate_id.empty())
    entry->reason["certificate_id"] = bounded(std::string(certificate_id));
}

ActivityEntry rule_failure_entry(const RuleFailure& failure) {
  ActivityEntry entry;
  entry.account_id = failure.scope.account_id;
  entry.caller_arn = "arn:aws:iot:" + failure.scope.region + ":" + failure.scope.account_id +
                     ":rule/" + failure.rule;
  entry.source = "rules engine";
  entry.service = "iot";
  entry.operation = failure.stage == RuleFailure::Stage::kSql ? "EvaluateRule" : "RunRuleAction";
  entry.resource = failure.resource.empty() ? entry.caller_arn : failure.resource;
  entry.error_code =
      failure.stage == RuleFailure::Stage::kSql ? "RuleSqlFailed" : "RuleActionFailed";
  entry.reason = {{"kind", "rule"},
                  {"stage", stage_name(failure.stage)},
                  {"rule", failure.rule},
                  {"region", failure.scope.region},
                  {"topic", bounded(failure.topic)},
                  {"action", failure.action},
                  {"resource", bounded(failure.resource)},
                  {"message", bounded(failure.message)}};
  return entry;
}

std::string response_error_code(const HttpResponse& response) {
  if (response.status < 400) return {};
  std::string_view type = response.headers.get("x-amzn-ErrorType");
  if (!type.empty()) return std::string(type.substr(0, type.find(':')));
  std::string_view body = response.body;
  std::size_t start = body.find("<Code>");
  if (start == std::string_view::npos || start > 512) return {};
  start += 6;
  std::size_t end = body.find("</Code>", start);
  if (end == std::string_view::npos || end - start > 128) return {};
  return std::string(body.substr(start, end - start));
}

}  // namespace offcloud

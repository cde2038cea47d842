#include "emulator/s3/s3_bucket_policy.h"

#include <nlohmann/json.hpp>

#include "emulator/auth/credential_store.h"  // is_account_id
#include "emulator/auth/iam_policy.h"

namespace offcloud::s3 {
namespace {

using json = nlohmann::json;

S3Invalid malformed(std::string message) {
  return {ErrorCode::kMalformedPolicy, std::move(message)};
}

bool string_or_strings(const json& value, const auto& check) {
  if (value.is_string()) return check(value.get<std::string>());
  if (!value.is_array() || value.empty()) return false;
  for (const json& item : value) {
    if (!item.is_string() || !check(item.get<std::string>())) return false;
  }
  return true;
}

bool valid_aws_principal(const std::string& principal) {
  if (principal == "*") return true;
  if (principal.size() == 12 && principal.find_first_not_of("0123456789") == std::string::npos) {
    return true;
  }
  return principal.starts_with("arn:aws:iam::") || principal.starts_with("arn:aws:sts::");
}

// "*", or {"AWS": ..., "Service": ..., "CanonicalUser": ..., "Federated": ...}.
bool valid_principal(const json& principal, bool* everyone) {
  if (principal.is_string()) {
    *everyone = principal == "*";
    return *everyone;
  }
  if (!principal.is_object() || principal.empty()) return false;
  for (const auto& [kind, value] : principal.items()) {
    auto any = [](const std::string& text) { return !text.empty(); };
    if (kind == "AWS") {
      if (!string_or_strings(value, valid_aws_principal)) return false;
      auto star = [](const std::string& text) { return text == "*"; };
      if (value.is_string() ? star(value.get<std::string>())
                            : std::any_of(value.begin(), value.end(), [&](const json& item) {
                                return star(item.get<std::string>());
                              })) {
        *everyone = true;
      }
    } else if (kind == "Service" || kind == "CanonicalUser" || kind == "Federated") {
      if (!string_or_strings(value, any)) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<S3Invalid> validate_bucket_policy(std::string_view text, std::string_view bucket,
                                                bool* is_public) {
  *is_public = false;
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return malformed("Policies must be valid JSON and the first byte must be '{'");
  }
  if (!document.contains("Statement")) return malformed("Missing required field Statement");
  json statements = document["Statement"];
  if (statements.is_object()) statements = json::array({statements});
  if (!statements.is_array() || statements.empty()) {
    return malformed("Missing required field Statement");
  }
  std::string bucket_arn = "arn:aws:s3:::" + std::string(bucket);
  json identity = document;  // the document without principals, for IAM's parser
  identity["Statement"] = json::array();
  for (const json& statement : statements) {
    if (!statement.is_object()) return malformed("Statements must be objects");
    bool has_principal = statement.contains("Principal");
    bool has_not_principal = statement.contains("NotPrincipal");
    if (has_principal == has_not_principal) {
      return malformed(has_principal ? "Policy has an invalid principal"
                                     : "Missing required field Principal");
    }
    bool everyone = false;
    if (!valid_principal(statement[has_principal ? "Principal" : "NotPrincipal"], &everyone)) {
      return malformed("Invalid principal in policy");
    }
    if (!statement.contains("Effect")) return malformed("Missing required field Effect");
    if (!statement.contains("Action") && !statement.contains("NotAction")) {
      return malformed("Missing required field Action");
    }
    if (!statement.contains("Resource") && !statement.contains("NotResource")) {
      return malformed("Missing required field Resource");
    }
    auto s3_action = [](const std::string& action) {
      return action == "*" || (action.size() > 3 && (action.compare(0, 3, "s3:") == 0 ||
                                                     action.compare(0, 3, "S3:") == 0));
    };
    const json& actions = statement[statement.contains("Action") ? "Action" : "NotAction"];
    if (!string_or_strings(actions, s3_action)) return malformed("Policy has invalid action");
    // Resources name this bucket or its objects.
    auto in_bucket = [&](const std::string& resource) {
      if (!resource.starts_with("arn:aws:s3:::")) return false;
      std::string_view rest = std::string_view(resource).substr(13);
      std::string_view name = rest.substr(0, rest.find('/'));
      return wildcard_match(name, bucket, false) || resource.starts_with(bucket_arn + "/");
    };
    const json& resources = statement[statement.contains("Resource") ? "Resource" : "NotResource"];
    if (!string_or_strings(resources, in_bucket)) return malformed("Policy has invalid resource");
    if (has_principal && everyone && statement["Effect"] == "Allow" &&
        !statement.contains("Condition")) {
      *is_public = true;
    }
    json stripped = statement;
    stripped.erase("Principal");
    stripped.erase("NotPrincipal");
    identity["Statement"].push_back(std::move(stripped));
  }
  std::string why;
  if (!parse_policy(identity.dump(), &why)) return malformed(why);
  return std::nullopt;
}

namespace {

void add_principals(const json& value, std::vector<std::string>* out) {
  if (value.is_string()) {
    out->push_back(value.get<std::string>());
  } else if (value.is_array()) {
    for (const json& item : value) {
      if (item.is_string()) out->push_back(item.get<std::string>());
    }
  }
}

PolicyPrincipals read_principals(const json& principal) {
  PolicyPrincipals out;
  if (principal.is_string()) {
    out.everyone = principal == "*";
    return out;
  }
  std::vector<std::string> aws;
  if (principal.contains("AWS")) add_principals(principal["AWS"], &aws);
  if (principal.contains("CanonicalUser")) {
    add_principals(principal["CanonicalUser"], &out.canonical_ids);
  }
  for (std::string& name : aws) {
    if (name == "*") {
      out.everyone = true;
    } else if (is_account_id(name)) {
      out.accounts.push_back(std::move(name));
    } else if (name.starts_with("arn:aws:iam::") && name.ends_with(":root") &&
               is_account_id(std::string_view(name).substr(13, 12))) {
      out.accounts.push_back(name.substr(13, 12));
    } else {
      out.arns.push_back(std::move(name));
    }
  }
  return out;
}

bool names_caller(const PolicyPrincipals& principals, const PolicyCaller& caller, bool deny) {
  if (principals.everyone) return true;
  if (caller.anonymous) return false;
  for (const std::string& arn : principals.arns) {
    if (arn == caller.arn) return true;
  }
  bool account = false;
  for (const std::string& id : principals.accounts) account = account || id == caller.account_id;
  for (const std::string& id : principals.canonical_ids) {
    account = account || id == caller.canonical_id;
  }
  // A Deny of an account reaches all of it.
  return account && (caller.is_root || deny || caller.account_names_users);
}

bool tests_object_tags(const PolicyDocument& document) {
  for (const PolicyStatement& statement : document.statements) {
    for (const PolicyCondition& condition : statement.conditions) {
      if (condition.key.size() > 20 &&
          wildcard_match("s3:ExistingObjectTag/*", condition.key, /*ignore_case=*/true)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::optional<BucketPolicy> parse_bucket_policy(std::string_view text, std::string_view bucket) {
  BucketPolicy policy;
  if (validate_bucket_policy(text, bucket, &policy.is_public)) return std::nullopt;
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  json statements = document["Statement"];
  if (statements.is_object()) statements = json::array({statements});
  for (const json& statement : statements) {
    BucketPolicyStatement entry;
    entry.not_principal = statement.contains("NotPrincipal");
    const char* field = entry.not_principal ? "NotPrincipal" : "Principal";
    entry.principals = read_principals(statement[field]);
    json alone = json::object();
    if (document.contains("Version")) alone["Version"] = document["Version"];
    json stripped = statement;
    stripped.erase("Principal");
    stripped.erase("NotPrincipal");
    alone["Statement"] = json::array({std::move(stripped)});
    std::optional<PolicyDocument> parsed = parse_policy(alone.dump(), nullptr);
    if (!parsed) return std::nullopt;
    entry.document = std::move(*parsed);
    policy.reads_object_tags = policy.reads_object_tags || tests_object_tags(entry.document);
    policy.statements.push_back(std::move(entry));
  }
  return policy;
}

Decision evaluate_bucket_policy(const BucketPolicy& policy, const PolicyCaller& caller,
                                std::string_view action, std::string_view resource,
                                const ConditionContext& conditions) {
  bool allowed = false;
  for (const BucketPolicyStatement& statement : policy.statements) {
    bool deny = !statement.document.statements.front().allow;
    if (names_caller(statement.principals, caller, deny) == statement.not_principal) continue;
    Decision decision = evaluate({&statement.document}, action, resource, conditions);
    if (decision == Decision::kExplicitDeny) return decision;
    allowed = allowed || decision == Decision::kAllow;
  }
  return allowed ? Decision::kAllow : Decision::kImplicitDeny;
}

}  // namespace offcloud::s3

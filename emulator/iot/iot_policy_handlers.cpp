// IoT policies, their versions and their attachments to certificates:
// Create/Get/List/DeletePolicy, the policy-version operations, Attach/
// DetachPolicy, ListAttachedPolicies, ListTargetsForPolicy, and the older
// principal-policy operations.
#include "emulator/iot/iot_registry_call.h"

#include <algorithm>
#include <stdexcept>

#include "emulator/auth/iam_policy.h"
#include "emulator/iot/iot_scope.h"
#include "emulator/util/log.h"
#include "emulator/util/uuid.h"
#include "storage/digest.h"

namespace offcloud::iot_registry {

namespace {

HttpResponse no_such_policy(const std::string& name, const Call& call) {
  return not_found("The policy " + name + " does not exist.", call);
}

std::int64_t version_id(const std::string& text) {
  auto version = parse_integer(text);
  if (!version) throw InvalidRequest{"The policy version id " + text + " is not valid."};
  return *version;
}

json policy_list(const std::vector<IotPolicy>& policies, int limit, json* body) {
  json out = json::array();
  for (const IotPolicy& policy : policies) {
    if (static_cast<int>(out.size()) == limit) {
      (*body)["nextMarker"] = base64_encode(policy.name);
      break;
    }
    out.push_back({{"policyName", policy.name}, {"policyArn", policy.arn}});
  }
  return out;
}

HttpResponse version_change(IotRegistry::PolicyChange change, const Call& call) {
  const std::string& name = call.params[0];
  switch (change) {
    case IotRegistry::PolicyChange::kNotFound:
      return no_such_policy(name, call);
    case IotRegistry::PolicyChange::kVersionNotFound:
      return not_found("The policy " + name + " has no version " + call.params[1] + ".", call);
    case IotRegistry::PolicyChange::kIsDefault:
      return error(ErrorCode::kDeleteConflictException,
                   "Cannot delete the default version of a policy (name=" + name +
                       "): make another version the default first.",
                   call);
    default:
      return no_content();
  }
}

HttpResponse attach(Env& env, Call& call, const std::string& name, const std::string& target) {
  check_policy_name(name);
  check_certificate_arn(target, "The target");
  switch (env.registry.attach_policy(call.scope.account_id, call.scope.region, name, target,
                                     kMaxPoliciesPerTarget)) {
    case IotRegistry::PolicyChange::kNotFound:
      return no_such_policy(name, call);
    case IotRegistry::PolicyChange::kTargetNotFound:
      return not_found("The certificate " + target + " does not exist.", call);
    case IotRegistry::PolicyChange::kLimit:
      return error(ErrorCode::kLimitExceededException,
                   "The target " + target + " already has the maximum number of policies (" +
                       std::to_string(kMaxPoliciesPerTarget) + ") attached.",
                   call, 410);
    default:
      return no_content();
  }
}

HttpResponse detach(Env& env, Call& call, const std::string& name, const std::string& target) {
  check_policy_name(name);
  check_certificate_arn(target, "The target");
  env.registry.detach_policy(call.scope.account_id, call.scope.region, name, target);
  return no_content();
}

// ListAttachedPolicies and ListPrincipalPolicies.
HttpResponse policies_of(Env& env, Call& call, const std::string& target) {
  check_certificate_arn(target, "The target");
  int limit = query_page_size(call, "pageSize");
  std::string from = query_token(call, "marker");
  if (!env.registry.has_certificate_arn(call.scope.account_id, call.scope.region, target)) {
    return not_found("The certificate " + target + " does not exist.", call);
  }
  json body = json::object();
  body["policies"] =
      policy_list(env.registry.attached_policies(call.scope.account_id, call.scope.region, target,
                                                 from, limit + 1),
                  limit, &body);
  return json_response(body);
}

// ListTargetsForPolicy and ListPolicyPrincipals.
HttpResponse targets_of(Env& env, Call& call, const std::string& name, std::string_view field) {
  check_policy_name(name);
  int limit = query_page_size(call, "pageSize");
  std::string from = query_token(call, "marker");
  auto targets =
      env.registry.policy_targets(call.scope.account_id, call.scope.region, name, from, limit + 1);
  if (!targets) return no_such_policy(name, call);
  json body = json::object();
  body[std::string(field)] = page_of(*targets, from, limit, &body, "nextMarker");
  return json_response(body);
}

}  // namespace

HttpResponse create_policy(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_policy_name(name);
  std::optional<std::string> document = body_string(call, "policyDocument");
  if (!document) throw InvalidRequest{"policyDocument is required."};
  if (auto refusal = refuse_policy_document(*document, call)) return std::move(*refusal);
  if (const json* tags = member(call, "tags"); tags && !tags->is_array()) {
    throw InvalidRequest{"tags must be a list."};
  }
  IotPolicy policy;
  policy.account_id = call.scope.account_id;
  policy.region = call.scope.region;
  policy.name = name;
  policy.arn = arn(call.scope, "policy", name);
  policy.document = *document;
  policy.created_ms = policy.modified_ms = now_ms();
  if (!env.registry.insert_policy(policy)) {
    return already_exists("Policy cannot be created - name already exists (name=" + name + ")",
                          name, policy.arn, call);
  }
  return json_response({{"policyName", name},
                        {"policyArn", policy.arn},
                        {"policyDocument", policy.document},
                        {"policyVersionId", "1"}});
}

HttpResponse get_policy(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_policy_name(name);
  std::optional<IotPolicy> policy =
      env.registry.policy(call.scope.account_id, call.scope.region, name);
  if (!policy) return no_such_policy(name, call);
  return json_response(
      {{"policyName", policy->name},
       {"policyArn", policy->arn},
       {"policyDocument", policy->document},
       {"defaultVersionId", std::to_string(policy->default_version)},
       {"creationDate", seconds(policy->created_ms)},
       {"lastModifiedDate", seconds(policy->modified_ms)},
       {"generationId", generation_id(policy->arn, policy->default_version, policy->modified_ms)}});
}

HttpResponse list_policies(Env& env, Call& call) {
  int limit = query_page_size(call, "pageSize");
  std::string from = query_token(call, "marker");
  bool ascending = query_flag(call, "isAscendingOrder", true);
  json body = json::object();
  body["policies"] = policy_list(
      env.registry.policies(call.scope.account_id, call.scope.region, ascending, from, limit + 1),
      limit, &body);
  return json_response(body);
}

HttpResponse delete_policy(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_policy_name(name);
  switch (env.registry.delete_policy(call.scope.account_id, call.scope.region, name)) {
    case IotRegistry::PolicyChange::kNotFound:
      return no_such_policy(name, call);
    case IotRegistry::PolicyChange::kAttached:
      return error(ErrorCode::kDeleteConflictException,
                   "The policy cannot be deleted as the policy is attached to one or more "
                   "principals (name=" +
                       name + ")",
                   call);
    case IotRegistry::PolicyChange::kHasVersions:
      return error(ErrorCode::kDeleteConflictException,
                   "Cannot delete the policy because it has versions other than the default "
                   "version (name=" +
                       name + "): delete them with DeletePolicyVersion first.",
                   call);
    default:
      return no_content();
  }
}

HttpResponse create_policy_version(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_policy_name(name);
  std::optional<std::string> document = body_string(call, "policyDocument");
  if (!document) throw InvalidRequest{"policyDocument is required."};
  if (auto refusal = refuse_policy_document(*document, call)) return std::move(*refusal);
  bool set_default = query_flag(call, "setAsDefault");
  IotPolicyVersion created;
  switch (env.registry.add_policy_version(call.scope.account_id, call.scope.region, name, *document,
                                          set_default, kMaxPolicyVersions, now_ms(), &created)) {
    case IotRegistry::PolicyChange::kNotFound:
      return no_such_policy(name, call);
    case IotRegistry::PolicyChange::kLimit:
      return error(ErrorCode::kVersionsLimitExceededException,
                   "The policy " + name + " already has the maximum number of versions (" +
                       std::to_string(kMaxPolicyVersions) + ")",
                   call);
    default:
      return json_response({{"policyArn", arn(call.scope, "policy", name)},
                            {"policyDocument", created.document},
                            {"policyVersionId", std::to_string(created.version)},
                            {"isDefaultVersion", created.is_default}});
  }
}

HttpResponse get_policy_version(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_policy_name(name);
  std::int64_t version = version_id(call.params[1]);
  std::optional<IotPolicyVersion> found =
      env.registry.policy_version(call.scope.account_id, call.scope.region, name, version);
  if (!found) {
    return not_found("The policy " + name + " has no version " + call.params[1] + ".", call);
  }
  std::string policy_arn = arn(call.scope, "policy", name);
  return json_response(
      {{"policyArn", policy_arn},
       {"policyName", name},
       {"policyDocument", found->document},
       {"policyVersionId", std::to_string(found->version)},
       {"isDefaultVersion", found->is_default},
       {"creationDate", seconds(found->created_ms)},
       {"lastModifiedDate", seconds(found->created_ms)},
       {"generationId", generation_id(policy_arn, found->version, found->created_ms)}});
}

HttpResponse list_policy_versions(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_policy_name(name);
  auto versions = env.registry.policy_versions(call.scope.account_id, call.scope.region, name);
  if (!versions) return no_such_policy(name, call);
  json out = json::array();
  for (const IotPolicyVersion& version : *versions) {
    out.push_back({{"versionId", std::to_string(version.version)},
                   {"isDefaultVersion", version.is_default},
                   {"createDate", seconds(version.created_ms)}});
  }
  return json_response({{"policyVersions", std::move(out)}});
}

HttpResponse set_default_policy_version(Env& env, Call& call) {
  check_policy_name(call.params[0]);
  std::int64_t version = version_id(call.params[1]);
  return version_change(
      env.registry.set_default_policy_version(call.scope.account_id, call.scope.region,
                                              call.params[0], version, now_ms()),
      call);
}

HttpResponse delete_policy_version(Env& env, Call& call) {
  check_policy_name(call.params[0]);
  std::int64_t version = version_id(call.params[1]);
  return version_change(env.registry.delete_policy_version(call.scope.account_id, call.scope.region,
                                                           call.params[0], version),
                        call);
}

HttpResponse attach_policy(Env& env, Call& call) {
  return attach(env, call, call.params[0], required_string(call, "target"));
}

HttpResponse detach_policy(Env& env, Call& call) {
  return detach(env, call, call.params[0], required_string(call, "target"));
}

HttpResponse attach_principal_policy(Env& env, Call& call) {
  return attach(env, call, call.params[0], header(call, "x-amzn-iot-principal"));
}

HttpResponse detach_principal_policy(Env& env, Call& call) {
  return detach(env, call, call.params[0], header(call, "x-amzn-iot-principal"));
}

HttpResponse list_attached_policies(Env& env, Call& call) {
  query_flag(call, "recursive");  // certificates belong to no thing group
  return policies_of(env, call, call.params[0]);
}

HttpResponse list_principal_policies(Env& env, Call& call) {
  query_flag(call, "isAscendingOrder");
  return policies_of(env, call, header(call, "x-amzn-iot-principal"));
}

HttpResponse list_targets_for_policy(Env& env, Call& call) {
  return targets_of(env, call, call.params[0], "targets");
}

HttpResponse list_policy_principals(Env& env, Call& call) {
  query_flag(call, "isAscendingOrder");
  return targets_of(env, call, header(call, "x-amzn-iot-policy"), "principals");
}

}  // namespace offcloud::iot_registry

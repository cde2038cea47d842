#include "emulator/auth/authorizer.h"

#include <algorithm>
#include <mutex>

#include "emulator/auth/aws_managed_policies.h"
#include "emulator/util/log.h"

namespace offcloud {
namespace {

// Users' names compare without case, within their account.
std::string user_key(std::string_view account_id, std::string_view user_name) {
  std::string out(account_id);
  out += '/';
  for (char c : user_name) out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

}  // namespace

std::string iam_user_arn(std::string_view account_id, std::string_view path,
                         std::string_view user_name) {
  return "arn:aws:iam::" + std::string(account_id) + ":user" + std::string(path) +
         std::string(user_name);
}

ConditionContext request_conditions(const Principal& principal, std::string_view remote_address,
                                    std::string_view region, long long now_ms, bool secure) {
  ConditionContext context;
  std::string_view ip = remote_address.substr(0, remote_address.rfind(':'));
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  context.set("aws:SourceIp", std::string(ip));
  std::string now = iso8601_ms(now_ms);
  context.set("aws:CurrentTime", now.substr(0, 19) + "Z");
  context.set("aws:EpochTime", std::to_string(now_ms / 1000));
  context.set("aws:SecureTransport", secure ? "true" : "false");
  context.set("aws:PrincipalArn", principal.arn);
  context.set("aws:PrincipalAccount", principal.account_id);
  if (!principal.is_root) {
    context.set("aws:PrincipalType", "User");
    context.set("aws:username", principal.user_name);
    context.set("aws:userid", principal.user_id);
  } else {
    context.set("aws:PrincipalType", "Account");
    context.set("aws:userid", principal.account_id);
  }
  if (!region.empty()) context.set("aws:RequestedRegion", std::string(region));
  return context;
}

std::string denial_message(const Principal& principal, const Denial& denial) {
  std::string message = "User: " + principal.arn +
                        " is not authorized to perform: " + denial.action +
                        " on resource: " + denial.resource;
  if (denial.explicit_deny) return message + " with an explicit deny in an identity-based policy";
  return message + " because no identity-based policy allows the " + denial.action + " action";
}

Authorizer::Authorizer(IamStore& store, CredentialStore& credentials)
    : store_(store), credentials_(credentials) {}

void Authorizer::load() {
  for (const IamUser& user : store_.all_users()) refresh_user(user.account_id, user.name);
}

std::shared_ptr<const Authorizer::Policies> Authorizer::read_policies(std::string_view account_id,
                                                                      std::string_view user_name) {
  auto policies = std::make_shared<Policies>();
  auto add = [&](const std::string& name, bool is_inline, std::string_view text) {
    std::string error;
    if (auto document = parse_policy(text, &error)) {
      policies->push_back({name, is_inline, std::move(*document)});
    } else {
      // Stored documents were checked when written: only a hand-edited
      // database gets here, and a broken policy allows nothing.
      log(LogLevel::kWarn, "ignoring " + (is_inline ? "inline policy " + name : name) + " of " +
                               std::string(user_name) + ": " + error);
    }
  };
  for (const std::string& arn : store_.attached_user_policies(account_id, user_name)) {
    if (const AwsManagedPolicy* managed = find_aws_managed_policy(arn)) {
      add(arn, false, managed->document);
    } else if (auto policy = store_.policy(arn)) {
      add(arn, false, policy->document);
    }
  }
  for (const IamInlinePolicy& inline_policy : store_.user_policies(account_id, user_name)) {
    add(inline_policy.name, true, inline_policy.document);
  }
  return policies;
}

void Authorizer::refresh_user(std::string_view account_id, std::string_view user_name) {
  std::optional<IamUser> user = store_.user(account_id, user_name);
  Principal principal;
  principal.account_id = account_id;
  principal.user_name = user ? user->name : std::string(user_name);
  std::vector<CredentialStore::UserKey> keys;
  std::shared_ptr<const Policies> policies;
  if (user) {
    principal.user_id = user->user_id;
    principal.arn = iam_user_arn(account_id, user->path, user->name);
    for (const IamAccessKey& key : store_.access_keys(account_id, user->name)) {
      keys.push_back({key.access_key_id, key.secret_access_key, key.active});
    }
    policies = read_policies(account_id, user->name);
  }
  // Policies first: a new key is never usable before its user's policies are in.
  {
    std::unique_lock lock(mutex_);
    if (policies) {
      users_[user_key(account_id, principal.user_name)] = std::move(policies);
    } else {
      users_.erase(user_key(account_id, principal.user_name));
    }
  }
  credentials_.set_user_keys(principal, keys);
}

namespace {

// The context a request is decided in: the request's keys, and the
// service's own for this ask (s3:prefix, iot:ClientId...).
ConditionContext ask_context(const ConditionContext& conditions, const IamRequest& request) {
  ConditionContext context = conditions;
  for (const auto& [key, value] : request.conditions) context.set(key, value);
  return context;
}

}  // namespace

std::optional<Denial> Authorizer::authorize(const Principal& principal,
                                            const std::vector<IamRequest>& requests,
                                            const ConditionContext& conditions) const {
  if (principal.is_root) return std::nullopt;
  std::vector<Decision> decisions = decide(principal, requests, conditions);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (decisions[i] == Decision::kAllow) continue;
    return Denial{.action = requests[i].action,
                  .resource = requests[i].resource,
                  .explicit_deny = decisions[i] == Decision::kExplicitDeny};
  }
  return std::nullopt;
}

void Authorizer::name_deny(const Principal& principal, const std::vector<IamRequest>& requests,
                           const ConditionContext& conditions, Denial* denial) const {
  if (!denial->explicit_deny) return;
  auto request = std::find_if(requests.begin(), requests.end(), [&](const IamRequest& r) {
    return r.action == denial->action && r.resource == denial->resource;
  });
  if (request == requests.end()) return;
  std::shared_ptr<const Policies> policies = policies_of(principal);
  Explanation why = explain(documents_of(*policies), denial->action, denial->resource,
                            ask_context(conditions, *request));
  if (why.matched.empty()) return;  // the policies changed meanwhile
  const UserPolicy& policy = (*policies)[why.matched.front().policy];
  denial->deny_policy = policy.name;
  denial->deny_policy_inline = policy.is_inline;
  denial->deny_statement = why.matched.front().statement + 1;
  denial->deny_sid = policy.document.statements[why.matched.front().statement].sid;
}

std::shared_ptr<const Authorizer::Policies> Authorizer::policies_of(
    const Principal& principal) const {
  std::shared_lock lock(mutex_);
  auto it = users_.find(user_key(principal.account_id, principal.user_name));
  if (it != users_.end()) return it->second;
  static const auto none = std::make_shared<const Policies>();
  return none;
}

std::vector<const PolicyDocument*> Authorizer::documents_of(const Policies& policies) {
  std::vector<const PolicyDocument*> documents;
  for (const UserPolicy& policy : policies) documents.push_back(&policy.document);
  return documents;
}

std::vector<Decision> Authorizer::decide(const Principal& principal,
                                         const std::vector<IamRequest>& requests,
                                         const ConditionContext& conditions) const {
  if (principal.is_root) return std::vector<Decision>(requests.size(), Decision::kAllow);
  std::shared_ptr<const Policies> policies = policies_of(principal);
  std::vector<const PolicyDocument*> documents = documents_of(*policies);
  std::vector<Decision> decisions;
  decisions.reserve(requests.size());
  for (const IamRequest& request : requests) {
    decisions.push_back(request.conditions.empty()
                            ? evaluate(documents, request.action, request.resource, conditions)
                            : evaluate(documents, request.action, request.resource,
                                       ask_context(conditions, request)));
  }
  return decisions;
}

}  // namespace offcloud

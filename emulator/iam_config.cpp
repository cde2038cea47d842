#include "emulator/iam_config.h"

#include <cctype>

#include "emulator/auth/aws_managed_policies.h"
#include "emulator/auth/credential_store.h"
#include "emulator/auth/iam_policy.h"
#include "emulator/http/http_types.h"
#include "emulator/iam/iam_ids.h"
#include "emulator/util/log.h"

namespace offcloud {
namespace {

constexpr std::string_view kUnrestrictedPolicy = "AdministratorAccess";

void check_name(const std::string& where, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) ||
                std::string_view("_+=,.@-").find(c) != std::string_view::npos);
  }
  if (!ok) throw ConfigError(where + ": '" + name + "' is not 1 to 64 of [A-Za-z0-9_+=,.@-]");
}

void check_document(const std::string& where, const std::string& document) {
  std::string error;
  if (!parse_policy(document, &error)) throw ConfigError(where + ": " + error);
}

std::string customer_policy_arn(std::string_view account, std::string_view name) {
  return "arn:aws:iam::" + std::string(account) + ":policy/" + std::string(name);
}

// One account's users and policies; `in` names the account in errors.
void apply_account(const std::string& account, const std::string& in,
                   const std::vector<UserConfig>& users, const std::vector<PolicyConfig>& policies,
                   IamStore& store) {
  long long now = now_ms();
  for (const PolicyConfig& policy : policies) {
    std::string where = in + "policies: " + policy.name;
    check_name(in + "policies", policy.name);
    check_document(where, policy.document);
    if (auto existing = store.policy_named(account, policy.name)) {
      if (existing->document != policy.document) {
        store.update_policy_document(existing->arn, policy.document, now);
      }
      continue;
    }
    IamManagedPolicy created;
    created.account_id = account;
    created.arn = customer_policy_arn(account, policy.name);
    created.name = policy.name;
    created.policy_id = new_policy_id();
    created.description = "From the offcloud config file.";
    created.document = policy.document;
    created.created_ms = created.updated_ms = now;
    store.create_policy(created);
  }

  for (const UserConfig& user : users) {
    std::string where = in + "users: user " + user.name;
    check_name(in + "users", user.name);
    if (!store.user(account, user.name)) {
      store.create_user({account, user.name, new_user_id(), "/", now});
    }
    for (const AccessKeyConfig& key : user.access_keys) {
      std::optional<IamAccessKey> existing = store.access_key(key.access_key_id);
      if (existing && existing->account_id == account && iequals(existing->user_name, user.name) &&
          existing->secret_access_key == key.secret_access_key) {
        continue;
      }
      store.put_access_key(
          {account, key.access_key_id, user.name, key.secret_access_key, true, now});
    }
    for (const PolicyConfig& policy : user.policies) {
      check_name(where + ": policies", policy.name);
      check_document(where + ": policy " + policy.name, policy.document);
      store.put_user_policy(account, user.name, policy.name, policy.document);
    }
    std::vector<std::string> attached = user.attached_policies;
    if (user.unrestricted) {
      attached.push_back(std::string(kAwsManagedPolicyPrefix) + std::string(kUnrestrictedPolicy));
    }
    for (const std::string& name : attached) {
      std::string arn = name.starts_with("arn:") ? name : customer_policy_arn(account, name);
      std::optional<IamManagedPolicy> customer = store.policy(arn);
      if (!find_aws_managed_policy(arn) && (!customer || customer->account_id != account)) {
        throw ConfigError(where + ": attached policy " + name +
                          " is neither in \"policies\" nor an AWS managed policy offcloud knows");
      }
      store.attach_user_policy(account, user.name, arn);
    }
  }
}

}  // namespace

void apply_iam_config(const Config& config, IamStore& store) {
  apply_account(std::string(kAccountId), "", config.users, config.policies, store);
  for (const AccountConfig& account : config.accounts) {
    apply_account(account.id, "accounts: account " + account.id + ": ", account.users,
                  account.policies, store);
  }
}

}  // namespace offcloud

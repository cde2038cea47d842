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

std::string customer_policy_arn(std::string_view name) {
  return "arn:aws:iam::" + std::string(kAccountId) + ":policy/" + std::string(name);
}

}  // namespace

void apply_iam_config(const Config& config, IamStore& store) {
  long long now = now_ms();
  for (const PolicyConfig& policy : config.policies) {
    std::string where = "policies: " + policy.name;
    check_name("policies", policy.name);
    check_document(where, policy.document);
    if (auto existing = store.policy_named(policy.name)) {
      if (existing->document != policy.document) {
        store.update_policy_document(existing->arn, policy.document, now);
      }
      continue;
    }
    IamManagedPolicy created;
    created.arn = customer_policy_arn(policy.name);
    created.name = policy.name;
    created.policy_id = new_policy_id();
    created.description = "From the offcloud config file.";
    created.document = policy.document;
    created.created_ms = created.updated_ms = now;
    store.create_policy(created);
  }

  for (const UserConfig& user : config.users) {
    std::string where = "users: user " + user.name;
    check_name("users", user.name);
    if (!store.user(user.name)) store.create_user({user.name, new_user_id(), "/", now});
    for (const AccessKeyConfig& key : user.access_keys) {
      std::optional<IamAccessKey> existing = store.access_key(key.access_key_id);
      if (existing && iequals(existing->user_name, user.name) &&
          existing->secret_access_key == key.secret_access_key) {
        continue;
      }
      store.put_access_key({key.access_key_id, user.name, key.secret_access_key, true, now});
    }
    for (const PolicyConfig& policy : user.policies) {
      check_name(where + ": policies", policy.name);
      check_document(where + ": policy " + policy.name, policy.document);
      store.put_user_policy(user.name, policy.name, policy.document);
    }
    std::vector<std::string> attached = user.attached_policies;
    if (user.unrestricted) {
      attached.push_back(std::string(kAwsManagedPolicyPrefix) + std::string(kUnrestrictedPolicy));
    }
    for (const std::string& name : attached) {
      std::string arn = name.starts_with("arn:") ? name : customer_policy_arn(name);
      if (!find_aws_managed_policy(arn) && !store.policy(arn)) {
        throw ConfigError(where + ": attached policy " + name +
                          " is neither in \"policies\" nor an AWS managed policy offcloud knows");
      }
      store.attach_user_policy(user.name, arn);
    }
  }
}

}  // namespace offcloud

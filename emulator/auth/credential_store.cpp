#include "emulator/auth/credential_store.h"

#include <algorithm>
#include <mutex>

#include "emulator/http/http_types.h"

namespace offcloud {

bool is_account_id(std::string_view text) {
  return text.size() == 12 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Principal account_root(std::string_view account_id, std::string_view access_key_id) {
  Principal root;
  root.access_key_id = access_key_id;
  root.account_id = account_id;
  root.arn = "arn:aws:iam::" + std::string(account_id) + ":root";
  root.user_id = account_id;
  root.is_root = true;
  return root;
}

CredentialStore::CredentialStore() {
  add_account_root(kAccountId, kRootAccessKeyId, kRootSecretAccessKey);
}

void CredentialStore::add_account_root(std::string_view account_id, std::string_view access_key_id,
                                       std::string_view secret_access_key) {
  Credential root;
  root.secret_access_key = secret_access_key;
  root.principal = account_root(account_id, access_key_id);
  std::unique_lock lock(mutex_);
  accounts_with_keys_.emplace(account_id);
  credentials_.insert_or_assign(std::string(access_key_id), std::move(root));
}

void CredentialStore::set_accounts_from_keys(bool enabled) {
  std::unique_lock lock(mutex_);
  accounts_from_keys_ = enabled;
}

void CredentialStore::add_user_key(std::string_view user_name, std::string_view access_key_id,
                                   std::string_view secret_access_key) {
  Credential credential;
  credential.secret_access_key = secret_access_key;
  credential.principal.access_key_id = access_key_id;
  credential.principal.user_name = user_name;
  credential.principal.arn =
      "arn:aws:iam::" + std::string(kAccountId) + ":user/" + std::string(user_name);
  add(std::string(access_key_id), std::move(credential));
}

void CredentialStore::add(std::string access_key_id, Credential credential) {
  std::unique_lock lock(mutex_);
  credentials_.insert_or_assign(std::move(access_key_id), std::move(credential));
}

void CredentialStore::set_user_keys(const Principal& user, const std::vector<UserKey>& keys) {
  std::unique_lock lock(mutex_);
  std::erase_if(credentials_, [&](const auto& entry) {
    const Principal& principal = entry.second.principal;
    return !principal.is_root && principal.account_id == user.account_id &&
           iequals(principal.user_name, user.user_name);
  });
  for (const UserKey& key : keys) {
    Credential credential;
    credential.secret_access_key = key.secret_access_key;
    credential.active = key.active;
    credential.principal = user;
    credential.principal.access_key_id = key.access_key_id;
    credential.principal.is_root = false;
    credentials_.insert_or_assign(key.access_key_id, std::move(credential));
  }
}

std::optional<Credential> CredentialStore::find(std::string_view access_key_id) const {
  std::shared_lock lock(mutex_);
  auto it = credentials_.find(std::string(access_key_id));
  if (it != credentials_.end()) return it->second;
  if (accounts_from_keys_ && is_account_id(access_key_id) &&
      !accounts_with_keys_.contains(std::string(access_key_id))) {
    // Nothing to remember: the account is the key, and its state is made
    // by the services on its first write.
    Credential root;
    root.secret_access_key = kRootSecretAccessKey;
    root.principal = account_root(access_key_id, access_key_id);
    return root;
  }
  return std::nullopt;
}

}  // namespace offcloud

#include "emulator/auth/credential_store.h"

#include <mutex>

#include "emulator/http/http_types.h"

namespace offcloud {

CredentialStore::CredentialStore() {
  Credential root;
  root.secret_access_key = kRootSecretAccessKey;
  root.principal.access_key_id = kRootAccessKeyId;
  root.principal.arn = "arn:aws:iam::" + std::string(kAccountId) + ":root";
  root.principal.user_id = kAccountId;
  root.principal.is_root = true;
  add(std::string(kRootAccessKeyId), std::move(root));
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
    return !principal.is_root && iequals(principal.user_name, user.user_name);
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
  if (it == credentials_.end()) return std::nullopt;
  return it->second;
}

}  // namespace offcloud

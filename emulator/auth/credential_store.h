// Access keys offcloud accepts and who they belong to. The built-in root key
// test/test (LocalStack's convention) is always there; IAM's users' keys
// (created through the API or the config file) are mirrored here.
#pragma once

#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace offcloud {

inline constexpr std::string_view kAccountId = "000000000000";
inline constexpr std::string_view kRootAccessKeyId = "test";
inline constexpr std::string_view kRootSecretAccessKey = "test";

struct Principal {
  std::string access_key_id;
  std::string arn;        // arn:aws:iam::<account>:root or :user/<name>
  std::string user_name;  // empty for root
  std::string user_id;    // IAM's AIDA... id; the account id for root
  std::string account_id{kAccountId};
  bool is_root = false;
};

struct Credential {
  std::string secret_access_key;
  // When set, requests must carry this X-Amz-Security-Token. The root key
  // ignores tokens, so AWS_SESSION_TOKEN left in an environment does no harm.
  std::optional<std::string> session_token;
  bool active = true;
  Principal principal;
};

class CredentialStore {
 public:
  CredentialStore();  // holds the root key

  void add_user_key(std::string_view user_name, std::string_view access_key_id,
                    std::string_view secret_access_key);
  void add(std::string access_key_id, Credential credential);
  // Replaces every key of `user`'s name (compared without case, as IAM
  // does) by `keys`, at once: a request sees the old set or the new one.
  // `user` gives the name, id and ARN each key's principal gets.
  struct UserKey {
    std::string access_key_id;
    std::string secret_access_key;
    bool active = true;
  };
  void set_user_keys(const Principal& user, const std::vector<UserKey>& keys);
  std::optional<Credential> find(std::string_view access_key_id) const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Credential> credentials_;
};

}  // namespace offcloud

// Access keys offcloud accepts and who they belong to. Every principal
// belongs to an account: the built-in root key test/test (LocalStack's
// convention) is the root of account 000000000000; the config file adds
// accounts with root keys of their own; IAM's users' keys (created through
// the API or the config file) are mirrored here with their account. As in
// LocalStack, an access key id of 12 digits used with the secret "test" can
// be the root of the account it names, made on first use, unless that account
// has a root key of its own (a classroom's students could otherwise use each
// other's account ids as keys).
#pragma once

#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace offcloud {

// The account of the built-in root key, and of everything a data dir made
// before accounts held.
inline constexpr std::string_view kAccountId = "000000000000";
inline constexpr std::string_view kRootAccessKeyId = "test";
inline constexpr std::string_view kRootSecretAccessKey = "test";

// Whether `text` is an AWS account id: exactly 12 digits.
bool is_account_id(std::string_view text);

struct Principal {
  std::string access_key_id;
  std::string arn;        // arn:aws:iam::<account>:root or :user/<name>
  std::string user_name;  // empty for root
  std::string user_id;    // IAM's AIDA... id; the account id for root
  std::string account_id{kAccountId};
  bool is_root = false;
  // An X.509 client of AWS IoT: its certificate's id (arn is the
  // certificate's), whose IoT policies decide instead of IAM.
  std::string certificate_id;
  // Policy variables the credential brings (iot:Certificate.Subject.CommonName, ...).
  std::vector<std::pair<std::string, std::string>> context_keys;
  // A request with no credentials at all, which the router gives a service
  // that serves anonymous callers: nobody's, no account.
  bool is_anonymous() const { return account_id.empty(); }
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
  CredentialStore();  // holds the root key of 000000000000

  // The root key of `account_id` (a config file's account).
  void add_account_root(std::string_view account_id, std::string_view access_key_id,
                        std::string_view secret_access_key);
  // On (the default), an unknown access key id of 12 digits is the root of
  // that account with the secret "test", as LocalStack takes it; never for an
  // account given a root key by add_account_root.
  void set_accounts_from_keys(bool enabled);

  // A user of account 000000000000 (tests).
  void add_user_key(std::string_view user_name, std::string_view access_key_id,
                    std::string_view secret_access_key);
  void add(std::string access_key_id, Credential credential);
  // Replaces every key of `user`'s name (compared without case, as IAM
  // does) in `user`'s account by `keys`, at once: a request sees the old set
  // or the new one. `user` gives the name, id, ARN and account each key's
  // principal gets.
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
  std::unordered_set<std::string> accounts_with_keys_;
  bool accounts_from_keys_ = true;
};

// The root principal of `account_id`, holding `access_key_id`.
Principal account_root(std::string_view account_id, std::string_view access_key_id);

}  // namespace offcloud

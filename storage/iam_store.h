// IAM's users, access keys, customer managed policies, the policies attached
// to each user and each user's inline policies, kept in SQLite so that a
// class's users and keys survive restarts. IAM is global within an account
// and every account has its own: each call names the account (access key ids
// alone are unique across all of them, as on AWS). Names compare without
// case, as IAM's do ("Alice" and "alice" are one user). Each call is atomic
// on its own; a caller that checks then changes (DeleteUser's conflicts)
// serializes itself. A data dir from before accounts opens with everything
// in account 000000000000.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/database.h"

namespace offcloud {

struct IamUser {
  std::string account_id;
  std::string name;
  std::string user_id;  // AIDA...
  std::string path = "/";
  std::int64_t created_ms = 0;
};

struct IamAccessKey {
  std::string account_id;
  std::string access_key_id;
  std::string user_name;
  std::string secret_access_key;
  bool active = true;
  std::int64_t created_ms = 0;
};

struct IamManagedPolicy {
  std::string account_id;
  std::string arn;
  std::string name;
  std::string policy_id;  // ANPA...
  std::string path = "/";
  std::string description;
  std::string document;  // as given: IAM hands it back verbatim
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
};

struct IamInlinePolicy {
  std::string name;
  std::string document;
};

class IamStore {
 public:
  explicit IamStore(const std::string& db_path);

  // False when a user of that name exists.
  bool create_user(const IamUser& user);  // in user.account_id
  std::optional<IamUser> user(std::string_view account, std::string_view name);
  std::vector<IamUser> users(std::string_view account);  // by name
  std::vector<IamUser> all_users();                      // every account's
  // Removes the user alone: keys and policies are the caller's to check.
  bool delete_user(std::string_view account, std::string_view name);

  // Inserts or replaces.
  void put_access_key(const IamAccessKey& key);
  std::optional<IamAccessKey> access_key(std::string_view access_key_id);
  std::vector<IamAccessKey> access_keys(std::string_view account,
                                        std::string_view user_name);  // oldest first
  std::vector<IamAccessKey> all_access_keys();
  bool set_access_key_active(std::string_view access_key_id, bool active);
  bool delete_access_key(std::string_view access_key_id);

  // False when a policy of that name exists.
  bool create_policy(const IamManagedPolicy& policy);  // in policy.account_id
  void update_policy_document(std::string_view arn, std::string_view document,
                              std::int64_t updated_ms);
  std::optional<IamManagedPolicy> policy(std::string_view arn);
  std::optional<IamManagedPolicy> policy_named(std::string_view account, std::string_view name);
  std::vector<IamManagedPolicy> policies(std::string_view account);  // by name
  bool delete_policy(std::string_view arn);
  // Attachments in `account` (AWS managed policies are shared by all).
  int attachment_count(std::string_view account, std::string_view policy_arn);

  // False when already attached / not attached.
  bool attach_user_policy(std::string_view account, std::string_view user_name,
                          std::string_view policy_arn);
  bool detach_user_policy(std::string_view account, std::string_view user_name,
                          std::string_view policy_arn);
  std::vector<std::string> attached_user_policies(std::string_view account,
                                                  std::string_view user_name);  // ARNs

  // Inserts or replaces.
  void put_user_policy(std::string_view account, std::string_view user_name,
                       std::string_view policy_name, std::string_view document);
  std::optional<IamInlinePolicy> user_policy(std::string_view account, std::string_view user_name,
                                             std::string_view policy_name);
  std::vector<IamInlinePolicy> user_policies(std::string_view account,
                                             std::string_view user_name);  // by name
  bool delete_user_policy(std::string_view account, std::string_view user_name,
                          std::string_view policy_name);

 private:
  void upgrade_to_accounts();
  std::vector<IamAccessKey> read_keys(Statement& statement);
  std::optional<IamManagedPolicy> read_policy(Statement& statement);

  std::mutex mutex_;
  Database db_;
};

}  // namespace offcloud

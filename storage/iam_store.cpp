#include "storage/iam_store.h"

namespace offcloud {
namespace {

constexpr std::string_view kSchema =
    "CREATE TABLE IF NOT EXISTS iam_user ("
    " account_id TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, user_id TEXT NOT NULL,"
    " path TEXT NOT NULL, created_ms INTEGER NOT NULL, PRIMARY KEY (account_id, name));"
    "CREATE TABLE IF NOT EXISTS iam_access_key ("
    " access_key_id TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
    " user_name TEXT NOT NULL COLLATE NOCASE, secret_access_key TEXT NOT NULL,"
    " active INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS iam_access_key_account_user"
    " ON iam_access_key (account_id, user_name);"
    "CREATE TABLE IF NOT EXISTS iam_policy ("
    " arn TEXT PRIMARY KEY, account_id TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE,"
    " policy_id TEXT NOT NULL, path TEXT NOT NULL, description TEXT NOT NULL,"
    " document TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    " UNIQUE (account_id, name));"
    "CREATE TABLE IF NOT EXISTS iam_user_policy_attachment ("
    " account_id TEXT NOT NULL, user_name TEXT NOT NULL COLLATE NOCASE,"
    " policy_arn TEXT NOT NULL, PRIMARY KEY (account_id, user_name, policy_arn)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS iam_user_inline_policy ("
    " account_id TEXT NOT NULL, user_name TEXT NOT NULL COLLATE NOCASE,"
    " name TEXT NOT NULL COLLATE NOCASE, document TEXT NOT NULL,"
    " PRIMARY KEY (account_id, user_name, name)) WITHOUT ROWID;";

// The tables before accounts, and their columns, in the order they had.
struct OldTable {
  const char* name;
  const char* columns;
};
constexpr OldTable kOldTables[] = {
    {"iam_user", "name, user_id, path, created_ms"},
    {"iam_access_key", "access_key_id, user_name, secret_access_key, active, created_ms"},
    {"iam_policy", "arn, name, policy_id, path, description, document, created_ms, updated_ms"},
    {"iam_user_policy_attachment", "user_name, policy_arn"},
    {"iam_user_inline_policy", "user_name, name, document"},
};

}  // namespace

IamStore::IamStore(const std::string& db_path) : db_(db_path) {
  upgrade_to_accounts();
  db_.exec(kSchema);
}

// A data dir from before accounts: its tables are rebuilt with every row in
// account 000000000000 (SQLite cannot change a primary key in place).
void IamStore::upgrade_to_accounts() {
  if (!db_.has_table("iam_user") || db_.has_column("iam_user", "account_id")) return;
  Transaction transaction(db_);
  for (const OldTable& table : kOldTables) {
    db_.exec(std::string("ALTER TABLE ") + table.name + " RENAME TO " + table.name + "_v1");
  }
  db_.exec("DROP INDEX IF EXISTS iam_access_key_user");
  db_.exec(kSchema);
  for (const OldTable& table : kOldTables) {
    db_.exec(std::string("INSERT INTO ") + table.name + " (account_id, " + table.columns +
             ") SELECT '000000000000', " + table.columns + " FROM " + table.name + "_v1;" +
             "DROP TABLE " + table.name + "_v1");
  }
  transaction.commit();
}

namespace {

IamUser read_user(Statement& select) {
  return {select.column_text(0), select.column_text(1), select.column_text(2),
          select.column_text(3), select.column_int(4)};
}

constexpr std::string_view kUserColumns = "SELECT account_id, name, user_id, path, created_ms";

}  // namespace

bool IamStore::create_user(const IamUser& user) {
  std::lock_guard lock(mutex_);
  auto insert = db_.cached(
      "INSERT INTO iam_user (account_id, name, user_id, path, created_ms)"
      " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING RETURNING 1");
  insert->bind(1, user.account_id);
  insert->bind(2, user.name);
  insert->bind(3, user.user_id);
  insert->bind(4, user.path);
  insert->bind(5, user.created_ms);
  return insert->step();
}

std::optional<IamUser> IamStore::user(std::string_view account, std::string_view name) {
  std::lock_guard lock(mutex_);
  auto select =
      db_.cached(std::string(kUserColumns) + " FROM iam_user WHERE account_id = ?1 AND name = ?2");
  select->bind(1, account);
  select->bind(2, name);
  if (!select->step()) return std::nullopt;
  return read_user(*select);
}

std::vector<IamUser> IamStore::users(std::string_view account) {
  std::lock_guard lock(mutex_);
  auto select =
      db_.cached(std::string(kUserColumns) + " FROM iam_user WHERE account_id = ?1 ORDER BY name");
  select->bind(1, account);
  std::vector<IamUser> out;
  while (select->step()) out.push_back(read_user(*select));
  return out;
}

std::vector<IamUser> IamStore::all_users() {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(std::string(kUserColumns) + " FROM iam_user ORDER BY account_id, name");
  std::vector<IamUser> out;
  while (select->step()) out.push_back(read_user(*select));
  return out;
}

bool IamStore::delete_user(std::string_view account, std::string_view name) {
  std::lock_guard lock(mutex_);
  auto erase = db_.cached("DELETE FROM iam_user WHERE account_id = ?1 AND name = ?2 RETURNING 1");
  erase->bind(1, account);
  erase->bind(2, name);
  return erase->step();
}

void IamStore::put_access_key(const IamAccessKey& key) {
  std::lock_guard lock(mutex_);
  auto insert = db_.cached(
      "INSERT OR REPLACE INTO iam_access_key (account_id, access_key_id, user_name,"
      " secret_access_key, active, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  insert->bind(1, key.account_id);
  insert->bind(2, key.access_key_id);
  insert->bind(3, key.user_name);
  insert->bind(4, key.secret_access_key);
  insert->bind(5, std::int64_t{key.active});
  insert->bind(6, key.created_ms);
  insert->step();
}

namespace {
constexpr std::string_view kKeyColumns =
    "SELECT account_id, access_key_id, user_name, secret_access_key, active, created_ms";
}

std::vector<IamAccessKey> IamStore::read_keys(Statement& statement) {
  std::vector<IamAccessKey> out;
  while (statement.step()) {
    out.push_back({statement.column_text(0), statement.column_text(1), statement.column_text(2),
                   statement.column_text(3), statement.column_int(4) != 0,
                   statement.column_int(5)});
  }
  return out;
}

std::optional<IamAccessKey> IamStore::access_key(std::string_view access_key_id) {
  std::lock_guard lock(mutex_);
  auto select =
      db_.cached(std::string(kKeyColumns) + " FROM iam_access_key WHERE access_key_id = ?1");
  select->bind(1, access_key_id);
  std::vector<IamAccessKey> keys = read_keys(*select);
  if (keys.empty()) return std::nullopt;
  return keys.front();
}

std::vector<IamAccessKey> IamStore::access_keys(std::string_view account,
                                                std::string_view user_name) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(std::string(kKeyColumns) +
                           " FROM iam_access_key WHERE account_id = ?1 AND user_name = ?2"
                           " ORDER BY created_ms, access_key_id");
  select->bind(1, account);
  select->bind(2, user_name);
  return read_keys(*select);
}

std::vector<IamAccessKey> IamStore::all_access_keys() {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(std::string(kKeyColumns) +
                           " FROM iam_access_key ORDER BY account_id, user_name, created_ms");
  return read_keys(*select);
}

bool IamStore::set_access_key_active(std::string_view access_key_id, bool active) {
  std::lock_guard lock(mutex_);
  auto update =
      db_.cached("UPDATE iam_access_key SET active = ?2 WHERE access_key_id = ?1 RETURNING 1");
  update->bind(1, access_key_id);
  update->bind(2, std::int64_t{active});
  return update->step();
}

bool IamStore::delete_access_key(std::string_view access_key_id) {
  std::lock_guard lock(mutex_);
  auto erase = db_.cached("DELETE FROM iam_access_key WHERE access_key_id = ?1 RETURNING 1");
  erase->bind(1, access_key_id);
  return erase->step();
}

namespace {
constexpr std::string_view kPolicyColumns =
    "SELECT account_id, arn, name, policy_id, path, description, document, created_ms,"
    " updated_ms";
}

bool IamStore::create_policy(const IamManagedPolicy& policy) {
  std::lock_guard lock(mutex_);
  auto insert = db_.cached(
      "INSERT INTO iam_policy (account_id, arn, name, policy_id, path, description, document,"
      " created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
      " ON CONFLICT DO NOTHING RETURNING 1");
  insert->bind(1, policy.account_id);
  insert->bind(2, policy.arn);
  insert->bind(3, policy.name);
  insert->bind(4, policy.policy_id);
  insert->bind(5, policy.path);
  insert->bind(6, policy.description);
  insert->bind(7, policy.document);
  insert->bind(8, policy.created_ms);
  insert->bind(9, policy.updated_ms);
  return insert->step();
}

void IamStore::update_policy_document(std::string_view arn, std::string_view document,
                                      std::int64_t updated_ms) {
  std::lock_guard lock(mutex_);
  auto update = db_.cached("UPDATE iam_policy SET document = ?2, updated_ms = ?3 WHERE arn = ?1");
  update->bind(1, arn);
  update->bind(2, document);
  update->bind(3, updated_ms);
  update->step();
}

std::optional<IamManagedPolicy> IamStore::read_policy(Statement& statement) {
  if (!statement.step()) return std::nullopt;
  return IamManagedPolicy{
      statement.column_text(0), statement.column_text(1), statement.column_text(2),
      statement.column_text(3), statement.column_text(4), statement.column_text(5),
      statement.column_text(6), statement.column_int(7),  statement.column_int(8)};
}

std::optional<IamManagedPolicy> IamStore::policy(std::string_view arn) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(std::string(kPolicyColumns) + " FROM iam_policy WHERE arn = ?1");
  select->bind(1, arn);
  return read_policy(*select);
}

std::optional<IamManagedPolicy> IamStore::policy_named(std::string_view account,
                                                       std::string_view name) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(std::string(kPolicyColumns) +
                           " FROM iam_policy WHERE account_id = ?1 AND name = ?2");
  select->bind(1, account);
  select->bind(2, name);
  return read_policy(*select);
}

std::vector<IamManagedPolicy> IamStore::policies(std::string_view account) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(std::string(kPolicyColumns) +
                           " FROM iam_policy WHERE account_id = ?1 ORDER BY name");
  select->bind(1, account);
  std::vector<IamManagedPolicy> out;
  while (auto policy = read_policy(*select)) out.push_back(std::move(*policy));
  return out;
}

bool IamStore::delete_policy(std::string_view arn) {
  std::lock_guard lock(mutex_);
  auto erase = db_.cached("DELETE FROM iam_policy WHERE arn = ?1 RETURNING 1");
  erase->bind(1, arn);
  return erase->step();
}

int IamStore::attachment_count(std::string_view account, std::string_view policy_arn) {
  std::lock_guard lock(mutex_);
  auto count = db_.cached(
      "SELECT count(*) FROM iam_user_policy_attachment WHERE account_id = ?1 AND policy_arn = ?2");
  count->bind(1, account);
  count->bind(2, policy_arn);
  count->step();
  return static_cast<int>(count->column_int(0));
}

bool IamStore::attach_user_policy(std::string_view account, std::string_view user_name,
                                  std::string_view policy_arn) {
  std::lock_guard lock(mutex_);
  auto insert = db_.cached(
      "INSERT INTO iam_user_policy_attachment (account_id, user_name, policy_arn)"
      " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING RETURNING 1");
  insert->bind(1, account);
  insert->bind(2, user_name);
  insert->bind(3, policy_arn);
  return insert->step();
}

bool IamStore::detach_user_policy(std::string_view account, std::string_view user_name,
                                  std::string_view policy_arn) {
  std::lock_guard lock(mutex_);
  auto erase = db_.cached(
      "DELETE FROM iam_user_policy_attachment"
      " WHERE account_id = ?1 AND user_name = ?2 AND policy_arn = ?3 RETURNING 1");
  erase->bind(1, account);
  erase->bind(2, user_name);
  erase->bind(3, policy_arn);
  return erase->step();
}

std::vector<std::string> IamStore::attached_user_policies(std::string_view account,
                                                          std::string_view user_name) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(
      "SELECT policy_arn FROM iam_user_policy_attachment WHERE account_id = ?1 AND"
      " user_name = ?2 ORDER BY policy_arn");
  select->bind(1, account);
  select->bind(2, user_name);
  std::vector<std::string> out;
  while (select->step()) out.push_back(select->column_text(0));
  return out;
}

void IamStore::put_user_policy(std::string_view account, std::string_view user_name,
                               std::string_view policy_name, std::string_view document) {
  std::lock_guard lock(mutex_);
  auto insert = db_.cached(
      "INSERT OR REPLACE INTO iam_user_inline_policy (account_id, user_name, name, document)"
      " VALUES (?1, ?2, ?3, ?4)");
  insert->bind(1, account);
  insert->bind(2, user_name);
  insert->bind(3, policy_name);
  insert->bind(4, document);
  insert->step();
}

std::optional<IamInlinePolicy> IamStore::user_policy(std::string_view account,
                                                     std::string_view user_name,
                                                     std::string_view policy_name) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(
      "SELECT name, document FROM iam_user_inline_policy"
      " WHERE account_id = ?1 AND user_name = ?2 AND name = ?3");
  select->bind(1, account);
  select->bind(2, user_name);
  select->bind(3, policy_name);
  if (!select->step()) return std::nullopt;
  return IamInlinePolicy{select->column_text(0), select->column_text(1)};
}

std::vector<IamInlinePolicy> IamStore::user_policies(std::string_view account,
                                                     std::string_view user_name) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(
      "SELECT name, document FROM iam_user_inline_policy"
      " WHERE account_id = ?1 AND user_name = ?2 ORDER BY name");
  select->bind(1, account);
  select->bind(2, user_name);
  std::vector<IamInlinePolicy> out;
  while (select->step()) out.push_back({select->column_text(0), select->column_text(1)});
  return out;
}

bool IamStore::delete_user_policy(std::string_view account, std::string_view user_name,
                                  std::string_view policy_name) {
  std::lock_guard lock(mutex_);
  auto erase = db_.cached(
      "DELETE FROM iam_user_inline_policy WHERE account_id = ?1 AND user_name = ?2 AND"
      " name = ?3 RETURNING 1");
  erase->bind(1, account);
  erase->bind(2, user_name);
  erase->bind(3, policy_name);
  return erase->step();
}

}  // namespace offcloud

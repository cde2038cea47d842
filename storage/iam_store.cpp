#include "storage/iam_store.h"

namespace offcloud {

IamStore::IamStore(const std::string& db_path) : db_(db_path) {
  db_.exec(
      "CREATE TABLE IF NOT EXISTS iam_user ("
      " name TEXT PRIMARY KEY COLLATE NOCASE, user_id TEXT NOT NULL, path TEXT NOT NULL,"
      " created_ms INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS iam_access_key ("
      " access_key_id TEXT PRIMARY KEY, user_name TEXT NOT NULL COLLATE NOCASE,"
      " secret_access_key TEXT NOT NULL, active INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
      "CREATE INDEX IF NOT EXISTS iam_access_key_user ON iam_access_key (user_name);"
      "CREATE TABLE IF NOT EXISTS iam_policy ("
      " arn TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, policy_id TEXT NOT NULL,"
      " path TEXT NOT NULL, description TEXT NOT NULL, document TEXT NOT NULL,"
      " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS iam_user_policy_attachment ("
      " user_name TEXT NOT NULL COLLATE NOCASE, policy_arn TEXT NOT NULL,"
      " PRIMARY KEY (user_name, policy_arn)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS iam_user_inline_policy ("
      " user_name TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL COLLATE NOCASE,"
      " document TEXT NOT NULL, PRIMARY KEY (user_name, name)) WITHOUT ROWID;");
}

bool IamStore::create_user(const IamUser& user) {
  std::lock_guard lock(mutex_);
  auto insert =
      db_.cached("INSERT INTO iam_user VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING RETURNING 1");
  insert->bind(1, user.name);
  insert->bind(2, user.user_id);
  insert->bind(3, user.path);
  insert->bind(4, user.created_ms);
  return insert->step();
}

std::optional<IamUser> IamStore::user(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached("SELECT name, user_id, path, created_ms FROM iam_user WHERE name = ?1");
  select->bind(1, name);
  if (!select->step()) return std::nullopt;
  return IamUser{select->column_text(0), select->column_text(1), select->column_text(2),
                 select->column_int(3)};
}

std::vector<IamUser> IamStore::users() {
  std::lock_guard lock(mutex_);
  auto select = db_.cached("SELECT name, user_id, path, created_ms FROM iam_user ORDER BY name");
  std::vector<IamUser> out;
  while (select->step()) {
    out.push_back({select->column_text(0), select->column_text(1), select->column_text(2),
                   select->column_int(3)});
  }
  return out;
}

bool IamStore::delete_user(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto erase = db_.cached("DELETE FROM iam_user WHERE name = ?1 RETURNING 1");
  erase->bind(1, name);
  return erase->step();
}

void IamStore::put_access_key(const IamAccessKey& key) {
  std::lock_guard lock(mutex_);
  auto insert = db_.cached("INSERT OR REPLACE INTO iam_access_key VALUES (?1, ?2, ?3, ?4, ?5)");
  insert->bind(1, key.access_key_id);
  insert->bind(2, key.user_name);
  insert->bind(3, key.secret_access_key);
  insert->bind(4, std::int64_t{key.active});
  insert->bind(5, key.created_ms);
  insert->step();
}

std::vector<IamAccessKey> IamStore::read_keys(Statement& statement) {
  std::vector<IamAccessKey> out;
  while (statement.step()) {
    out.push_back({statement.column_text(0), statement.column_text(1), statement.column_text(2),
                   statement.column_int(3) != 0, statement.column_int(4)});
  }
  return out;
}

std::optional<IamAccessKey> IamStore::access_key(std::string_view access_key_id) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached("SELECT * FROM iam_access_key WHERE access_key_id = ?1");
  select->bind(1, access_key_id);
  std::vector<IamAccessKey> keys = read_keys(*select);
  if (keys.empty()) return std::nullopt;
  return keys.front();
}

std::vector<IamAccessKey> IamStore::access_keys(std::string_view user_name) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(
      "SELECT * FROM iam_access_key WHERE user_name = ?1 ORDER BY created_ms, access_key_id");
  select->bind(1, user_name);
  return read_keys(*select);
}

std::vector<IamAccessKey> IamStore::all_access_keys() {
  std::lock_guard lock(mutex_);
  auto select = db_.cached("SELECT * FROM iam_access_key ORDER BY user_name, created_ms");
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

bool IamStore::create_policy(const IamManagedPolicy& policy) {
  std::lock_guard lock(mutex_);
  auto insert = db_.cached(
      "INSERT INTO iam_policy VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
      " ON CONFLICT DO NOTHING RETURNING 1");
  insert->bind(1, policy.arn);
  insert->bind(2, policy.name);
  insert->bind(3, policy.policy_id);
  insert->bind(4, policy.path);
  insert->bind(5, policy.description);
  insert->bind(6, policy.document);
  insert->bind(7, policy.created_ms);
  insert->bind(8, policy.updated_ms);
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
  return IamManagedPolicy{statement.column_text(0), statement.column_text(1),
                          statement.column_text(2), statement.column_text(3),
                          statement.column_text(4), statement.column_text(5),
                          statement.column_int(6),  statement.column_int(7)};
}

std::optional<IamManagedPolicy> IamStore::policy(std::string_view arn) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached("SELECT * FROM iam_policy WHERE arn = ?1");
  select->bind(1, arn);
  return read_policy(*select);
}

std::optional<IamManagedPolicy> IamStore::policy_named(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached("SELECT * FROM iam_policy WHERE name = ?1");
  select->bind(1, name);
  return read_policy(*select);
}

std::vector<IamManagedPolicy> IamStore::policies() {
  std::lock_guard lock(mutex_);
  auto select = db_.cached("SELECT * FROM iam_policy ORDER BY name");
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

int IamStore::attachment_count(std::string_view policy_arn) {
  std::lock_guard lock(mutex_);
  auto count = db_.cached("SELECT count(*) FROM iam_user_policy_attachment WHERE policy_arn = ?1");
  count->bind(1, policy_arn);
  count->step();
  return static_cast<int>(count->column_int(0));
}

bool IamStore::attach_user_policy(std::string_view user_name, std::string_view policy_arn) {
  std::lock_guard lock(mutex_);
  auto insert = db_.cached(
      "INSERT INTO iam_user_policy_attachment VALUES (?1, ?2) ON CONFLICT DO NOTHING RETURNING 1");
  insert->bind(1, user_name);
  insert->bind(2, policy_arn);
  return insert->step();
}

bool IamStore::detach_user_policy(std::string_view user_name, std::string_view policy_arn) {
  std::lock_guard lock(mutex_);
  auto erase = db_.cached(
      "DELETE FROM iam_user_policy_attachment WHERE user_name = ?1 AND policy_arn = ?2"
      " RETURNING 1");
  erase->bind(1, user_name);
  erase->bind(2, policy_arn);
  return erase->step();
}

std::vector<std::string> IamStore::attached_user_policies(std::string_view user_name) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(
      "SELECT policy_arn FROM iam_user_policy_attachment WHERE user_name = ?1 ORDER BY policy_arn");
  select->bind(1, user_name);
  std::vector<std::string> out;
  while (select->step()) out.push_back(select->column_text(0));
  return out;
}

void IamStore::put_user_policy(std::string_view user_name, std::string_view policy_name,
                               std::string_view document) {
  std::lock_guard lock(mutex_);
  auto insert = db_.cached("INSERT OR REPLACE INTO iam_user_inline_policy VALUES (?1, ?2, ?3)");
  insert->bind(1, user_name);
  insert->bind(2, policy_name);
  insert->bind(3, document);
  insert->step();
}

std::optional<IamInlinePolicy> IamStore::user_policy(std::string_view user_name,
                                                     std::string_view policy_name) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(
      "SELECT name, document FROM iam_user_inline_policy WHERE user_name = ?1 AND name = ?2");
  select->bind(1, user_name);
  select->bind(2, policy_name);
  if (!select->step()) return std::nullopt;
  return IamInlinePolicy{select->column_text(0), select->column_text(1)};
}

std::vector<IamInlinePolicy> IamStore::user_policies(std::string_view user_name) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(
      "SELECT name, document FROM iam_user_inline_policy WHERE user_name = ?1 ORDER BY name");
  select->bind(1, user_name);
  std::vector<IamInlinePolicy> out;
  while (select->step()) out.push_back({select->column_text(0), select->column_text(1)});
  return out;
}

bool IamStore::delete_user_policy(std::string_view user_name, std::string_view policy_name) {
  std::lock_guard lock(mutex_);
  auto erase = db_.cached(
      "DELETE FROM iam_user_inline_policy WHERE user_name = ?1 AND name = ?2 RETURNING 1");
  erase->bind(1, user_name);
  erase->bind(2, policy_name);
  return erase->step();
}

}  // namespace offcloud

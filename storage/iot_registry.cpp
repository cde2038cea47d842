#include "storage/iot_registry.h"

#include <string_view>

namespace offcloud {
namespace {

constexpr std::string_view kSchema =
    "CREATE TABLE IF NOT EXISTS iot_thing ("
    " account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
    " thing_id TEXT NOT NULL, arn TEXT NOT NULL, version INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL, PRIMARY KEY (account_id, region, name)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS iot_thing_attribute ("
    " account_id TEXT NOT NULL, region TEXT NOT NULL, thing TEXT NOT NULL, name TEXT NOT NULL,"
    " value TEXT NOT NULL, PRIMARY KEY (account_id, region, thing, name)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS iot_certificate ("
    " account_id TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL, arn TEXT NOT NULL,"
    " pem TEXT NOT NULL, status TEXT NOT NULL, ca_certificate_id TEXT NOT NULL,"
    " mode TEXT NOT NULL, created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL,"
    " not_before_ms INTEGER NOT NULL, not_after_ms INTEGER NOT NULL,"
    " customer_version INTEGER NOT NULL, PRIMARY KEY (account_id, region, id)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS iot_certificate_by_id ON iot_certificate (id);"
    "CREATE INDEX IF NOT EXISTS iot_certificate_by_arn ON iot_certificate (account_id, region, "
    "arn);"
    "CREATE INDEX IF NOT EXISTS iot_certificate_by_time"
    " ON iot_certificate (account_id, region, created_ms, id);"
    "CREATE TABLE IF NOT EXISTS iot_policy ("
    " account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, arn TEXT NOT NULL,"
    " default_version INTEGER NOT NULL, next_version INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL,"
    " PRIMARY KEY (account_id, region, name)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS iot_policy_version ("
    " account_id TEXT NOT NULL, region TEXT NOT NULL, policy TEXT NOT NULL,"
    " version INTEGER NOT NULL, document TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " PRIMARY KEY (account_id, region, policy, version)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS iot_policy_target ("
    " account_id TEXT NOT NULL, region TEXT NOT NULL, policy TEXT NOT NULL, target TEXT NOT NULL,"
    " PRIMARY KEY (account_id, region, policy, target)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS iot_policy_target_by_target"
    " ON iot_policy_target (account_id, region, target, policy);"
    "CREATE TABLE IF NOT EXISTS iot_thing_principal ("
    " account_id TEXT NOT NULL, region TEXT NOT NULL, thing TEXT NOT NULL,"
    " principal TEXT NOT NULL, exclusive INTEGER NOT NULL,"
    " PRIMARY KEY (account_id, region, thing, principal)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS iot_thing_principal_by_principal"
    " ON iot_thing_principal (account_id, region, principal, thing)";

constexpr std::string_view kThingColumns =
    "SELECT account_id, region, name, thing_id, arn, version, created_ms FROM iot_thing";
constexpr std::string_view kCertificateColumns =
    "SELECT account_id, region, id, arn, pem, status, ca_certificate_id, mode, created_ms,"
    " modified_ms, not_before_ms, not_after_ms, customer_version FROM iot_certificate";
// A policy with its default version's document.
constexpr std::string_view kPolicyColumns =
    "SELECT p.account_id, p.region, p.name, p.arn, v.document, p.default_version, p.created_ms,"
    " p.modified_ms FROM iot_policy p JOIN iot_policy_version v"
    " ON v.account_id = p.account_id AND v.region = p.region AND v.policy = p.name"
    " AND v.version = p.default_version";

// Binds arguments to ?1, ?2, ... in order.
void bind_one(Statement& statement, int index, const std::string& value) {
  statement.bind(index, std::string_view(value));
}
void bind_one(Statement& statement, int index, std::int64_t value) {
  statement.bind(index, value);
}
void bind_one(Statement& statement, int index, int value) {
  statement.bind(index, std::int64_t{value});
}
void bind_one(Statement& statement, int index, bool value) {
  statement.bind(index, std::int64_t{value});
}
void bind_one(Statement& statement, int index, const std::optional<std::string>& value) {
  if (value) {
    statement.bind(index, std::string_view(*value));
  } else {
    statement.bind_null(index);
  }
}

template <typename... Args>
void bind_all(Statement& statement, const Args&... args) {
  int index = 0;
  (bind_one(statement, ++index, args), ...);
}

// Runs a statement that returns no rows (or whose rows do not matter).
template <typename... Args>
void run(Database& db, std::string_view sql, const Args&... args) {
  auto statement = db.cached(sql);
  bind_all(*statement, args...);
  while (statement->step()) {
  }
}

template <typename... Args>
bool exists(Database& db, std::string_view sql, const Args&... args) {
  auto statement = db.cached(sql);
  bind_all(*statement, args...);
  return statement->step();
}

template <typename... Args>
std::vector<std::string> strings(Database& db, std::string_view sql, const Args&... args) {
  auto statement = db.cached(sql);
  bind_all(*statement, args...);
  std::vector<std::string> out;
  while (statement->step()) out.push_back(statement->column_text(0));
  return out;
}

IotThing read_thing(const Statement& row) {
  IotThing thing;
  thing.account_id = row.column_text(0);
  thing.region = row.column_text(1);
  thing.name = row.column_text(2);
  thing.id = row.column_text(3);
  thing.arn = row.column_text(4);
  thing.version = row.column_int(5);
  thing.created_ms = row.column_int(6);
  return thing;
}

IotCertificate read_certificate(const Statement& row) {
  IotCertificate certificate;
  certificate.account_id = row.column_text(0);
  certificate.region = row.column_text(1);
  certificate.id = row.column_text(2);
  certificate.arn = row.column_text(3);
  certificate.pem = row.column_text(4);
  certificate.status = row.column_text(5);
  certificate.ca_certificate_id = row.column_text(6);
  certificate.mode = row.column_text(7);
  certificate.created_ms = row.column_int(8);
  certificate.modified_ms = row.column_int(9);
  certificate.not_before_ms = row.column_int(10);
  certificate.not_after_ms = row.column_int(11);
  certificate.customer_version = row.column_int(12);
  return certificate;
}

IotPolicy read_policy(const Statement& row) {
  IotPolicy policy;
  policy.account_id = row.column_text(0);
  policy.region = row.column_text(1);
  policy.name = row.column_text(2);
  policy.arn = row.column_text(3);
  policy.document = row.column_text(4);
  policy.default_version = row.column_int(5);
  policy.created_ms = row.column_int(6);
  policy.modified_ms = row.column_int(7);
  return policy;
}

template <typename... Args>
std::vector<IotPolicy> read_policies(Database& db, std::string_view sql, const Args&... args) {
  auto statement = db.cached(sql);
  bind_all(*statement, args...);
  std::vector<IotPolicy> out;
  while (statement->step()) out.push_back(read_policy(*statement));
  return out;
}

}  // namespace

IotRegistry::IotRegistry(const std::string& db_path) : db_(db_path) {
  db_.exec(kSchema);
}

// -- things -------------------------------------------------------------------

std::map<std::string, std::string> IotRegistry::thing_attributes(const std::string& account_id,
                                                                 const std::string& region,
                                                                 const std::string& name) {
  auto statement = db_.cached(
      "SELECT name, value FROM iot_thing_attribute"
      " WHERE account_id = ?1 AND region = ?2 AND thing = ?3");
  bind_all(*statement, account_id, region, name);
  std::map<std::string, std::string> attributes;
  while (statement->step()) attributes[statement->column_text(0)] = statement->column_text(1);
  return attributes;
}

void IotRegistry::put_thing_attributes(const IotThing& thing) {
  run(db_, "DELETE FROM iot_thing_attribute WHERE account_id = ?1 AND region = ?2 AND thing = ?3",
      thing.account_id, thing.region, thing.name);
  for (const auto& [name, value] : thing.attributes) {
    if (value.empty()) continue;
    run(db_, "INSERT INTO iot_thing_attribute VALUES (?1, ?2, ?3, ?4, ?5)", thing.account_id,
        thing.region, thing.name, name, value);
  }
}

std::optional<IotThing> IotRegistry::insert_thing(const IotThing& thing) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  {
    auto existing = db_.cached(std::string(kThingColumns) +
                               " WHERE account_id = ?1 AND region = ?2 AND name = ?3");
    bind_all(*existing, thing.account_id, thing.region, thing.name);
    if (existing->step()) {
      IotThing found = read_thing(*existing);
      found.attributes = thing_attributes(thing.account_id, thing.region, thing.name);
      return found;
    }
  }
  run(db_, "INSERT INTO iot_thing VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", thing.account_id,
      thing.region, thing.name, thing.id, thing.arn, thing.version, thing.created_ms);
  put_thing_attributes(thing);
  transaction.commit();
  changed();
  return std::nullopt;
}

std::optional<IotThing> IotRegistry::thing(const std::string& account_id, const std::string& region,
                                           const std::string& name) {
  std::lock_guard lock(mutex_);
  std::optional<IotThing> thing;
  {
    auto statement = db_.cached(std::string(kThingColumns) +
                                " WHERE account_id = ?1 AND region = ?2 AND name = ?3");
    bind_all(*statement, account_id, region, name);
    if (!statement->step()) return std::nullopt;
    thing = read_thing(*statement);
  }
  thing->attributes = thing_attributes(account_id, region, name);
  return thing;
}

std::vector<IotThing> IotRegistry::things(const std::string& account_id, const std::string& region,
                                          const IotThingFilter& filter, const std::string& from,
                                          int limit) {
  std::lock_guard lock(mutex_);
  std::vector<IotThing> out;
  {
    // ?4 the attribute's name (NULL: any thing), ?5 its value (NULL: any),
    // ?6 whether the value is a prefix.
    auto statement = db_.cached(
        std::string(kThingColumns) +
        " t WHERE account_id = ?1 AND region = ?2 AND name >= ?3 AND (?4 IS NULL OR EXISTS ("
        "  SELECT 1 FROM iot_thing_attribute a WHERE a.account_id = t.account_id"
        "  AND a.region = t.region AND a.thing = t.name AND a.name = ?4 AND (?5 IS NULL"
        "  OR (?6 = 0 AND a.value = ?5) OR (?6 = 1 AND substr(a.value, 1, length(?5)) = ?5))))"
        " ORDER BY name LIMIT ?7");
    bind_all(*statement, account_id, region, from, filter.attribute_name, filter.attribute_value,
             filter.value_prefix, limit);
    while (statement->step()) out.push_back(read_thing(*statement));
  }
  for (IotThing& thing : out) thing.attributes = thing_attributes(account_id, region, thing.name);
  return out;
}

IotRegistry::ThingChange IotRegistry::update_thing(const std::string& account_id,
                                                   const std::string& region,
                                                   const std::string& name,
                                                   const IotThingUpdate& update) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  IotThing thing;
  {
    auto statement = db_.cached(std::string(kThingColumns) +
                                " WHERE account_id = ?1 AND region = ?2 AND name = ?3");
    bind_all(*statement, account_id, region, name);
    if (!statement->step()) return ThingChange::kNotFound;
    thing = read_thing(*statement);
  }
  if (update.expected_version && *update.expected_version != thing.version) {
    return ThingChange::kVersionConflict;
  }
  if (update.attributes) {
    if (update.merge) {
      thing.attributes = thing_attributes(account_id, region, name);
      for (const auto& [key, value] : *update.attributes) {
        if (value.empty()) {
          thing.attributes.erase(key);
        } else {
          thing.attributes[key] = value;
        }
      }
    } else {
      for (const auto& [key, value] : *update.attributes) {
        if (!value.empty()) thing.attributes[key] = value;
      }
    }
    if (update.max_attributes && thing.attributes.size() > update.max_attributes) {
      return ThingChange::kTooManyAttributes;
    }
    put_thing_attributes(thing);
  }
  run(db_,
      "UPDATE iot_thing SET version = version + 1"
      " WHERE account_id = ?1 AND region = ?2 AND name = ?3",
      account_id, region, name);
  transaction.commit();
  changed();
  return ThingChange::kDone;
}

IotRegistry::ThingChange IotRegistry::delete_thing(const std::string& account_id,
                                                   const std::string& region,
                                                   const std::string& name,
                                                   std::optional<std::int64_t> expected_version) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  std::int64_t version = 0;
  {
    auto statement = db_.cached(
        "SELECT version FROM iot_thing WHERE account_id = ?1 AND region = ?2 AND name = ?3");
    bind_all(*statement, account_id, region, name);
    if (!statement->step()) return ThingChange::kNotFound;
    version = statement->column_int(0);
  }
  if (expected_version && *expected_version != version) return ThingChange::kVersionConflict;
  if (exists(db_,
             "SELECT 1 FROM iot_thing_principal"
             " WHERE account_id = ?1 AND region = ?2 AND thing = ?3",
             account_id, region, name)) {
    return ThingChange::kHasPrincipals;
  }
  run(db_, "DELETE FROM iot_thing_attribute WHERE account_id = ?1 AND region = ?2 AND thing = ?3",
      account_id, region, name);
  run(db_, "DELETE FROM iot_thing WHERE account_id = ?1 AND region = ?2 AND name = ?3", account_id,
      region, name);
  transaction.commit();
  changed();
  return ThingChange::kDone;
}

// -- certificates -------------------------------------------------------------

bool IotRegistry::insert_certificate(const IotCertificate& c) {
  std::lock_guard lock(mutex_);
  auto statement = db_.cached(
      "INSERT INTO iot_certificate VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
      " ON CONFLICT DO NOTHING RETURNING id");
  bind_all(*statement, c.account_id, c.region, c.id, c.arn, c.pem, c.status, c.ca_certificate_id,
           c.mode, c.created_ms, c.modified_ms, c.not_before_ms, c.not_after_ms,
           c.customer_version);
  bool inserted = statement->step();
  // Stepping to the end completes the statement, which commits it.
  while (inserted && statement->step()) {
  }
  if (inserted) changed();
  return inserted;
}

std::optional<IotCertificate> IotRegistry::certificate(const std::string& account_id,
                                                       const std::string& region,
                                                       const std::string& id) {
  std::lock_guard lock(mutex_);
  auto statement = db_.cached(std::string(kCertificateColumns) +
                              " WHERE account_id = ?1 AND region = ?2 AND id = ?3");
  bind_all(*statement, account_id, region, id);
  if (!statement->step()) return std::nullopt;
  return read_certificate(*statement);
}

std::vector<IotCertificate> IotRegistry::certificates(
    const std::string& account_id, const std::string& region, bool ascending,
    const std::optional<IotCertificateCursor>& from, int limit) {
  std::lock_guard lock(mutex_);
  std::string sql = std::string(kCertificateColumns) + " WHERE account_id = ?1 AND region = ?2";
  if (from)
    sql += ascending ? " AND (created_ms, id) >= (?4, ?5)" : " AND (created_ms, id) <= (?4, ?5)";
  sql += ascending ? " ORDER BY created_ms, id" : " ORDER BY created_ms DESC, id DESC";
  sql += " LIMIT ?3";
  auto statement = db_.cached(sql);
  if (from) {
    bind_all(*statement, account_id, region, limit, from->created_ms, from->id);
  } else {
    bind_all(*statement, account_id, region, limit);
  }
  std::vector<IotCertificate> out;
  while (statement->step()) out.push_back(read_certificate(*statement));
  return out;
}

IotRegistry::CertificateChange IotRegistry::set_certificate_status(const std::string& account_id,
                                                                   const std::string& region,
                                                                   const std::string& id,
                                                                   const std::string& status,
                                                                   std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  std::string current;
  {
    auto statement = db_.cached(
        "SELECT status FROM iot_certificate WHERE account_id = ?1 AND region = ?2 AND id = ?3");
    bind_all(*statement, account_id, region, id);
    if (!statement->step()) return CertificateChange::kNotFound;
    current = statement->column_text(0);
  }
  if (current == status) return CertificateChange::kDone;
  if (current == "REVOKED") return CertificateChange::kRevoked;
  run(db_,
      "UPDATE iot_certificate SET status = ?4, modified_ms = ?5,"
      " customer_version = customer_version + 1"
      " WHERE account_id = ?1 AND region = ?2 AND id = ?3",
      account_id, region, id, status, now_ms);
  transaction.commit();
  changed();
  return CertificateChange::kDone;
}

IotRegistry::CertificateChange IotRegistry::delete_certificate(const std::string& account_id,
                                                               const std::string& region,
                                                               const std::string& id, bool force) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  std::string status, arn;
  {
    auto statement = db_.cached(
        "SELECT status, arn FROM iot_certificate"
        " WHERE account_id = ?1 AND region = ?2 AND id = ?3");
    bind_all(*statement, account_id, region, id);
    if (!statement->step()) return CertificateChange::kNotFound;
    status = statement->column_text(0);
    arn = statement->column_text(1);
  }
  if (status == "ACTIVE") return CertificateChange::kActive;
  if (exists(db_,
             "SELECT 1 FROM iot_thing_principal"
             " WHERE account_id = ?1 AND region = ?2 AND principal = ?3",
             account_id, region, arn)) {
    return CertificateChange::kHasThings;
  }
  bool has_policies = exists(
      db_, "SELECT 1 FROM iot_policy_target WHERE account_id = ?1 AND region = ?2 AND target = ?3",
      account_id, region, arn);
  if (has_policies && !force) return CertificateChange::kHasPolicies;
  run(db_, "DELETE FROM iot_policy_target WHERE account_id = ?1 AND region = ?2 AND target = ?3",
      account_id, region, arn);
  run(db_, "DELETE FROM iot_certificate WHERE account_id = ?1 AND region = ?2 AND id = ?3",
      account_id, region, id);
  transaction.commit();
  changed();
  return CertificateChange::kDone;
}

std::vector<RegisteredCertificate> IotRegistry::find_certificate(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto statement = db_.cached(
      "SELECT account_id, region, id, arn, status FROM iot_certificate WHERE id = ?1"
      " ORDER BY account_id, region");
  bind_all(*statement, id);
  std::vector<RegisteredCertificate> out;
  while (statement->step()) {
    out.push_back({statement->column_text(0), statement->column_text(1), statement->column_text(2),
                   statement->column_text(3), statement->column_text(4)});
  }
  return out;
}

bool IotRegistry::certificate_arn_exists(const std::string& account_id, const std::string& region,
                                         const std::string& arn) {
  return exists(db_,
                "SELECT 1 FROM iot_certificate WHERE account_id = ?1 AND region = ?2 AND arn = ?3",
                account_id, region, arn);
}

bool IotRegistry::has_certificate_arn(const std::string& account_id, const std::string& region,
                                      const std::string& arn) {
  std::lock_guard lock(mutex_);
  return certificate_arn_exists(account_id, region, arn);
}

// -- policies -----------------------------------------------------------------

bool IotRegistry::insert_policy(const IotPolicy& policy) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  if (exists(db_, "SELECT 1 FROM iot_policy WHERE account_id = ?1 AND region = ?2 AND name = ?3",
             policy.account_id, policy.region, policy.name)) {
    return false;
  }
  run(db_, "INSERT INTO iot_policy VALUES (?1, ?2, ?3, ?4, 1, 2, ?5, ?6)", policy.account_id,
      policy.region, policy.name, policy.arn, policy.created_ms, policy.modified_ms);
  run(db_, "INSERT INTO iot_policy_version VALUES (?1, ?2, ?3, 1, ?4, ?5)", policy.account_id,
      policy.region, policy.name, policy.document, policy.created_ms);
  transaction.commit();
  changed();
  return true;
}

std::optional<IotPolicy> IotRegistry::policy(const std::string& account_id,
                                             const std::string& region, const std::string& name) {
  std::lock_guard lock(mutex_);
  std::vector<IotPolicy> found = read_policies(
      db_,
      std::string(kPolicyColumns) + " WHERE p.account_id = ?1 AND p.region = ?2 AND p.name = ?3",
      account_id, region, name);
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::vector<IotPolicy> IotRegistry::policies(const std::string& account_id,
                                             const std::string& region, bool ascending,
                                             const std::string& from, int limit) {
  std::lock_guard lock(mutex_);
  if (ascending) {
    return read_policies(db_,
                         std::string(kPolicyColumns) +
                             " WHERE p.account_id = ?1 AND p.region = ?2 AND p.name >= ?3"
                             " ORDER BY p.name LIMIT ?4",
                         account_id, region, from, limit);
  }
  // Descending: an empty `from` means from the last name.
  return read_policies(
      db_,
      std::string(kPolicyColumns) +
          " WHERE p.account_id = ?1 AND p.region = ?2 AND (?3 = '' OR p.name <= ?3)"
          " ORDER BY p.name DESC LIMIT ?4",
      account_id, region, from, limit);
}

IotRegistry::PolicyChange IotRegistry::add_policy_version(
    const std::string& account_id, const std::string& region, const std::string& name,
    const std::string& document, bool set_default, int max_versions, std::int64_t now_ms,
    IotPolicyVersion* created) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  std::int64_t next = 0;
  {
    auto statement = db_.cached(
        "SELECT next_version FROM iot_policy WHERE account_id = ?1 AND region = ?2 AND name = ?3");
    bind_all(*statement, account_id, region, name);
    if (!statement->step()) return PolicyChange::kNotFound;
    next = statement->column_int(0);
  }
  std::int64_t count = 0;
  {
    auto statement = db_.cached(
        "SELECT count(*) FROM iot_policy_version"
        " WHERE account_id = ?1 AND region = ?2 AND policy = ?3");
    bind_all(*statement, account_id, region, name);
    statement->step();
    count = statement->column_int(0);
  }
  if (count >= max_versions) return PolicyChange::kLimit;
  run(db_, "INSERT INTO iot_policy_version VALUES (?1, ?2, ?3, ?4, ?5, ?6)", account_id, region,
      name, next, document, now_ms);
  if (set_default) {
    run(db_,
        "UPDATE iot_policy SET next_version = ?4, default_version = ?5, modified_ms = ?6"
        " WHERE account_id = ?1 AND region = ?2 AND name = ?3",
        account_id, region, name, next + 1, next, now_ms);
  } else {
    run(db_,
        "UPDATE iot_policy SET next_version = ?4"
        " WHERE account_id = ?1 AND region = ?2 AND name = ?3",
        account_id, region, name, next + 1);
  }
  transaction.commit();
  changed();
  if (created) *created = {next, document, set_default, now_ms};
  return PolicyChange::kDone;
}

std::optional<IotPolicyVersion> IotRegistry::policy_version(const std::string& account_id,
                                                            const std::string& region,
                                                            const std::string& name,
                                                            std::int64_t version) {
  std::lock_guard lock(mutex_);
  auto statement = db_.cached(
      "SELECT v.version, v.document, v.version = p.default_version, v.created_ms"
      " FROM iot_policy_version v JOIN iot_policy p ON p.account_id = v.account_id"
      " AND p.region = v.region AND p.name = v.policy"
      " WHERE v.account_id = ?1 AND v.region = ?2 AND v.policy = ?3 AND v.version = ?4");
  bind_all(*statement, account_id, region, name, version);
  if (!statement->step()) return std::nullopt;
  return IotPolicyVersion{statement->column_int(0), statement->column_text(1),
                          statement->column_int(2) != 0, statement->column_int(3)};
}

std::optional<std::vector<IotPolicyVersion>> IotRegistry::policy_versions(
    const std::string& account_id, const std::string& region, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto statement = db_.cached(
      "SELECT v.version, v.document, v.version = p.default_version, v.created_ms"
      " FROM iot_policy_version v JOIN iot_policy p ON p.account_id = v.account_id"
      " AND p.region = v.region AND p.name = v.policy"
      " WHERE v.account_id = ?1 AND v.region = ?2 AND v.policy = ?3 ORDER BY v.version DESC");
  bind_all(*statement, account_id, region, name);
  std::vector<IotPolicyVersion> out;
  while (statement->step()) {
    out.push_back({statement->column_int(0), statement->column_text(1),
                   statement->column_int(2) != 0, statement->column_int(3)});
  }
  // Every policy has its default version, so no rows means no policy.
  if (out.empty()) return std::nullopt;
  return out;
}

IotRegistry::PolicyChange IotRegistry::set_default_policy_version(const std::string& account_id,
                                                                  const std::string& region,
                                                                  const std::string& name,
                                                                  std::int64_t version,
                                                                  std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  if (!exists(db_, "SELECT 1 FROM iot_policy WHERE account_id = ?1 AND region = ?2 AND name = ?3",
              account_id, region, name)) {
    return PolicyChange::kNotFound;
  }
  if (!exists(db_,
              "SELECT 1 FROM iot_policy_version"
              " WHERE account_id = ?1 AND region = ?2 AND policy = ?3 AND version = ?4",
              account_id, region, name, version)) {
    return PolicyChange::kVersionNotFound;
  }
  run(db_,
      "UPDATE iot_policy SET default_version = ?4, modified_ms = ?5"
      " WHERE account_id = ?1 AND region = ?2 AND name = ?3 AND default_version != ?4",
      account_id, region, name, version, now_ms);
  transaction.commit();
  changed();
  return PolicyChange::kDone;
}

IotRegistry::PolicyChange IotRegistry::delete_policy_version(const std::string& account_id,
                                                             const std::string& region,
                                                             const std::string& name,
                                                             std::int64_t version) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  std::int64_t default_version = 0;
  {
    auto statement = db_.cached(
        "SELECT default_version FROM iot_policy"
        " WHERE account_id = ?1 AND region = ?2 AND name = ?3");
    bind_all(*statement, account_id, region, name);
    if (!statement->step()) return PolicyChange::kNotFound;
    default_version = statement->column_int(0);
  }
  if (!exists(db_,
              "SELECT 1 FROM iot_policy_version"
              " WHERE account_id = ?1 AND region = ?2 AND policy = ?3 AND version = ?4",
              account_id, region, name, version)) {
    return PolicyChange::kVersionNotFound;
  }
  if (version == default_version) return PolicyChange::kIsDefault;
  run(db_,
      "DELETE FROM iot_policy_version"
      " WHERE account_id = ?1 AND region = ?2 AND policy = ?3 AND version = ?4",
      account_id, region, name, version);
  transaction.commit();
  changed();
  return PolicyChange::kDone;
}

IotRegistry::PolicyChange IotRegistry::delete_policy(const std::string& account_id,
                                                     const std::string& region,
                                                     const std::string& name) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  if (!exists(db_, "SELECT 1 FROM iot_policy WHERE account_id = ?1 AND region = ?2 AND name = ?3",
              account_id, region, name)) {
    return PolicyChange::kNotFound;
  }
  if (exists(
          db_,
          "SELECT 1 FROM iot_policy_target WHERE account_id = ?1 AND region = ?2 AND policy = ?3",
          account_id, region, name)) {
    return PolicyChange::kAttached;
  }
  if (exists(db_,
             "SELECT 1 FROM iot_policy_version v JOIN iot_policy p ON p.account_id = v.account_id"
             " AND p.region = v.region AND p.name = v.policy"
             " WHERE v.account_id = ?1 AND v.region = ?2 AND v.policy = ?3"
             " AND v.version != p.default_version",
             account_id, region, name)) {
    return PolicyChange::kHasVersions;
  }
  run(db_, "DELETE FROM iot_policy_version WHERE account_id = ?1 AND region = ?2 AND policy = ?3",
      account_id, region, name);
  run(db_, "DELETE FROM iot_policy WHERE account_id = ?1 AND region = ?2 AND name = ?3", account_id,
      region, name);
  transaction.commit();
  changed();
  return PolicyChange::kDone;
}

// -- policy attachments -------------------------------------------------------

IotRegistry::PolicyChange IotRegistry::attach_policy(const std::string& account_id,
                                                     const std::string& region,
                                                     const std::string& name,
                                                     const std::string& target_arn,
                                                     int max_per_target) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  if (!exists(db_, "SELECT 1 FROM iot_policy WHERE account_id = ?1 AND region = ?2 AND name = ?3",
              account_id, region, name)) {
    return PolicyChange::kNotFound;
  }
  if (!certificate_arn_exists(account_id, region, target_arn)) {
    return PolicyChange::kTargetNotFound;
  }
  if (exists(db_,
             "SELECT 1 FROM iot_policy_target"
             " WHERE account_id = ?1 AND region = ?2 AND policy = ?3 AND target = ?4",
             account_id, region, name, target_arn)) {
    return PolicyChange::kDone;
  }
  std::int64_t count = 0;
  {
    auto statement = db_.cached(
        "SELECT count(*) FROM iot_policy_target"
        " WHERE account_id = ?1 AND region = ?2 AND target = ?3");
    bind_all(*statement, account_id, region, target_arn);
    statement->step();
    count = statement->column_int(0);
  }
  if (count >= max_per_target) return PolicyChange::kLimit;
  run(db_, "INSERT INTO iot_policy_target VALUES (?1, ?2, ?3, ?4)", account_id, region, name,
      target_arn);
  transaction.commit();
  changed();
  return PolicyChange::kDone;
}

bool IotRegistry::detach_policy(const std::string& account_id, const std::string& region,
                                const std::string& name, const std::string& target_arn) {
  std::lock_guard lock(mutex_);
  auto statement = db_.cached(
      "DELETE FROM iot_policy_target"
      " WHERE account_id = ?1 AND region = ?2 AND policy = ?3 AND target = ?4 RETURNING policy");
  bind_all(*statement, account_id, region, name, target_arn);
  bool detached = statement->step();
  while (detached && statement->step()) {
  }
  if (detached) changed();
  return detached;
}

std::vector<IotPolicy> IotRegistry::attached_policies(const std::string& account_id,
                                                      const std::string& region,
                                                      const std::string& target_arn,
                                                      const std::string& from, int limit) {
  std::lock_guard lock(mutex_);
  return read_policies(db_,
                       std::string(kPolicyColumns) +
                           " JOIN iot_policy_target t ON t.account_id = p.account_id"
                           " AND t.region = p.region AND t.policy = p.name"
                           " WHERE p.account_id = ?1 AND p.region = ?2 AND t.target = ?3"
                           " AND p.name >= ?4 ORDER BY p.name LIMIT ?5",
                       account_id, region, target_arn, from, limit);
}

std::optional<std::vector<std::string>> IotRegistry::policy_targets(const std::string& account_id,
                                                                    const std::string& region,
                                                                    const std::string& name,
                                                                    const std::string& from,
                                                                    int limit) {
  std::lock_guard lock(mutex_);
  if (!exists(db_, "SELECT 1 FROM iot_policy WHERE account_id = ?1 AND region = ?2 AND name = ?3",
              account_id, region, name)) {
    return std::nullopt;
  }
  return strings(db_,
                 "SELECT target FROM iot_policy_target"
                 " WHERE account_id = ?1 AND region = ?2 AND policy = ?3 AND target >= ?4"
                 " ORDER BY target LIMIT ?5",
                 account_id, region, name, from, limit);
}

std::vector<std::string> IotRegistry::attached_policy_documents(const std::string& account_id,
                                                                const std::string& region,
                                                                const std::string& target_arn) {
  std::lock_guard lock(mutex_);
  return strings(db_,
                 "SELECT v.document FROM iot_policy_target t JOIN iot_policy p"
                 " ON p.account_id = t.account_id AND p.region = t.region AND p.name = t.policy"
                 " JOIN iot_policy_version v ON v.account_id = p.account_id"
                 " AND v.region = p.region AND v.policy = p.name AND v.version = p.default_version"
                 " WHERE t.account_id = ?1 AND t.region = ?2 AND t.target = ?3 ORDER BY p.name",
                 account_id, region, target_arn);
}

// -- thing principals ---------------------------------------------------------

IotRegistry::PrincipalChange IotRegistry::attach_thing_principal(const std::string& account_id,
                                                                 const std::string& region,
                                                                 const std::string& thing,
                                                                 const std::string& principal_arn,
                                                                 bool exclusive) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  if (!exists(db_, "SELECT 1 FROM iot_thing WHERE account_id = ?1 AND region = ?2 AND name = ?3",
              account_id, region, thing)) {
    return PrincipalChange::kThingNotFound;
  }
  if (!certificate_arn_exists(account_id, region, principal_arn)) {
    return PrincipalChange::kPrincipalNotFound;
  }
  // The principal's other things: none may hold it exclusively, and an
  // exclusive attachment wants none at all.
  {
    auto statement = db_.cached(
        "SELECT exclusive FROM iot_thing_principal"
        " WHERE account_id = ?1 AND region = ?2 AND principal = ?3 AND thing != ?4");
    bind_all(*statement, account_id, region, principal_arn, thing);
    while (statement->step()) {
      if (exclusive || statement->column_int(0) != 0) return PrincipalChange::kExclusive;
    }
  }
  run(db_,
      "INSERT INTO iot_thing_principal VALUES (?1, ?2, ?3, ?4, ?5)"
      " ON CONFLICT (account_id, region, thing, principal) DO UPDATE SET exclusive = "
      "excluded.exclusive",
      account_id, region, thing, principal_arn, exclusive);
  transaction.commit();
  changed();
  return PrincipalChange::kDone;
}

IotRegistry::PrincipalChange IotRegistry::detach_thing_principal(const std::string& account_id,
                                                                 const std::string& region,
                                                                 const std::string& thing,
                                                                 const std::string& principal_arn) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_);
  if (!exists(db_, "SELECT 1 FROM iot_thing WHERE account_id = ?1 AND region = ?2 AND name = ?3",
              account_id, region, thing)) {
    return PrincipalChange::kThingNotFound;
  }
  run(db_,
      "DELETE FROM iot_thing_principal"
      " WHERE account_id = ?1 AND region = ?2 AND thing = ?3 AND principal = ?4",
      account_id, region, thing, principal_arn);
  transaction.commit();
  changed();
  return PrincipalChange::kDone;
}

std::optional<std::vector<std::string>> IotRegistry::thing_principals(const std::string& account_id,
                                                                      const std::string& region,
                                                                      const std::string& thing) {
  std::lock_guard lock(mutex_);
  if (!exists(db_, "SELECT 1 FROM iot_thing WHERE account_id = ?1 AND region = ?2 AND name = ?3",
              account_id, region, thing)) {
    return std::nullopt;
  }
  return strings(db_,
                 "SELECT principal FROM iot_thing_principal"
                 " WHERE account_id = ?1 AND region = ?2 AND thing = ?3 ORDER BY principal",
                 account_id, region, thing);
}

std::vector<std::string> IotRegistry::principal_things(const std::string& account_id,
                                                       const std::string& region,
                                                       const std::string& principal_arn) {
  std::lock_guard lock(mutex_);
  return strings(db_,
                 "SELECT thing FROM iot_thing_principal"
                 " WHERE account_id = ?1 AND region = ?2 AND principal = ?3 ORDER BY thing",
                 account_id, region, principal_arn);
}

}  // namespace offcloud

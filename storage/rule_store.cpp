#include "storage/rule_store.h"

namespace offcloud {
namespace {

constexpr std::string_view kColumns =
    "SELECT account_id, region, name, payload, created_ms, disabled, arn FROM topic_rule";

StoredTopicRule read_rule(const Statement& row) {
  StoredTopicRule rule;
  rule.account_id = row.column_text(0);
  rule.region = row.column_text(1);
  rule.name = row.column_text(2);
  rule.payload = row.column_text(3);
  rule.created_ms = row.column_int(4);
  rule.disabled = row.column_int(5) != 0;
  rule.arn = row.column_text(6);
  return rule;
}

}  // namespace

RuleStore::RuleStore(const std::string& db_path) : db_(db_path) {
  constexpr std::string_view kTable =
      "CREATE TABLE IF NOT EXISTS topic_rule ("
      " account_id TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,"
      " payload TEXT NOT NULL, created_ms INTEGER NOT NULL, disabled INTEGER NOT NULL,"
      " arn TEXT NOT NULL, PRIMARY KEY (account_id, region, name)) WITHOUT ROWID";
  if (db_.has_table("topic_rule") && !db_.has_column("topic_rule", "account_id")) {
    // Rules from before accounts: the default account, in the region their
    // ARN recorded (arn:aws:iot:<region>:...).
    Transaction transaction(db_);
    db_.exec("ALTER TABLE topic_rule RENAME TO topic_rule_v1");
    db_.exec(kTable);
    db_.exec(
        "INSERT INTO topic_rule SELECT '000000000000',"
        " CASE WHEN arn LIKE 'arn:aws:iot:_%:%'"
        "  THEN substr(arn, 13, instr(substr(arn, 13), ':') - 1) ELSE 'us-east-1' END,"
        " name, payload, created_ms, disabled, arn FROM topic_rule_v1;"
        "DROP TABLE topic_rule_v1");
    transaction.commit();
  }
  db_.exec(kTable);
  // RETURNING tells whether a row changed without a second query.
  insert_ = db_.prepare(
      "INSERT INTO topic_rule VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING"
      " RETURNING name");
  replace_ = db_.prepare(
      "UPDATE topic_rule SET payload = ?4, disabled = ?5"
      " WHERE account_id = ?1 AND region = ?2 AND name = ?3 RETURNING name");
  set_disabled_ = db_.prepare(
      "UPDATE topic_rule SET disabled = ?4 WHERE account_id = ?1 AND region = ?2 AND name = ?3"
      " RETURNING name");
  erase_ = db_.prepare(
      "DELETE FROM topic_rule WHERE account_id = ?1 AND region = ?2 AND name = ?3"
      " RETURNING name");
  get_ =
      db_.prepare(std::string(kColumns) + " WHERE account_id = ?1 AND region = ?2 AND name = ?3");
  list_ =
      db_.prepare(std::string(kColumns) + " WHERE account_id = ?1 AND region = ?2 ORDER BY name");
  list_all_ = db_.prepare(std::string(kColumns) + " ORDER BY account_id, region, name");
}

bool RuleStore::changed(Statement& statement) {
  bool any = statement.step();
  // Stepping to the end completes the statement, which commits it.
  while (any && statement.step()) {
  }
  statement.reset();
  return any;
}

void RuleStore::bind_key(Statement& statement, const std::string& account_id,
                         const std::string& region, const std::string& name) {
  statement.reset();
  statement.bind(1, account_id);
  statement.bind(2, region);
  statement.bind(3, name);
}

bool RuleStore::insert(const StoredTopicRule& rule) {
  std::lock_guard lock(mutex_);
  bind_key(*insert_, rule.account_id, rule.region, rule.name);
  insert_->bind(4, rule.payload);
  insert_->bind(5, rule.created_ms);
  insert_->bind(6, std::int64_t{rule.disabled});
  insert_->bind(7, rule.arn);
  return changed(*insert_);
}

bool RuleStore::replace(const std::string& account_id, const std::string& region,
                        const std::string& name, const std::string& payload, bool disabled) {
  std::lock_guard lock(mutex_);
  bind_key(*replace_, account_id, region, name);
  replace_->bind(4, payload);
  replace_->bind(5, std::int64_t{disabled});
  return changed(*replace_);
}

bool RuleStore::set_disabled(const std::string& account_id, const std::string& region,
                             const std::string& name, bool disabled) {
  std::lock_guard lock(mutex_);
  bind_key(*set_disabled_, account_id, region, name);
  set_disabled_->bind(4, std::int64_t{disabled});
  return changed(*set_disabled_);
}

bool RuleStore::erase(const std::string& account_id, const std::string& region,
                      const std::string& name) {
  std::lock_guard lock(mutex_);
  bind_key(*erase_, account_id, region, name);
  return changed(*erase_);
}

std::optional<StoredTopicRule> RuleStore::get(const std::string& account_id,
                                              const std::string& region, const std::string& name) {
  std::lock_guard lock(mutex_);
  bind_key(*get_, account_id, region, name);
  if (!get_->step()) return std::nullopt;
  StoredTopicRule rule = read_rule(*get_);
  get_->reset();
  return rule;
}

std::vector<StoredTopicRule> RuleStore::read_all(Statement& statement) {
  std::vector<StoredTopicRule> rules;
  while (statement.step()) rules.push_back(read_rule(statement));
  statement.reset();
  return rules;
}

std::vector<StoredTopicRule> RuleStore::list(const std::string& account_id,
                                             const std::string& region) {
  std::lock_guard lock(mutex_);
  list_->reset();
  list_->bind(1, account_id);
  list_->bind(2, region);
  return read_all(*list_);
}

std::vector<StoredTopicRule> RuleStore::list_all() {
  std::lock_guard lock(mutex_);
  list_all_->reset();
  return read_all(*list_all_);
}

}  // namespace offcloud

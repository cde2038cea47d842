#include "storage/rule_store.h"

namespace offcloud {
namespace {

StoredTopicRule read_rule(const Statement& row) {
  StoredTopicRule rule;
  rule.name = row.column_text(0);
  rule.payload = row.column_text(1);
  rule.created_ms = row.column_int(2);
  rule.disabled = row.column_int(3) != 0;
  rule.arn = row.column_text(4);
  return rule;
}

}  // namespace

RuleStore::RuleStore(const std::string& db_path) : db_(db_path) {
  db_.exec(
      "CREATE TABLE IF NOT EXISTS topic_rule ("
      " name TEXT PRIMARY KEY, payload TEXT NOT NULL, created_ms INTEGER NOT NULL,"
      " disabled INTEGER NOT NULL, arn TEXT NOT NULL) WITHOUT ROWID");
  // RETURNING tells whether a row changed without a second query.
  insert_ = db_.prepare(
      "INSERT INTO topic_rule VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING"
      " RETURNING name");
  replace_ = db_.prepare(
      "UPDATE topic_rule SET payload = ?2, disabled = ?3 WHERE name = ?1 RETURNING name");
  set_disabled_ = db_.prepare("UPDATE topic_rule SET disabled = ?2 WHERE name = ?1 RETURNING name");
  erase_ = db_.prepare("DELETE FROM topic_rule WHERE name = ?1 RETURNING name");
  get_ = db_.prepare(
      "SELECT name, payload, created_ms, disabled, arn FROM topic_rule WHERE name = ?1");
  list_ =
      db_.prepare("SELECT name, payload, created_ms, disabled, arn FROM topic_rule ORDER BY name");
}

bool RuleStore::changed(Statement& statement) {
  bool any = statement.step();
  // Stepping to the end completes the statement, which commits it.
  while (any && statement.step()) {
  }
  statement.reset();
  return any;
}

bool RuleStore::insert(const StoredTopicRule& rule) {
  std::lock_guard lock(mutex_);
  insert_->reset();
  insert_->bind(1, rule.name);
  insert_->bind(2, rule.payload);
  insert_->bind(3, rule.created_ms);
  insert_->bind(4, std::int64_t{rule.disabled});
  insert_->bind(5, rule.arn);
  return changed(*insert_);
}

bool RuleStore::replace(const std::string& name, const std::string& payload, bool disabled) {
  std::lock_guard lock(mutex_);
  replace_->reset();
  replace_->bind(1, name);
  replace_->bind(2, payload);
  replace_->bind(3, std::int64_t{disabled});
  return changed(*replace_);
}

bool RuleStore::set_disabled(const std::string& name, bool disabled) {
  std::lock_guard lock(mutex_);
  set_disabled_->reset();
  set_disabled_->bind(1, name);
  set_disabled_->bind(2, std::int64_t{disabled});
  return changed(*set_disabled_);
}

bool RuleStore::erase(const std::string& name) {
  std::lock_guard lock(mutex_);
  erase_->reset();
  erase_->bind(1, name);
  return changed(*erase_);
}

std::optional<StoredTopicRule> RuleStore::get(const std::string& name) {
  std::lock_guard lock(mutex_);
  get_->reset();
  get_->bind(1, name);
  if (!get_->step()) return std::nullopt;
  StoredTopicRule rule = read_rule(*get_);
  get_->reset();
  return rule;
}

std::vector<StoredTopicRule> RuleStore::list() {
  std::lock_guard lock(mutex_);
  list_->reset();
  std::vector<StoredTopicRule> rules;
  while (list_->step()) rules.push_back(read_rule(*list_));
  list_->reset();
  return rules;
}

}  // namespace offcloud

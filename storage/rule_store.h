// Topic rules as CreateTopicRule received them, kept in SQLite so that a
// restart brings every rule back. The payload is stored as the JSON text the
// client sent: GetTopicRule answers with it, and start-up compiles it again.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "storage/database.h"

namespace offcloud {

struct StoredTopicRule {
  std::string name;
  std::string payload;  // TopicRulePayload JSON
  std::int64_t created_ms = 0;
  bool disabled = false;  // EnableTopicRule/DisableTopicRule change it, not the payload
  std::string arn;
};

class RuleStore {
 public:
  explicit RuleStore(const std::string& db_path);

  // False, storing nothing, when a rule of that name exists.
  bool insert(const StoredTopicRule& rule);
  // Each returns false when no rule has that name.
  bool replace(const std::string& name, const std::string& payload, bool disabled);
  bool set_disabled(const std::string& name, bool disabled);
  bool erase(const std::string& name);

  std::optional<StoredTopicRule> get(const std::string& name);
  // Every rule, by name.
  std::vector<StoredTopicRule> list();

 private:
  // Runs a prepared statement that RETURNs a row when it changed one.
  bool changed(Statement& statement);

  std::mutex mutex_;
  Database db_;
  std::unique_ptr<Statement> insert_, replace_, set_disabled_, erase_, get_, list_;
};

}  // namespace offcloud

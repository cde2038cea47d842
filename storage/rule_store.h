// Topic rules as CreateTopicRule received them, kept in SQLite so that a
// restart brings every rule back. A rule's name is unique within its account
// and region (rules are regional, as on AWS); rules from a data dir made
// before accounts are in account 000000000000, in the region of their ARN. The payload is stored as
// the JSON text the client sent: GetTopicRule answers with it, and start-up compiles it again.
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
  std::string account_id;
  std::string region;
  std::string name;
  std::string payload;  // TopicRulePayload JSON
  std::int64_t created_ms = 0;
  bool disabled = false;  // EnableTopicRule/DisableTopicRule change it, not the payload
  std::string arn;
};

class RuleStore {
 public:
  explicit RuleStore(const std::string& db_path);

  // False, storing nothing, when a rule of that name exists in its account
  // and region.
  bool insert(const StoredTopicRule& rule);
  // Each returns false when no rule has that name.
  bool replace(const std::string& account_id, const std::string& region, const std::string& name,
               const std::string& payload, bool disabled);
  bool set_disabled(const std::string& account_id, const std::string& region,
                    const std::string& name, bool disabled);
  bool erase(const std::string& account_id, const std::string& region, const std::string& name);

  std::optional<StoredTopicRule> get(const std::string& account_id, const std::string& region,
                                     const std::string& name);
  // Every rule of the account and region, by name.
  std::vector<StoredTopicRule> list(const std::string& account_id, const std::string& region);
  // Every rule of every account and region (start-up).
  std::vector<StoredTopicRule> list_all();

 private:
  // Runs a prepared statement that RETURNs a row when it changed one.
  bool changed(Statement& statement);
  static void bind_key(Statement& statement, const std::string& account_id,
                       const std::string& region, const std::string& name);
  static std::vector<StoredTopicRule> read_all(Statement& statement);

  std::mutex mutex_;
  Database db_;
  std::unique_ptr<Statement> insert_, replace_, set_disabled_, erase_, get_, list_, list_all_;
};

}  // namespace offcloud

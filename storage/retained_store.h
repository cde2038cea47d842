// Retained MQTT messages, one per topic of each account and region, kept in
// SQLite so that what a client was told is retained is still there after a
// restart. Messages retained before accounts are in account 000000000000,
// region us-east-1.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "storage/database.h"

namespace offcloud {

struct RetainedMessage {
  std::string account_id;
  std::string region;
  std::string topic;
  std::string payload;
  int qos = 0;
  std::optional<std::string> user_properties;  // JSON text, as published
  std::int64_t last_modified_ms = 0;
};

struct RetainedSummary {
  std::string topic;
  std::int64_t payload_size = 0;
  int qos = 0;
  std::int64_t last_modified_ms = 0;
};

struct RetainedPage {
  std::vector<RetainedSummary> messages;
  std::optional<std::string> next_topic;  // first topic of the next page
};

class RetainedStore {
 public:
  explicit RetainedStore(const std::string& db_path);

  void put(const RetainedMessage& message);
  void erase(const std::string& account_id, const std::string& region, const std::string& topic);
  std::optional<RetainedMessage> get(const std::string& account_id, const std::string& region,
                                     const std::string& topic);
  // The account and region's topics in byte order, starting at `from`
  // (inclusive), at most `limit`.
  RetainedPage list(const std::string& account_id, const std::string& region,
                    const std::string& from, int limit);

 private:
  std::mutex mutex_;
  Database db_;
  std::unique_ptr<Statement> put_, erase_, get_, list_;
};

}  // namespace offcloud

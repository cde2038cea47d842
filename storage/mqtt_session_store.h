// Persistent MQTT sessions, kept in SQLite so that a device's subscriptions
// and the messages waiting for it survive a restart of offcloud, as AWS IoT
// keeps them for the session's expiry. Storage knows no MQTT: a session's
// credential, each subscription's options and each message are bytes the
// broker encodes; they are kept by account, region and client id.
//
// Writes are queued and committed by one writer thread, in the order they
// were made, every write waiting when a commit starts sharing it: a
// publisher whose message goes to many offline sessions never waits on the
// disk, and is told (through `done`) once its message is durable (it
// survives the process being killed). Reads are for start-up.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "storage/database.h"

namespace offcloud {

struct MqttSessionKey {
  std::string account_id;
  std::string region;
  std::string client_id;
  auto operator<=>(const MqttSessionKey&) const = default;
};

// A session's own row.
struct MqttSessionRecord {
  MqttSessionKey key;
  std::string credential;  // opaque: what the broker finds the session's principal by
  int protocol_version = 4;
  std::int64_t expiry_s = 0;  // how long the session outlives its connection
  // Wall clock; unset while a connection holds the session (it expires
  // `expiry_s` after the connection ends, or after a crash, the restart).
  std::optional<std::int64_t> expires_at_ms;
};

struct StoredMqttMessage {
  std::int64_t seq = 0;          // the session's own order
  std::int64_t received_ms = 0;  // wall clock
  std::string data;              // opaque
};

struct StoredMqttSession {
  MqttSessionRecord record;
  std::vector<std::pair<std::string, std::string>> subscriptions;  // (filter, opaque options)
  std::vector<StoredMqttMessage> messages;                         // by seq
};

class MqttSessionStore {
 public:
  // `sync_commits`: fsync every commit too (power-loss durability).
  explicit MqttSessionStore(const std::string& db_path, bool sync_commits = false);
  // Commits what is queued first.
  ~MqttSessionStore();
  MqttSessionStore(const MqttSessionStore&) = delete;
  MqttSessionStore& operator=(const MqttSessionStore&) = delete;

  using Done = std::function<void(bool durable)>;

  // Adds or replaces the session's row; its subscriptions and messages stay.
  void put_session(const MqttSessionRecord& record);
  // The session, its subscriptions and its messages.
  void erase_session(const MqttSessionKey& key);
  void put_subscription(const MqttSessionKey& key, const std::string& filter,
                        const std::string& options);
  void erase_subscription(const MqttSessionKey& key, const std::string& filter);
  // Adds or replaces the message of `message.seq`; `done`, if any, runs on
  // the writer thread once it is durable (or could not be written).
  void put_message(const MqttSessionKey& key, StoredMqttMessage message, Done done = {});
  void erase_message(const MqttSessionKey& key, std::int64_t seq);

  // Blocks until every write queued before the call is committed; false
  // when a commit failed meanwhile.
  bool flush();
  // Every session, with its subscriptions and messages (start-up).
  std::vector<StoredMqttSession> load();

 private:
  struct PutSession {
    MqttSessionRecord record;
  };
  struct EraseSession {
    MqttSessionKey key;
  };
  struct PutSubscription {
    MqttSessionKey key;
    std::string filter, options;
  };
  struct EraseSubscription {
    MqttSessionKey key;
    std::string filter;
  };
  struct PutMessage {
    MqttSessionKey key;
    StoredMqttMessage message;
    Done done;
  };
  struct EraseMessage {
    MqttSessionKey key;
    std::int64_t seq;
  };
  using Write = std::variant<PutSession, EraseSession, PutSubscription, EraseSubscription,
                             PutMessage, EraseMessage>;
  void enqueue(Write write);
  void apply(const Write& write);  // with db_mutex_ held, in a transaction
  void write_loop();

  std::mutex db_mutex_;  // guards db_
  Database db_;

  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::condition_variable committed_;
  std::deque<Write> queue_;
  std::uint64_t queued_ = 0;   // writes ever queued
  std::uint64_t written_ = 0;  // writes ever committed (or failed)
  std::uint64_t failed_ = 0;   // writes ever failed
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace offcloud

#include "storage/mqtt_session_store.h"

#include <map>

namespace offcloud {

namespace {

void bind_key(Statement& statement, const MqttSessionKey& key) {
  statement.bind(1, key.account_id);
  statement.bind(2, key.region);
  statement.bind(3, key.client_id);
}

}  // namespace

MqttSessionStore::MqttSessionStore(const std::string& db_path, bool sync_commits) : db_(db_path) {
  // Messages are rows of their own (not WITHOUT ROWID): they may be large.
  db_.exec(
      "CREATE TABLE IF NOT EXISTS mqtt_session ("
      " account_id TEXT NOT NULL, region TEXT NOT NULL, client_id TEXT NOT NULL,"
      " credential BLOB NOT NULL, protocol_version INTEGER NOT NULL, expiry_s INTEGER NOT NULL,"
      " expires_at_ms INTEGER, PRIMARY KEY (account_id, region, client_id)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS mqtt_session_subscription ("
      " account_id TEXT NOT NULL, region TEXT NOT NULL, client_id TEXT NOT NULL,"
      " filter TEXT NOT NULL, options BLOB NOT NULL,"
      " PRIMARY KEY (account_id, region, client_id, filter)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS mqtt_session_message ("
      " account_id TEXT NOT NULL, region TEXT NOT NULL, client_id TEXT NOT NULL,"
      " seq INTEGER NOT NULL, received_ms INTEGER NOT NULL, data BLOB NOT NULL,"
      " PRIMARY KEY (account_id, region, client_id, seq));");
  // A write for a session that was erased just before (a publisher racing
  // the session's end) leaves a row without its session: dropped here.
  db_.exec(
      "DELETE FROM mqtt_session_subscription AS x WHERE NOT EXISTS (SELECT 1 FROM mqtt_session s"
      " WHERE s.account_id = x.account_id AND s.region = x.region AND s.client_id = x.client_id);"
      "DELETE FROM mqtt_session_message AS x WHERE NOT EXISTS (SELECT 1 FROM mqtt_session s"
      " WHERE s.account_id = x.account_id AND s.region = x.region AND s.client_id = x.client_id);");
  if (sync_commits) db_.exec("PRAGMA synchronous=FULL");
  writer_ = std::thread([this] { write_loop(); });
}

MqttSessionStore::~MqttSessionStore() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_ready_.notify_all();
  writer_.join();
}

void MqttSessionStore::enqueue(Write write) {
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(std::move(write));
    ++queued_;
  }
  queue_ready_.notify_one();
}

void MqttSessionStore::put_session(const MqttSessionRecord& record) {
  enqueue(PutSession{record});
}

void MqttSessionStore::erase_session(const MqttSessionKey& key) {
  enqueue(EraseSession{key});
}

void MqttSessionStore::put_subscription(const MqttSessionKey& key, const std::string& filter,
                                        const std::string& options) {
  enqueue(PutSubscription{key, filter, options});
}

void MqttSessionStore::erase_subscription(const MqttSessionKey& key, const std::string& filter) {
  enqueue(EraseSubscription{key, filter});
}

void MqttSessionStore::put_message(const MqttSessionKey& key, StoredMqttMessage message,
                                   Done done) {
  enqueue(PutMessage{key, std::move(message), std::move(done)});
}

void MqttSessionStore::erase_message(const MqttSessionKey& key, std::int64_t seq) {
  enqueue(EraseMessage{key, seq});
}

bool MqttSessionStore::flush() {
  std::unique_lock lock(queue_mutex_);
  std::uint64_t target = queued_;
  std::uint64_t failed = failed_;
  committed_.wait(lock, [&] { return written_ >= target; });
  return failed_ == failed;
}

void MqttSessionStore::apply(const Write& write) {
  if (const auto* put = std::get_if<PutSession>(&write)) {
    auto statement =
        db_.cached("INSERT OR REPLACE INTO mqtt_session VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    bind_key(*statement, put->record.key);
    statement->bind_blob(4, put->record.credential);
    statement->bind(5, std::int64_t{put->record.protocol_version});
    statement->bind(6, put->record.expiry_s);
    if (put->record.expires_at_ms) {
      statement->bind(7, *put->record.expires_at_ms);
    } else {
      statement->bind_null(7);
    }
    statement->step();
  } else if (const auto* erase = std::get_if<EraseSession>(&write)) {
    for (const char* sql :
         {"DELETE FROM mqtt_session_message WHERE account_id = ?1 AND region = ?2 AND client_id = "
          "?3",
          "DELETE FROM mqtt_session_subscription"
          " WHERE account_id = ?1 AND region = ?2 AND client_id = ?3",
          "DELETE FROM mqtt_session WHERE account_id = ?1 AND region = ?2 AND client_id = ?3"}) {
      auto statement = db_.cached(sql);
      bind_key(*statement, erase->key);
      statement->step();
    }
  } else if (const auto* subscribe = std::get_if<PutSubscription>(&write)) {
    auto statement =
        db_.cached("INSERT OR REPLACE INTO mqtt_session_subscription VALUES (?1, ?2, ?3, ?4, ?5)");
    bind_key(*statement, subscribe->key);
    statement->bind(4, subscribe->filter);
    statement->bind_blob(5, subscribe->options);
    statement->step();
  } else if (const auto* unsubscribe = std::get_if<EraseSubscription>(&write)) {
    auto statement = db_.cached(
        "DELETE FROM mqtt_session_subscription"
        " WHERE account_id = ?1 AND region = ?2 AND client_id = ?3 AND filter = ?4");
    bind_key(*statement, unsubscribe->key);
    statement->bind(4, unsubscribe->filter);
    statement->step();
  } else if (const auto* message = std::get_if<PutMessage>(&write)) {
    auto statement =
        db_.cached("INSERT OR REPLACE INTO mqtt_session_message VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    bind_key(*statement, message->key);
    statement->bind(4, message->message.seq);
    statement->bind(5, message->message.received_ms);
    statement->bind_blob(6, message->message.data);
    statement->step();
  } else if (const auto* gone = std::get_if<EraseMessage>(&write)) {
    auto statement = db_.cached(
        "DELETE FROM mqtt_session_message"
        " WHERE account_id = ?1 AND region = ?2 AND client_id = ?3 AND seq = ?4");
    bind_key(*statement, gone->key);
    statement->bind(4, gone->seq);
    statement->step();
  }
}

void MqttSessionStore::write_loop() {
  for (;;) {
    std::deque<Write> batch;
    {
      std::unique_lock lock(queue_mutex_);
      queue_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to write
      batch.swap(queue_);
    }
    bool durable = true;
    {
      std::lock_guard lock(db_mutex_);
      try {
        Transaction transaction(db_);
        for (const Write& write : batch) apply(write);
        transaction.commit();
      } catch (const StorageError&) {
        durable = false;
      }
    }
    for (Write& write : batch) {
      if (auto* message = std::get_if<PutMessage>(&write); message && message->done) {
        message->done(durable);
      }
    }
    std::size_t count = batch.size();
    // Whatever the callbacks hold (a publisher's receipt) goes here, on this
    // thread, before flush() returns.
    batch.clear();
    {
      std::lock_guard lock(queue_mutex_);
      written_ += count;
      if (!durable) failed_ += count;
    }
    committed_.notify_all();
  }
}

std::vector<StoredMqttSession> MqttSessionStore::load() {
  flush();
  std::lock_guard lock(db_mutex_);
  std::vector<StoredMqttSession> sessions;
  std::map<MqttSessionKey, std::size_t> index;
  auto read_key = [](Statement& statement) {
    return MqttSessionKey{statement.column_text(0), statement.column_text(1),
                          statement.column_text(2)};
  };
  auto select = db_.cached(
      "SELECT account_id, region, client_id, credential, protocol_version, expiry_s, expires_at_ms"
      " FROM mqtt_session ORDER BY account_id, region, client_id");
  while (select->step()) {
    StoredMqttSession session;
    session.record.key = read_key(*select);
    session.record.credential = select->column_text(3);
    session.record.protocol_version = static_cast<int>(select->column_int(4));
    session.record.expiry_s = select->column_int(5);
    if (!select->column_is_null(6)) session.record.expires_at_ms = select->column_int(6);
    index[session.record.key] = sessions.size();
    sessions.push_back(std::move(session));
  }
  auto subscriptions = db_.cached(
      "SELECT account_id, region, client_id, filter, options FROM mqtt_session_subscription"
      " ORDER BY account_id, region, client_id, filter");
  while (subscriptions->step()) {
    auto it = index.find(read_key(*subscriptions));
    if (it == index.end()) continue;
    sessions[it->second].subscriptions.emplace_back(subscriptions->column_text(3),
                                                    subscriptions->column_text(4));
  }
  auto messages = db_.cached(
      "SELECT account_id, region, client_id, seq, received_ms, data FROM mqtt_session_message"
      " ORDER BY account_id, region, client_id, seq");
  while (messages->step()) {
    auto it = index.find(read_key(*messages));
    if (it == index.end()) continue;
    sessions[it->second].messages.push_back(
        {messages->column_int(3), messages->column_int(4), messages->column_text(5)});
  }
  return sessions;
}

}  // namespace offcloud

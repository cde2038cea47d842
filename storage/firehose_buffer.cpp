#include "storage/firehose_buffer.h"

#include <future>

namespace offcloud {

FirehoseBuffer::FirehoseBuffer(const std::string& db_path, bool sync_commits)
    : db_(db_path), reader_(db_path) {
  db_.exec(
      "CREATE TABLE IF NOT EXISTS delivery_stream (name TEXT PRIMARY KEY, config TEXT NOT NULL)"
      " WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS firehose_record (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
      " stream TEXT NOT NULL, arrival_ms INTEGER NOT NULL, data BLOB NOT NULL);"
      "CREATE INDEX IF NOT EXISTS firehose_record_stream ON firehose_record (stream, seq);"
      "CREATE TABLE IF NOT EXISTS firehose_delivery (stream TEXT PRIMARY KEY,"
      " last_seq INTEGER NOT NULL, object_key TEXT NOT NULL) WITHOUT ROWID;");
  if (sync_commits) db_.exec("PRAGMA synchronous=FULL");
  db_.exec("PRAGMA wal_autocheckpoint=0");  // checkpoint_loop's job
  writer_ = std::thread([this] { write_loop(); });
  checkpointer_ = std::thread([this] { checkpoint_loop(); });
}

FirehoseBuffer::~FirehoseBuffer() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_ready_.notify_all();
  checkpoint_due_.notify_all();
  writer_.join();
  checkpointer_.join();
}

void FirehoseBuffer::checkpoint_loop() {
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      checkpoint_due_.wait(lock, [this] { return stopping_ || wrote_; });
      if (stopping_) return;
      // Many commits to one checkpoint, a few times a second.
      checkpoint_due_.wait_for(lock, kCheckpointEvery, [this] { return stopping_; });
      if (stopping_) return;
      wrote_ = false;
    }
    // PASSIVE: copies what it can without waiting for the writer, which
    // goes on appending meanwhile.
    std::lock_guard lock(read_mutex_);
    try {
      reader_.exec("PRAGMA wal_checkpoint(PASSIVE)");
    } catch (const StorageError&) {
      // Retried after the next commit; the WAL only grows meanwhile.
    }
  }
}

void FirehoseBuffer::save_stream(const StoredStream& stream) {
  std::lock_guard lock(db_mutex_);
  auto insert = db_.cached("INSERT OR REPLACE INTO delivery_stream VALUES (?1, ?2)");
  insert->bind(1, stream.name);
  insert->bind(2, stream.config);
  insert->step();
}

void FirehoseBuffer::delete_stream(const std::string& name) {
  std::lock_guard lock(db_mutex_);
  Transaction transaction(db_);
  auto records = db_.cached("DELETE FROM firehose_record WHERE stream = ?1");
  records->bind(1, name);
  records->step();
  auto delivery = db_.cached("DELETE FROM firehose_delivery WHERE stream = ?1");
  delivery->bind(1, name);
  delivery->step();
  auto stream = db_.cached("DELETE FROM delivery_stream WHERE name = ?1");
  stream->bind(1, name);
  stream->step();
  transaction.commit();
}

void FirehoseBuffer::rename_stream(const std::string& from, const std::string& to,
                                   const std::string& config) {
  std::lock_guard lock(db_mutex_);
  Transaction transaction(db_);
  for (const char* sql : {"UPDATE firehose_record SET stream = ?2 WHERE stream = ?1",
                          "UPDATE firehose_delivery SET stream = ?2 WHERE stream = ?1",
                          "DELETE FROM delivery_stream WHERE name = ?1 AND ?2 = ?2"}) {
    auto statement = db_.cached(sql);
    statement->bind(1, from);
    statement->bind(2, to);
    statement->step();
  }
  auto insert = db_.cached("INSERT OR REPLACE INTO delivery_stream VALUES (?1, ?2)");
  insert->bind(1, to);
  insert->bind(2, config);
  insert->step();
  transaction.commit();
}

std::vector<StoredStream> FirehoseBuffer::streams() {
  std::lock_guard lock(db_mutex_);
  std::vector<StoredStream> out;
  auto select = db_.cached("SELECT name, config FROM delivery_stream ORDER BY name");
  while (select->step()) out.push_back({select->column_text(0), select->column_text(1)});
  return out;
}

void FirehoseBuffer::append(const std::string& stream, std::vector<std::string> records,
                            std::int64_t arrival_ms, Done done) {
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back({stream, std::move(records), arrival_ms, std::move(done)});
  }
  queue_ready_.notify_one();
}

bool FirehoseBuffer::append_and_wait(const std::string& stream, std::vector<std::string> records,
                                     std::int64_t arrival_ms) {
  auto promise = std::make_shared<std::promise<bool>>();
  std::future<bool> result = promise->get_future();
  append(stream, std::move(records), arrival_ms,
         [promise](bool durable) { promise->set_value(durable); });
  return result.get();
}

void FirehoseBuffer::write_loop() {
  for (;;) {
    std::deque<Pending> batch;
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
        auto insert = db_.cached(
            "INSERT INTO firehose_record (stream, arrival_ms, data) VALUES (?1, ?2, ?3)");
        for (const Pending& pending : batch) {
          for (const std::string& record : pending.records) {
            insert->reset();
            insert->bind(1, pending.stream);
            insert->bind(2, pending.arrival_ms);
            insert->bind_blob(3, record);
            insert->step();
          }
        }
        transaction.commit();
      } catch (const StorageError&) {
        durable = false;
      }
    }
    {
      std::lock_guard lock(queue_mutex_);
      wrote_ = true;
    }
    checkpoint_due_.notify_all();
    for (Pending& pending : batch) pending.done(durable);
  }
}

std::vector<BufferedRecord> FirehoseBuffer::oldest(const std::string& stream,
                                                   std::uint64_t max_bytes) {
  std::lock_guard lock(read_mutex_);
  std::vector<BufferedRecord> out;
  auto select = reader_.cached(
      "SELECT seq, arrival_ms, data FROM firehose_record WHERE stream = ?1 ORDER BY seq");
  select->bind(1, stream);
  std::uint64_t total = 0;
  while (select->step()) {
    BufferedRecord record{select->column_int(0), select->column_int(1), select->column_text(2)};
    if (!out.empty() && total + record.data.size() > max_bytes) break;
    total += record.data.size();
    out.push_back(std::move(record));
  }
  return out;
}

void FirehoseBuffer::begin_delivery(const std::string& stream, const Delivery& delivery) {
  std::lock_guard lock(db_mutex_);
  auto insert = db_.cached("INSERT OR REPLACE INTO firehose_delivery VALUES (?1, ?2, ?3)");
  insert->bind(1, stream);
  insert->bind(2, delivery.last_seq);
  insert->bind(3, delivery.key);
  insert->step();
}

std::optional<FirehoseBuffer::Delivery> FirehoseBuffer::pending_delivery(
    const std::string& stream) {
  std::lock_guard lock(read_mutex_);
  auto select =
      reader_.cached("SELECT last_seq, object_key FROM firehose_delivery WHERE stream = ?1");
  select->bind(1, stream);
  if (!select->step()) return std::nullopt;
  return Delivery{select->column_int(0), select->column_text(1)};
}

std::vector<BufferedRecord> FirehoseBuffer::through(const std::string& stream,
                                                    std::int64_t last_seq) {
  std::lock_guard lock(read_mutex_);
  std::vector<BufferedRecord> out;
  auto select = reader_.cached(
      "SELECT seq, arrival_ms, data FROM firehose_record WHERE stream = ?1 AND seq <= ?2"
      " ORDER BY seq");
  select->bind(1, stream);
  select->bind(2, last_seq);
  while (select->step()) {
    out.push_back({select->column_int(0), select->column_int(1), select->column_text(2)});
  }
  return out;
}

void FirehoseBuffer::finish_delivery(const std::string& stream, std::int64_t last_seq) {
  std::lock_guard lock(db_mutex_);
  Transaction transaction(db_);
  auto remove = db_.cached("DELETE FROM firehose_record WHERE stream = ?1 AND seq <= ?2");
  remove->bind(1, stream);
  remove->bind(2, last_seq);
  remove->step();
  auto done = db_.cached("DELETE FROM firehose_delivery WHERE stream = ?1");
  done->bind(1, stream);
  done->step();
  transaction.commit();
}

BufferStats FirehoseBuffer::stats(const std::string& stream) {
  std::lock_guard lock(read_mutex_);
  auto select = reader_.cached(
      "SELECT count(*), coalesce(sum(length(data)), 0), coalesce(min(arrival_ms), 0)"
      " FROM firehose_record WHERE stream = ?1");
  select->bind(1, stream);
  select->step();
  return {static_cast<std::uint64_t>(select->column_int(1)),
          static_cast<std::uint64_t>(select->column_int(0)), select->column_int(2)};
}

}  // namespace offcloud

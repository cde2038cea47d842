// The durable Firehose buffer: delivery stream definitions and the records
// waiting for delivery, in SQLite. Appends are group-committed by one writer
// thread: every append waiting when a commit starts shares that commit, so
// many concurrent producers cost one commit, and each is told only once its
// records are durable (they survive the process being killed).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage/database.h"

namespace offcloud {

struct StoredStream {
  std::string name;
  std::string config;  // opaque to storage (JSON written by the service)
};

struct BufferedRecord {
  std::int64_t seq = 0;
  std::int64_t arrival_ms = 0;
  std::string data;
};

struct BufferStats {
  std::uint64_t bytes = 0;
  std::uint64_t count = 0;
  std::int64_t oldest_arrival_ms = 0;  // 0 when empty
};

class FirehoseBuffer {
 public:
  // `sync_commits`: fsync every group commit too (power-loss durability).
  FirehoseBuffer(const std::string& db_path, bool sync_commits);
  ~FirehoseBuffer();

  void save_stream(const StoredStream& stream);
  // Deletes the stream and its buffered records.
  void delete_stream(const std::string& name);
  std::vector<StoredStream> streams();
  // Moves a stream, its buffered records and its pending delivery to
  // `to`, with `config`, in one transaction (a stream's name is the key
  // its service gives it, which may change between versions).
  void rename_stream(const std::string& from, const std::string& to, const std::string& config);

  using Done = std::function<void(bool durable)>;
  // Queues `records` for the next group commit; `done` runs on the writer
  // thread once they are durable (or could not be written).
  void append(const std::string& stream, std::vector<std::string> records, std::int64_t arrival_ms,
              Done done);
  // Blocks until durable.
  bool append_and_wait(const std::string& stream, std::vector<std::string> records,
                       std::int64_t arrival_ms);

  // The oldest records, in arrival order, up to `max_bytes` in all (at least
  // one record, whatever its size).
  std::vector<BufferedRecord> oldest(const std::string& stream, std::uint64_t max_bytes);
  // A delivery is recorded before its object is written and finished after,
  // so one interrupted by a crash is redone with the same records under the
  // same key: the object is written again whole, never split differently.
  struct Delivery {
    std::int64_t last_seq = 0;
    std::string key;
  };
  void begin_delivery(const std::string& stream, const Delivery& delivery);
  std::optional<Delivery> pending_delivery(const std::string& stream);
  // The records of a pending delivery: every record up to `last_seq`.
  std::vector<BufferedRecord> through(const std::string& stream, std::int64_t last_seq);
  // Removes the delivered records and the delivery, in one transaction.
  void finish_delivery(const std::string& stream, std::int64_t last_seq);
  BufferStats stats(const std::string& stream);

 private:
  struct Pending {
    std::string stream;
    std::vector<std::string> records;
    std::int64_t arrival_ms;
    Done done;
  };
  void write_loop();
  static constexpr std::chrono::milliseconds kCheckpointEvery{200};

  std::mutex db_mutex_;  // guards db_
  Database db_;
  // A second connection for the delivery's reads (oldest, through, stats):
  // in WAL mode they read the last commit while the writer goes on, so
  // reading a 5 MB batch never holds up the appends waiting to commit.
  std::mutex read_mutex_;  // guards reader_
  Database reader_;
  // The WAL is checkpointed by this thread, on reader_, not by the writer
  // after its commits: a checkpoint's fsyncs took 10 to 25 ms, and every
  // append waiting meanwhile (a publish's answer) waited that long too.
  void checkpoint_loop();
  bool wrote_ = false;  // under queue_mutex_: a commit since the last checkpoint
  std::condition_variable checkpoint_due_;
  std::thread checkpointer_;

  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace offcloud

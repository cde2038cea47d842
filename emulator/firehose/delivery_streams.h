// Firehose delivery streams to S3: their definitions, and the delivery loop
// that turns buffered records into S3 objects when a buffer reaches its size
// or its interval. Records leave the durable buffer only once their object
// is in the object store, so a crash between the two delivers a duplicate
// object at worst, never a gap. Protocol-free: firehose_handlers.cpp is the
// JSON API, and the rules engine's firehose action calls put_records().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rules/firehose_sink.h"
#include "rules/flow_counters.h"
#include "storage/firehose_buffer.h"
#include "storage/object_store.h"

namespace offcloud {

struct DeliveryStreamConfig {
  AccountRegion scope;  // Firehose is regional: each account and region has its own streams
  std::string name;
  std::string arn;
  std::string type = "DirectPut";
  int version = 1;  // rises with each UpdateDestination
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
  bool extended = true;  // ExtendedS3DestinationConfiguration, not S3DestinationConfiguration
  std::string role_arn;
  std::string bucket_arn;
  std::string prefix;
  std::string error_output_prefix;
  int size_mb = 5;
  int interval_s = 300;
  std::string compression = "UNCOMPRESSED";  // or GZIP

  std::string bucket() const;  // from the bucket ARN
};

// Empty when `prefix` is a Prefix Firehose accepts, else why not.
// `error_output` selects ErrorOutputPrefix's rules.
std::string validate_firehose_prefix(const std::string& prefix, bool error_output);

// The object key for a delivery of records whose oldest arrived at `oldest_ms`.
std::string firehose_object_key(const DeliveryStreamConfig& config, std::int64_t oldest_ms,
                                const std::string& uuid);

class DeliveryStreams : public FirehoseSink {
 public:
  struct Options {
    // Caps every stream's buffering interval: an offcloud extension so that
    // demos and tests need not wait the minutes AWS does.
    std::optional<double> max_interval_s;
    // Where each stream's records and deliveries are counted (the console's
    // Overview); null: nowhere. Must outlive the streams.
    FlowCounters* counters = nullptr;
  };

  DeliveryStreams(FirehoseBuffer& buffer, ObjectStore& objects, Options options);
  ~DeliveryStreams() override;

  // Streams are named within their account and region (config.scope).
  enum class Status { kOk, kNotFound, kInUse, kVersionMismatch };
  Status create(DeliveryStreamConfig config);
  std::optional<DeliveryStreamConfig> describe(const AccountRegion& scope, const std::string& name);
  std::vector<std::string> names(const AccountRegion& scope);
  Status remove(const AccountRegion& scope, const std::string& name);
  // Replaces the destination settings; the version rises by one.
  Status update(const AccountRegion& scope, const std::string& name, int expected_version,
                const DeliveryStreamConfig& next);

  // False when there is no such stream; otherwise `done` runs once the
  // records are durable.
  bool put(const AccountRegion& scope, const std::string& name, std::vector<std::string> records,
           FirehoseBuffer::Done done);
  bool put_records(const AccountRegion& scope, const std::string& stream,
                   std::vector<std::string> records, Done done, std::string* error) override;

  // What the console's buffer view shows of a stream (an offcloud
  // extension: AWS shows no buffer): the buffer now and the latest
  // deliveries since start (kept in memory only).
  struct Delivery {
    std::string key;  // the object's
    std::uint64_t records = 0;
    std::uint64_t bytes = 0;  // the object's size (after compression)
    std::int64_t time_ms = 0;
  };
  static constexpr std::size_t kDeliveriesKept = 10;
  struct BufferView {
    std::string arn;
    BufferStats buffered;
    double interval_s = 0;         // the stream's, capped by max_interval_s
    std::uint64_t size_bytes = 0;  // the buffer size that delivers at once
    // When the interval (or the retry after a failure) delivers; 0: empty.
    std::int64_t next_delivery_ms = 0;
    int failures = 0;                  // failed attempts in a row
    std::string last_error;            // why the last attempt failed; empty after a success
    std::vector<Delivery> deliveries;  // newest first
  };
  std::optional<BufferView> buffer_view(const AccountRegion& scope, const std::string& name);

  // Delivers everything buffered, then stops the delivery loop (shutdown).
  void flush_and_stop();

 private:
  struct Stream {
    DeliveryStreamConfig config;
    BufferStats stats;
    std::int64_t retry_at_ms = 0;
    int failures = 0;
    std::string last_error;
    std::deque<Delivery> deliveries;   // newest first, at most kDeliveriesKept
    StreamCounter* counter = nullptr;  // null: not counted
  };
  // Gives `stream` its counter, showing what it holds now.
  void attach_counter(Stream& stream);
  double interval_s(const DeliveryStreamConfig& config) const;
  void deliver_loop();
  // Delivers one object's worth of the stream's oldest records. False when
  // delivery failed (retried later).
  bool deliver_once(const std::string& key);
  bool due(const Stream& stream, std::int64_t now_ms) const;

  FirehoseBuffer& buffer_;
  ObjectStore& objects_;
  Options options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  // By stream key, "<account>/<region>/<name>": the buffer's name for the
  // stream (names never hold a slash, so keys never collide).
  std::map<std::string, Stream> streams_;
  bool stopping_ = false;
  std::thread deliverer_;
};

}  // namespace offcloud

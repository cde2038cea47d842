// The console's live data over one WebSocket: GET /_offcloud/live, upgraded,
// authenticated by a SigV4 presigned URL for the service "offcloud" (the
// router verifies it as it verifies /mqtt's). The server sends JSON, one
// frame per WebSocket message, each numbered ("frame": 1, 2, ...):
//
//   {"type": "hello", "frame", "last_seq", "window", "heartbeat_s", "feeds"}
//   {"type": "activity", "frame", "entries": [...], "last_seq", "missed"}
//     new activity entries the key may see (activity_log.h's rule), oldest
//     first, as GET /_offcloud/activity shows them; "missed": some were
//     left out (the reader fell behind, or the ring overwrote them).
//   {"type": "counters", "frame", "account_id", "region", "server_time_ms",
//    "messages", "other_messages", "topics_counted",
//    "topics": [{"topic", "messages", "bytes", "last_ms"}] the busiest first,
//    "rules": [{"name", "matches", "errors", "last_match_ms", "last_error_ms"}],
//    "streams": [{"name", "records_in", "bytes_in", "records_buffered",
//                 "bytes_buffered", "objects", "object_bytes",
//                 "last_delivery_ms"}]}
//     the connection's account and region (flow_counters.h), sent when it
//     changed, at most once a second.
//   {"type": "buffers", "frame", "account_id", "region", "server_time_ms",
//    "streams": [...]}
//     every delivery stream of that account and region the key may
//     describe, each as GET /_offcloud/firehose/buffer shows it (records,
//     bytes, oldest_arrival_ms, next_delivery_ms, the latest deliveries...),
//     by name; sent when any changed, at most once a second. A countdown
//     runs in the browser from next_delivery_ms and server_time_ms, so an
//     idle buffer costs no frames.
//   {"type": "error", "message"}, then the connection closes.
//
// The client sends {"ack": <frame>} for each frame it has handled, and any
// message at least every heartbeat_s seconds ({"ping": true} will do).
// Back-pressure: at most `window` frames go unacknowledged; while a reader
// lags, nothing more is queued for it: its activity waits in the log and
// reaches it later as the newest entries with "missed": true, and its
// counters as the latest snapshot only. A connection's memory on the
// server is so bounded by window x the largest frame, whatever the reader.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "emulator/activity/activity_log.h"
#include "emulator/http/request_handler.h"
#include "rules/flow_counters.h"

namespace offcloud {

struct LiveOptions {
  std::chrono::milliseconds tick{100};  // how often new activity is looked for
  std::chrono::milliseconds counters_every{1000};
  std::chrono::seconds heartbeat{30};  // the client's; silence for 3 of them ends it
  std::size_t max_connections = 256;
  std::size_t window = 4;  // frames sent and not yet acknowledged
  std::size_t max_entries_per_frame = 100;
  std::size_t top_topics = 20;
};

// What one connection asked for and may see.
struct LiveSubscription {
  ActivityViewer viewer;
  bool activity = true;
  // The account and region whose counters it gets; none: no counters.
  std::optional<AccountRegion> counters;
  // Activity after this sequence number; none: from now on.
  std::optional<std::uint64_t> after;
  // The account and region whose delivery streams' buffers it gets; none:
  // no buffers. Of those, the streams `may_see_stream` accepts by ARN (null:
  // all), asked each time, so a policy changed meanwhile counts.
  std::optional<AccountRegion> buffers;
  std::function<bool(std::string_view stream_arn)> may_see_stream;
};

// The buffer views of an account and region's delivery streams that
// `visible` accepts (null: all), as a JSON array; the emulator wires it to
// Firehose, which this folder knows nothing of.
using StreamBuffers = std::function<nlohmann::json(
    const AccountRegion& scope, const std::function<bool(std::string_view arn)>& visible)>;

class LiveFeed {
 public:
  // `counters` may be null and `buffers` empty (none are sent). The log and
  // the counters must outlive the feed.
  LiveFeed(const ActivityLog& log, const FlowCounters* counters, StreamBuffers buffers = {},
           LiveOptions options = {});
  ~LiveFeed();
  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;

  // Whether another connection would be one too many.
  bool full() const;
  // The handler of a new connection on `channel`. Starts the feed's thread
  // on the first one.
  std::shared_ptr<ChannelHandler> open(std::weak_ptr<MessageChannel> channel,
                                       LiveSubscription subscription);
  std::size_t connections() const;
  // Ends the thread (the connections stay until the server closes them).
  void stop();

  // One round of what the thread does each tick; for tests.
  void pump_all();

 private:
  class Connection;
  void run();

  const ActivityLog& log_;
  const FlowCounters* counters_;
  const StreamBuffers buffers_;
  const LiveOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::weak_ptr<Connection>> connections_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace offcloud

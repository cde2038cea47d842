#include "emulator/activity/live_feed.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "emulator/activity/activity_service.h"

namespace offcloud {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json counters_json(const FlowCounters::Snapshot& snapshot, const AccountRegion& scope) {
  json topics = json::array();
  for (const auto& t : snapshot.topics) {
    topics.push_back(
        {{"topic", t.topic}, {"messages", t.messages}, {"bytes", t.bytes}, {"last_ms", t.last_ms}});
  }
  json rules = json::array();
  for (const auto& r : snapshot.rules) {
    rules.push_back({{"name", r.name},
                     {"matches", r.matches},
                     {"errors", r.errors},
                     {"last_match_ms", r.last_match_ms},
                     {"last_error_ms", r.last_error_ms}});
  }
  json streams = json::array();
  for (const auto& s : snapshot.streams) {
    streams.push_back({{"name", s.name},
                       {"records_in", s.records_in},
                       {"bytes_in", s.bytes_in},
                       {"records_buffered", s.records_buffered},
                       {"bytes_buffered", s.bytes_buffered},
                       {"objects", s.objects},
                       {"object_bytes", s.object_bytes},
                       {"last_delivery_ms", s.last_delivery_ms}});
  }
  return {{"type", "counters"},
          {"account_id", scope.account_id},
          {"region", scope.region},
          {"messages", snapshot.messages},
          {"other_messages", snapshot.other_messages},
          {"topics_counted", snapshot.topics_counted},
          {"topics", std::move(topics)},
          {"rules", std::move(rules)},
          {"streams", std::move(streams)}};
}

std::string dump(const json& message) {
  return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

// One WebSocket's reader and its cursor in the feed. on_message() runs on
// the connection's I/O thread, pump() on the feed's: a mutex keeps them
// apart (held for one frame's making, never while waiting).
class LiveFeed::Connection : public ChannelHandler {
 public:
  Connection(std::weak_ptr<MessageChannel> channel, LiveSubscription subscription,
             const LiveOptions& options)
      : channel_(std::move(channel)), subscription_(std::move(subscription)), options_(options) {}

  void start(const ActivityLog& log) {
    std::lock_guard lock(mutex_);
    std::uint64_t newest = log.since(0, subscription_.viewer, 0).last_seq;
    after_ = subscription_.after.value_or(newest);
    json feeds = json::array();
    if (subscription_.activity) feeds.push_back("activity");
    if (subscription_.counters) feeds.push_back("counters");
    if (subscription_.buffers) feeds.push_back("buffers");
    send_locked({{"type", "hello"},
                 {"last_seq", newest},
                 {"window", options_.window},
                 {"heartbeat_s", options_.heartbeat.count()},
                 {"feeds", std::move(feeds)}});
  }

  bool on_message(std::string_view bytes) override {
    json message = json::parse(bytes, nullptr, false);
    std::lock_guard lock(mutex_);
    if (message.is_object() && message.contains("ack")) {
      const json& ack = message["ack"];
      if (!ack.is_number_unsigned() || ack.get<std::uint64_t>() > sent_) {
        return refuse_locked("ack must name a frame the server sent (1 to " +
                             std::to_string(sent_) + ").");
      }
      acked_ = std::max(acked_, ack.get<std::uint64_t>());
      return true;
    }
    if (message.is_object() && message.contains("ping")) return true;
    return refuse_locked(
        "Send {\"ack\": <frame>} or {\"ping\": true} as JSON; nothing else is understood.");
  }

  void on_closed() override {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }

  std::chrono::milliseconds silence_allowed() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(options_.heartbeat * 3);
  }

  // Sends what is new, as far as the window allows.
  void pump(const ActivityLog& log, const FlowCounters* counters, const StreamBuffers& buffers,
            Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    if (subscription_.activity && window_open_locked()) {
      ActivityLog::Page page =
          log.since(after_, subscription_.viewer, options_.max_entries_per_frame);
      // A restarted log would give a smaller number; the ring never does.
      if (!page.entries.empty() || page.missed) {
        json entries = json::array();
        for (const ActivityEntry& entry : page.entries) {
          entries.push_back(activity_entry_json(entry));
        }
        send_locked({{"type", "activity"},
                     {"entries", std::move(entries)},
                     {"last_seq", page.last_seq},
                     {"missed", page.missed}});
      }
      after_ = page.last_seq;
    }
    if (counters && subscription_.counters && now >= next_counters_ && window_open_locked()) {
      next_counters_ = now + options_.counters_every;
      json snapshot =
          counters_json(counters->snapshot(*subscription_.counters, options_.top_topics),
                        *subscription_.counters);
      // Unchanged counters are not sent again.
      if (snapshot != last_counters_) {
        last_counters_ = snapshot;
        snapshot["server_time_ms"] = epoch_ms();
        send_locked(std::move(snapshot));
      }
    }
    if (buffers && subscription_.buffers && now >= next_buffers_ && window_open_locked()) {
      next_buffers_ = now + options_.counters_every;
      const AccountRegion& scope = *subscription_.buffers;
      json streams = buffers(scope, subscription_.may_see_stream);
      if (streams != last_buffers_) {
        last_buffers_ = streams;
        send_locked({{"type", "buffers"},
                     {"account_id", scope.account_id},
                     {"region", scope.region},
                     {"streams", std::move(streams)},
                     {"server_time_ms", epoch_ms()}});
      }
    }
  }

  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }

 private:
  bool window_open_locked() const { return sent_ - acked_ < options_.window; }

  void send_locked(json message) {
    message["frame"] = ++sent_;
    if (auto channel = channel_.lock()) channel->send(dump(message));
  }

  bool refuse_locked(std::string why) {
    send_locked({{"type", "error"}, {"message", std::move(why)}});
    closed_ = true;
    return false;
  }

  std::weak_ptr<MessageChannel> channel_;
  const LiveSubscription subscription_;
  const LiveOptions options_;
  mutable std::mutex mutex_;
  std::uint64_t after_ = 0;  // the activity sent, or skipped, so far
  std::uint64_t sent_ = 0;   // frames
  std::uint64_t acked_ = 0;
  Clock::time_point next_counters_{};
  json last_counters_;
  Clock::time_point next_buffers_{};
  json last_buffers_;
  bool closed_ = false;
};

LiveFeed::LiveFeed(const ActivityLog& log, const FlowCounters* counters, StreamBuffers buffers,
                   LiveOptions options)
    : log_(log), counters_(counters), buffers_(std::move(buffers)), options_(options) {}

LiveFeed::~LiveFeed() {
  stop();
}

bool LiveFeed::full() const {
  return connections() >= options_.max_connections;
}

std::size_t LiveFeed::connections() const {
  std::lock_guard lock(mutex_);
  return std::count_if(connections_.begin(), connections_.end(), [](const auto& weak) {
    auto connection = weak.lock();
    return connection && !connection->closed();
  });
}

std::shared_ptr<ChannelHandler> LiveFeed::open(std::weak_ptr<MessageChannel> channel,
                                               LiveSubscription subscription) {
  auto connection =
      std::make_shared<Connection>(std::move(channel), std::move(subscription), options_);
  connection->start(log_);
  connection->pump(log_, counters_, buffers_, Clock::now());  // what is there already, at once
  std::lock_guard lock(mutex_);
  connections_.push_back(connection);
  if (!thread_.joinable() && !stopping_) thread_ = std::thread([this] { run(); });
  return connection;
}

void LiveFeed::pump_all() {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(mutex_);
    std::erase_if(connections_, [&](const std::weak_ptr<Connection>& weak) {
      auto connection = weak.lock();
      if (!connection || connection->closed()) return true;
      live.push_back(std::move(connection));
      return false;
    });
  }
  auto now = Clock::now();
  for (const auto& connection : live) connection->pump(log_, counters_, buffers_, now);
}

void LiveFeed::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.tick);
    if (stopping_) break;
    lock.unlock();
    pump_all();
    lock.lock();
  }
}

void LiveFeed::stop() {
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  wake_.notify_all();
  if (thread.joinable()) thread.join();
}

}  // namespace offcloud

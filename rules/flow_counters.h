// The counts the console's Overview draws on the hands-on's data flow
// (device -> topic -> rule -> stream -> bucket): messages per topic, each
// rule's matches and errors, each stream's records in, records buffered
// and objects delivered. Counted on the publish path, so counting is
// atomics only: no lock, and an allocation only the first time a topic,
// rule or stream is seen. Memory stays bounded: kScopes accounts and
// regions, each counting its first kTopicsPerScope topics by name (the
// rest together, as "other"), kRulesPerScope rules and kStreamsPerScope
// streams. Nothing is forgotten: a rule or stream deleted and made again
// under its name keeps counting where it was, and rows() and restore() carry
// the counts across a restart (flow_count_keeper.h).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rules/message_bus.h"
#include "storage/flow_count_store.h"

namespace offcloud {

// A table whose entries are added once and never removed, so that lookups
// and additions need no lock: a compare-and-swap claims a slot, and a node
// once published never moves or dies before the table. Open addressing, at
// most kProbes slots tried per key; a key that finds none is not added.
template <class Node, std::size_t N>
class AddOnlyTable {
 public:
  static constexpr std::size_t kProbes = N < 32 ? N : 32;

  AddOnlyTable() = default;
  AddOnlyTable(const AddOnlyTable&) = delete;
  AddOnlyTable& operator=(const AddOnlyTable&) = delete;
  ~AddOnlyTable() {
    for (auto& slot : slots_) delete slot.load(std::memory_order_relaxed);
  }

  // The node `same` accepts among those `hash` leads to, else a new one
  // from `make()`; null when every slot tried holds another key.
  template <class Same, class Make>
  Node* find_or_add(std::uint64_t hash, Same same, Make make) {
    for (std::size_t i = 0; i < kProbes; ++i) {
      std::atomic<Node*>& slot = slots_[(hash + i) % N];
      Node* node = slot.load(std::memory_order_acquire);
      if (!node) {
        std::unique_ptr<Node> fresh = make();
        // On failure `node` becomes the winner's, compared below.
        if (slot.compare_exchange_strong(node, fresh.get(), std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
          return fresh.release();
        }
      }
      if (same(*node)) return node;
    }
    return nullptr;
  }

  // The node `same` accepts, without adding one; null if none.
  template <class Same>
  const Node* find(std::uint64_t hash, Same same) const {
    for (std::size_t i = 0; i < kProbes; ++i) {
      const Node* node = slots_[(hash + i) % N].load(std::memory_order_acquire);
      if (!node) return nullptr;  // nodes never leave, so the key is not further on
      if (same(*node)) return node;
    }
    return nullptr;
  }

  template <class Visit>
  void for_each(Visit visit) const {
    for (const auto& slot : slots_) {
      if (const Node* node = slot.load(std::memory_order_acquire)) visit(*node);
    }
  }

 private:
  std::array<std::atomic<Node*>, N> slots_{};
};

struct RuleCounter {
  std::atomic<std::uint64_t> matches{0};  // messages whose SQL gave output
  std::atomic<std::uint64_t> errors{0};   // messages whose SQL or an action failed
  std::atomic<std::int64_t> last_match_ms{0};
  std::atomic<std::int64_t> last_error_ms{0};

  void matched();
  void failed();
};

struct StreamCounter {
  std::atomic<std::uint64_t> records_in{0};  // made durable in the buffer
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> records_buffered{0};  // waiting now
  std::atomic<std::uint64_t> bytes_buffered{0};
  std::atomic<std::uint64_t> objects{0};  // delivered to the bucket
  std::atomic<std::uint64_t> object_bytes{0};
  std::atomic<std::int64_t> last_delivery_ms{0};

  void received(std::uint64_t records, std::uint64_t bytes);
  void buffered(std::uint64_t records, std::uint64_t bytes);
  void delivered(std::uint64_t bytes, std::int64_t time_ms);
};

class FlowCounters {
 public:
  static constexpr std::size_t kScopes = 128;
  static constexpr std::size_t kTopicsPerScope = 256;
  static constexpr std::size_t kRulesPerScope = 512;
  static constexpr std::size_t kStreamsPerScope = 256;

  FlowCounters();
  ~FlowCounters();

  // One message accepted on `topic` (the bus calls it for every publish).
  void count_message(const AccountRegion& scope, std::string_view topic, std::size_t bytes);
  // The counter of a rule or a stream, made on first use; null when its
  // account and region count no more (the tables are full). Held by the
  // rule or stream, so counting needs no lookup.
  RuleCounter* rule(const AccountRegion& scope, std::string_view name);
  StreamCounter* stream(const AccountRegion& scope, std::string_view name);

  struct TopicCount {
    std::string topic;
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;
    std::int64_t last_ms = 0;
  };
  struct RuleCount {
    std::string name;
    std::uint64_t matches = 0, errors = 0;
    std::int64_t last_match_ms = 0, last_error_ms = 0;
  };
  struct StreamCount {
    std::string name;
    std::uint64_t records_in = 0, bytes_in = 0;
    std::uint64_t records_buffered = 0, bytes_buffered = 0;
    std::uint64_t objects = 0, object_bytes = 0;
    std::int64_t last_delivery_ms = 0;
  };
  struct Snapshot {
    std::vector<TopicCount> topics;  // the busiest first, at most the top asked for
    std::uint64_t messages = 0;      // on every topic, counted by name or not
    // Messages on topics past the table's room, and on counted topics
    // left out of the top.
    std::uint64_t other_messages = 0;
    std::size_t topics_counted = 0;  // topics with a counter, shown or not
    std::vector<RuleCount> rules;    // by name
    std::vector<StreamCount> streams;
  };
  // A moment's reading of one account and region (each count exact, the
  // whole not one instant); at most `top_topics` topics.
  Snapshot snapshot(const AccountRegion& scope, std::size_t top_topics) const;

  // Every count there is, as rows to save; each count exact, the whole not
  // one instant. Records buffered are not among them: a stream says what it
  // holds when it starts.
  std::vector<FlowCountRow> rows() const;
  // Sets the counts `rows` hold, as if counted (start-up, before anything
  // counts); those past the tables' room are left out, as counting would.
  void restore(const std::vector<FlowCountRow>& rows);

 private:
  struct Scope;
  Scope* scope(const AccountRegion& scope);

  std::unique_ptr<AddOnlyTable<Scope, kScopes>> scopes_;
};

}  // namespace offcloud

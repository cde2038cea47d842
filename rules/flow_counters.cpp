#include "rules/flow_counters.h"

#include <chrono>
#include <functional>

namespace offcloud {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

std::int64_t now_epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint64_t hash_of(std::string_view text) {
  return std::hash<std::string_view>{}(text);
}

std::uint64_t hash_of(const AccountRegion& scope) {
  return hash_of(scope.account_id) * 1099511628211ULL ^ hash_of(scope.region);
}

// A counter with the name it counts.
template <class Counter>
struct Named {
  explicit Named(std::string_view key) : name(key), hash(hash_of(key)) {}
  std::string name;
  std::uint64_t hash;
  Counter counter;
};

struct TopicCounter {
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::int64_t> last_ms{0};
};

template <class Counter, std::size_t N>
Counter* find_or_add(AddOnlyTable<Named<Counter>, N>& table, std::string_view name) {
  std::uint64_t hash = hash_of(name);
  Named<Counter>* node = table.find_or_add(
      hash, [&](const Named<Counter>& n) { return n.hash == hash && n.name == name; },
      [&] { return std::make_unique<Named<Counter>>(name); });
  return node ? &node->counter : nullptr;
}

}  // namespace

void RuleCounter::matched() {
  matches.fetch_add(1, kRelaxed);
  last_match_ms.store(now_epoch_ms(), kRelaxed);
}

void RuleCounter::failed() {
  errors.fetch_add(1, kRelaxed);
  last_error_ms.store(now_epoch_ms(), kRelaxed);
}

void StreamCounter::received(std::uint64_t records, std::uint64_t bytes) {
  records_in.fetch_add(records, kRelaxed);
  bytes_in.fetch_add(bytes, kRelaxed);
}

void StreamCounter::buffered(std::uint64_t records, std::uint64_t bytes) {
  records_buffered.store(records, kRelaxed);
  bytes_buffered.store(bytes, kRelaxed);
}

void StreamCounter::delivered(std::uint64_t bytes, std::int64_t time_ms) {
  objects.fetch_add(1, kRelaxed);
  object_bytes.fetch_add(bytes, kRelaxed);
  last_delivery_ms.store(time_ms, kRelaxed);
}

struct FlowCounters::Scope {
  explicit Scope(AccountRegion key) : scope(std::move(key)) {}
  AccountRegion scope;
  AddOnlyTable<Named<TopicCounter>, kTopicsPerScope> topics;
  std::atomic<std::uint64_t> uncounted_messages{0};  // topics past the table's room
  AddOnlyTable<Named<RuleCounter>, kRulesPerScope> rules;
  AddOnlyTable<Named<StreamCounter>, kStreamsPerScope> streams;
};

FlowCounters::FlowCounters() : scopes_(std::make_unique<AddOnlyTable<Scope, kScopes>>()) {}
FlowCounters::~FlowCounters() = default;

FlowCounters::Scope* FlowCounters::scope(const AccountRegion& key) {
  return scopes_->find_or_add(
      hash_of(key), [&](const Scope& s) { return s.scope == key; },
      [&] { return std::make_unique<Scope>(key); });
}

void FlowCounters::count_message(const AccountRegion& key, std::string_view topic,
                                 std::size_t bytes) {
  Scope* s = scope(key);
  if (!s) return;  // more accounts and regions than counted
  TopicCounter* counter = find_or_add(s->topics, topic);
  if (!counter) {
    s->uncounted_messages.fetch_add(1, kRelaxed);
    return;
  }
  counter->messages.fetch_add(1, kRelaxed);
  counter->bytes.fetch_add(bytes, kRelaxed);
  counter->last_ms.store(now_epoch_ms(), kRelaxed);
}

RuleCounter* FlowCounters::rule(const AccountRegion& key, std::string_view name) {
  Scope* s = scope(key);
  return s ? find_or_add(s->rules, name) : nullptr;
}

StreamCounter* FlowCounters::stream(const AccountRegion& key, std::string_view name) {
  Scope* s = scope(key);
  return s ? find_or_add(s->streams, name) : nullptr;
}

FlowCounters::Snapshot FlowCounters::snapshot(const AccountRegion& key,
                                              std::size_t top_topics) const {
  Snapshot out;
  const Scope* s = scopes_->find(hash_of(key), [&](const Scope& x) { return x.scope == key; });
  if (!s) return out;
  s->topics.for_each([&](const Named<TopicCounter>& node) {
    out.topics.push_back({node.name, node.counter.messages.load(kRelaxed),
                          node.counter.bytes.load(kRelaxed), node.counter.last_ms.load(kRelaxed)});
  });
  out.topics_counted = out.topics.size();
  std::uint64_t uncounted = s->uncounted_messages.load(kRelaxed);
  out.messages = uncounted;
  for (const TopicCount& topic : out.topics) out.messages += topic.messages;
  auto busier = [](const TopicCount& a, const TopicCount& b) {
    return a.messages != b.messages ? a.messages > b.messages : a.topic < b.topic;
  };
  std::size_t shown = std::min(top_topics, out.topics.size());
  std::partial_sort(out.topics.begin(), out.topics.begin() + shown, out.topics.end(), busier);
  out.other_messages = uncounted;
  for (std::size_t i = shown; i < out.topics.size(); ++i) {
    out.other_messages += out.topics[i].messages;
  }
  out.topics.resize(shown);
  s->rules.for_each([&](const Named<RuleCounter>& node) {
    const RuleCounter& c = node.counter;
    out.rules.push_back({node.name, c.matches.load(kRelaxed), c.errors.load(kRelaxed),
                         c.last_match_ms.load(kRelaxed), c.last_error_ms.load(kRelaxed)});
  });
  s->streams.for_each([&](const Named<StreamCounter>& node) {
    const StreamCounter& c = node.counter;
    out.streams.push_back({node.name, c.records_in.load(kRelaxed), c.bytes_in.load(kRelaxed),
                           c.records_buffered.load(kRelaxed), c.bytes_buffered.load(kRelaxed),
                           c.objects.load(kRelaxed), c.object_bytes.load(kRelaxed),
                           c.last_delivery_ms.load(kRelaxed)});
  });
  auto by_name = [](const auto& a, const auto& b) { return a.name < b.name; };
  std::sort(out.rules.begin(), out.rules.end(), by_name);
  std::sort(out.streams.begin(), out.streams.end(), by_name);
  return out;
}

std::vector<FlowCountRow> FlowCounters::rows() const {
  using Kind = FlowCountRow::Kind;
  std::vector<FlowCountRow> out;
  scopes_->for_each([&](const Scope& s) {
    auto row = [&](Kind kind, const std::string& name) -> FlowCountRow& {
      out.push_back({s.scope.account_id, s.scope.region, kind, name, {}, {}});
      return out.back();
    };
    s.topics.for_each([&](const Named<TopicCounter>& node) {
      FlowCountRow& r = row(Kind::kTopic, node.name);
      r.counts = {node.counter.messages.load(kRelaxed), node.counter.bytes.load(kRelaxed), 0, 0};
      r.times = {node.counter.last_ms.load(kRelaxed), 0};
    });
    if (std::uint64_t other = s.uncounted_messages.load(kRelaxed)) {
      row(Kind::kOtherTopics, "").counts = {other, 0, 0, 0};
    }
    s.rules.for_each([&](const Named<RuleCounter>& node) {
      const RuleCounter& c = node.counter;
      FlowCountRow& r = row(Kind::kRule, node.name);
      r.counts = {c.matches.load(kRelaxed), c.errors.load(kRelaxed), 0, 0};
      r.times = {c.last_match_ms.load(kRelaxed), c.last_error_ms.load(kRelaxed)};
    });
    s.streams.for_each([&](const Named<StreamCounter>& node) {
      const StreamCounter& c = node.counter;
      FlowCountRow& r = row(Kind::kStream, node.name);
      r.counts = {c.records_in.load(kRelaxed), c.bytes_in.load(kRelaxed), c.objects.load(kRelaxed),
                  c.object_bytes.load(kRelaxed)};
      r.times = {c.last_delivery_ms.load(kRelaxed), 0};
    });
  });
  return out;
}

void FlowCounters::restore(const std::vector<FlowCountRow>& rows) {
  using Kind = FlowCountRow::Kind;
  for (const FlowCountRow& row : rows) {
    Scope* s = scope({row.account_id, row.region});
    if (!s) continue;
    switch (row.kind) {
      case Kind::kTopic:
        if (TopicCounter* c = find_or_add(s->topics, row.name)) {
          c->messages.store(row.counts[0], kRelaxed);
          c->bytes.store(row.counts[1], kRelaxed);
          c->last_ms.store(row.times[0], kRelaxed);
        } else {
          s->uncounted_messages.fetch_add(row.counts[0], kRelaxed);
        }
        break;
      case Kind::kOtherTopics:
        s->uncounted_messages.fetch_add(row.counts[0], kRelaxed);
        break;
      case Kind::kRule:
        if (RuleCounter* c = find_or_add(s->rules, row.name)) {
          c->matches.store(row.counts[0], kRelaxed);
          c->errors.store(row.counts[1], kRelaxed);
          c->last_match_ms.store(row.times[0], kRelaxed);
          c->last_error_ms.store(row.times[1], kRelaxed);
        }
        break;
      case Kind::kStream:
        if (StreamCounter* c = find_or_add(s->streams, row.name)) {
          c->records_in.store(row.counts[0], kRelaxed);
          c->bytes_in.store(row.counts[1], kRelaxed);
          c->objects.store(row.counts[2], kRelaxed);
          c->object_bytes.store(row.counts[3], kRelaxed);
          c->last_delivery_ms.store(row.times[0], kRelaxed);
        }
        break;
    }
  }
}

}  // namespace offcloud

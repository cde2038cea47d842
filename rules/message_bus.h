// The in-process message bus: every accepted publish, whoever sent it, goes
// through publish(); rules (and later MQTT sessions) subscribe with a topic
// filter. Every message lives in one account and region, as on AWS IoT, and
// reaches only the subscribers of its own. Delivery is synchronous on the publisher's thread; a
// subscriber that makes a message durable asynchronously holds the message's receipt until it has,
// so the publisher is answered only after that.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rules/topic_filter.h"

namespace offcloud {

// Answers a publisher once every durable write its message caused is done:
// whoever writes asynchronously keeps a reference until its write commits,
// and the last reference let go runs `done`. So an acknowledged publish is
// durable everywhere it went, and no thread waits on a disk meanwhile.
class PublishReceipt {
 public:
  explicit PublishReceipt(std::function<void(bool all_written)> done) : done_(std::move(done)) {}
  ~PublishReceipt() { done_(!failed_.load()); }
  PublishReceipt(const PublishReceipt&) = delete;
  PublishReceipt& operator=(const PublishReceipt&) = delete;

  void fail() { failed_ = true; }

 private:
  std::function<void(bool)> done_;
  std::atomic<bool> failed_{false};
};

// An AWS account and a region: where a message, a rule or a subscription
// lives. AWS IoT keeps every account, and each region within it, apart.
struct AccountRegion {
  std::string account_id = "000000000000";
  std::string region = "us-east-1";  // what data from before regions is in
  auto operator<=>(const AccountRegion&) const = default;
  bool operator==(const AccountRegion&) const = default;
};

struct Message {
  AccountRegion scope;
  std::string topic;
  std::string payload;  // any bytes
  int qos = 0;
  bool retain = false;
  std::string client_id;  // empty for HTTPS publishes, which have none
  std::string principal;  // the caller's ARN
  std::string source_ip;
  std::int64_t timestamp_ms = 0;  // when offcloud received it
  // MQTT 5 properties, as the Publish API carries them.
  std::optional<std::string> user_properties;  // JSON array text
  std::optional<std::string> content_type;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;  // raw bytes
  std::optional<std::int64_t> message_expiry_s;
  bool payload_is_utf8 = false;
  // How many rule republish actions produced this message (0 for a client's
  // publish), so that rules republishing into their own topics stop.
  int republish_hops = 0;
  // Held by every asynchronous durable write the message causes; null when
  // nobody waits for them. Republished messages carry their origin's.
  std::shared_ptr<PublishReceipt> receipt;
};

class FlowCounters;

class MessageBus {
 public:
  using Subscriber = std::function<void(const Message&)>;
  using SubscriptionId = std::uint64_t;

  // Messages of `scope` whose topic `filter` matches.
  SubscriptionId subscribe(AccountRegion scope, TopicFilter filter, Subscriber subscriber);
  // Messages of every scope whose topic `filter` matches: for whoever keeps
  // the scopes apart itself (the rules engine, one index per scope).
  SubscriptionId subscribe_all_scopes(TopicFilter filter, Subscriber subscriber);
  void unsubscribe(SubscriptionId id);

  // Hands `message` to every subscriber of its scope whose filter matches
  // its topic.
  void publish(const Message& message) const;

  std::uint64_t published_count() const;

  // Where each published message is counted by topic (the console's
  // Overview); null: nowhere. Must outlive the bus or be reset first.
  void set_counters(FlowCounters* counters) { counters_.store(counters); }

 private:
  struct Subscription {
    SubscriptionId id;
    std::optional<AccountRegion> scope;  // none: every scope
    TopicFilter filter;
    Subscriber subscriber;
  };
  SubscriptionId add(std::optional<AccountRegion> scope, TopicFilter filter, Subscriber subscriber);
  using SubscriptionList = std::vector<std::shared_ptr<const Subscription>>;

  // Copy-on-write: publishers take a snapshot under the lock and deliver
  // outside it, so a subscriber may (un)subscribe without deadlock.
  mutable std::mutex mutex_;
  std::shared_ptr<const SubscriptionList> subscriptions_ = std::make_shared<SubscriptionList>();
  SubscriptionId next_id_ = 1;
  mutable std::uint64_t published_ = 0;
  std::atomic<FlowCounters*> counters_{nullptr};
};

}  // namespace offcloud

#include "emulator/mqtt/mqtt_session_state.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "emulator/util/log.h"
#include "rules/topic_filter.h"

namespace offcloud {

namespace {

// The message as its subscriber is sent it, with every MQTT 5 property (an
// MQTT 3.1.1 connection's encoding leaves them out).
mqtt::Publish to_publish(const Message& message, int qos, bool retain) {
  mqtt::Publish publish;
  publish.topic = message.topic;
  publish.payload = message.payload;
  publish.qos = qos;
  publish.retain = retain;
  mqtt::Properties& p = publish.properties;
  if (message.payload_is_utf8) p.payload_format_indicator = 1;
  p.content_type = message.content_type;
  p.response_topic = message.response_topic;
  p.correlation_data = message.correlation_data;
  if (message.message_expiry_s) {
    p.message_expiry_interval = static_cast<std::uint32_t>(*message.message_expiry_s);
  }
  if (message.user_properties) {
    // As the Publish API carries them: a JSON array of one-key objects.
    auto list = nlohmann::json::parse(*message.user_properties, nullptr, false);
    if (list.is_array()) {
      for (const auto& entry : list) {
        if (!entry.is_object()) continue;
        for (const auto& [key, value] : entry.items()) {
          p.user_properties.emplace_back(
              key, value.is_string() ? value.get<std::string>() : value.dump());
        }
      }
    }
  }
  return publish;
}

// What the store keeps is MQTT 5 packets, read back by the codec: a
// subscription's options as a SUBSCRIBE of that one filter, a message as a
// PUBLISH. A message not sent yet has no packet id, so it is kept as a
// QoS 0 PUBLISH; one in flight as the QoS 1 PUBLISH it went out as.
std::optional<mqtt::Packet> decode_stored(std::string_view bytes) {
  auto header = mqtt::read_fixed_header(bytes);
  const auto* fixed = std::get_if<mqtt::FixedHeader>(&header);
  if (!fixed || bytes.size() != fixed->header_size + fixed->remaining_length) return std::nullopt;
  auto decoded = mqtt::decode(*fixed, bytes.substr(fixed->header_size), 5);
  if (auto* packet = std::get_if<mqtt::Packet>(&decoded)) return std::move(*packet);
  return std::nullopt;
}

std::string encode_subscription(const mqtt::SubscribeTopic& options) {
  mqtt::Subscribe subscribe;
  subscribe.packet_id = 1;
  subscribe.topics.push_back(options);
  return mqtt::encode_subscribe(5, subscribe);
}

}  // namespace

std::optional<std::pair<std::string, std::string>> shared_subscription(const std::string& filter) {
  constexpr std::string_view kSharePrefix = "$share/";
  if (!filter.starts_with(kSharePrefix)) return std::nullopt;
  std::size_t slash = filter.find('/', kSharePrefix.size());
  if (slash == std::string::npos) return std::pair<std::string, std::string>{};
  return std::pair{filter.substr(kSharePrefix.size(), slash - kSharePrefix.size()),
                   filter.substr(slash + 1)};
}

MqttSessionState::MqttSessionState(MqttBroker& broker, AccountRegion scope, std::string client_id)
    : broker_(broker),
      store_(broker.options().sessions),
      scope_(std::move(scope)),
      client_id_(std::move(client_id)) {}

MqttSessionState::~MqttSessionState() {
  for (const auto& [filter, subscription] : subscriptions_) {
    broker_.bus().unsubscribe(subscription.bus_id);
    if (shared_subscription(filter)) broker_.leave_shared(scope_, filter, client_id_);
  }
}

void MqttSessionState::claim() {
  std::lock_guard lock(mutex_);
  ++claims_;
  expires_at_.reset();
}

std::shared_ptr<MqttSession> MqttSessionState::attach(const std::shared_ptr<MqttSession>& session,
                                                      const Connection& connection) {
  std::lock_guard lock(mutex_);
  std::shared_ptr<MqttSession> previous = session_.lock();
  if (claims_ > 0) --claims_;
  session_ = session;
  principal_ = connection.principal;
  credential_ = broker_.credential_of(connection.principal);
  version_ = connection.version;
  expiry_s_ = connection.expiry_s;
  window_ =
      std::clamp<std::size_t>(connection.receive_maximum, 1, MqttLimits::kMaxInFlightMessages);
  expires_at_.reset();
  if (expiry_s_ > 0) {
    persist_locked(std::nullopt);
  } else {
    forget_locked();  // resumed by a connection that does not keep it
  }
  // What was in flight goes again first, as it went, marked as a
  // duplicate; then the queue, as far as the window lets it.
  std::deque<Pending> resend;
  resend.swap(in_flight_);
  for (Pending& pending : resend) {
    // Decided for whoever resumed the session, as on live delivery.
    mqtt::Publish again = pending.publish;
    again.dup = true;
    if (receive_allowed(again.topic) && session->deliver(mqtt::encode_publish(version_, again))) {
      in_flight_.push_back(std::move(pending));
    } else {
      erase_message_locked(pending);
    }
  }
  pump_locked(*session);
  return previous;
}

bool MqttSessionState::detach(const MqttSession* session, std::chrono::seconds expiry) {
  std::lock_guard lock(mutex_);
  if (session_.lock().get() != session) return false;
  session_.reset();
  if (claims_ > 0) return false;  // taken over: the next connection keeps it
  expires_at_ = std::chrono::steady_clock::now() + expiry;
  if (expiry.count() > 0) {
    expiry_s_ = static_cast<std::uint32_t>(expiry.count());
    persist_locked(now_ms() + expiry.count() * 1000);
  } else {
    forget_locked();
    retired_ = true;  // the broker drops it now
  }
  return true;
}

bool MqttSessionState::expired(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  return expires_at_ && *expires_at_ <= now;
}

std::shared_ptr<MqttSession> MqttSessionState::session() {
  std::lock_guard lock(mutex_);
  return session_.lock();
}

void MqttSessionState::retire() {
  std::lock_guard lock(mutex_);
  forget_locked();
  retired_ = true;
}

bool MqttSessionState::restore(const StoredMqttSession& stored, std::chrono::milliseconds left) {
  std::vector<mqtt::SubscribeTopic> subscriptions;
  for (const auto& [filter, options] : stored.subscriptions) {
    auto packet = decode_stored(options);
    auto* subscribe = packet ? std::get_if<mqtt::Subscribe>(&*packet) : nullptr;
    if (!subscribe || subscribe->topics.size() != 1 || subscribe->topics[0].filter != filter) {
      return false;
    }
    subscriptions.push_back(subscribe->topics[0]);
  }
  std::deque<Pending> in_flight, queue;
  std::int64_t last_seq = 0;
  for (const StoredMqttMessage& message : stored.messages) {
    auto packet = decode_stored(message.data);
    auto* publish = packet ? std::get_if<mqtt::Publish>(&*packet) : nullptr;
    if (!publish) return false;
    Pending pending{std::move(*publish), message.seq, message.received_ms};
    last_seq = std::max(last_seq, message.seq);
    if (pending.publish.qos == 1) {
      in_flight.push_back(std::move(pending));
    } else {
      pending.publish.qos = 1;  // kept as QoS 0 only for want of a packet id
      queue.push_back(std::move(pending));
    }
  }
  for (const mqtt::SubscribeTopic& options : subscriptions) {
    MessageBus::SubscriptionId id = add_to_bus(options.filter);
    std::lock_guard lock(mutex_);
    subscriptions_[options.filter] = Subscription{options, id};
  }
  std::lock_guard lock(mutex_);
  credential_ = stored.record.credential;
  version_ = stored.record.protocol_version;
  expiry_s_ = static_cast<std::uint32_t>(stored.record.expiry_s);
  in_flight_ = std::move(in_flight);
  queue_ = std::move(queue);
  next_seq_ = last_seq;
  stored_ = true;
  expires_at_ = std::chrono::steady_clock::now() + left;
  if (!stored.record.expires_at_ms) {
    // A connection held it when offcloud stopped short: it expires from now.
    persist_locked(now_ms() + left.count());
  }
  return true;
}

MessageBus::SubscriptionId MqttSessionState::add_to_bus(const std::string& filter) {
  std::optional<std::pair<std::string, std::string>> shared = shared_subscription(filter);
  std::weak_ptr<MqttSessionState> weak = weak_from_this();
  MessageBus::SubscriptionId id =
      broker_.bus().subscribe(scope_, TopicFilter(shared ? shared->second : filter),
                              [weak, filter](const Message& message) {
                                if (auto self = weak.lock()) self->on_message(filter, message);
                              });
  if (shared) broker_.join_shared(scope_, filter, client_id_);
  return id;
}

bool MqttSessionState::subscribe(const mqtt::SubscribeTopic& options) {
  MessageBus::SubscriptionId id = add_to_bus(options.filter);
  std::lock_guard lock(mutex_);
  auto [it, added] = subscriptions_.try_emplace(options.filter);
  if (!added) {
    broker_.bus().unsubscribe(it->second.bus_id);
    // add_to_bus() joined the shared group again: once is membership.
    if (shared_subscription(options.filter)) {
      broker_.leave_shared(scope_, options.filter, client_id_);
    }
  }
  it->second = Subscription{options, id};
  if (stored_ && !retired_) {
    store_->put_subscription(key(), options.filter, encode_subscription(options));
  }
  return added;
}

bool MqttSessionState::unsubscribe(const std::string& filter) {
  {
    std::lock_guard lock(mutex_);
    auto it = subscriptions_.find(filter);
    if (it == subscriptions_.end()) return false;
    broker_.bus().unsubscribe(it->second.bus_id);
    subscriptions_.erase(it);
    if (stored_ && !retired_) store_->erase_subscription(key(), filter);
  }
  if (shared_subscription(filter)) broker_.leave_shared(scope_, filter, client_id_);
  return true;
}

void MqttSessionState::send_retained(const Message& message, int qos) {
  std::lock_guard lock(mutex_);
  std::shared_ptr<MqttSession> session = session_.lock();
  if (!session || !receive_allowed(message.topic)) return;
  if (qos == 0) {
    session->deliver(mqtt::encode_publish(version_, to_publish(message, 0, true)));
    return;
  }
  offer_locked({to_publish(message, 1, true), 0, now_ms()}, nullptr);
}

void MqttSessionState::acknowledge(std::uint16_t packet_id) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(in_flight_.begin(), in_flight_.end(), [&](const Pending& pending) {
    return pending.publish.packet_id == packet_id;
  });
  if (it == in_flight_.end()) return;
  erase_message_locked(*it);
  in_flight_.erase(it);
  if (auto session = session_.lock()) pump_locked(*session);
}

std::pair<std::size_t, std::size_t> MqttSessionState::pending_counts() {
  std::lock_guard lock(mutex_);
  return {in_flight_.size(), queue_.size()};
}

bool MqttSessionState::receive_allowed(const std::string& topic) {
  if (!principal_) {
    principal_ = broker_.principal_of(credential_, scope_);
    if (!principal_) return false;  // its key or certificate is gone
  }
  // AWS checks iot:Receive on every message it delivers.
  std::string resource =
      "arn:aws:iot:" + scope_.region + ":" + scope_.account_id + ":topic/" + topic;
  return broker_.allowed(*principal_, "iot:Receive", resource, client_id_, scope_, "");
}

void MqttSessionState::on_message(const std::string& filter, const Message& message) {
  // Shared subscriptions: every member sees each message, and the one the
  // message's hash picks among the group's members (the same list for all)
  // takes it.
  if (shared_subscription(filter)) {
    std::vector<std::string> members = broker_.shared_members(scope_, filter);
    if (!members.empty()) {
      std::size_t pick = std::hash<std::string>{}(message.topic + '\n' + message.payload + '\n' +
                                                  std::to_string(message.timestamp_ms)) %
                         members.size();
      if (members[pick] != client_id_) return;
    }
  }
  std::lock_guard lock(mutex_);
  auto it = subscriptions_.find(filter);
  if (it == subscriptions_.end()) return;
  const mqtt::SubscribeTopic& options = it->second.options;
  if (options.no_local && message.client_id == client_id_) return;
  int qos = std::min(options.qos, message.qos);
  bool retain = options.retain_as_published && message.retain;
  std::shared_ptr<MqttSession> session = session_.lock();
  if (qos == 0) {
    // Sent if the client is there to take it, never kept.
    if (session && receive_allowed(message.topic)) {
      session->deliver(mqtt::encode_publish(version_, to_publish(message, 0, retain)));
    }
    return;
  }
  std::int64_t received_ms = message.timestamp_ms > 0 ? message.timestamp_ms : now_ms();
  offer_locked({to_publish(message, 1, retain), 0, received_ms}, message.receipt);
}

void MqttSessionState::offer_locked(Pending pending,
                                    const std::shared_ptr<PublishReceipt>& receipt) {
  std::shared_ptr<MqttSession> session = session_.lock();
  bool now = session && queue_.empty() && in_flight_.size() < window_;
  // An offline session keeps AWS's 100; a connected one waiting on its
  // PUBACKs a deeper backlog, so a burst is not lost to a client that is
  // reading, only slower than the publishers.
  std::size_t limit =
      session ? MqttLimits::kMaxQueuedWhileConnected : MqttLimits::kMaxQueuedMessages;
  if (!now && queue_.size() >= limit) return;  // dropped
  pending.seq = ++next_seq_;
  if (!now) {
    // Kept for the client's return, or for a slot to free up. A persistent
    // session's publisher is answered once the message is durable.
    store_message_locked(pending, false, receipt);
    queue_.push_back(std::move(pending));
    return;
  }
  if (!send_new_locked(*session, pending)) return;
  store_message_locked(pending, true, receipt);
  in_flight_.push_back(std::move(pending));
}

void MqttSessionState::pump_locked(MqttSession& session) {
  while (in_flight_.size() < window_ && !queue_.empty()) {
    Pending pending = std::move(queue_.front());
    queue_.pop_front();
    if (send_new_locked(session, pending)) {
      store_message_locked(pending, true, nullptr);
      in_flight_.push_back(std::move(pending));
    } else {
      erase_message_locked(pending);
    }
  }
}

bool MqttSessionState::send_new_locked(MqttSession& session, Pending& pending) {
  mqtt::Properties& p = pending.publish.properties;
  if (p.message_expiry_interval) {
    // MQTT 5: the time it waited here is taken off its expiry, and one
    // that expired before it could go is not sent.
    std::int64_t waited_s = std::max<std::int64_t>(0, (now_ms() - pending.received_ms) / 1000);
    if (waited_s >= *p.message_expiry_interval) return false;
    *p.message_expiry_interval -= static_cast<std::uint32_t>(waited_s);
  }
  if (!receive_allowed(pending.publish.topic)) return false;
  pending.publish.packet_id = next_packet_id_locked();
  pending.publish.dup = false;
  return session.deliver(mqtt::encode_publish(version_, pending.publish));
}

std::uint16_t MqttSessionState::next_packet_id_locked() {
  // Never 0, and never one still in flight (at most a hundred are).
  for (;;) {
    if (++next_packet_id_ == 0) next_packet_id_ = 1;
    bool used = std::any_of(in_flight_.begin(), in_flight_.end(), [&](const Pending& pending) {
      return pending.publish.packet_id == next_packet_id_;
    });
    if (!used) return next_packet_id_;
  }
}

void MqttSessionState::persist_locked(std::optional<std::int64_t> expires_at_ms) {
  if (!store_ || retired_) return;
  if (!stored_) {
    // Not in the store yet (a new session, or one a connection that kept
    // nothing held): all of it, over whatever an older one left.
    store_->erase_session(key());
    stored_ = true;
    for (const auto& [filter, subscription] : subscriptions_) {
      store_->put_subscription(key(), filter, encode_subscription(subscription.options));
    }
    for (const Pending& pending : in_flight_) store_message_locked(pending, true, nullptr);
    for (const Pending& pending : queue_) store_message_locked(pending, false, nullptr);
  }
  store_->put_session({key(), credential_, version_, expiry_s_, expires_at_ms});
}

void MqttSessionState::store_message_locked(const Pending& pending, bool in_flight,
                                            const std::shared_ptr<PublishReceipt>& receipt) {
  if (!stored_ || retired_) return;
  mqtt::Publish kept = pending.publish;
  kept.dup = false;
  if (!in_flight) {
    kept.qos = 0;
    kept.packet_id = 0;
  }
  MqttSessionStore::Done done;
  if (receipt) {
    done = [receipt](bool durable) {
      if (!durable) receipt->fail();
    };
  }
  store_->put_message(key(), {pending.seq, pending.received_ms, mqtt::encode_publish(5, kept)},
                      std::move(done));
}

void MqttSessionState::erase_message_locked(const Pending& pending) {
  if (stored_ && !retired_) store_->erase_message(key(), pending.seq);
}

void MqttSessionState::forget_locked() {
  if (stored_ && !retired_) store_->erase_session(key());
  stored_ = false;
}

}  // namespace offcloud

#include "emulator/mqtt/mqtt_session_state.h"

#include <nlohmann/json.hpp>

#include "rules/topic_filter.h"

namespace offcloud {

std::optional<std::pair<std::string, std::string>> shared_subscription(const std::string& filter) {
  constexpr std::string_view kSharePrefix = "$share/";
  if (!filter.starts_with(kSharePrefix)) return std::nullopt;
  std::size_t slash = filter.find('/', kSharePrefix.size());
  if (slash == std::string::npos) return std::pair<std::string, std::string>{};
  return std::pair{filter.substr(kSharePrefix.size(), slash - kSharePrefix.size()),
                   filter.substr(slash + 1)};
}

MqttSessionState::MqttSessionState(MqttBroker& broker, AccountRegion scope, std::string client_id)
    : broker_(broker), scope_(std::move(scope)), client_id_(std::move(client_id)) {}

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
                                                      const Principal& principal, int version) {
  std::lock_guard lock(mutex_);
  std::shared_ptr<MqttSession> previous = session_.lock();
  if (claims_ > 0) --claims_;
  session_ = session;
  principal_ = principal;
  version_ = version;
  expires_at_.reset();
  while (!queue_.empty()) {
    // Decided for whoever resumed the session, as on live delivery.
    if (receive_allowed(queue_.front().first.topic)) {
      send_locked(*session, queue_.front().first, queue_.front().second, false);
    }
    queue_.pop_front();
  }
  return previous;
}

bool MqttSessionState::detach(const MqttSession* session, std::chrono::seconds expiry) {
  std::lock_guard lock(mutex_);
  if (session_.lock().get() != session) return false;
  session_.reset();
  if (claims_ > 0) return false;  // taken over: the next connection keeps it
  expires_at_ = std::chrono::steady_clock::now() + expiry;
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

bool MqttSessionState::subscribe(const mqtt::SubscribeTopic& options) {
  const std::string& filter = options.filter;
  std::optional<std::pair<std::string, std::string>> shared = shared_subscription(filter);
  std::weak_ptr<MqttSessionState> weak = weak_from_this();
  MessageBus::SubscriptionId id =
      broker_.bus().subscribe(scope_, TopicFilter(shared ? shared->second : filter),
                              [weak, filter](const Message& message) {
                                if (auto self = weak.lock()) self->on_message(filter, message);
                              });
  if (shared) broker_.join_shared(scope_, filter, client_id_);
  std::lock_guard lock(mutex_);
  auto [it, added] = subscriptions_.try_emplace(filter);
  if (!added) broker_.bus().unsubscribe(it->second.bus_id);
  it->second = Subscription{options, id};
  return added;
}

bool MqttSessionState::unsubscribe(const std::string& filter) {
  {
    std::lock_guard lock(mutex_);
    auto it = subscriptions_.find(filter);
    if (it == subscriptions_.end()) return false;
    broker_.bus().unsubscribe(it->second.bus_id);
    subscriptions_.erase(it);
  }
  if (shared_subscription(filter)) broker_.leave_shared(scope_, filter, client_id_);
  return true;
}

void MqttSessionState::send_retained(const Message& message, int qos) {
  std::lock_guard lock(mutex_);
  if (!receive_allowed(message.topic)) return;
  if (auto session = session_.lock()) send_locked(*session, message, qos, true);
}

bool MqttSessionState::receive_allowed(const std::string& topic) const {
  // AWS checks iot:Receive on every message it delivers.
  std::string resource =
      "arn:aws:iot:" + scope_.region + ":" + scope_.account_id + ":topic/" + topic;
  return broker_.allowed(principal_, "iot:Receive", resource, client_id_, scope_, "");
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
  std::shared_ptr<MqttSession> session = session_.lock();
  if (!session) {
    // A persistent session between connections keeps QoS 1 messages.
    if (qos > 0 && queue_.size() < MqttLimits::kMaxQueuedMessages) {
      // Without the receipt: its publisher is answered now, not when this
      // session comes back.
      Message queued = message;
      queued.receipt.reset();
      queue_.emplace_back(std::move(queued), qos);
    }
    return;
  }
  if (!receive_allowed(message.topic)) return;
  send_locked(*session, message, qos, options.retain_as_published && message.retain);
}

void MqttSessionState::send_locked(MqttSession& session, const Message& message, int qos,
                                   bool retain) {
  mqtt::Publish publish;
  publish.topic = message.topic;
  publish.payload = message.payload;
  publish.qos = qos;
  publish.retain = retain;
  if (qos > 0) {
    if (++next_packet_id_ == 0) next_packet_id_ = 1;
    publish.packet_id = next_packet_id_;
  }
  if (version_ == 5) {
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
  }
  session.deliver(mqtt::encode_publish(version_, publish));
}

}  // namespace offcloud

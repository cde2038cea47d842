// A client id's session in one account and region, which outlives the
// connections that hold it when the session is persistent: its
// subscriptions on the message bus, and, while no connection holds it, the
// QoS 1 messages they receive, up to AWS's limit. Internal to the broker.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "emulator/mqtt/mqtt_broker.h"

namespace offcloud {

class MqttSessionState : public std::enable_shared_from_this<MqttSessionState> {
 public:
  MqttSessionState(MqttBroker& broker, AccountRegion scope, std::string client_id);
  ~MqttSessionState();  // leaves the bus

  const AccountRegion& scope() const { return scope_; }
  const std::string& client_id() const { return client_id_; }

  // A connection takes the session and is sent what was queued for it; the
  // connection that held it before is returned (to be taken over).
  std::shared_ptr<MqttSession> attach(const std::shared_ptr<MqttSession>& session,
                                      const Principal& principal, int version);
  // `session` ended; the state is kept for `expiry` (persistent sessions).
  // False when another connection holds it by now.
  bool detach(const MqttSession* session, std::chrono::seconds expiry);
  bool expired(std::chrono::steady_clock::time_point now);
  // The connection holding the session, if any.
  std::shared_ptr<MqttSession> session();
  // A connection is about to attach(): until it does, detach() by the one
  // leaving neither ends nor expires the state.
  void claim();

  // Adds or replaces the subscription for `options.filter` ("$share/g/f"
  // for a shared one); false when it replaced one.
  bool subscribe(const mqtt::SubscribeTopic& options);
  bool unsubscribe(const std::string& filter);
  // A retained message, sent with the retain flag to a new subscription.
  void send_retained(const Message& message, int qos);

 private:
  struct Subscription {
    mqtt::SubscribeTopic options;
    MessageBus::SubscriptionId bus_id = 0;
  };
  void on_message(const std::string& filter, const Message& message);
  bool receive_allowed(const std::string& topic) const;  // with mutex_ held
  void send_locked(MqttSession& session, const Message& message, int qos, bool retain);

  MqttBroker& broker_;
  const AccountRegion scope_;
  const std::string client_id_;
  std::mutex mutex_;
  std::weak_ptr<MqttSession> session_;
  Principal principal_;
  int version_ = 4;
  std::map<std::string, Subscription> subscriptions_;
  std::deque<std::pair<Message, int>> queue_;
  std::uint16_t next_packet_id_ = 0;
  std::optional<std::chrono::steady_clock::time_point> expires_at_;
  int claims_ = 0;
};

// "$share/<group>/<filter>" -> (group, filter); nullopt for a plain filter.
std::optional<std::pair<std::string, std::string>> shared_subscription(const std::string& filter);

}  // namespace offcloud

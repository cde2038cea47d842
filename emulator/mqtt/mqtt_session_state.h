// A client id's session in one account and region, which outlives the
// connections that hold it when the session is persistent: its
// subscriptions on the message bus, the QoS 1 messages sent to the client
// and not acknowledged yet (in flight), and those waiting to be sent (for a
// connection, or for a free slot among the in-flight ones), up to AWS's
// limits. A persistent session is written through to the broker's
// MqttSessionStore, so that it survives a restart. Internal to the broker.
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

  // What a connection brings to the session it takes.
  struct Connection {
    Principal principal;
    int version = 4;
    // Above 0: the session is persistent, and kept this long once the
    // connection ends (written through to the store).
    std::uint32_t expiry_s = 0;
    // How many QoS 1 messages may be in flight to the client: AWS's quota,
    // or an MQTT 5 client's Receive Maximum when smaller.
    std::size_t receive_maximum = MqttLimits::kMaxInFlightMessages;
  };
  // A connection takes the session and is sent, after its CONNACK, what was
  // in flight (again, DUP set, same packet ids), then what was queued; the
  // connection that held it before is returned (to be taken over).
  std::shared_ptr<MqttSession> attach(const std::shared_ptr<MqttSession>& session,
                                      const Connection& connection);
  // `session` ended; the state is kept for `expiry` (persistent sessions).
  // False when another connection holds it by now.
  bool detach(const MqttSession* session, std::chrono::seconds expiry);
  bool expired(std::chrono::steady_clock::time_point now);
  // The connection holding the session, if any.
  std::shared_ptr<MqttSession> session();
  // A connection is about to attach(): until it does, detach() by the one
  // leaving neither ends nor expires the state.
  void claim();
  // The broker let go of the state (expired, or replaced by a clean start):
  // it is erased from the store, and writes nothing more.
  void retire();
  // A session read back from the store at start-up, expiring in `left`:
  // its subscriptions go back on the bus, its messages back in flight or in
  // the queue. False when it cannot be (its data does not decode).
  bool restore(const StoredMqttSession& stored, std::chrono::milliseconds left);

  // Adds or replaces the subscription for `options.filter` ("$share/g/f"
  // for a shared one); false when it replaced one.
  bool subscribe(const mqtt::SubscribeTopic& options);
  bool unsubscribe(const std::string& filter);
  // A retained message, sent with the retain flag to a new subscription.
  void send_retained(const Message& message, int qos);
  // The client's PUBACK: the message leaves the in-flight ones, and a
  // queued one takes its slot. An unknown packet id is ignored.
  void acknowledge(std::uint16_t packet_id);

  // How many messages are in flight and queued (tests).
  std::pair<std::size_t, std::size_t> pending_counts();

 private:
  struct Subscription {
    mqtt::SubscribeTopic options;
    MessageBus::SubscriptionId bus_id = 0;
  };
  // A QoS 1 message for the client.
  struct Pending {
    // With every MQTT 5 property, encoded for the connection's version when
    // sent; the packet id once it is in flight.
    mqtt::Publish publish;
    std::int64_t seq = 0;          // its key in the store
    std::int64_t received_ms = 0;  // wall clock, for its Message Expiry Interval
  };
  void on_message(const std::string& filter, const Message& message);
  // The following run with mutex_ held.
  bool receive_allowed(const std::string& topic);
  // A QoS 1 message to send now, or to queue (`receipt` is held until it is
  // durable, for a persistent session).
  void offer_locked(Pending pending, const std::shared_ptr<PublishReceipt>& receipt);
  // Sends what fits in the in-flight window from the queue.
  void pump_locked(MqttSession& session);
  // Sends `pending` as a new delivery (a packet id, the expiry left); false
  // when it is dropped instead (expired, not allowed, too large for the
  // client).
  bool send_new_locked(MqttSession& session, Pending& pending);
  std::uint16_t next_packet_id_locked();
  // The store: the whole session when it is not there yet, else its row.
  void persist_locked(std::optional<std::int64_t> expires_at_ms);
  void store_message_locked(const Pending& pending, bool in_flight,
                            const std::shared_ptr<PublishReceipt>& receipt);
  void erase_message_locked(const Pending& pending);
  void forget_locked();
  MqttSessionKey key() const { return {scope_.account_id, scope_.region, client_id_}; }
  MessageBus::SubscriptionId add_to_bus(const std::string& filter);

  MqttBroker& broker_;
  MqttSessionStore* const store_;  // null: nothing persists
  const AccountRegion scope_;
  const std::string client_id_;
  std::mutex mutex_;
  std::weak_ptr<MqttSession> session_;
  // A restored session's principal is found by its credential when first
  // needed (the keys are not all known when the broker starts).
  std::optional<Principal> principal_;
  std::string credential_;
  int version_ = 4;
  std::uint32_t expiry_s_ = 0;
  std::size_t window_ = MqttLimits::kMaxInFlightMessages;
  std::map<std::string, Subscription> subscriptions_;
  std::deque<Pending> in_flight_;  // in the order they were sent
  std::deque<Pending> queue_;
  std::uint16_t next_packet_id_ = 0;
  std::int64_t next_seq_ = 0;
  std::optional<std::chrono::steady_clock::time_point> expires_at_;
  int claims_ = 0;
  bool stored_ = false;   // the store holds the session
  bool retired_ = false;  // the broker let go of it
};

// "$share/<group>/<filter>" -> (group, filter); nullopt for a plain filter.
std::optional<std::pair<std::string, std::string>> shared_subscription(const std::string& filter);

}  // namespace offcloud

// AWS IoT Core's message broker, on the message bus that HTTP publishes and
// rules use too: MQTT sessions (clean and persistent), subscriptions
// (shared ones included), retained messages, wills, client-id takeover,
// lifecycle events, and authorization of every connect, publish, subscribe
// and delivery by the caller's IAM policies. QoS 1 deliveries stay in
// flight until the client's PUBACK, and persistent sessions (with what they
// have in flight and queued) are written through to an MqttSessionStore,
// so that they survive a restart.
//
// Transport-free: a transport (plain TCP today) reads packets off its
// socket, hands each to its connection's MqttSession, and writes whatever
// the session sends through its MqttLink. Every session lives in the account
// and region of its principal, and sees only that scope's messages.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "emulator/auth/authorizer.h"
#include "emulator/auth/credential_store.h"
#include "emulator/auth/iam_policy.h"
#include "emulator/auth/local_ca.h"
#include "emulator/mqtt/mqtt_packet.h"
#include "rules/message_bus.h"
#include "storage/mqtt_session_store.h"
#include "storage/retained_store.h"

namespace offcloud {

// AWS IoT Core's limits (AWS IoT Core endpoints and quotas).
struct MqttLimits {
  static constexpr std::size_t kMaxClientIdBytes = 128;
  static constexpr std::size_t kMaxPayloadBytes = 128 * 1024;
  static constexpr std::size_t kMaxPacketBytes = kMaxPayloadBytes + 64 * 1024;
  static constexpr int kMinKeepAliveS = 30;
  static constexpr int kMaxKeepAliveS = 1200;
  static constexpr std::uint32_t kDefaultSessionExpiryS = 3600;       // persistent sessions
  static constexpr std::uint32_t kMaxSessionExpiryS = 7 * 24 * 3600;  // MQTT 5's, at most
  static constexpr std::size_t kMaxQueuedMessages = 100;              // per session (QoS 1)
  static constexpr std::size_t kMaxQueuedWhileConnected = 1000;       // waiting for PUBACKs
  static constexpr std::size_t kMaxInFlightMessages = 100;            // unacknowledged, per session
  static constexpr std::uint16_t kTopicAliasMaximum = 8;
  static constexpr std::uint16_t kReceiveMaximum = 100;
  static constexpr std::size_t kMaxFiltersPerSubscribe = 8;
  static constexpr std::size_t kMaxSubscriptionsPerConnection = 50;
  // What may wait to be written to one connection before it is dropped as
  // too slow a reader.
  static constexpr std::size_t kMaxQueuedBytes = 16 * 1024 * 1024;
};

// What a session needs of its connection. Both calls are thread-safe.
class MqttLink {
 public:
  virtual ~MqttLink() = default;
  // Queues bytes to be written in order.
  virtual void send(std::string bytes) = 0;
  // Ends the connection once what is queued is written.
  virtual void close() = 0;
};

class IotRegistry;
class MqttSession;
class MqttSessionState;

// What the broker refused a client, for the console's Activity, which lists
// it beside HTTP requests: a classroom's device refused on the MQTT port is
// as visible as one refused over HTTP.
struct MqttRefusal {
  // The client's; an empty account: not authenticated (the access key id
  // is then the user name it gave, if any; the certificate id the one it
  // presented).
  Principal principal;
  std::string source;  // "ip:port"
  std::string client_id;
  std::string operation;         // "CONNECT", "PUBLISH", "SUBSCRIBE"
  std::string resource;          // the ARN asked about
  std::string code;              // the reason's name: "NotAuthorized", "BadUserNameOrPassword"
  std::optional<Denial> denial;  // a policy refused; else the credentials did
};

class MqttBroker {
 public:
  struct Options {
    // The region of connections that sign nothing (AWS's endpoints are
    // regional; offcloud has one).
    std::string region = "us-east-1";
    // Unset (--iam off): every authenticated client may do anything.
    const Authorizer* authorizer = nullptr;
    // Where X.509 clients' certificates, things and IoT policies are
    // registered; unset: no certificate is known.
    IotRegistry* registry = nullptr;
    // Where persistent sessions are kept across restarts; unset: they last
    // as long as the process. The broker loads every unexpired one when it
    // is made.
    MqttSessionStore* sessions = nullptr;
    // Told of every refusal (off the hot path: refusals only); unset: nobody.
    std::function<void(const MqttRefusal&)> on_refusal;
  };
  MqttBroker(MessageBus& bus, RetainedStore& retained, const CredentialStore& credentials,
             Options options);
  ~MqttBroker();
  MqttBroker(const MqttBroker&) = delete;
  MqttBroker& operator=(const MqttBroker&) = delete;

  const Options& options() const { return options_; }
  MessageBus& bus() { return bus_; }
  RetainedStore& retained() { return retained_; }
  const CredentialStore& credentials() const { return credentials_; }

  // The principal a user name (access key id) and password (its secret)
  // name, as the plain MQTT port takes them; nullopt when they do not match
  // an active key.
  std::optional<Principal> authenticate(const std::optional<std::string>& username,
                                        const std::optional<std::string>& password) const;
  // The principal and region of a TLS client's certificate, registered and
  // ACTIVE in IoT; nullopt when it is not (AWS IoT refuses the connection).
  std::optional<std::pair<Principal, std::string>> authenticate(
      const CertificateFacts& certificate) const;
  // What a persistent session keeps to find its principal again after a
  // restart: the access key id, or the certificate id (and its policy
  // variables), never a secret.
  std::string credential_of(const Principal& principal) const;
  // The principal `credential` names in `scope`, if its key is still active
  // or its certificate still registered there and ACTIVE.
  std::optional<Principal> principal_of(const std::string& credential,
                                        const AccountRegion& scope) const;
  // Why `principal` may not do `action` on `resource`, nullopt when it may:
  // a certificate by the IoT policies attached to it, a key by IAM (root may
  // do anything).
  std::optional<Denial> refusal(const Principal& principal, const std::string& action,
                                const std::string& resource, const std::string& client_id,
                                const AccountRegion& scope, const std::string& source_ip) const;
  bool allowed(const Principal& principal, const std::string& action, const std::string& resource,
               const std::string& client_id, const AccountRegion& scope,
               const std::string& source_ip) const {
    return !refusal(principal, action, resource, client_id, scope, source_ip);
  }
  // Names the statement that made `denial`, one refusal() gave (Activity).
  void name_deny(const Principal& principal, const std::string& client_id,
                 const AccountRegion& scope, const std::string& source_ip, Denial* denial) const;
  // Passes `refusal` to Options::on_refusal.
  void report(const MqttRefusal& refusal) const {
    if (options_.on_refusal) options_.on_refusal(refusal);
  }

  // The session state of (scope, client id): the one left by a persistent
  // session unless `clean_start`, else a new one; `present` says whether it
  // was kept, and `displaced` is the connection that held the client id,
  // which the caller ends (takeover).
  std::shared_ptr<MqttSessionState> attach(const AccountRegion& scope, const std::string& client_id,
                                           bool clean_start, bool* present,
                                           std::shared_ptr<MqttSession>* displaced);
  // The connection `session` let go of `state`: it stays for `expiry`
  // (persistent sessions), or goes now, unless another connection has
  // claimed it since (takeover).
  void release(const std::shared_ptr<MqttSessionState>& state, const MqttSession* session,
               std::chrono::seconds expiry);
  // Ends every connection (shutdown).
  void close_all();
  // Drops persistent sessions nobody came back for in time (attach() does
  // it too, at most once a minute).
  void expire_sessions();

  // The client ids subscribed to the shared filter "$share/g/f" in `scope`,
  // sorted: each message goes to one of them.
  void join_shared(const AccountRegion& scope, const std::string& filter,
                   const std::string& client_id);
  void leave_shared(const AccountRegion& scope, const std::string& filter,
                    const std::string& client_id);
  std::vector<std::string> shared_members(const AccountRegion& scope,
                                          const std::string& filter) const;

  // The session state of (scope, client id), if any (tests).
  std::shared_ptr<MqttSessionState> find_state(const AccountRegion& scope,
                                               const std::string& client_id);

 private:
  using Key = std::pair<AccountRegion, std::string>;
  MessageBus& bus_;
  RetainedStore& retained_;
  const CredentialStore& credentials_;
  Options options_;
  std::mutex mutex_;
  std::map<Key, std::shared_ptr<MqttSessionState>> sessions_;
  // The IoT policies and things of each certificate, as of the registry's
  // generation they were read at.
  struct CertificatePolicies {
    std::uint64_t generation = 0;
    bool active = false;  // the certificate is still registered and ACTIVE here
    std::vector<PolicyDocument> policies;
    std::vector<std::string> things;
  };
  std::shared_ptr<const CertificatePolicies> certificate_policies(const Principal& principal,
                                                                  const AccountRegion& scope) const;
  // The condition keys an IAM user's MQTT request carries.
  ConditionContext iam_conditions(const Principal& principal, const std::string& client_id,
                                  const AccountRegion& scope, const std::string& source_ip) const;
  Decision certificate_decision(const Principal& principal, const std::string& action,
                                const std::string& resource, const std::string& client_id,
                                const AccountRegion& scope, const std::string& source_ip) const;
  mutable std::mutex policies_mutex_;
  mutable std::map<Key, std::shared_ptr<const CertificatePolicies>> policies_;
  std::chrono::steady_clock::time_point last_sweep_ = std::chrono::steady_clock::now();
  void sweep_locked(std::chrono::steady_clock::time_point now,
                    std::vector<std::shared_ptr<MqttSessionState>>* gone);
  // Start-up: every unexpired session of the store back in sessions_.
  void restore_sessions();
  // Taken alone (never while calling out), so delivery may ask it while
  // holding a session state's lock.
  mutable std::mutex shared_mutex_;
  // A client id may be in a group twice for a moment (a state being
  // replaced and its successor), so members are counted.
  std::map<Key, std::multiset<std::string>> shared_;
};

// One client's connection, from CONNECT to the end: reads packets, answers
// them through its link, and delivers what its subscriptions receive.
class MqttSession : public std::enable_shared_from_this<MqttSession> {
 public:
  // `link` may go away first (the connection ended): sends then do nothing.
  MqttSession(MqttBroker& broker, std::weak_ptr<MqttLink> link, std::string remote_address);
  ~MqttSession();

  // Bytes off the connection, cut into packets for on_packet(); false: the
  // connection must end (after what was sent is written).
  bool on_bytes(std::string_view bytes);
  // One packet; false: the connection must end.
  bool on_packet(mqtt::Packet packet);
  // A packet that did not decode; the connection ends after this.
  void on_malformed(const mqtt::DecodeError& error);
  // A transport that authenticated the client itself (SigV4 on the
  // WebSocket's URL) sets the principal and region before any byte; CONNECT's
  // user name and password are then ignored, as AWS ignores them.
  void preauthenticate(Principal principal, std::string region);
  // A TLS transport's client certificate, before any byte: CONNECT is
  // then authenticated by its registration in IoT, and its user name and
  // password are ignored, as AWS ignores them.
  void present_certificate(const CertificateFacts& certificate);
  // The connection ended, by either side: the will goes out unless the
  // client said DISCONNECT, and a clean session is forgotten.
  void on_closed();

  bool connected() const { return state_ != nullptr; }
  int protocol_version() const { return version_; }
  // How long the connection may stay silent: 1.5 times the keep-alive (10 s
  // before CONNECT).
  std::chrono::milliseconds silence_allowed() const;

  // A message a subscription matched, encoded for this connection. One
  // larger than the client's Maximum Packet Size (MQTT 5) is dropped, as the
  // specification asks of a server: false.
  bool deliver(std::string bytes) {
    if (bytes.size() > client_maximum_packet_size_) return false;
    send(std::move(bytes));
    return true;
  }
  // Ends the connection from the server's side: another connection took the
  // client id over, or the server is stopping (MQTT 5 is told why).
  void end(mqtt::Reason reason);

 private:
  bool on_connect(mqtt::Connect& connect);
  bool on_publish(mqtt::Publish& publish);
  bool on_subscribe(const mqtt::Subscribe& subscribe);
  bool on_unsubscribe(const mqtt::Unsubscribe& unsubscribe);
  // Ends the session for `why`; MQTT 5 clients get a DISCONNECT with
  // `reason`. Returns false, for on_packet to return.
  bool disconnect(mqtt::Reason reason, const std::string& why);
  // Whether the client may do `action` on `resource`; when not, the refusal
  // of `operation` is reported (Activity).
  bool authorize(const char* operation, const std::string& action, const std::string& resource);
  void report(const char* operation, const std::string& resource, const char* code,
              std::optional<Denial> denial);
  std::string arn(const std::string& kind, const std::string& name) const;
  // What principal() gives rules and events: a certificate's id, else the
  // caller's ARN.
  const std::string& principal_identifier() const {
    return principal_.certificate_id.empty() ? principal_.arn : principal_.certificate_id;
  }
  // A lifecycle event ($aws/events/...) of `type`, with `fields` (a JSON
  // object) besides the ones every event has.
  void publish_event(const std::string& topic, const std::string& type,
                     const nlohmann::json& fields);
  Message to_message(const mqtt::Publish& publish) const;
  void send(std::string bytes);
  void close_link();

  MqttBroker& broker_;
  std::weak_ptr<MqttLink> link_;
  std::string remote_address_;
  std::string source_ip_;
  std::string session_id_ = new_session_id();
  int version_ = 4;
  std::string client_id_;
  Principal principal_;
  AccountRegion scope_;
  std::chrono::seconds keep_alive_{MqttLimits::kMaxKeepAliveS};
  std::optional<mqtt::Will> will_;
  bool clean_disconnect_ = false;
  bool closed_ = false;
  // Set by end(), from another connection's thread (takeover) or shutdown.
  std::atomic<int> ended_by_server_{-1};
  std::uint32_t session_expiry_s_ = 0;
  // Set at CONNECT, before any delivery can come.
  std::size_t client_maximum_packet_size_ = SIZE_MAX;
  std::map<std::uint16_t, std::string> topic_aliases_;  // the client's, MQTT 5
  std::shared_ptr<MqttSessionState> state_;
  std::optional<std::string> preauthenticated_region_;
  std::optional<CertificateFacts> certificate_;
  std::chrono::steady_clock::time_point opened_ = std::chrono::steady_clock::now();
  std::set<std::string> subscribed_;  // this connection's filters
  std::size_t subscriptions_ = 0;
  std::string unread_;  // bytes of a packet not whole yet

  static std::string new_session_id();
};

}  // namespace offcloud

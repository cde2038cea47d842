// MqttSession: one client's connection, from CONNECT to the end, as AWS IoT
// Core's broker treats it.
#include <nlohmann/json.hpp>

#include "emulator/mqtt/mqtt_broker.h"
#include "emulator/mqtt/mqtt_session_state.h"
#include "emulator/util/log.h"
#include "emulator/util/uuid.h"
#include "rules/topic_filter.h"

namespace offcloud {

using mqtt::Reason;

namespace {

// AWS IoT's keep-alive range; 0 means its maximum.
std::chrono::seconds effective_keep_alive(std::uint16_t asked) {
  int seconds = asked == 0 ? MqttLimits::kMaxKeepAliveS : asked;
  seconds = std::clamp(seconds, MqttLimits::kMinKeepAliveS, MqttLimits::kMaxKeepAliveS);
  return std::chrono::seconds(seconds);
}

mqtt::Properties connack_properties() {
  mqtt::Properties p;
  p.receive_maximum = MqttLimits::kReceiveMaximum;
  p.maximum_qos = 1;
  p.retain_available = 1;
  p.maximum_packet_size = static_cast<std::uint32_t>(MqttLimits::kMaxPacketBytes);
  p.topic_alias_maximum = MqttLimits::kTopicAliasMaximum;
  p.wildcard_subscription_available = 1;
  p.subscription_identifier_available = 0;
  p.shared_subscription_available = 1;
  return p;
}

}  // namespace

MqttSession::MqttSession(MqttBroker& broker, std::weak_ptr<MqttLink> link,
                         std::string remote_address)
    : broker_(broker), link_(std::move(link)), remote_address_(std::move(remote_address)) {
  source_ip_ = remote_address_.substr(0, remote_address_.rfind(':'));
}

MqttSession::~MqttSession() = default;

std::string MqttSession::new_session_id() {
  return new_uuid();
}

void MqttSession::send(std::string bytes) {
  if (auto link = link_.lock()) link->send(std::move(bytes));
}

void MqttSession::close_link() {
  if (auto link = link_.lock()) link->close();
}

std::chrono::milliseconds MqttSession::silence_allowed() const {
  if (!connected()) {
    // CONNECT must be whole within 10 s of the connection, however slowly
    // its bytes trickle in.
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        opened_ + std::chrono::seconds(10) - std::chrono::steady_clock::now());
    return std::max(left, std::chrono::milliseconds(1));
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(keep_alive_) * 3 / 2;
}

std::string MqttSession::arn(const std::string& kind, const std::string& name) const {
  return "arn:aws:iot:" + scope_.region + ":" + scope_.account_id + ":" + kind + "/" + name;
}

bool MqttSession::authorize(const char* operation, const std::string& action,
                            const std::string& resource) {
  std::optional<Denial> denial =
      broker_.refusal(principal_, action, resource, client_id_, scope_, source_ip_);
  if (!denial) return true;
  broker_.name_deny(principal_, client_id_, scope_, source_ip_, &*denial);
  report(operation, resource, "NotAuthorized", std::move(denial));
  return false;
}

void MqttSession::report(const char* operation, const std::string& resource, const char* code,
                         std::optional<Denial> denial) {
  MqttRefusal refusal;
  refusal.principal = principal_;
  refusal.source = remote_address_;
  refusal.client_id = client_id_;
  refusal.operation = operation;
  refusal.resource = resource;
  refusal.code = code;
  refusal.denial = std::move(denial);
  broker_.report(refusal);
}

bool MqttSession::disconnect(Reason reason, const std::string& why) {
  log(LogLevel::kInfo, "mqtt " + remote_address_ + " client " + client_id_ + ": " + why);
  // MQTT 3.1.1 has no DISCONNECT from the server: the connection just ends.
  if (version_ == 5) send(mqtt::encode_disconnect(reason, why));
  return false;
}

void MqttSession::end(Reason reason) {
  if (version_ == 5) send(mqtt::encode_disconnect(reason));
  ended_by_server_ = static_cast<int>(reason);
  close_link();
}

void MqttSession::on_malformed(const mqtt::DecodeError& error) {
  if (!connected()) {
    // A CONNECT for a protocol level offcloud does not speak is answered
    // with CONNACK 0x01 before closing, as MQTT 3.1.1 asks.
    if (error.reason == Reason::kUnsupportedProtocolVersion) {
      send(mqtt::encode_connack(4, false, error.reason));
    }
    return;
  }
  disconnect(error.reason, error.message);
}

void MqttSession::present_certificate(const CertificateFacts& certificate) {
  certificate_ = certificate;
}

void MqttSession::preauthenticate(Principal principal, std::string region) {
  principal_ = std::move(principal);
  preauthenticated_region_ = std::move(region);
}

bool MqttSession::on_bytes(std::string_view bytes) {
  unread_.append(bytes);
  std::size_t at = 0;
  bool open = true;
  while (open) {
    std::string_view rest = std::string_view(unread_).substr(at);
    auto header = mqtt::read_fixed_header(rest);
    if (std::holds_alternative<std::nullopt_t>(header)) break;
    if (auto* error = std::get_if<mqtt::DecodeError>(&header)) {
      on_malformed(*error);
      return false;
    }
    const mqtt::FixedHeader& fixed = std::get<mqtt::FixedHeader>(header);
    if (fixed.remaining_length > MqttLimits::kMaxPacketBytes) {
      on_malformed({Reason::kPacketTooLarge, "a packet over AWS IoT's limit"});
      return false;
    }
    if (rest.size() < fixed.header_size + fixed.remaining_length) break;
    auto decoded =
        mqtt::decode(fixed, rest.substr(fixed.header_size, fixed.remaining_length), version_);
    at += fixed.header_size + fixed.remaining_length;
    if (auto* error = std::get_if<mqtt::DecodeError>(&decoded)) {
      on_malformed(*error);
      return false;
    }
    open = on_packet(std::get<mqtt::Packet>(std::move(decoded)));
  }
  unread_.erase(0, at);
  return open;
}

bool MqttSession::on_packet(mqtt::Packet packet) {
  if (auto* connect = std::get_if<mqtt::Connect>(&packet)) {
    if (connected()) return disconnect(Reason::kProtocolError, "a second CONNECT");
    return on_connect(*connect);
  }
  if (!connected()) return false;  // anything before CONNECT: close at once
  if (auto* publish = std::get_if<mqtt::Publish>(&packet)) return on_publish(*publish);
  if (auto* subscribe = std::get_if<mqtt::Subscribe>(&packet)) return on_subscribe(*subscribe);
  if (auto* unsubscribe = std::get_if<mqtt::Unsubscribe>(&packet)) {
    return on_unsubscribe(*unsubscribe);
  }
  if (std::holds_alternative<mqtt::Pingreq>(packet)) {
    send(mqtt::encode_pingresp());
    return true;
  }
  if (auto* ack = std::get_if<mqtt::Ack>(&packet)) {
    // A PUBACK for a QoS 1 delivery frees its slot; an unknown packet id
    // is ignored.
    if (ack->type == mqtt::PacketType::kPuback) {
      state_->acknowledge(ack->packet_id);
      return true;
    }
    return disconnect(Reason::kQosNotSupported, "AWS IoT does not support QoS 2");
  }
  if (auto* bye = std::get_if<mqtt::Disconnect>(&packet)) {
    // 0x04: "disconnect with will message" keeps the will.
    clean_disconnect_ = bye->raw_reason != 0x04;
    if (bye->properties.session_expiry_interval && session_expiry_s_ > 0) {
      session_expiry_s_ =
          std::min(*bye->properties.session_expiry_interval, MqttLimits::kMaxSessionExpiryS);
    }
    return false;
  }
  return disconnect(Reason::kProtocolError, "an unexpected packet");
}

bool MqttSession::on_connect(mqtt::Connect& connect) {
  version_ = connect.protocol_version == 5 ? 5 : 4;
  auto refuse = [&](Reason reason, const std::string& why) {
    log(LogLevel::kInfo, "mqtt " + remote_address_ + ": CONNECT refused: " + why);
    send(mqtt::encode_connack(version_, false, reason));
    return false;
  };
  if (connect.protocol_version == 3) {
    return refuse(Reason::kUnsupportedProtocolVersion, "MQTT 3.1 (AWS IoT speaks 3.1.1 and 5)");
  }
  client_id_ = connect.client_id;
  bool assigned = false;
  if (client_id_.empty()) {
    // A client that lets the server choose gets a clean session only.
    if (!connect.clean_start) {
      return refuse(Reason::kClientIdentifierNotValid, "an empty client id with a session");
    }
    client_id_ = "offcloud-" + new_uuid();
    assigned = true;
  }
  if (client_id_.size() > MqttLimits::kMaxClientIdBytes) {
    return refuse(Reason::kClientIdentifierNotValid, "a client id over 128 bytes");
  }
  if (preauthenticated_region_) {
    scope_ = {principal_.account_id, *preauthenticated_region_};
  } else if (certificate_) {
    auto identity = broker_.authenticate(*certificate_);
    if (!identity) {
      principal_.account_id.clear();  // nobody's: only the built-in root sees it
      principal_.certificate_id = certificate_->id;
      report("CONNECT", arn("client", client_id_), "NotAuthorized", std::nullopt);
      return refuse(Reason::kNotAuthorized,
                    "certificate " + certificate_->id + " is not registered and active");
    }
    principal_ = std::move(identity->first);
    scope_ = {principal_.account_id, identity->second};
  } else {
    std::optional<Principal> principal = broker_.authenticate(connect.username, connect.password);
    if (!principal) {
      principal_.account_id.clear();
      principal_.access_key_id = connect.username.value_or("");
      scope_.region = broker_.options().region;
      report("CONNECT", arn("client", client_id_), "BadUserNameOrPassword", std::nullopt);
      return refuse(Reason::kBadUserNameOrPassword, "unknown key or wrong secret");
    }
    principal_ = std::move(*principal);
    scope_ = {principal_.account_id, broker_.options().region};
  }
  if (!authorize("CONNECT", "iot:Connect", arn("client", client_id_))) {
    return refuse(Reason::kNotAuthorized, "iot:Connect is not allowed for " + principal_.arn);
  }
  if (connect.will) {
    if (!validate_publish_topic(connect.will->topic).empty() || connect.will->qos > 1 ||
        connect.will->payload.size() > MqttLimits::kMaxPayloadBytes) {
      return refuse(Reason::kTopicNameInvalid, "a will AWS IoT would not publish");
    }
    std::string topic = arn("topic", connect.will->topic);
    if (!authorize("CONNECT", "iot:Publish", topic) ||
        (connect.will->retain && !authorize("CONNECT", "iot:RetainPublish", topic))) {
      return refuse(Reason::kNotAuthorized, "the will's topic is not allowed");
    }
    will_ = std::move(connect.will);
  }
  keep_alive_ = effective_keep_alive(connect.keep_alive_s);
  if (version_ == 5) {
    session_expiry_s_ = std::min(connect.properties.session_expiry_interval.value_or(0),
                                 MqttLimits::kMaxSessionExpiryS);
    if (connect.properties.maximum_packet_size) {
      client_maximum_packet_size_ = *connect.properties.maximum_packet_size;
    }
  } else {
    session_expiry_s_ = connect.clean_start ? 0 : MqttLimits::kDefaultSessionExpiryS;
  }

  bool present = false;
  std::shared_ptr<MqttSession> displaced;
  std::shared_ptr<MqttSessionState> state =
      broker_.attach(scope_, client_id_, connect.clean_start, &present, &displaced);
  mqtt::Properties properties;
  if (version_ == 5) {
    properties = connack_properties();
    if (assigned) properties.assigned_client_identifier = client_id_;
    if (keep_alive_.count() != connect.keep_alive_s) {
      properties.server_keep_alive = static_cast<std::uint16_t>(keep_alive_.count());
    }
  }
  send(mqtt::encode_connack(version_, present, Reason::kSuccess, properties));
  state_ = state;
  // What was in flight and queued follows the CONNACK; the connection that
  // held the client id before is told to go.
  MqttSessionState::Connection holder;
  holder.principal = principal_;
  holder.version = version_;
  holder.expiry_s = session_expiry_s_;
  if (version_ == 5 && connect.properties.receive_maximum) {
    holder.receive_maximum = *connect.properties.receive_maximum;
  }
  std::shared_ptr<MqttSession> previous = state->attach(shared_from_this(), holder);
  if (!previous) previous = displaced;
  if (previous && previous.get() != this) previous->end(Reason::kSessionTakenOver);
  publish_event("$aws/events/presence/connected/" + client_id_, "connected",
                {{"ipAddress", source_ip_}, {"versionNumber", 0}});
  return true;
}

Message MqttSession::to_message(const mqtt::Publish& publish) const {
  Message message;
  message.scope = scope_;
  message.topic = publish.topic;
  message.payload = publish.payload;
  message.qos = publish.qos;
  message.retain = publish.retain;
  message.client_id = client_id_;
  message.principal = principal_identifier();
  message.source_ip = source_ip_;
  message.timestamp_ms = now_ms();
  const mqtt::Properties& p = publish.properties;
  message.payload_is_utf8 = p.payload_format_indicator == 1;
  message.content_type = p.content_type;
  message.response_topic = p.response_topic;
  message.correlation_data = p.correlation_data;
  if (p.message_expiry_interval) message.message_expiry_s = *p.message_expiry_interval;
  if (!p.user_properties.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [name, value] : p.user_properties) list.push_back({{name, value}});
    message.user_properties = list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return message;
}

bool MqttSession::on_publish(mqtt::Publish& publish) {
  if (publish.qos == 2)
    return disconnect(Reason::kQosNotSupported, "AWS IoT does not support QoS 2");
  if (auto alias = publish.properties.topic_alias) {
    if (*alias == 0 || *alias > MqttLimits::kTopicAliasMaximum) {
      return disconnect(Reason::kTopicAliasInvalid, "topic alias out of range");
    }
    if (publish.topic.empty()) {
      auto it = topic_aliases_.find(*alias);
      if (it == topic_aliases_.end()) {
        return disconnect(Reason::kProtocolError, "an unknown topic alias");
      }
      publish.topic = it->second;
    } else {
      topic_aliases_[*alias] = publish.topic;
    }
  }
  if (publish.payload.size() > MqttLimits::kMaxPayloadBytes) {
    return disconnect(Reason::kPacketTooLarge, "a payload over 128 KiB");
  }
  if (std::string why = validate_publish_topic(publish.topic); !why.empty()) {
    return disconnect(Reason::kTopicNameInvalid, why);
  }
  std::string topic = arn("topic", publish.topic);
  if (!authorize("PUBLISH", "iot:Publish", topic) ||
      (publish.retain && !authorize("PUBLISH", "iot:RetainPublish", topic))) {
    // AWS IoT drops the connection of a client that publishes where it may
    // not; MQTT 5 can say so on the PUBACK instead.
    if (version_ == 5 && publish.qos == 1) {
      send(mqtt::encode_ack(
          5, {mqtt::PacketType::kPuback, publish.packet_id, Reason::kNotAuthorized}));
      return true;
    }
    return disconnect(Reason::kNotAuthorized, "not authorized to publish to " + publish.topic);
  }
  Message message = to_message(publish);
  if (message.retain) {
    // Stored before the acknowledgment, as for the HTTP Publish API.
    if (message.payload.empty()) {
      broker_.retained().erase(scope_.account_id, scope_.region, message.topic);
    } else {
      broker_.retained().put({scope_.account_id, scope_.region, message.topic, message.payload,
                              message.qos, message.user_properties, message.timestamp_ms});
    }
  }
  if (publish.qos == 1) {
    // PUBACK once every durable write the message caused is committed.
    std::weak_ptr<MqttLink> link = link_;
    int version = version_;
    std::uint16_t id = publish.packet_id;
    message.receipt = std::make_shared<PublishReceipt>([link, version, id](bool written) {
      if (auto alive = link.lock()) {
        alive->send(
            mqtt::encode_ack(version, {mqtt::PacketType::kPuback, id,
                                       written ? Reason::kSuccess : Reason::kUnspecifiedError}));
      }
    });
  }
  broker_.bus().publish(message);
  return true;
}

bool MqttSession::on_subscribe(const mqtt::Subscribe& subscribe) {
  std::vector<Reason> reasons;
  std::vector<std::pair<std::string, int>> retained_for;  // (filter, QoS), after the SUBACK
  nlohmann::json topics = nlohmann::json::array();
  for (std::size_t i = 0; i < subscribe.topics.size(); ++i) {
    mqtt::SubscribeTopic topic = subscribe.topics[i];
    // AWS IoT's quotas: 8 filters in one SUBSCRIBE, 50 per connection.
    if (i >= MqttLimits::kMaxFiltersPerSubscribe ||
        (subscriptions_ >= MqttLimits::kMaxSubscriptionsPerConnection &&
         !subscribed_.contains(topic.filter))) {
      reasons.push_back(Reason::kQuotaExceeded);
      continue;
    }
    std::string match = topic.filter;
    auto shared = shared_subscription(topic.filter);
    if (shared) match = shared->second;
    bool valid = validate_topic_filter(match).empty() && match.size() <= 256 &&
                 (!shared || (!shared->first.empty() &&
                              shared->first.find_first_of("+#") == std::string::npos));
    if (!valid) {
      reasons.push_back(Reason::kTopicFilterInvalid);
      continue;
    }
    if (!authorize("SUBSCRIBE", "iot:Subscribe", arn("topicfilter", topic.filter))) {
      reasons.push_back(Reason::kNotAuthorized);
      continue;
    }
    topic.qos = std::min(topic.qos, 1);  // AWS grants QoS 1 for a QoS 2 request
    bool added = state_->subscribe(topic);
    if (subscribed_.insert(topic.filter).second) ++subscriptions_;
    reasons.push_back(topic.qos == 1 ? Reason::kGrantedQos1 : Reason::kSuccess);
    topics.push_back(topic.filter);
    // Retained messages go to new subscribers (never to shared ones).
    if (!shared && (topic.retain_handling == 0 || (topic.retain_handling == 1 && added))) {
      retained_for.emplace_back(match, topic.qos);
    }
  }
  send(mqtt::encode_suback(version_, subscribe.packet_id, reasons));
  for (const auto& [filter, qos] : retained_for) {
    TopicFilter matcher(filter);
    std::string from;
    for (;;) {
      RetainedPage page = broker_.retained().list(scope_.account_id, scope_.region, from, 200);
      for (const RetainedSummary& summary : page.messages) {
        if (!matcher.matches(summary.topic)) continue;
        auto stored = broker_.retained().get(scope_.account_id, scope_.region, summary.topic);
        if (!stored) continue;
        Message message;
        message.scope = scope_;
        message.topic = stored->topic;
        message.payload = stored->payload;
        message.qos = stored->qos;
        message.retain = true;
        message.user_properties = stored->user_properties;
        state_->send_retained(message, std::min(qos, stored->qos));
      }
      if (!page.next_topic) break;
      from = *page.next_topic;
    }
  }
  if (!topics.empty()) {
    publish_event("$aws/events/subscriptions/subscribed/" + client_id_, "subscribed",
                  {{"topics", topics}});
  }
  return true;
}

bool MqttSession::on_unsubscribe(const mqtt::Unsubscribe& unsubscribe) {
  std::vector<Reason> reasons;
  nlohmann::json topics = nlohmann::json::array();
  for (const std::string& filter : unsubscribe.filters) {
    bool had = state_->unsubscribe(filter);
    if (subscribed_.erase(filter)) --subscriptions_;
    reasons.push_back(had ? Reason::kSuccess : Reason::kNoSubscriptionExisted);
    if (had) topics.push_back(filter);
  }
  send(mqtt::encode_unsuback(version_, unsubscribe.packet_id, reasons));
  if (!topics.empty()) {
    publish_event("$aws/events/subscriptions/unsubscribed/" + client_id_, "unsubscribed",
                  {{"topics", topics}});
  }
  return true;
}

void MqttSession::publish_event(const std::string& topic, const std::string& type,
                                const nlohmann::json& fields) {
  // The fields every lifecycle event has, as AWS IoT publishes them.
  nlohmann::json body = {{"clientId", client_id_},
                         {"timestamp", now_ms()},
                         {"eventType", type},
                         {"sessionIdentifier", session_id_},
                         {"principalIdentifier", principal_identifier()}};
  body.update(fields);
  Message event;
  event.scope = scope_;
  event.topic = topic;
  event.payload = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  event.payload_is_utf8 = true;
  event.timestamp_ms = now_ms();
  broker_.bus().publish(event);
}

void MqttSession::on_closed() {
  if (closed_ || !state_) {
    closed_ = true;
    return;
  }
  closed_ = true;
  if (!clean_disconnect_ && will_) {
    Message will;
    will.scope = scope_;
    will.topic = will_->topic;
    will.payload = will_->payload;
    will.qos = will_->qos;
    will.retain = will_->retain;
    will.client_id = client_id_;
    will.principal = principal_identifier();
    will.source_ip = source_ip_;
    will.timestamp_ms = now_ms();
    if (will.retain && will.payload.empty()) {
      broker_.retained().erase(scope_.account_id, scope_.region, will.topic);
    } else if (will.retain) {
      broker_.retained().put({scope_.account_id, scope_.region, will.topic, will.payload, will.qos,
                              std::nullopt, will.timestamp_ms});
    }
    broker_.bus().publish(will);
  }
  broker_.release(state_, this, std::chrono::seconds(session_expiry_s_));
  std::string reason = clean_disconnect_ ? "CLIENT_INITIATED_DISCONNECT"
                       : ended_by_server_ == static_cast<int>(Reason::kSessionTakenOver)
                           ? "DUPLICATE_CLIENTID"
                       : ended_by_server_ >= 0 ? "SERVER_INITIATED_DISCONNECT"
                                               : "CONNECTION_LOST";
  publish_event("$aws/events/presence/disconnected/" + client_id_, "disconnected",
                {{"clientInitiatedDisconnect", clean_disconnect_},
                 {"disconnectReason", reason},
                 {"versionNumber", 0}});
  state_.reset();
}

}  // namespace offcloud

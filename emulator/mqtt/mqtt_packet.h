// MQTT control packets, 3.1.1 and 5, as bytes and back: the codec alone,
// no sockets and no broker, so it can be fuzzed and tested by itself.
//
// A packet on the wire is a fixed header (type and flags in one byte, then
// the remaining length as a variable byte integer) and a body of that
// length. read_fixed_header() finds the boundaries in a byte stream;
// decode() turns one whole body into a packet, checking everything the
// specifications require a server to check, and says which reason code a
// malformed packet earns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace offcloud::mqtt {

enum class PacketType : std::uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kUnsubscribe = 10,
  kUnsuback = 11,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
  kAuth = 15,
};

// MQTT 5 reason codes a server sends (MQTT 3.1.1 CONNACK return codes are
// mapped from them by encode_connack).
enum class Reason : std::uint8_t {
  kSuccess = 0x00,
  kGrantedQos1 = 0x01,
  kNoMatchingSubscribers = 0x10,
  kNoSubscriptionExisted = 0x11,
  kUnspecifiedError = 0x80,
  kMalformedPacket = 0x81,
  kProtocolError = 0x82,
  kImplementationSpecificError = 0x83,
  kUnsupportedProtocolVersion = 0x84,
  kClientIdentifierNotValid = 0x85,
  kBadUserNameOrPassword = 0x86,
  kNotAuthorized = 0x87,
  kServerUnavailable = 0x88,
  kServerShuttingDown = 0x8B,
  kKeepAliveTimeout = 0x8D,
  kSessionTakenOver = 0x8E,
  kTopicFilterInvalid = 0x8F,
  kTopicNameInvalid = 0x90,
  kPacketIdentifierInUse = 0x91,
  kReceiveMaximumExceeded = 0x93,
  kTopicAliasInvalid = 0x94,
  kPacketTooLarge = 0x95,
  kQuotaExceeded = 0x97,
  kPayloadFormatInvalid = 0x99,
  kRetainNotSupported = 0x9A,
  kQosNotSupported = 0x9B,
  kSharedSubscriptionsNotSupported = 0x9E,
  kSubscriptionIdentifiersNotSupported = 0xA1,
  kWildcardSubscriptionsNotSupported = 0xA2,
};

// MQTT 5 properties; absent ones stay unset. Only MQTT 5 packets carry them.
struct Properties {
  std::optional<std::uint8_t> payload_format_indicator;
  std::optional<std::uint32_t> message_expiry_interval;
  std::optional<std::string> content_type;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;
  std::vector<std::uint32_t> subscription_identifiers;
  std::optional<std::uint32_t> session_expiry_interval;
  std::optional<std::string> assigned_client_identifier;
  std::optional<std::uint16_t> server_keep_alive;
  std::optional<std::string> authentication_method;
  std::optional<std::string> authentication_data;
  std::optional<std::uint8_t> request_problem_information;
  std::optional<std::uint32_t> will_delay_interval;
  std::optional<std::uint8_t> request_response_information;
  std::optional<std::string> response_information;
  std::optional<std::string> server_reference;
  std::optional<std::string> reason_string;
  std::optional<std::uint16_t> receive_maximum;
  std::optional<std::uint16_t> topic_alias_maximum;
  std::optional<std::uint16_t> topic_alias;
  std::optional<std::uint8_t> maximum_qos;
  std::optional<std::uint8_t> retain_available;
  std::vector<std::pair<std::string, std::string>> user_properties;
  std::optional<std::uint32_t> maximum_packet_size;
  std::optional<std::uint8_t> wildcard_subscription_available;
  std::optional<std::uint8_t> subscription_identifier_available;
  std::optional<std::uint8_t> shared_subscription_available;
};

struct Will {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
  Properties properties;
};

struct Connect {
  int protocol_version = 4;  // 3 (3.1), 4 (3.1.1) or 5
  bool clean_start = true;
  std::uint16_t keep_alive_s = 0;
  std::string client_id;
  std::optional<Will> will;
  std::optional<std::string> username;
  std::optional<std::string> password;
  Properties properties;
};

struct Publish {
  std::string topic;  // empty with a topic alias (MQTT 5)
  std::string payload;
  int qos = 0;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0;  // QoS > 0 only
  Properties properties;
};

// PUBACK (and the QoS 2 acknowledgements, which are refused).
struct Ack {
  PacketType type = PacketType::kPuback;
  std::uint16_t packet_id = 0;
  Reason reason = Reason::kSuccess;
};

struct SubscribeTopic {
  std::string filter;
  int qos = 0;
  bool no_local = false;             // MQTT 5
  bool retain_as_published = false;  // MQTT 5
  int retain_handling = 0;           // MQTT 5: 0 send, 1 send if new, 2 never
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  std::vector<SubscribeTopic> topics;
  Properties properties;
};

struct Unsubscribe {
  std::uint16_t packet_id = 0;
  std::vector<std::string> filters;
};

struct Pingreq {};

struct Disconnect {
  Reason reason = Reason::kSuccess;  // 0x04 (disconnect with will) is kept as is
  std::uint8_t raw_reason = 0;
  Properties properties;
};

// What a server receives. CONNACK, SUBACK, UNSUBACK and PINGRESP from a
// client are protocol errors, as are QoS 2 flows (AWS IoT refuses QoS 2).
using Packet = std::variant<Connect, Publish, Ack, Subscribe, Unsubscribe, Pingreq, Disconnect>;

struct DecodeError {
  Reason reason = Reason::kMalformedPacket;
  std::string message;
};

struct FixedHeader {
  std::uint8_t first_byte = 0;  // type << 4 | flags
  std::size_t header_size = 0;  // 2 to 5 bytes
  std::size_t remaining_length = 0;
  PacketType type() const { return static_cast<PacketType>(first_byte >> 4); }
  std::uint8_t flags() const { return first_byte & 0x0F; }
};

// The fixed header at the start of `bytes`: nullopt while more bytes are
// needed; a DecodeError when the remaining length is malformed (a fifth
// length byte).
std::variant<std::nullopt_t, FixedHeader, DecodeError> read_fixed_header(std::string_view bytes);

// One packet from its fixed header and body. `protocol_version` is the
// session's (4 before CONNECT is read; CONNECT names its own).
std::variant<Packet, DecodeError> decode(const FixedHeader& header, std::string_view body,
                                         int protocol_version);

// Packets the server sends, for a session of `protocol_version`.
std::string encode_connack(int protocol_version, bool session_present, Reason reason,
                           const Properties& properties = {});
std::string encode_publish(int protocol_version, const Publish& publish);
std::string encode_ack(int protocol_version, const Ack& ack);
std::string encode_suback(int protocol_version, std::uint16_t packet_id,
                          const std::vector<Reason>& reasons);
std::string encode_unsuback(int protocol_version, std::uint16_t packet_id,
                            const std::vector<Reason>& reasons);
std::string encode_pingresp();
// MQTT 5 only: 3.1.1 has no server DISCONNECT (the server just closes).
std::string encode_disconnect(Reason reason, const std::string& reason_string = {});

// Packets a client sends (tests, the fuzzer's seeds, offcloud-loadgen).
std::string encode_connect(const Connect& connect);
std::string encode_subscribe(int protocol_version, const Subscribe& subscribe);

}  // namespace offcloud::mqtt

#include "emulator/mqtt/mqtt_packet.h"

#include <gtest/gtest.h>

namespace offcloud::mqtt {
namespace {

// Splits `bytes` at its fixed header and decodes it.
std::variant<Packet, DecodeError> decode_all(const std::string& bytes, int version = 4) {
  auto header = read_fixed_header(bytes);
  if (auto* error = std::get_if<DecodeError>(&header)) return *error;
  const FixedHeader* fixed = std::get_if<FixedHeader>(&header);
  if (!fixed || fixed->header_size + fixed->remaining_length != bytes.size()) {
    return DecodeError{Reason::kMalformedPacket, "incomplete"};
  }
  return decode(*fixed, std::string_view(bytes).substr(fixed->header_size), version);
}

template <typename T>
T packet_of(const std::string& bytes, int version = 4) {
  auto decoded = decode_all(bytes, version);
  if (auto* error = std::get_if<DecodeError>(&decoded)) {
    ADD_FAILURE() << error->message;
    return T{};
  }
  const Packet& packet = std::get<Packet>(decoded);
  EXPECT_TRUE(std::holds_alternative<T>(packet));
  return std::holds_alternative<T>(packet) ? std::get<T>(packet) : T{};
}

Reason error_of(const std::string& bytes, int version = 4) {
  auto decoded = decode_all(bytes, version);
  EXPECT_TRUE(std::holds_alternative<DecodeError>(decoded));
  return std::holds_alternative<DecodeError>(decoded) ? std::get<DecodeError>(decoded).reason
                                                      : Reason::kSuccess;
}

TEST(MqttPacket, RemainingLengthNeedsUpToFourBytes) {
  EXPECT_TRUE(std::holds_alternative<std::nullopt_t>(read_fixed_header("\x30")));
  EXPECT_TRUE(std::holds_alternative<std::nullopt_t>(read_fixed_header("\x30\x80")));
  auto header = std::get<FixedHeader>(read_fixed_header(std::string("\x30\xC1\x02", 3)));
  EXPECT_EQ(header.header_size, 3u);
  EXPECT_EQ(header.remaining_length, 321u);
  EXPECT_EQ(header.type(), PacketType::kPublish);
  EXPECT_TRUE(std::holds_alternative<DecodeError>(read_fixed_header("\x30\xff\xff\xff\xff\x01")));
}

TEST(MqttPacket, ConnectRoundTripsInBothVersions) {
  for (int version : {4, 5}) {
    Connect connect;
    connect.protocol_version = version;
    connect.clean_start = false;
    connect.keep_alive_s = 60;
    connect.client_id = "device-1";
    connect.username = "AKIA";
    connect.password = std::string("se\0cret", 7);
    connect.will = Will{"wills/device-1", "gone", 1, true, {}};
    if (version == 5) connect.properties.session_expiry_interval = 3600;
    Connect back = packet_of<Connect>(encode_connect(connect));
    EXPECT_EQ(back.protocol_version, version);
    EXPECT_FALSE(back.clean_start);
    EXPECT_EQ(back.keep_alive_s, 60);
    EXPECT_EQ(back.client_id, "device-1");
    EXPECT_EQ(back.username, "AKIA");
    EXPECT_EQ(back.password, std::string("se\0cret", 7));
    ASSERT_TRUE(back.will);
    EXPECT_EQ(back.will->topic, "wills/device-1");
    EXPECT_EQ(back.will->qos, 1);
    EXPECT_TRUE(back.will->retain);
    if (version == 5) {
      EXPECT_EQ(back.properties.session_expiry_interval, 3600u);
    }
  }
}

TEST(MqttPacket, ConnectIsCheckedAsTheSpecificationSays) {
  Connect connect;
  std::string good = encode_connect(connect);
  std::string reserved = good;
  reserved[9] |= 0x01;  // the reserved flag
  EXPECT_EQ(error_of(reserved), Reason::kMalformedPacket);
  std::string level = good;
  level[8] = 6;
  EXPECT_EQ(error_of(level), Reason::kUnsupportedProtocolVersion);
  std::string name = good;
  name[4] = 'X';
  EXPECT_EQ(error_of(name), Reason::kMalformedPacket);
  std::string trailing = good + "x";
  trailing[1] = static_cast<char>(trailing[1] + 1);
  EXPECT_EQ(error_of(trailing), Reason::kMalformedPacket);
  Connect nul;
  nul.client_id = std::string("a\0b", 3);
  std::string nul_client = encode_connect(nul);
  EXPECT_EQ(error_of(nul_client), Reason::kMalformedPacket);
}

TEST(MqttPacket, PublishRoundTripsWithProperties) {
  Publish publish;
  publish.topic = "handson/analysisLogData";
  publish.payload = std::string("\x00\x01payload", 9);
  publish.qos = 1;
  publish.retain = true;
  publish.packet_id = 7;
  publish.properties.user_properties = {{"k", "v"}, {"k", "w"}};
  publish.properties.correlation_data = "id";
  publish.properties.message_expiry_interval = 60;
  Publish back = packet_of<Publish>(encode_publish(5, publish), 5);
  EXPECT_EQ(back.topic, publish.topic);
  EXPECT_EQ(back.payload, publish.payload);
  EXPECT_EQ(back.qos, 1);
  EXPECT_TRUE(back.retain);
  EXPECT_EQ(back.packet_id, 7);
  EXPECT_EQ(back.properties.user_properties, publish.properties.user_properties);
  EXPECT_EQ(back.properties.correlation_data, "id");
  EXPECT_EQ(back.properties.message_expiry_interval, 60u);
  // The same bytes read as MQTT 3.1.1 have no properties: the property
  // length byte becomes part of the payload.
  Publish v4 = packet_of<Publish>(encode_publish(4, publish), 4);
  EXPECT_EQ(v4.payload, publish.payload);
}

TEST(MqttPacket, BadPublishesAreRefused) {
  EXPECT_EQ(error_of(std::string("\x36\x05\x00\x01t\x00\x01", 7)), Reason::kMalformedPacket)
      << "QoS 3";
  EXPECT_EQ(error_of(std::string("\x32\x05\x00\x01t\x00\x00", 7)), Reason::kMalformedPacket)
      << "packet identifier 0";
  EXPECT_EQ(error_of(std::string("\x38\x03\x00\x01t", 5)), Reason::kMalformedPacket)
      << "DUP on QoS 0";
  Publish utf8;
  utf8.topic = "t";
  utf8.payload = "\xff";
  utf8.properties.payload_format_indicator = 1;
  EXPECT_EQ(error_of(encode_publish(5, utf8), 5), Reason::kPayloadFormatInvalid);
  // A property given twice is a protocol error.
  std::string twice = std::string("\x30\x0c\x00\x01t\x0a", 6) +
                      std::string("\x02\x00\x00\x00\x01", 5) +
                      std::string("\x02\x00\x00\x00\x02", 5);
  twice[1] = static_cast<char>(twice.size() - 2);
  EXPECT_EQ(error_of(twice, 5), Reason::kProtocolError);
}

TEST(MqttPacket, SubscribeAndUnsubscribe) {
  Subscribe subscribe;
  subscribe.packet_id = 3;
  subscribe.topics = {{"a/+", 1}, {"$share/g/b/#", 0, true, false, 2}};
  Subscribe back = packet_of<Subscribe>(encode_subscribe(5, subscribe), 5);
  ASSERT_EQ(back.topics.size(), 2u);
  EXPECT_EQ(back.topics[0].filter, "a/+");
  EXPECT_EQ(back.topics[0].qos, 1);
  EXPECT_TRUE(back.topics[1].no_local);
  EXPECT_EQ(back.topics[1].retain_handling, 2);
  // MQTT 3.1.1 reserves the option bits MQTT 5 uses.
  EXPECT_EQ(error_of(encode_subscribe(4, subscribe), 4), Reason::kMalformedPacket);
  EXPECT_EQ(error_of(std::string("\x82\x02\x00\x01", 4)), Reason::kProtocolError) << "no filter";
  EXPECT_EQ(error_of(std::string("\x80\x06\x00\x01\x00\x01t\x00", 8)), Reason::kMalformedPacket)
      << "flags";
  Unsubscribe unsubscribe = packet_of<Unsubscribe>(std::string("\xa2\x05\x00\x09\x00\x01t", 7));
  EXPECT_EQ(unsubscribe.packet_id, 9);
  EXPECT_EQ(unsubscribe.filters, std::vector<std::string>{"t"});
}

TEST(MqttPacket, ServerPacketsAreShapedPerVersion) {
  EXPECT_EQ(encode_connack(4, true, Reason::kSuccess), std::string("\x20\x02\x01\x00", 4));
  EXPECT_EQ(encode_connack(4, false, Reason::kBadUserNameOrPassword),
            std::string("\x20\x02\x00\x04", 4));
  EXPECT_EQ(encode_connack(4, false, Reason::kNotAuthorized), std::string("\x20\x02\x00\x05", 4));
  EXPECT_EQ(encode_connack(5, false, Reason::kNotAuthorized),
            std::string("\x20\x03\x00\x87\x00", 5));
  EXPECT_EQ(encode_suback(4, 1, {Reason::kGrantedQos1, Reason::kNotAuthorized}),
            std::string("\x90\x04\x00\x01\x01\x80", 6));
  EXPECT_EQ(encode_suback(5, 1, {Reason::kNotAuthorized}),
            std::string("\x90\x04\x00\x01\x00\x87", 6));
  EXPECT_EQ(encode_ack(4, {PacketType::kPuback, 5, Reason::kSuccess}),
            std::string("\x40\x02\x00\x05", 4));
  EXPECT_EQ(encode_disconnect(Reason::kSessionTakenOver), std::string("\xe0\x02\x8e\x00", 4));
  EXPECT_EQ(encode_pingresp(), std::string("\xd0\x00", 2));
}

TEST(MqttPacket, PacketsAServerNeverReceivesAreProtocolErrors) {
  EXPECT_EQ(error_of(std::string("\x20\x02\x00\x00", 4)), Reason::kProtocolError);  // CONNACK
  EXPECT_EQ(error_of(std::string("\xf0\x00", 2)), Reason::kProtocolError);          // AUTH
  EXPECT_EQ(error_of(std::string("\xc0\x01\x00", 3)), Reason::kMalformedPacket);    // PINGREQ body
}

}  // namespace
}  // namespace offcloud::mqtt

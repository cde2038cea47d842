#include "emulator/mqtt/mqtt_packet.h"

#include "rules/topic_filter.h"  // is_valid_utf8

namespace offcloud::mqtt {
namespace {

// Reads a packet body front to back; the first failure sticks, so callers
// check once at the end of each part.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  bool ok() const { return !error_; }
  bool empty() const { return rest_.empty(); }
  std::size_t left() const { return rest_.size(); }
  const DecodeError& error() const { return *error_; }
  void fail(Reason reason, std::string message) {
    if (!error_) error_ = DecodeError{reason, std::move(message)};
  }

  std::uint8_t byte() {
    if (!need(1)) return 0;
    auto value = static_cast<std::uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return value;
  }
  std::uint16_t two() {
    if (!need(2)) return 0;
    auto value = static_cast<std::uint16_t>(static_cast<std::uint8_t>(rest_[0]) << 8 |
                                            static_cast<std::uint8_t>(rest_[1]));
    rest_.remove_prefix(2);
    return value;
  }
  std::uint32_t four() {
    std::uint32_t high = two();
    return high << 16 | two();
  }
  std::uint32_t varint() {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i) {
      std::uint8_t b = byte();
      if (!ok()) return 0;
      value |= static_cast<std::uint32_t>(b & 0x7F) << (7 * i);
      if (!(b & 0x80)) return value;
    }
    fail(Reason::kMalformedPacket, "a variable byte integer longer than 4 bytes");
    return 0;
  }
  std::string binary() {
    std::uint16_t size = two();
    if (!need(size)) return {};
    std::string value(rest_.substr(0, size));
    rest_.remove_prefix(size);
    return value;
  }
  // A UTF-8 string: well-formed, and without U+0000 (MQTT 1.5.4).
  std::string text() {
    std::string value = binary();
    if (ok() && (!is_valid_utf8(value) || value.find('\0') != std::string::npos)) {
      fail(Reason::kMalformedPacket, "a string that is not well-formed UTF-8");
    }
    return value;
  }
  std::string rest() {
    std::string value(rest_);
    rest_ = {};
    return value;
  }
  std::string_view take(std::size_t size) {
    if (!need(size)) return {};
    std::string_view value = rest_.substr(0, size);
    rest_.remove_prefix(size);
    return value;
  }

 private:
  bool need(std::size_t size) {
    if (!ok()) return false;
    if (rest_.size() < size) {
      fail(Reason::kMalformedPacket, "the packet ends early");
      return false;
    }
    return true;
  }

  std::string_view rest_;
  std::optional<DecodeError> error_;
};

// MQTT 5 properties (2.2.2): a length, then identifier-value pairs. Each
// but user properties and subscription identifiers may appear once.
Properties read_properties(Reader& in) {
  Properties p;
  std::uint32_t length = in.varint();
  if (!in.ok()) return p;
  if (length > in.left()) {
    in.fail(Reason::kMalformedPacket, "the properties run past the packet");
    return p;
  }
  Reader props(in.take(length));
  auto once = [&](auto& field, auto value) {
    if (field) {
      props.fail(Reason::kProtocolError, "a property given twice");
    } else {
      field = value;
    }
  };
  while (props.ok() && !props.empty()) {
    std::uint32_t id = props.varint();
    switch (id) {
      case 0x01:
        once(p.payload_format_indicator, props.byte());
        break;
      case 0x02:
        once(p.message_expiry_interval, props.four());
        break;
      case 0x03:
        once(p.content_type, props.text());
        break;
      case 0x08:
        once(p.response_topic, props.text());
        break;
      case 0x09:
        once(p.correlation_data, props.binary());
        break;
      case 0x0B: {
        std::uint32_t identifier = props.varint();
        if (identifier == 0) props.fail(Reason::kProtocolError, "subscription identifier 0");
        p.subscription_identifiers.push_back(identifier);
        break;
      }
      case 0x11:
        once(p.session_expiry_interval, props.four());
        break;
      case 0x12:
        once(p.assigned_client_identifier, props.text());
        break;
      case 0x13:
        once(p.server_keep_alive, props.two());
        break;
      case 0x15:
        once(p.authentication_method, props.text());
        break;
      case 0x16:
        once(p.authentication_data, props.binary());
        break;
      case 0x17:
        once(p.request_problem_information, props.byte());
        break;
      case 0x18:
        once(p.will_delay_interval, props.four());
        break;
      case 0x19:
        once(p.request_response_information, props.byte());
        break;
      case 0x1A:
        once(p.response_information, props.text());
        break;
      case 0x1C:
        once(p.server_reference, props.text());
        break;
      case 0x1F:
        once(p.reason_string, props.text());
        break;
      case 0x21:
        once(p.receive_maximum, props.two());
        break;
      case 0x22:
        once(p.topic_alias_maximum, props.two());
        break;
      case 0x23:
        once(p.topic_alias, props.two());
        break;
      case 0x24:
        once(p.maximum_qos, props.byte());
        break;
      case 0x25:
        once(p.retain_available, props.byte());
        break;
      case 0x26: {
        std::string name = props.text();
        std::string value = props.text();
        p.user_properties.emplace_back(std::move(name), std::move(value));
        break;
      }
      case 0x27:
        once(p.maximum_packet_size, props.four());
        break;
      case 0x28:
        once(p.wildcard_subscription_available, props.byte());
        break;
      case 0x29:
        once(p.subscription_identifier_available, props.byte());
        break;
      case 0x2A:
        once(p.shared_subscription_available, props.byte());
        break;
      default:
        props.fail(Reason::kMalformedPacket, "unknown property " + std::to_string(id));
    }
  }
  if (!props.ok()) in.fail(props.error().reason, props.error().message);
  if (p.payload_format_indicator && *p.payload_format_indicator > 1) {
    in.fail(Reason::kProtocolError, "a payload format indicator other than 0 or 1");
  }
  if (p.receive_maximum && *p.receive_maximum == 0) {
    in.fail(Reason::kProtocolError, "a receive maximum of 0");
  }
  if (p.maximum_packet_size && *p.maximum_packet_size == 0) {
    in.fail(Reason::kProtocolError, "a maximum packet size of 0");
  }
  return p;
}

std::variant<Packet, DecodeError> decode_connect(Reader& in) {
  Connect c;
  std::string name = in.text();
  std::uint8_t level = in.byte();
  std::uint8_t flags = in.byte();
  c.keep_alive_s = in.two();
  if (!in.ok()) return in.error();
  if (!((name == "MQTT" && (level == 4 || level == 5)) || (name == "MQIsdp" && level == 3))) {
    if (name != "MQTT" && name != "MQIsdp") {
      return DecodeError{Reason::kMalformedPacket, "protocol name " + name + " is not MQTT"};
    }
    return DecodeError{Reason::kUnsupportedProtocolVersion,
                       "protocol level " + std::to_string(level) + " is not 3, 4 or 5"};
  }
  c.protocol_version = level;
  if (flags & 0x01)
    return DecodeError{Reason::kMalformedPacket, "the reserved connect flag is set"};
  c.clean_start = flags & 0x02;
  bool will = flags & 0x04;
  int will_qos = (flags >> 3) & 0x03;
  bool will_retain = flags & 0x20;
  bool has_password = flags & 0x40;
  bool has_username = flags & 0x80;
  if (!will && (will_qos || will_retain)) {
    return DecodeError{Reason::kMalformedPacket, "will QoS or retain without a will"};
  }
  if (will_qos == 3) return DecodeError{Reason::kMalformedPacket, "will QoS 3"};
  if (level < 5 && has_password && !has_username) {
    return DecodeError{Reason::kMalformedPacket, "a password without a user name"};
  }
  if (level == 5) c.properties = read_properties(in);
  c.client_id = in.text();
  if (will) {
    Will w;
    w.qos = will_qos;
    w.retain = will_retain;
    if (level == 5) w.properties = read_properties(in);
    w.topic = in.text();
    w.payload = in.binary();
    c.will = std::move(w);
  }
  if (has_username) c.username = in.text();
  if (has_password) c.password = in.binary();
  if (!in.ok()) return in.error();
  if (!in.empty()) return DecodeError{Reason::kMalformedPacket, "bytes after the payload"};
  return Packet{std::move(c)};
}

std::variant<Packet, DecodeError> decode_publish(const FixedHeader& header, Reader& in,
                                                 int version) {
  Publish p;
  p.retain = header.flags() & 0x01;
  p.qos = (header.flags() >> 1) & 0x03;
  p.dup = header.flags() & 0x08;
  if (p.qos == 3) return DecodeError{Reason::kMalformedPacket, "PUBLISH with QoS 3"};
  if (p.qos == 0 && p.dup) return DecodeError{Reason::kMalformedPacket, "DUP on a QoS 0 PUBLISH"};
  p.topic = in.text();
  if (p.qos > 0) {
    p.packet_id = in.two();
    if (in.ok() && p.packet_id == 0) {
      return DecodeError{Reason::kMalformedPacket, "packet identifier 0"};
    }
  }
  if (version == 5) p.properties = read_properties(in);
  if (!in.ok()) return in.error();
  p.payload = in.rest();
  if (p.properties.subscription_identifiers.size() > 0) {
    return DecodeError{Reason::kProtocolError, "a subscription identifier on a client PUBLISH"};
  }
  if (p.properties.payload_format_indicator == 1 && !is_valid_utf8(p.payload)) {
    return DecodeError{Reason::kPayloadFormatInvalid, "the payload is not the UTF-8 it claims"};
  }
  return Packet{std::move(p)};
}

std::variant<Packet, DecodeError> decode_ack(const FixedHeader& header, Reader& in, int version) {
  Ack ack;
  ack.type = header.type();
  std::uint8_t expected_flags = ack.type == PacketType::kPubrel ? 0x02 : 0x00;
  if (header.flags() != expected_flags) {
    return DecodeError{Reason::kMalformedPacket, "wrong fixed header flags"};
  }
  ack.packet_id = in.two();
  if (version == 5 && !in.empty()) {
    ack.reason = static_cast<Reason>(in.byte());
    if (!in.empty()) read_properties(in);
  }
  if (!in.ok()) return in.error();
  if (!in.empty()) return DecodeError{Reason::kMalformedPacket, "bytes after the packet"};
  return Packet{ack};
}

std::variant<Packet, DecodeError> decode_subscribe(const FixedHeader& header, Reader& in,
                                                   int version) {
  if (header.flags() != 0x02) return DecodeError{Reason::kMalformedPacket, "wrong SUBSCRIBE flags"};
  Subscribe s;
  s.packet_id = in.two();
  if (version == 5) s.properties = read_properties(in);
  while (in.ok() && !in.empty()) {
    SubscribeTopic topic;
    topic.filter = in.text();
    std::uint8_t options = in.byte();
    if (!in.ok()) break;
    topic.qos = options & 0x03;
    if (topic.qos == 3) return DecodeError{Reason::kMalformedPacket, "subscription QoS 3"};
    if (version == 5) {
      topic.no_local = options & 0x04;
      topic.retain_as_published = options & 0x08;
      topic.retain_handling = (options >> 4) & 0x03;
      if (topic.retain_handling == 3 || (options & 0xC0)) {
        return DecodeError{Reason::kMalformedPacket, "reserved subscription option bits"};
      }
    } else if (options & 0xFC) {
      return DecodeError{Reason::kMalformedPacket, "reserved subscription option bits"};
    }
    s.topics.push_back(std::move(topic));
  }
  if (!in.ok()) return in.error();
  if (s.packet_id == 0) return DecodeError{Reason::kMalformedPacket, "packet identifier 0"};
  if (s.topics.empty()) return DecodeError{Reason::kProtocolError, "SUBSCRIBE with no filter"};
  return Packet{std::move(s)};
}

std::variant<Packet, DecodeError> decode_unsubscribe(const FixedHeader& header, Reader& in,
                                                     int version) {
  if (header.flags() != 0x02) {
    return DecodeError{Reason::kMalformedPacket, "wrong UNSUBSCRIBE flags"};
  }
  Unsubscribe u;
  u.packet_id = in.two();
  if (version == 5) read_properties(in);
  while (in.ok() && !in.empty()) u.filters.push_back(in.text());
  if (!in.ok()) return in.error();
  if (u.packet_id == 0) return DecodeError{Reason::kMalformedPacket, "packet identifier 0"};
  if (u.filters.empty()) return DecodeError{Reason::kProtocolError, "UNSUBSCRIBE with no filter"};
  return Packet{std::move(u)};
}

// --- encoding ---------------------------------------------------------------

void put_byte(std::string& out, std::uint8_t value) {
  out.push_back(static_cast<char>(value));
}
void put_two(std::string& out, std::uint16_t value) {
  put_byte(out, static_cast<std::uint8_t>(value >> 8));
  put_byte(out, static_cast<std::uint8_t>(value));
}
void put_four(std::string& out, std::uint32_t value) {
  put_two(out, static_cast<std::uint16_t>(value >> 16));
  put_two(out, static_cast<std::uint16_t>(value));
}
void put_varint(std::string& out, std::size_t value) {
  do {
    auto digit = static_cast<std::uint8_t>(value & 0x7F);
    value >>= 7;
    if (value) digit |= 0x80;
    put_byte(out, digit);
  } while (value);
}
void put_binary(std::string& out, std::string_view value) {
  put_two(out, static_cast<std::uint16_t>(value.size()));
  out.append(value);
}

std::string encode_properties(const Properties& p) {
  std::string body;
  auto byte = [&](int id, const std::optional<std::uint8_t>& v) {
    if (v) put_byte(body, static_cast<std::uint8_t>(id)), put_byte(body, *v);
  };
  auto two = [&](int id, const std::optional<std::uint16_t>& v) {
    if (v) put_byte(body, static_cast<std::uint8_t>(id)), put_two(body, *v);
  };
  auto four = [&](int id, const std::optional<std::uint32_t>& v) {
    if (v) put_byte(body, static_cast<std::uint8_t>(id)), put_four(body, *v);
  };
  auto bytes = [&](int id, const std::optional<std::string>& v) {
    if (v) put_byte(body, static_cast<std::uint8_t>(id)), put_binary(body, *v);
  };
  byte(0x01, p.payload_format_indicator);
  four(0x02, p.message_expiry_interval);
  bytes(0x03, p.content_type);
  bytes(0x08, p.response_topic);
  bytes(0x09, p.correlation_data);
  for (std::uint32_t id : p.subscription_identifiers) {
    put_byte(body, 0x0B);
    put_varint(body, id);
  }
  four(0x11, p.session_expiry_interval);
  bytes(0x12, p.assigned_client_identifier);
  two(0x13, p.server_keep_alive);
  bytes(0x15, p.authentication_method);
  bytes(0x16, p.authentication_data);
  byte(0x17, p.request_problem_information);
  four(0x18, p.will_delay_interval);
  byte(0x19, p.request_response_information);
  bytes(0x1A, p.response_information);
  bytes(0x1C, p.server_reference);
  bytes(0x1F, p.reason_string);
  two(0x21, p.receive_maximum);
  two(0x22, p.topic_alias_maximum);
  two(0x23, p.topic_alias);
  byte(0x24, p.maximum_qos);
  byte(0x25, p.retain_available);
  for (const auto& [name, value] : p.user_properties) {
    put_byte(body, 0x26);
    put_binary(body, name);
    put_binary(body, value);
  }
  four(0x27, p.maximum_packet_size);
  byte(0x28, p.wildcard_subscription_available);
  byte(0x29, p.subscription_identifier_available);
  byte(0x2A, p.shared_subscription_available);
  std::string out;
  put_varint(out, body.size());
  return out + body;
}

std::string packet(std::uint8_t first_byte, const std::string& body) {
  std::string out;
  put_byte(out, first_byte);
  put_varint(out, body.size());
  return out + body;
}

std::uint8_t connack_return_code(Reason reason) {
  switch (reason) {
    case Reason::kSuccess:
      return 0x00;
    case Reason::kUnsupportedProtocolVersion:
      return 0x01;
    case Reason::kClientIdentifierNotValid:
      return 0x02;
    case Reason::kBadUserNameOrPassword:
      return 0x04;
    case Reason::kNotAuthorized:
      return 0x05;
    default:
      return 0x03;  // server unavailable
  }
}

}  // namespace

std::variant<std::nullopt_t, FixedHeader, DecodeError> read_fixed_header(std::string_view bytes) {
  if (bytes.size() < 2) return std::nullopt;
  FixedHeader header;
  header.first_byte = static_cast<std::uint8_t>(bytes[0]);
  std::size_t value = 0;
  for (std::size_t i = 1; i <= 4; ++i) {
    if (i >= bytes.size()) return std::nullopt;
    auto digit = static_cast<std::uint8_t>(bytes[i]);
    value |= static_cast<std::size_t>(digit & 0x7F) << (7 * (i - 1));
    if (!(digit & 0x80)) {
      header.header_size = i + 1;
      header.remaining_length = value;
      return header;
    }
  }
  return DecodeError{Reason::kMalformedPacket, "a remaining length longer than 4 bytes"};
}

std::variant<Packet, DecodeError> decode(const FixedHeader& header, std::string_view body,
                                         int protocol_version) {
  Reader in(body);
  switch (header.type()) {
    case PacketType::kConnect:
      if (header.flags()) return DecodeError{Reason::kMalformedPacket, "wrong CONNECT flags"};
      return decode_connect(in);
    case PacketType::kPublish:
      return decode_publish(header, in, protocol_version);
    case PacketType::kPuback:
    case PacketType::kPubrec:
    case PacketType::kPubrel:
    case PacketType::kPubcomp:
      return decode_ack(header, in, protocol_version);
    case PacketType::kSubscribe:
      return decode_subscribe(header, in, protocol_version);
    case PacketType::kUnsubscribe:
      return decode_unsubscribe(header, in, protocol_version);
    case PacketType::kPingreq:
      if (header.flags() || !body.empty()) {
        return DecodeError{Reason::kMalformedPacket, "a PINGREQ with flags or a body"};
      }
      return Packet{Pingreq{}};
    case PacketType::kDisconnect: {
      if (header.flags()) return DecodeError{Reason::kMalformedPacket, "wrong DISCONNECT flags"};
      Disconnect d;
      if (protocol_version == 5 && !in.empty()) {
        d.raw_reason = in.byte();
        d.reason = static_cast<Reason>(d.raw_reason);
        if (!in.empty()) d.properties = read_properties(in);
      }
      if (!in.ok()) return in.error();
      if (!in.empty()) return DecodeError{Reason::kMalformedPacket, "bytes after DISCONNECT"};
      return Packet{std::move(d)};
    }
    default:
      return DecodeError{Reason::kProtocolError,
                         "packet type " + std::to_string(static_cast<int>(header.type())) +
                             " is not one a client sends to offcloud"};
  }
}

std::string encode_connack(int protocol_version, bool session_present, Reason reason,
                           const Properties& properties) {
  std::string body;
  put_byte(body, session_present ? 1 : 0);
  if (protocol_version == 5) {
    put_byte(body, static_cast<std::uint8_t>(reason));
    body += encode_properties(properties);
  } else {
    put_byte(body, connack_return_code(reason));
  }
  return packet(0x20, body);
}

std::string encode_publish(int protocol_version, const Publish& publish) {
  std::string body;
  put_binary(body, publish.topic);
  if (publish.qos > 0) put_two(body, publish.packet_id);
  if (protocol_version == 5) body += encode_properties(publish.properties);
  body += publish.payload;
  auto flags = static_cast<std::uint8_t>((publish.dup ? 0x08 : 0) | (publish.qos << 1) |
                                         (publish.retain ? 0x01 : 0));
  return packet(0x30 | flags, body);
}

std::string encode_ack(int protocol_version, const Ack& ack) {
  std::string body;
  put_two(body, ack.packet_id);
  if (protocol_version == 5 && ack.reason != Reason::kSuccess) {
    put_byte(body, static_cast<std::uint8_t>(ack.reason));
  }
  auto type = static_cast<std::uint8_t>(ack.type);
  return packet(static_cast<std::uint8_t>(type << 4 | (ack.type == PacketType::kPubrel ? 2 : 0)),
                body);
}

std::string encode_suback(int protocol_version, std::uint16_t packet_id,
                          const std::vector<Reason>& reasons) {
  std::string body;
  put_two(body, packet_id);
  if (protocol_version == 5) body += encode_properties({});
  for (Reason reason : reasons) {
    auto code = static_cast<std::uint8_t>(reason);
    if (protocol_version < 5 && code >= 0x80) code = 0x80;
    put_byte(body, code);
  }
  return packet(0x90, body);
}

std::string encode_unsuback(int protocol_version, std::uint16_t packet_id,
                            const std::vector<Reason>& reasons) {
  std::string body;
  put_two(body, packet_id);
  if (protocol_version == 5) {
    body += encode_properties({});
    for (Reason reason : reasons) put_byte(body, static_cast<std::uint8_t>(reason));
  }
  return packet(0xB0, body);
}

std::string encode_pingresp() {
  return std::string("\xD0\x00", 2);
}

std::string encode_disconnect(Reason reason, const std::string& reason_string) {
  std::string body;
  put_byte(body, static_cast<std::uint8_t>(reason));
  Properties properties;
  if (!reason_string.empty()) properties.reason_string = reason_string;
  body += encode_properties(properties);
  return packet(0xE0, body);
}

std::string encode_connect(const Connect& c) {
  std::string body;
  put_binary(body, c.protocol_version == 3 ? "MQIsdp" : "MQTT");
  put_byte(body, static_cast<std::uint8_t>(c.protocol_version));
  std::uint8_t flags = c.clean_start ? 0x02 : 0;
  if (c.will) {
    flags |= static_cast<std::uint8_t>(0x04 | (c.will->qos << 3) | (c.will->retain ? 0x20 : 0));
  }
  if (c.password) flags |= 0x40;
  if (c.username) flags |= 0x80;
  put_byte(body, flags);
  put_two(body, c.keep_alive_s);
  if (c.protocol_version == 5) body += encode_properties(c.properties);
  put_binary(body, c.client_id);
  if (c.will) {
    if (c.protocol_version == 5) body += encode_properties(c.will->properties);
    put_binary(body, c.will->topic);
    put_binary(body, c.will->payload);
  }
  if (c.username) put_binary(body, *c.username);
  if (c.password) put_binary(body, *c.password);
  return packet(0x10, body);
}

std::string encode_subscribe(int protocol_version, const Subscribe& s) {
  std::string body;
  put_two(body, s.packet_id);
  if (protocol_version == 5) body += encode_properties(s.properties);
  for (const SubscribeTopic& topic : s.topics) {
    put_binary(body, topic.filter);
    put_byte(body, static_cast<std::uint8_t>(topic.qos | (topic.no_local ? 0x04 : 0) |
                                             (topic.retain_as_published ? 0x08 : 0) |
                                             (topic.retain_handling << 4)));
  }
  return packet(0x82, body);
}

}  // namespace offcloud::mqtt

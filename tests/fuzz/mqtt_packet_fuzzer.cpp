// The MQTT packet codec (emulator/mqtt/mqtt_packet): a byte stream, as a
// client could send it, cut into packets by their fixed headers and decoded
// as MQTT 3.1.1 or 5 (the first input byte picks). Besides the sanitizers,
// checks that what decodes survives a round trip: a PUBLISH, SUBSCRIBE or
// CONNECT encoded again decodes to the same fields.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "emulator/mqtt/mqtt_packet.h"

namespace offcloud::mqtt {
namespace {

void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "mqtt_packet_fuzzer: %s\n", what);
    std::abort();
  }
}

std::variant<Packet, DecodeError> decode_whole(const std::string& bytes, int version) {
  auto header = read_fixed_header(bytes);
  require(std::holds_alternative<FixedHeader>(header), "an encoded packet has no header");
  const FixedHeader& fixed = std::get<FixedHeader>(header);
  require(fixed.header_size + fixed.remaining_length == bytes.size(), "wrong length");
  return decode(fixed, std::string_view(bytes).substr(fixed.header_size), version);
}

void round_trip(const Packet& packet, int version) {
  if (const auto* publish = std::get_if<Publish>(&packet)) {
    auto again = decode_whole(encode_publish(version, *publish), version);
    require(std::holds_alternative<Packet>(again), "a re-encoded PUBLISH does not decode");
    const auto& back = std::get<Publish>(std::get<Packet>(again));
    require(back.topic == publish->topic && back.payload == publish->payload &&
                back.qos == publish->qos && back.retain == publish->retain &&
                back.packet_id == publish->packet_id &&
                back.properties.user_properties == publish->properties.user_properties,
            "PUBLISH round trip");
  } else if (const auto* subscribe = std::get_if<Subscribe>(&packet)) {
    auto again = decode_whole(encode_subscribe(version, *subscribe), version);
    require(std::holds_alternative<Packet>(again), "a re-encoded SUBSCRIBE does not decode");
    const auto& back = std::get<Subscribe>(std::get<Packet>(again));
    require(back.topics.size() == subscribe->topics.size(), "SUBSCRIBE round trip");
    for (std::size_t i = 0; i < back.topics.size(); ++i) {
      require(back.topics[i].filter == subscribe->topics[i].filter &&
                  back.topics[i].qos == subscribe->topics[i].qos,
              "SUBSCRIBE filter round trip");
    }
  } else if (const auto* connect = std::get_if<Connect>(&packet)) {
    auto again = decode_whole(encode_connect(*connect), connect->protocol_version);
    require(std::holds_alternative<Packet>(again), "a re-encoded CONNECT does not decode");
    const auto& back = std::get<Connect>(std::get<Packet>(again));
    require(back.client_id == connect->client_id && back.username == connect->username &&
                back.password == connect->password && back.keep_alive_s == connect->keep_alive_s &&
                back.will.has_value() == connect->will.has_value(),
            "CONNECT round trip");
  }
}

}  // namespace
}  // namespace offcloud::mqtt

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace offcloud::mqtt;
  if (size < 1) return 0;
  int version = (data[0] & 1) ? 5 : 4;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!stream.empty()) {
    auto header = read_fixed_header(stream);
    const auto* fixed = std::get_if<FixedHeader>(&header);
    if (!fixed || fixed->header_size + fixed->remaining_length > stream.size()) break;
    auto decoded =
        decode(*fixed, stream.substr(fixed->header_size, fixed->remaining_length), version);
    if (const auto* packet = std::get_if<Packet>(&decoded)) {
      if (const auto* connect = std::get_if<Connect>(packet)) {
        version = connect->protocol_version == 5 ? 5 : 4;
      }
      round_trip(*packet, version);
    }
    stream.remove_prefix(fixed->header_size + fixed->remaining_length);
  }
  return 0;
}

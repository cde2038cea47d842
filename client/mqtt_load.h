// offcloud-loadgen's MQTT workloads: many MQTT 3.1.1 connections on a few
// threads (Boost.Asio), over plain TCP or mutual TLS, driving a broker with
// the same load whichever it is (offcloud's --mqtt-port or --mqtt-tls-port,
// or mosquitto as the benchmark's baseline).
//
//   fan-in    P publishers, each on a topic of its own, to S subscribers on
//             "#" (default 100 to 1)
//   fan-out   P publishers on one topic to S subscribers of it (default 1
//             to 100)
//   idle      N connections that connect, then only keep alive for a time
//   connect   N connections opened at once (a connect storm): connect times
//
// Throughput is what the subscribers receive: delivered messages/s, and the
// latency from publish to delivery (each payload carries its publisher,
// sequence number and send time). Publishers pipeline: QoS 1 with at most
// `inflight` PUBLISHes awaiting PUBACK, and any QoS with at most `max_lag`
// messages that some subscriber has not received yet (so the broker's queues
// stay bounded and what is measured is delivery, not dropping).
//
// Also a minimal MQTT 3.1.1 client codec of its own (client/ shares no code
// with the broker it measures).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace offcloud::client {

namespace mqtt {

enum class PacketType : std::uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kSubscribe = 8,
  kSuback = 9,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
};

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ConnectFields {
  std::string_view client_id;
  std::optional<std::string_view> username;
  std::optional<std::string_view> password;
  std::uint16_t keep_alive_s = 60;
  bool clean_session = true;
};

// Each appends one whole packet to `out`, so many can go out in one write.
void append_connect(std::string& out, const ConnectFields& fields);
void append_publish(std::string& out, std::string_view topic, std::string_view payload, int qos,
                    std::uint16_t packet_id, bool retain = false);
void append_puback(std::string& out, std::uint16_t packet_id);
void append_subscribe(std::string& out, std::uint16_t packet_id, std::string_view filter, int qos);
void append_pingreq(std::string& out);
void append_disconnect(std::string& out);

struct Packet {
  std::uint8_t type = 0;   // PacketType's value (others are possible on the wire)
  std::uint8_t flags = 0;  // the fixed header's low four bits
  std::string_view body;   // variable header and payload
};

// The first packet of `bytes`: its whole length (fixed header included), or
// 0 when its bytes are not all there yet. Throws ProtocolError on a malformed
// remaining length or a packet longer than `max_packet_bytes`.
std::size_t next_packet(std::string_view bytes, Packet* packet,
                        std::size_t max_packet_bytes = 1 << 24);

struct Publish {
  std::string_view topic;
  std::string_view payload;
  int qos = 0;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0;  // QoS 1 and 2 only
};

// Each throws ProtocolError when the body is not that packet's shape.
Publish parse_publish(const Packet& packet);
int parse_connack(const Packet& packet);  // the return code: 0 accepted
std::uint16_t parse_puback(const Packet& packet);
// The packet id and the first return code (granted QoS, or 0x80 refused).
std::pair<std::uint16_t, int> parse_suback(const Packet& packet);

}  // namespace mqtt

enum class MqttScenario { kFanIn, kFanOut, kIdle, kConnectStorm };

// How bytes reach the broker: plain TCP (mqtt://), or mutual TLS (mqtts://:
// TLS 1.2 or later, the broker's certificate verified against `ca_file` and
// the host name given, the client's from `cert_file` and `key_file`).
enum class MqttTransport { kTcp, kTls };

struct MqttLoadOptions {
  MqttScenario scenario = MqttScenario::kFanIn;
  std::string name = "mqtt-fan-in";  // the workload's name in the output
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  MqttTransport transport = MqttTransport::kTcp;
  // The CONNECT's user name and password (offcloud: access key id, secret).
  std::optional<std::string> username, password;
  // TLS: PEM files of the CA that signed the broker's certificate, and of
  // the client's certificate (its chain) and private key. Every connection
  // presents the same certificate.
  std::string ca_file, cert_file, key_file;
  int publishers = 100;
  int subscribers = 1;
  int connections = 1000;  // idle and connect
  int qos = 0;
  std::size_t size = 300;  // payload bytes (at least the 24 of its header)
  int inflight = 10;       // QoS 1 PUBLISHes awaiting PUBACK, per publisher
  int max_lag = 100;       // per publisher; 0: unbounded
  long messages = 0;       // per publisher; 0: until `duration_s`
  // fan-in/out: how long publishers publish (with `messages`, at most this
  // long); idle: how long connections are held; connect: the time allowed.
  double duration_s = 10;
  int threads = 1;
  std::uint16_t keep_alive_s = 60;
  // Connects outstanding at once (idle); 0: all at once.
  int connect_parallelism = 0;
  bool json = false;
};

// Parses "mqtt://host[:port]" (1883) or "mqtts://host[:port]" (8883) into
// `options`; throws std::invalid_argument for anything else.
void parse_mqtt_endpoint(std::string_view url, MqttLoadOptions* options);

// Runs one workload and prints its results to `out` (the idle workload also
// prints {"event":"holding",...} once every connection is up). Returns
// offcloud-loadgen's exit status: 0 all went well, 1 some connection failed or
// was dropped or a QoS 1 message was lost, 2 it could not run.
int run_mqtt_load(const MqttLoadOptions& options, std::ostream& out, std::ostream& err);

}  // namespace offcloud::client

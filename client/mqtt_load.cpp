#include "client/mqtt_load.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace offcloud::client {

// ---------------------------------------------------------------------------
// The codec.

namespace mqtt {
namespace {

constexpr std::size_t kMaxRemainingLength = 268'435'455;

void put_u16(std::string& out, std::uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xff));
}

void put_string(std::string& out, std::string_view text) {
  if (text.size() > 0xffff) throw ProtocolError("a string longer than 65,535 bytes");
  put_u16(out, static_cast<std::uint16_t>(text.size()));
  out.append(text);
}

void put_fixed_header(std::string& out, std::uint8_t first, std::size_t remaining) {
  if (remaining > kMaxRemainingLength) throw ProtocolError("a packet longer than MQTT allows");
  out.push_back(static_cast<char>(first));
  do {
    auto byte = static_cast<std::uint8_t>(remaining & 0x7f);
    remaining >>= 7;
    if (remaining) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (remaining);
}

std::uint16_t get_u16(std::string_view body, std::size_t at) {
  if (body.size() < at + 2) throw ProtocolError("a packet shorter than its fields");
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(body[at]) << 8) |
                                    static_cast<std::uint8_t>(body[at + 1]));
}

}  // namespace

void append_connect(std::string& out, const ConnectFields& fields) {
  if (fields.password && !fields.username) {
    throw ProtocolError("MQTT 3.1.1 sends a password only with a user name");
  }
  std::size_t remaining = 10 + 2 + fields.client_id.size();
  if (fields.username) remaining += 2 + fields.username->size();
  if (fields.password) remaining += 2 + fields.password->size();
  put_fixed_header(out, static_cast<std::uint8_t>(PacketType::kConnect) << 4, remaining);
  put_string(out, "MQTT");
  out.push_back(4);  // protocol level: 3.1.1
  std::uint8_t flags = fields.clean_session ? 0x02 : 0;
  if (fields.username) flags |= 0x80;
  if (fields.password) flags |= 0x40;
  out.push_back(static_cast<char>(flags));
  put_u16(out, fields.keep_alive_s);
  put_string(out, fields.client_id);
  if (fields.username) put_string(out, *fields.username);
  if (fields.password) put_string(out, *fields.password);
}

void append_publish(std::string& out, std::string_view topic, std::string_view payload, int qos,
                    std::uint16_t packet_id, bool retain) {
  if (qos < 0 || qos > 2) throw ProtocolError("QoS must be 0, 1 or 2");
  std::size_t remaining = 2 + topic.size() + (qos ? 2 : 0) + payload.size();
  put_fixed_header(out,
                   static_cast<std::uint8_t>((static_cast<int>(PacketType::kPublish) << 4) |
                                             (qos << 1) | (retain ? 1 : 0)),
                   remaining);
  put_string(out, topic);
  if (qos) put_u16(out, packet_id);
  out.append(payload);
}

void append_puback(std::string& out, std::uint16_t packet_id) {
  put_fixed_header(out, static_cast<std::uint8_t>(PacketType::kPuback) << 4, 2);
  put_u16(out, packet_id);
}

void append_subscribe(std::string& out, std::uint16_t packet_id, std::string_view filter, int qos) {
  // SUBSCRIBE's fixed header flags are 0b0010 [MQTT-3.8.1-1].
  put_fixed_header(out, static_cast<std::uint8_t>(PacketType::kSubscribe) << 4 | 0x02,
                   2 + 2 + filter.size() + 1);
  put_u16(out, packet_id);
  put_string(out, filter);
  out.push_back(static_cast<char>(qos));
}

void append_pingreq(std::string& out) {
  put_fixed_header(out, static_cast<std::uint8_t>(PacketType::kPingreq) << 4, 0);
}

void append_disconnect(std::string& out) {
  put_fixed_header(out, static_cast<std::uint8_t>(PacketType::kDisconnect) << 4, 0);
}

std::size_t next_packet(std::string_view bytes, Packet* packet, std::size_t max_packet_bytes) {
  std::size_t remaining = 0;
  std::size_t header = 0;
  for (std::size_t i = 0;; ++i) {
    if (i == 4) throw ProtocolError("a remaining length of more than four bytes");
    if (bytes.size() < 2 + i) return 0;
    auto byte = static_cast<std::uint8_t>(bytes[1 + i]);
    remaining |= static_cast<std::size_t>(byte & 0x7f) << (7 * i);
    if (!(byte & 0x80)) {
      header = 2 + i;
      break;
    }
  }
  if (header + remaining > max_packet_bytes) {
    throw ProtocolError("a packet of " + std::to_string(header + remaining) + " bytes");
  }
  if (bytes.size() < header + remaining) return 0;
  packet->type = static_cast<std::uint8_t>(bytes[0]) >> 4;
  packet->flags = static_cast<std::uint8_t>(bytes[0]) & 0x0f;
  packet->body = bytes.substr(header, remaining);
  return header + remaining;
}

Publish parse_publish(const Packet& packet) {
  Publish publish;
  publish.qos = (packet.flags >> 1) & 0x03;
  if (publish.qos == 3) throw ProtocolError("PUBLISH with QoS 3");
  publish.retain = packet.flags & 0x01;
  publish.dup = packet.flags & 0x08;
  std::size_t topic_length = get_u16(packet.body, 0);
  std::size_t at = 2 + topic_length;
  if (packet.body.size() < at) throw ProtocolError("PUBLISH shorter than its topic");
  publish.topic = packet.body.substr(2, topic_length);
  if (publish.qos) {
    publish.packet_id = get_u16(packet.body, at);
    at += 2;
  }
  publish.payload = packet.body.substr(at);
  return publish;
}

int parse_connack(const Packet& packet) {
  if (packet.body.size() != 2) throw ProtocolError("CONNACK of other than 2 bytes");
  return static_cast<std::uint8_t>(packet.body[1]);
}

std::uint16_t parse_puback(const Packet& packet) {
  if (packet.body.size() != 2) throw ProtocolError("PUBACK of other than 2 bytes");
  return get_u16(packet.body, 0);
}

std::pair<std::uint16_t, int> parse_suback(const Packet& packet) {
  if (packet.body.size() < 3) throw ProtocolError("SUBACK without a return code");
  return {get_u16(packet.body, 0), static_cast<std::uint8_t>(packet.body[2])};
}

}  // namespace mqtt

void parse_mqtt_endpoint(std::string_view url, MqttLoadOptions* options) {
  std::string_view rest;
  std::uint16_t port;
  if (url.starts_with("mqtt://")) {
    rest = url.substr(7);
    options->transport = MqttTransport::kTcp;
    port = 1883;
  } else if (url.starts_with("mqtts://")) {
    rest = url.substr(8);
    options->transport = MqttTransport::kTls;
    port = 8883;
  } else {
    throw std::invalid_argument("an MQTT endpoint is mqtt://HOST[:PORT] or mqtts://HOST[:PORT]");
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  std::string_view host = rest;
  std::size_t colon = rest.rfind(':');
  std::size_t bracket = rest.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = rest.substr(0, colon);
    std::string digits(rest.substr(colon + 1));
    char* end = nullptr;
    long value = std::strtol(digits.c_str(), &end, 10);
    if (digits.empty() || *end != '\0' || value < 1 || value > 65535) {
      throw std::invalid_argument("bad port in " + std::string(url));
    }
    port = static_cast<std::uint16_t>(value);
  }
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  if (host.empty()) throw std::invalid_argument("no host in " + std::string(url));
  options->host = std::string(host);
  options->port = port;
}

// ---------------------------------------------------------------------------
// The load.

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using ErrorCode = boost::system::error_code;

// A payload starts with the run's tag, its publisher, its sequence number
// and when it was sent (steady clock, ns), then padding.
constexpr std::size_t kPayloadHeader = 24;
// A publisher stops adding to its unsent bytes at this size, until the
// write in progress ends (TCP's own back pressure).
constexpr std::size_t kWriteBatch = 64 * 1024;
constexpr std::size_t kBusyReadBuffer = 64 * 1024;
constexpr std::size_t kIdleReadBuffer = 512;
// Keep-alive pings, and a nudge to publishers (they are woken directly;
// this only bounds the cost of a wake-up lost to a bug).
constexpr auto kTick = std::chrono::milliseconds(100);
// A publisher held this long by its lag goes on, taking what some
// subscriber still lacks as lost (counted in "stalls"; "lost" says how many).
constexpr auto kStallTimeout = std::chrono::seconds(1);

// Latencies in microseconds, in buckets ~1.6% wide (HdrHistogram's idea).
class Histogram {
 public:
  void add(std::uint64_t us) {
    ++counts_[bucket(us)];
    ++count_;
    max_ = std::max(max_, us);
  }
  void merge(const Histogram& other) {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
  }
  std::uint64_t count() const { return count_; }
  double max_ms() const { return max_ / 1000.0; }
  // The q-quantile in ms (the middle of its bucket), 0 when empty.
  double percentile_ms(double q) const {
    if (count_ == 0) return 0;
    auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * count_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min<double>(middle(i), max_) / 1000.0;
    }
    return max_ / 1000.0;
  }

 private:
  static constexpr int kSubBits = 6;
  static constexpr std::size_t kLinear = 2u << kSubBits;  // values below are exact
  static constexpr std::size_t kBuckets = kLinear + 40 * (1u << kSubBits);
  static std::size_t bucket(std::uint64_t v) {
    if (v < kLinear) return v;
    int shift = std::bit_width(v) - 1 - kSubBits;  // >= 1
    std::size_t index = kLinear + (shift - 1) * (1u << kSubBits) +
                        static_cast<std::size_t>((v >> shift) - (1u << kSubBits));
    return std::min(index, kBuckets - 1);
  }
  static double middle(std::size_t index) {
    if (index < kLinear) return static_cast<double>(index);
    std::size_t shift = (index - kLinear) / (1u << kSubBits) + 1;
    std::size_t sub = (index - kLinear) % (1u << kSubBits) + (1u << kSubBits);
    return (static_cast<double>(sub) + 0.5) * static_cast<double>(std::uint64_t{1} << shift);
  }
  std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(kBuckets);
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

class Connection;

// One thread and its io_context; each connection lives on one.
struct Worker {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard{ioc.get_executor()};
  asio::steady_timer timer{ioc};
  std::vector<Connection*> connections;
  // Written by this worker's thread only, read once it has stopped.
  Histogram latency;
  std::vector<double> connect_ms;
  std::map<std::string, long> errors;
  std::thread thread;
};

// Where a subscriber is in a publisher's sequence: 1 + the highest number
// it has received. One cache line each: subscribers write them from their
// threads, publishers read them from theirs.
struct alignas(64) Progress {
  std::atomic<std::uint64_t> upto{0};
};

// A publisher that stopped for its lag waits here for the subscriber that
// brings the slowest to `resume_at` to wake it.
struct alignas(64) Gate {
  std::atomic<bool> waiting{false};
  std::atomic<std::uint64_t> resume_at{0};
};

void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by = 1) {
  // One writer (the connection's thread); others only read.
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

class Run;

class Connection {
 public:
  enum class Role { kPublisher, kSubscriber, kIdle };

  Connection(Run& run, Worker& worker, Role role, int index);

  void open();
  void start_publishing() {
    publishing_ = true;
    pump();
  }
  void pump();
  void tick(Clock::time_point now);
  // DISCONNECT, then close once it is written.
  void goodbye();
  asio::io_context& context() { return worker_.ioc; }

  // Written by the connection's thread, read by the main thread.
  std::atomic<std::uint64_t> published{0};
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> foreign{0};
  std::atomic<std::uint64_t> out_of_order{0};
  std::atomic<std::uint64_t> stalls{0};

 private:
  enum class State { kNew, kConnecting, kAwaitConnack, kAwaitSuback, kReady, kClosing, kClosed };

  // The transport: the only three places that touch the socket. Over TLS
  // (MqttTransport::kTls) a stream made at open() wraps socket_.
  template <class Handler>
  void handshake(Handler&& handler);
  template <class Handler>
  void read_some(asio::mutable_buffer buffer, Handler&& handler) {
    if (tls_) return tls_->async_read_some(buffer, std::forward<Handler>(handler));
    socket_.async_read_some(buffer, std::forward<Handler>(handler));
  }
  template <class Handler>
  void write(asio::const_buffer buffer, Handler&& handler) {
    if (tls_) return asio::async_write(*tls_, buffer, std::forward<Handler>(handler));
    asio::async_write(socket_, buffer, std::forward<Handler>(handler));
  }

  void on_connected(const ErrorCode& ec);
  void read();
  void on_read(const ErrorCode& ec, std::size_t n);
  bool on_packet(const mqtt::Packet& packet);
  void on_publish(const mqtt::Publish& publish);
  void wake_publishers();
  bool lag_allows();
  void flush();
  void on_written(const ErrorCode& ec);
  void become_ready();
  void fail(const std::string& why);
  void shut();

  Run& run_;
  Worker& worker_;
  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  Role role_;
  int index_;
  State state_ = State::kNew;
  std::string client_id_;
  Clock::time_point opened_at_;
  Clock::time_point last_write_;
  Clock::time_point batch_time_;
  std::vector<char> in_;
  std::size_t in_used_ = 0;
  std::string out_;      // packets not written yet
  std::string writing_;  // the write in progress
  bool write_busy_ = false;
  // Publisher.
  bool publishing_ = false;
  std::string topic_;
  std::string payload_;
  std::uint64_t sequence_ = 0;
  std::uint64_t slowest_ = 0;    // the slowest subscriber's progress, last seen
  std::uint64_t lag_floor_ = 0;  // what a stall gave up on waiting for
  bool lag_blocked_ = false;
  Clock::time_point lag_blocked_since_;
  std::uint32_t unacked_ = 0;
  std::uint16_t packet_id_ = 0;
  // Subscriber: the publishers heard from in this read.
  std::vector<int> touched_;
  std::vector<char> is_touched_;
};

class Run {
 public:
  Run(const MqttLoadOptions& options, tcp::endpoint endpoint, asio::ssl::context* tls)
      : options(options), endpoint(endpoint), tls(tls) {
    auto now = std::chrono::system_clock::now().time_since_epoch().count();
    tag = static_cast<std::uint32_t>(now ^ (now >> 32) ^ (static_cast<long>(getpid()) << 16));
    char hex[16];
    std::snprintf(hex, sizeof hex, "%08x", tag);
    prefix = std::string("loadgen/") + hex;
    client_prefix = std::string("lg") + hex + "-";
    switch (options.scenario) {
      case MqttScenario::kFanIn:
      case MqttScenario::kFanOut:
        publishers = options.publishers;
        subscribers = options.subscribers;
        break;
      case MqttScenario::kIdle:
      case MqttScenario::kConnectStorm:
        idle = options.connections;
        break;
    }
    filter = options.scenario == MqttScenario::kFanIn ? "#" : prefix + "/out";
  }

  int execute(std::ostream& out, std::ostream& err);

  // What connections read and update.
  const MqttLoadOptions& options;
  tcp::endpoint endpoint;
  asio::ssl::context* tls;  // null over plain TCP
  std::uint32_t tag = 0;
  std::string prefix, client_prefix, filter;
  int publishers = 0, subscribers = 0, idle = 0;
  std::atomic<bool> stopping{false};
  std::atomic<int> ready{0}, failed{0}, dropped{0}, closed{0}, publishers_done{0};

  Progress& progress(int subscriber, int publisher) {
    return progress_[static_cast<std::size_t>(subscriber) * publishers + publisher];
  }
  Gate& gate(int publisher) { return gates_[publisher]; }
  Connection& publisher(int index) { return *publishers_[index]; }
  // The slowest subscriber's progress in `publisher`'s sequence.
  std::uint64_t slowest(int publisher) {
    std::uint64_t least = UINT64_MAX;
    for (int s = 0; s < subscribers; ++s) {
      least = std::min(least, progress(s, publisher).upto.load(std::memory_order_acquire));
    }
    return subscribers ? least : UINT64_MAX;
  }
  // A connection is up, or failed to come up: another may start opening.
  // Called before `ready` or `failed` counts it.
  void on_settled() {
    if (next_open_.load() >= open_end_.load()) return;
    int next = next_open_.fetch_add(1);
    if (next < open_end_.load()) post_open(next);
  }

 private:
  void post_open(int index) {
    Connection* connection = connections_[index].get();
    asio::post(connection->context(), [connection] { connection->open(); });
  }
  // Opens connections [begin, end), at most `parallel` connecting at once
  // (0: all at once).
  void open_range(int begin, int end, int parallel) {
    int first_batch = parallel > 0 ? std::min(end, begin + parallel) : end;
    open_end_.store(end);
    next_open_.store(first_batch);
    for (int i = begin; i < first_batch; ++i) post_open(i);
  }
  bool wait_until(const std::function<bool()>& done, Clock::time_point deadline) {
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  void arm_tick(Worker& worker);
  std::uint64_t sum(std::atomic<std::uint64_t> Connection::*counter) const {
    std::uint64_t total = 0;
    for (const auto& c : connections_) total += ((*c).*counter).load(std::memory_order_relaxed);
    return total;
  }
  void close_all();
  // Stops the threads and gathers what they measured; again does nothing.
  void stop_workers();
  int fan(std::ostream& out);
  int hold(std::ostream& out, bool storm);

  std::vector<std::unique_ptr<Worker>> workers_;  // outlive connections_
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> publishers_;
  std::unique_ptr<Progress[]> progress_;
  std::unique_ptr<Gate[]> gates_;
  std::atomic<int> next_open_{0}, open_end_{0};
  Histogram latency_;
  std::vector<double> connect_ms_;
  std::map<std::string, long> errors_;
};

// --- Connection ------------------------------------------------------------

Connection::Connection(Run& run, Worker& worker, Role role, int index)
    : run_(run), worker_(worker), socket_(worker.ioc), role_(role), index_(index) {
  const char* kind = role == Role::kPublisher ? "p" : role == Role::kSubscriber ? "s" : "c";
  client_id_ = run.client_prefix + kind + std::to_string(index);
  if (role == Role::kPublisher) {
    topic_ = run.options.scenario == MqttScenario::kFanIn
                 ? run.prefix + "/in/" + std::to_string(index)
                 : run.prefix + "/out";
    payload_.assign(std::max(run.options.size, kPayloadHeader), 'x');
    std::uint32_t publisher = static_cast<std::uint32_t>(index);
    std::memcpy(payload_.data(), &run.tag, 4);
    std::memcpy(payload_.data() + 4, &publisher, 4);
  }
  if (role == Role::kSubscriber) is_touched_.assign(run.publishers, 0);
}

template <class Handler>
void Connection::handshake(Handler&& handler) {
  if (!tls_) return handler(ErrorCode());
  tls_->async_handshake(asio::ssl::stream_base::client, std::forward<Handler>(handler));
}

void Connection::open() {
  in_.resize(role_ == Role::kIdle ? kIdleReadBuffer : kBusyReadBuffer);
  if (run_.tls) {
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *run_.tls);
    const std::string& host = run_.options.host;
    // SNI for a host name (not an address), and the broker's certificate
    // must name the host given (a DNS name or an IP address SAN).
    ErrorCode parse_error;
    asio::ip::make_address(host, parse_error);
    if (parse_error) SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
    tls_->set_verify_mode(asio::ssl::verify_peer);
    tls_->set_verify_callback(asio::ssl::host_name_verification(host));
  }
  state_ = State::kConnecting;
  opened_at_ = last_write_ = Clock::now();
  socket_.async_connect(run_.endpoint, [this](const ErrorCode& ec) { on_connected(ec); });
}

void Connection::on_connected(const ErrorCode& ec) {
  if (state_ != State::kConnecting) return;
  if (ec) return fail("connect: " + ec.message());
  ErrorCode ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  handshake([this](const ErrorCode& ec) {
    if (ec) return fail("handshake: " + ec.message());
    const MqttLoadOptions& options = run_.options;
    mqtt::ConnectFields fields;
    fields.client_id = client_id_;
    if (options.username) fields.username = *options.username;
    if (options.password) fields.password = *options.password;
    fields.keep_alive_s = options.keep_alive_s;
    mqtt::append_connect(out_, fields);
    state_ = State::kAwaitConnack;
    flush();
    read();
  });
}

void Connection::read() {
  if (in_used_ == in_.size()) in_.resize(in_.size() * 2);  // a packet larger than the buffer
  read_some(asio::buffer(in_.data() + in_used_, in_.size() - in_used_),
            [this](const ErrorCode& ec, std::size_t n) { on_read(ec, n); });
}

void Connection::on_read(const ErrorCode& ec, std::size_t n) {
  if (state_ == State::kClosed) return;
  if (ec) {
    if (state_ == State::kClosing) return;  // the write of DISCONNECT ends it
    // Over TLS a close without close_notify is stream_truncated.
    bool closed = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
    return fail(closed ? "closed by the broker" : "read: " + ec.message());
  }
  in_used_ += n;
  batch_time_ = Clock::now();
  std::size_t offset = 0;
  try {
    mqtt::Packet packet;
    while (std::size_t length = mqtt::next_packet(
               std::string_view(in_.data() + offset, in_used_ - offset), &packet)) {
      offset += length;
      if (!on_packet(packet)) return;
    }
  } catch (const mqtt::ProtocolError& e) {
    return fail(std::string("protocol: ") + e.what());
  }
  if (offset) {
    std::memmove(in_.data(), in_.data() + offset, in_used_ - offset);
    in_used_ -= offset;
  }
  if (!touched_.empty()) wake_publishers();
  if (publishing_) {
    pump();
  } else {
    flush();
  }
  read();
}

bool Connection::on_packet(const mqtt::Packet& packet) {
  switch (static_cast<mqtt::PacketType>(packet.type)) {
    case mqtt::PacketType::kConnack: {
      if (state_ != State::kAwaitConnack) return fail("CONNACK out of turn"), false;
      int code = mqtt::parse_connack(packet);
      if (code != 0) return fail("CONNACK return code " + std::to_string(code)), false;
      worker_.connect_ms.push_back(
          std::chrono::duration<double, std::milli>(batch_time_ - opened_at_).count());
      if (role_ == Role::kSubscriber) {
        mqtt::append_subscribe(out_, 1, run_.filter, run_.options.qos);
        state_ = State::kAwaitSuback;
      } else {
        become_ready();
      }
      return true;
    }
    case mqtt::PacketType::kSuback: {
      auto [id, code] = mqtt::parse_suback(packet);
      if (state_ != State::kAwaitSuback || id != 1) return fail("SUBACK out of turn"), false;
      if (code > 2) return fail("SUBACK return code " + std::to_string(code)), false;
      become_ready();
      return true;
    }
    case mqtt::PacketType::kPublish:
      on_publish(mqtt::parse_publish(packet));
      return true;
    case mqtt::PacketType::kPuback:
      mqtt::parse_puback(packet);
      if (unacked_ == 0) return fail("PUBACK for no PUBLISH"), false;
      --unacked_;
      bump(acked);
      return true;
    case mqtt::PacketType::kPingresp:
      return true;
    default:
      return fail("unexpected packet type " + std::to_string(packet.type)), false;
  }
}

void Connection::on_publish(const mqtt::Publish& publish) {
  if (publish.qos == 1) mqtt::append_puback(out_, publish.packet_id);
  std::uint32_t tag, publisher;
  std::uint64_t sequence, sent_ns;
  if (publish.payload.size() >= kPayloadHeader) {
    std::memcpy(&tag, publish.payload.data(), 4);
    std::memcpy(&publisher, publish.payload.data() + 4, 4);
    std::memcpy(&sequence, publish.payload.data() + 8, 8);
    std::memcpy(&sent_ns, publish.payload.data() + 16, 8);
  }
  if (role_ != Role::kSubscriber || publish.payload.size() < kPayloadHeader || tag != run_.tag ||
      publisher >= static_cast<std::uint32_t>(run_.publishers)) {
    bump(foreign);  // another run's, or the broker's own ($SYS, lifecycle events)
    return;
  }
  auto& progress = run_.progress(index_, static_cast<int>(publisher)).upto;
  if (sequence + 1 > progress.load(std::memory_order_relaxed)) {
    progress.store(sequence + 1, std::memory_order_release);
  } else {
    bump(out_of_order);
  }
  bump(delivered);
  auto now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(batch_time_.time_since_epoch()).count();
  worker_.latency.add(now_ns > static_cast<std::int64_t>(sent_ns)
                          ? (static_cast<std::uint64_t>(now_ns) - sent_ns) / 1000
                          : 0);
  if (!is_touched_[publisher]) {
    is_touched_[publisher] = 1;
    touched_.push_back(static_cast<int>(publisher));
  }
}

void Connection::wake_publishers() {
  // Pairs with the fence in lag_allows(): either this sees the publisher
  // waiting, or the publisher sees this subscriber's progress.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (int publisher : touched_) {
    is_touched_[publisher] = 0;
    Gate& gate = run_.gate(publisher);
    if (!gate.waiting.load(std::memory_order_acquire)) continue;
    if (run_.progress(index_, publisher).upto.load(std::memory_order_relaxed) <
        gate.resume_at.load(std::memory_order_relaxed)) {
      continue;
    }
    if (gate.waiting.exchange(false)) {
      Connection* target = &run_.publisher(publisher);
      asio::post(target->context(), [target] { target->pump(); });
    }
  }
  touched_.clear();
}

bool Connection::lag_allows() {
  const auto max_lag = static_cast<std::uint64_t>(run_.options.max_lag);
  slowest_ = std::max(run_.slowest(index_), lag_floor_);
  if (sequence_ - slowest_ < max_lag) return true;
  // Wait until the slowest subscriber is at most half the lag behind.
  Gate& gate = run_.gate(index_);
  std::uint64_t resume_at = sequence_ - max_lag / 2;
  gate.resume_at.store(resume_at, std::memory_order_relaxed);
  gate.waiting.store(true, std::memory_order_release);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  slowest_ = std::max(run_.slowest(index_), lag_floor_);
  if (slowest_ >= resume_at) {
    gate.waiting.store(false, std::memory_order_relaxed);
    return true;
  }
  if (!lag_blocked_) {
    lag_blocked_ = true;
    lag_blocked_since_ = Clock::now();
  }
  return false;
}

void Connection::pump() {
  if (!publishing_) return;
  const MqttLoadOptions& options = run_.options;
  const auto messages = static_cast<std::uint64_t>(options.messages);
  const auto max_lag = static_cast<std::uint64_t>(options.max_lag);
  while (out_.size() < kWriteBatch) {
    if (run_.stopping.load(std::memory_order_relaxed) || (messages && sequence_ >= messages)) {
      publishing_ = false;
      run_.publishers_done.fetch_add(1);
      break;
    }
    if (options.qos == 1 && unacked_ >= static_cast<std::uint32_t>(options.inflight)) break;
    if (max_lag && sequence_ - slowest_ >= max_lag && !lag_allows()) break;
    auto sent_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count());
    std::memcpy(payload_.data() + 8, &sequence_, 8);
    std::memcpy(payload_.data() + 16, &sent_ns, 8);
    std::uint16_t id = 0;
    if (options.qos == 1) {
      if (++packet_id_ == 0) packet_id_ = 1;
      id = packet_id_;
      ++unacked_;
    }
    mqtt::append_publish(out_, topic_, payload_, options.qos, id);
    ++sequence_;
    lag_blocked_ = false;
  }
  published.store(sequence_, std::memory_order_relaxed);
  flush();
}

void Connection::tick(Clock::time_point now) {
  if (publishing_ && lag_blocked_ && now - lag_blocked_since_ >= kStallTimeout) {
    // A message some subscriber never got (a broker may drop): without
    // this, the publisher would wait for it to the end.
    lag_floor_ = slowest_ = sequence_;
    lag_blocked_ = false;
    bump(stalls);
  }
  if (publishing_) pump();
  if (state_ == State::kReady && !write_busy_ &&
      now - last_write_ >= std::chrono::seconds(run_.options.keep_alive_s) / 2) {
    mqtt::append_pingreq(out_);
    flush();
  }
}

void Connection::goodbye() {
  publishing_ = false;
  if (state_ == State::kClosed || state_ == State::kClosing) return;
  if (state_ != State::kReady) return fail("not connected in time");
  state_ = State::kClosing;
  mqtt::append_disconnect(out_);
  flush();
}

void Connection::flush() {
  if (write_busy_ || out_.empty() || state_ == State::kClosed) return;
  std::swap(out_, writing_);
  out_.clear();
  write_busy_ = true;
  last_write_ = Clock::now();
  write(asio::buffer(writing_), [this](const ErrorCode& ec, std::size_t) { on_written(ec); });
}

void Connection::on_written(const ErrorCode& ec) {
  write_busy_ = false;
  writing_.clear();
  if (state_ == State::kClosed) return;
  if (ec) return fail("write: " + ec.message());
  if (state_ == State::kClosing && out_.empty()) {
    shut();
    state_ = State::kClosed;
    run_.closed.fetch_add(1);
    return;
  }
  if (publishing_) {
    pump();
  } else {
    flush();
  }
}

void Connection::become_ready() {
  state_ = State::kReady;
  run_.on_settled();
  run_.ready.fetch_add(1);
}

void Connection::fail(const std::string& why) {
  if (state_ == State::kClosed) return;
  State was = state_;
  state_ = State::kClosed;
  ++worker_.errors[why];
  shut();
  if (publishing_) {
    publishing_ = false;
    run_.publishers_done.fetch_add(1);
  }
  if (was == State::kReady) {
    run_.dropped.fetch_add(1);
  } else if (was != State::kClosing) {
    run_.on_settled();
    run_.failed.fetch_add(1);
  }
  run_.closed.fetch_add(1);
}

void Connection::shut() {
  ErrorCode ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

// --- Run -------------------------------------------------------------------

void Run::arm_tick(Worker& worker) {
  worker.timer.expires_after(kTick);
  worker.timer.async_wait([this, &worker](const ErrorCode& ec) {
    if (ec) return;
    auto now = Clock::now();
    for (Connection* connection : worker.connections) connection->tick(now);
    arm_tick(worker);
  });
}

void Run::close_all() {
  for (auto& connection : connections_) {
    Connection* c = connection.get();
    asio::post(c->context(), [c] { c->goodbye(); });
  }
  int total = static_cast<int>(connections_.size());
  wait_until([&] { return closed.load() >= total; }, Clock::now() + std::chrono::seconds(5));
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  }
  return out + "\"";
}

std::string errors_json(const std::map<std::string, long>& errors) {
  std::string out = "{";
  for (const auto& [error, count] : errors) {
    if (out.size() > 1) out += ",";
    out += json_string(error) + ":" + std::to_string(count);
  }
  return out + "}";
}

void Run::stop_workers() {
  for (auto& worker : workers_) worker->ioc.stop();
  for (auto& worker : workers_) {
    if (!worker->thread.joinable()) continue;
    worker->thread.join();
    latency_.merge(worker->latency);
    connect_ms_.insert(connect_ms_.end(), worker->connect_ms.begin(), worker->connect_ms.end());
    for (const auto& [error, count] : worker->errors) errors_[error] += count;
  }
}

int Run::execute(std::ostream& out, std::ostream& err) {
  int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>());
  int total = subscribers + publishers + idle;
  progress_ =
      std::make_unique<Progress[]>(static_cast<std::size_t>(subscribers) * std::max(publishers, 1));
  gates_ = std::make_unique<Gate[]>(std::max(publishers, 1));
  for (int i = 0; i < total; ++i) {
    Worker& worker = *workers_[i % threads];
    Connection::Role role = i < subscribers                ? Connection::Role::kSubscriber
                            : i < subscribers + publishers ? Connection::Role::kPublisher
                                                           : Connection::Role::kIdle;
    int index = role == Connection::Role::kSubscriber  ? i
                : role == Connection::Role::kPublisher ? i - subscribers
                                                       : i - subscribers - publishers;
    connections_.push_back(std::make_unique<Connection>(*this, worker, role, index));
    worker.connections.push_back(connections_.back().get());
    if (role == Connection::Role::kPublisher) publishers_.push_back(connections_.back().get());
  }
  for (auto& worker : workers_) {
    arm_tick(*worker);
    worker->thread = std::thread([w = worker.get()] { w->ioc.run(); });
  }
  int status = 2;
  try {
    status = options.scenario == MqttScenario::kFanIn || options.scenario == MqttScenario::kFanOut
                 ? fan(out)
                 : hold(out, options.scenario == MqttScenario::kConnectStorm);
  } catch (const std::exception& e) {
    err << "offcloud-loadgen: " << e.what() << "\n";
  }
  stop_workers();
  return status;
}

int Run::fan(std::ostream& out) {
  const auto setup_deadline = [] { return Clock::now() + std::chrono::seconds(30); };
  // Subscribers first, so no message is published before they listen.
  open_range(0, subscribers, 0);
  wait_until([&] { return ready + failed >= subscribers; }, setup_deadline());
  open_range(subscribers, subscribers + publishers, 0);
  wait_until([&] { return ready + failed >= subscribers + publishers; }, setup_deadline());
  bool connected = ready.load() == subscribers + publishers;

  Clock::time_point started = Clock::now(), ended = started;
  double cpu_started = cpu_seconds(), cpu_ended = cpu_started;
  std::uint64_t in_window = 0;
  if (connected) {
    for (Connection* publisher : publishers_) {
      asio::post(publisher->context(), [publisher] { publisher->start_publishing(); });
    }
    auto deadline = started + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(options.duration_s));
    auto expected = [&] { return sum(&Connection::published) * subscribers; };
    if (options.messages > 0) {
      // Count-bound: until every message is delivered (or the time is up,
      // or 5 s pass after the last publish with some still missing).
      wait_until([&] { return publishers_done.load() >= publishers; }, deadline);
      wait_until([&] { return sum(&Connection::delivered) >= expected(); },
                 std::min(deadline, Clock::now() + std::chrono::seconds(5)));
    } else {
      std::this_thread::sleep_until(deadline);
    }
    ended = Clock::now();
    cpu_ended = cpu_seconds();
    in_window = sum(&Connection::delivered);
    stopping = true;
    // What is still on its way arrives (or is lost).
    wait_until(
        [&] {
          return publishers_done.load() >= publishers &&
                 sum(&Connection::delivered) >= expected() &&
                 (options.qos == 0 || sum(&Connection::acked) >= sum(&Connection::published));
        },
        Clock::now() + std::chrono::seconds(5));
  }
  close_all();
  stop_workers();

  double seconds = std::chrono::duration<double>(ended - started).count();
  std::uint64_t published_total = sum(&Connection::published);
  std::uint64_t delivered_total = sum(&Connection::delivered);
  std::uint64_t expected_total = published_total * subscribers;
  std::uint64_t lost = expected_total > delivered_total ? expected_total - delivered_total : 0;
  double rate = seconds > 0 ? in_window / seconds : 0;
  double client_cpu = seconds > 0 ? (cpu_ended - cpu_started) / seconds : 0;
  const char* transport = options.transport == MqttTransport::kTls ? "tls" : "tcp";
  char line[1024];
  if (options.json) {
    std::snprintf(
        line, sizeof line,
        "{\"workload\":\"%s\",\"transport\":\"%s\",\"qos\":%d,\"publishers\":%d,"
        "\"subscribers\":%d,\"size\":%zu,\"inflight\":%d,\"max_lag\":%d,\"threads\":%d,"
        "\"seconds\":%.3f,\"published\":%llu,\"delivered\":%llu,\"delivered_per_s\":%.1f,"
        "\"expected\":%llu,\"lost\":%llu,\"out_of_order\":%llu,\"foreign\":%llu,"
        "\"stalls\":%llu,"
        "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,"
        "\"connect_failures\":%d,\"dropped\":%d,\"client_cpu\":%.2f,",
        options.name.c_str(), transport, options.qos, publishers, subscribers,
        std::max(options.size, kPayloadHeader), options.inflight, options.max_lag, options.threads,
        seconds, static_cast<unsigned long long>(published_total),
        static_cast<unsigned long long>(delivered_total), rate,
        static_cast<unsigned long long>(expected_total), static_cast<unsigned long long>(lost),
        static_cast<unsigned long long>(sum(&Connection::out_of_order)),
        static_cast<unsigned long long>(sum(&Connection::foreign)),
        static_cast<unsigned long long>(sum(&Connection::stalls)), latency_.percentile_ms(0.5),
        latency_.percentile_ms(0.9), latency_.percentile_ms(0.99), latency_.max_ms(), failed.load(),
        dropped.load(), client_cpu);
    out << line << "\"errors\":" << errors_json(errors_) << "}\n";
  } else {
    std::snprintf(
        line, sizeof line,
        "workload %s over %s, QoS %d, %d publisher(s) to %d subscriber(s), %zu B\n"
        "delivered/s: %.1f (%llu delivered in %.2f s)\n"
        "published %llu, delivered %llu of %llu, lost %llu, out of order %llu, stalls %llu\n"
        "delivery latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n"
        "connections failed %d, dropped %d; client CPU %.2f cores\n",
        options.name.c_str(), transport, options.qos, publishers, subscribers,
        std::max(options.size, kPayloadHeader), rate, static_cast<unsigned long long>(in_window),
        seconds, static_cast<unsigned long long>(published_total),
        static_cast<unsigned long long>(delivered_total),
        static_cast<unsigned long long>(expected_total), static_cast<unsigned long long>(lost),
        static_cast<unsigned long long>(sum(&Connection::out_of_order)),
        static_cast<unsigned long long>(sum(&Connection::stalls)), latency_.percentile_ms(0.5),
        latency_.percentile_ms(0.9), latency_.percentile_ms(0.99), latency_.max_ms(), failed.load(),
        dropped.load(), client_cpu);
    out << line;
    for (const auto& [error, count] : errors_) out << "  " << count << " x " << error << "\n";
  }
  out.flush();
  bool ok = connected && failed == 0 && dropped == 0 && (options.qos == 0 || lost == 0);
  return ok ? 0 : 1;
}

int Run::hold(std::ostream& out, bool storm) {
  auto started = Clock::now();
  // The storm opens every connection at once and has the time given to
  // finish; idle connections open in batches, with a generous bound.
  open_range(0, idle, storm ? 0 : options.connect_parallelism);
  auto limit = storm ? std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(options.duration_s))
                     : std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(120));
  wait_until([&] { return ready + failed >= idle; }, started + limit);
  double connect_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  double held_seconds = 0;
  if (!storm) {
    char line[256];
    std::snprintf(line, sizeof line,
                  "{\"event\":\"holding\",\"connected\":%d,\"failed\":%d,"
                  "\"connect_seconds\":%.3f}\n",
                  ready.load(), failed.load(), connect_seconds);
    out << line;
    out.flush();
    auto holding = Clock::now();
    std::this_thread::sleep_until(holding + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(options.duration_s)));
    held_seconds = std::chrono::duration<double>(Clock::now() - holding).count();
  }
  int connected = ready.load();
  close_all();
  stop_workers();
  std::sort(connect_ms_.begin(), connect_ms_.end());
  auto percentile = [&](double q) {
    if (connect_ms_.empty()) return 0.0;
    auto rank = static_cast<std::size_t>(std::ceil(q * connect_ms_.size()));
    return connect_ms_[std::max<std::size_t>(rank, 1) - 1];
  };
  double max_ms = connect_ms_.empty() ? 0 : connect_ms_.back();
  char line[1024];
  if (options.json) {
    std::snprintf(line, sizeof line,
                  "{\"workload\":\"%s\",\"transport\":\"%s\",\"connections\":%d,"
                  "\"connected\":%d,\"failed\":%d,\"dropped\":%d,\"connect_seconds\":%.3f,"
                  "\"connects_per_s\":%.1f,\"held_seconds\":%.3f,\"p50_ms\":%.3f,"
                  "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,",
                  options.name.c_str(), options.transport == MqttTransport::kTls ? "tls" : "tcp",
                  idle, connected, idle - connected, dropped.load(), connect_seconds,
                  connect_seconds > 0 ? connected / connect_seconds : 0.0, held_seconds,
                  percentile(0.5), percentile(0.9), percentile(0.99), max_ms);
    out << line << "\"errors\":" << errors_json(errors_) << "}\n";
  } else {
    std::snprintf(line, sizeof line,
                  "workload %s: %d of %d connected in %.2f s%s\n"
                  "connect (TCP to CONNACK) ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n"
                  "dropped while held: %d\n",
                  options.name.c_str(), connected, idle, connect_seconds,
                  storm ? "" : (", held " + std::to_string(held_seconds) + " s").c_str(),
                  percentile(0.5), percentile(0.9), percentile(0.99), max_ms, dropped.load());
    out << line;
    for (const auto& [error, count] : errors_) out << "  " << count << " x " << error << "\n";
  }
  out.flush();
  return connected == idle && dropped == 0 ? 0 : 1;
}

}  // namespace

int run_mqtt_load(const MqttLoadOptions& options, std::ostream& out, std::ostream& err) {
  // One TLS context for every connection: the CA to verify the broker
  // against, and the one client certificate all present.
  std::unique_ptr<asio::ssl::context> tls;
  if (options.transport == MqttTransport::kTls) {
    try {
      if (options.ca_file.empty() || options.cert_file.empty() || options.key_file.empty()) {
        throw std::invalid_argument("mqtts:// needs --ca, --cert and --key (PEM files)");
      }
      tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
      SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
      tls->load_verify_file(options.ca_file);
      tls->use_certificate_chain_file(options.cert_file);
      tls->use_private_key_file(options.key_file, asio::ssl::context::pem);
      tls->set_verify_mode(asio::ssl::verify_peer);
    } catch (const std::exception& e) {
      err << "offcloud-loadgen: TLS setup: " << e.what() << "\n";
      return 2;
    }
  }
  int connections =
      options.scenario == MqttScenario::kIdle || options.scenario == MqttScenario::kConnectStorm
          ? options.connections
          : options.publishers + options.subscribers;
  // Every connection is a file descriptor: the soft limit goes up to the
  // hard one if need be.
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  rlim_t needed = static_cast<rlim_t>(connections) + 64;
  if (limit.rlim_cur < needed) {
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
      err << "offcloud-loadgen: " << connections << " connections need " << needed
          << " file descriptors; the hard limit is " << limit.rlim_max << " (ulimit -Hn)\n";
      return 2;
    }
    limit.rlim_cur = needed;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  tcp::endpoint endpoint;
  try {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(options.host, std::to_string(options.port));
    if (results.empty()) throw std::runtime_error("no address");
    endpoint = *results.begin();
  } catch (const std::exception& e) {
    err << "offcloud-loadgen: cannot resolve " << options.host << ": " << e.what() << "\n";
    return 2;
  }
  Run run(options, endpoint, tls.get());
  return run.execute(out, err);
}

}  // namespace offcloud::client

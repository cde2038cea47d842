// The broker's sessions through MqttSession, with a link that records what
// is sent: QoS 1 deliveries in flight until PUBACK, resent with DUP on
// resume, the in-flight window, and persistent sessions across a restart
// (a new broker and store on the same database).
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "emulator/mqtt/mqtt_broker.h"
#include "emulator/mqtt/mqtt_session_state.h"
#include "emulator/util/log.h"
#include "tests/unit/scratch_dir_test.h"

namespace offcloud {
namespace {

const AccountRegion kScope{"000000000000", "us-east-1"};

class RecordingLink : public MqttLink {
 public:
  void send(std::string bytes) override {
    std::lock_guard lock(mutex_);
    packets_.push_back(std::move(bytes));
  }
  void close() override {}
  std::vector<std::string> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(packets_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> packets_;
};

struct ClientOptions {
  int version = 4;
  bool clean = false;
  std::uint32_t expiry_s = 600;  // MQTT 5
  std::optional<std::uint16_t> receive_maximum;
};

ClientOptions with(int version, bool clean,
                   std::optional<std::uint16_t> receive_maximum = std::nullopt) {
  ClientOptions options;
  options.version = version;
  options.clean = clean;
  options.receive_maximum = receive_maximum;
  return options;
}

// One client connection.
class Client {
 public:
  Client(MqttBroker& broker, const std::string& client_id, ClientOptions options = {})
      : version_(options.version),
        session_(std::make_shared<MqttSession>(broker, link_, "127.0.0.1:50000")) {
    mqtt::Connect connect;
    connect.protocol_version = options.version;
    connect.clean_start = options.clean;
    connect.keep_alive_s = 60;
    connect.client_id = client_id;
    connect.username = "test";
    connect.password = "test";
    if (options.version == 5) {
      if (options.expiry_s) connect.properties.session_expiry_interval = options.expiry_s;
      connect.properties.receive_maximum = options.receive_maximum;
    }
    EXPECT_TRUE(session_->on_bytes(mqtt::encode_connect(connect)));
    std::vector<std::string> packets = link_->take();
    EXPECT_FALSE(packets.empty());
    EXPECT_EQ(packets[0][0], '\x20');  // CONNACK
    session_present_ = (packets[0][2] & 1) != 0;
    for (std::size_t i = 1; i < packets.size(); ++i) pending_.push_back(packets[i]);
  }
  ~Client() { close(); }

  bool session_present() const { return session_present_; }

  void subscribe(const std::string& filter) {
    mqtt::Subscribe subscribe;
    subscribe.packet_id = 1;
    subscribe.topics.push_back({filter, 1});
    EXPECT_TRUE(session_->on_bytes(mqtt::encode_subscribe(version_, subscribe)));
    std::vector<std::string> packets = link_->take();
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(packets[0][0], '\x90');  // SUBACK
  }
  void puback(std::uint16_t id) {
    std::string ack = {'\x40', '\x02', static_cast<char>(id >> 8), static_cast<char>(id & 0xFF)};
    EXPECT_TRUE(session_->on_bytes(ack));
  }
  // The PUBLISH packets sent since the last call.
  std::vector<mqtt::Publish> publishes() {
    std::vector<std::string> packets = std::exchange(pending_, {});
    for (std::string& packet : link_->take()) packets.push_back(std::move(packet));
    std::vector<mqtt::Publish> out;
    for (const std::string& bytes : packets) {
      auto header = std::get<mqtt::FixedHeader>(mqtt::read_fixed_header(bytes));
      EXPECT_EQ(header.type(), mqtt::PacketType::kPublish);
      auto decoded =
          mqtt::decode(header, std::string_view(bytes).substr(header.header_size), version_);
      out.push_back(std::get<mqtt::Publish>(std::get<mqtt::Packet>(decoded)));
    }
    return out;
  }
  // The connection ends without DISCONNECT.
  void close() {
    if (closed_) return;
    closed_ = true;
    session_->on_closed();
  }

 private:
  int version_;
  std::shared_ptr<RecordingLink> link_ = std::make_shared<RecordingLink>();
  std::shared_ptr<MqttSession> session_;
  bool session_present_ = false;
  bool closed_ = false;
  std::vector<std::string> pending_;
};

class MqttSessionTest : public ScratchDirTest {
 protected:
  void SetUp() override {
    ScratchDirTest::SetUp();
    retained_ = std::make_unique<RetainedStore>(db());
    start();
  }
  void TearDown() override {
    broker_.reset();
    store_.reset();
    ScratchDirTest::TearDown();
  }
  void start() {
    store_ = std::make_unique<MqttSessionStore>(db());
    MqttBroker::Options options;
    options.sessions = store_.get();
    broker_ = std::make_unique<MqttBroker>(bus_, *retained_, credentials_, options);
  }
  // As offcloud stopping and starting on the same data dir.
  void restart() {
    broker_.reset();
    store_.reset();
    start();
  }
  void publish(const std::string& topic, const std::string& payload,
               std::shared_ptr<PublishReceipt> receipt = nullptr) {
    Message message;
    message.scope = kScope;
    message.topic = topic;
    message.payload = payload;
    message.qos = 1;
    message.timestamp_ms = now_ms();
    message.receipt = std::move(receipt);
    bus_.publish(message);
  }
  std::pair<std::size_t, std::size_t> counts(const std::string& client_id) {
    auto state = broker_->find_state(kScope, client_id);
    return state ? state->pending_counts() : std::pair<std::size_t, std::size_t>{};
  }

  MessageBus bus_;
  CredentialStore credentials_;
  std::unique_ptr<RetainedStore> retained_;
  std::unique_ptr<MqttSessionStore> store_;
  std::unique_ptr<MqttBroker> broker_;
};

using Pair = std::pair<std::size_t, std::size_t>;

TEST_F(MqttSessionTest, Qos1StaysInFlightUntilPubackAndGoesAgainWithDup) {
  std::uint16_t second_id = 0;
  {
    Client a(*broker_, "dev");
    a.subscribe("t/#");
    publish("t/1", "one");
    publish("t/2", "two");
    std::vector<mqtt::Publish> sent = a.publishes();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_FALSE(sent[0].dup);
    EXPECT_EQ(sent[0].qos, 1);
    EXPECT_NE(sent[0].packet_id, sent[1].packet_id);
    a.puback(sent[0].packet_id);
    EXPECT_EQ(counts("dev"), Pair(1, 0));
    second_id = sent[1].packet_id;
  }                         // the connection drops
  publish("t/3", "three");  // queued for the session
  Client b(*broker_, "dev");
  EXPECT_TRUE(b.session_present());
  std::vector<mqtt::Publish> sent = b.publishes();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].payload, "two");  // what was in flight first
  EXPECT_TRUE(sent[0].dup);
  EXPECT_EQ(sent[0].packet_id, second_id);
  EXPECT_EQ(sent[1].payload, "three");
  EXPECT_FALSE(sent[1].dup);
  b.puback(4242);  // unknown: ignored
  EXPECT_EQ(counts("dev"), Pair(2, 0));
  b.puback(sent[0].packet_id);
  b.puback(sent[1].packet_id);
  EXPECT_EQ(counts("dev"), Pair(0, 0));
  EXPECT_TRUE(b.publishes().empty());
}

TEST_F(MqttSessionTest, InFlightIsBoundedByReceiveMaximumThenQueued) {
  Client small(*broker_, "small", with(5, true, 3));
  small.subscribe("w/#");
  for (int i = 0; i < 10; ++i) publish("w/" + std::to_string(i), std::to_string(i));
  std::vector<mqtt::Publish> sent = small.publishes();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(counts("small"), Pair(3, 7));
  small.puback(sent[1].packet_id);
  sent = small.publishes();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].payload, "3");  // in order
  EXPECT_EQ(counts("small"), Pair(3, 6));
}

TEST_F(MqttSessionTest, AwsQuotasBoundInFlightAndQueued) {
  Client greedy(*broker_, "greedy", with(4, true));
  greedy.subscribe("q/#");
  // A connected client that does not acknowledge: 100 in flight, then a
  // backlog of kMaxQueuedWhileConnected, then the rest dropped.
  std::size_t sent = MqttLimits::kMaxInFlightMessages + MqttLimits::kMaxQueuedWhileConnected + 50;
  for (std::size_t i = 0; i < sent; ++i) publish("q/x", std::to_string(i));
  EXPECT_EQ(greedy.publishes().size(), MqttLimits::kMaxInFlightMessages);
  EXPECT_EQ(counts("greedy"),
            Pair(MqttLimits::kMaxInFlightMessages, MqttLimits::kMaxQueuedWhileConnected));
}

TEST_F(MqttSessionTest, AnOfflineSessionKeepsAwsHundred) {
  {
    Client away(*broker_, "away", with(4, false));
    away.subscribe("q/#");
  }
  for (int i = 0; i < 150; ++i) publish("q/x", std::to_string(i));
  EXPECT_EQ(counts("away"), Pair(std::size_t{0}, MqttLimits::kMaxQueuedMessages));
}

TEST_F(MqttSessionTest, CleanStartForgetsWhatWasInFlight) {
  {
    Client a(*broker_, "dev");
    a.subscribe("t/#");
    publish("t/1", "one");
    EXPECT_EQ(a.publishes().size(), 1u);
  }
  Client b(*broker_, "dev", with(4, true));
  EXPECT_FALSE(b.session_present());
  EXPECT_TRUE(b.publishes().empty());
  store_->flush();
  EXPECT_TRUE(store_->load().empty());  // a clean session is not kept
}

TEST_F(MqttSessionTest, PersistentSessionSurvivesARestart) {
  std::uint16_t in_flight_id = 0;
  {
    Client a(*broker_, "dev", with(5, false));
    a.subscribe("t/#");
    publish("t/1", "sent, not acknowledged");
    std::vector<mqtt::Publish> sent = a.publishes();
    ASSERT_EQ(sent.size(), 1u);
    in_flight_id = sent[0].packet_id;
  }
  // The publisher of a message queued for the offline session is answered
  // once it is durable.
  std::optional<bool> answered;
  auto receipt = std::make_shared<PublishReceipt>([&](bool written) { answered = written; });
  publish("t/2", "queued", std::move(receipt));
  store_->flush();
  EXPECT_EQ(answered, true);

  restart();
  publish("t/3", "published after the restart");  // the subscription is back on the bus
  Client b(*broker_, "dev", with(4, false));
  EXPECT_TRUE(b.session_present());
  std::vector<mqtt::Publish> sent = b.publishes();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].payload, "sent, not acknowledged");
  EXPECT_TRUE(sent[0].dup);
  EXPECT_EQ(sent[0].packet_id, in_flight_id);
  EXPECT_EQ(sent[1].payload, "queued");
  EXPECT_EQ(sent[2].payload, "published after the restart");
  for (const mqtt::Publish& publish : sent) b.puback(publish.packet_id);
  b.close();
  store_->flush();
  std::vector<StoredMqttSession> stored = store_->load();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_TRUE(stored[0].messages.empty());  // acknowledged: gone
  EXPECT_EQ(stored[0].subscriptions.size(), 1u);
  EXPECT_TRUE(stored[0].record.expires_at_ms);
}

TEST_F(MqttSessionTest, Mqtt5PropertiesSurviveTheQueue) {
  {
    Client a(*broker_, "dev", with(5, false));
    a.subscribe("t/#");
  }
  Message message;
  message.scope = kScope;
  message.topic = "t/props";
  message.payload = "{}";
  message.qos = 1;
  message.timestamp_ms = now_ms();
  message.content_type = "application/json";
  message.correlation_data = std::string("\x01\x00", 2);
  message.user_properties = R"([{"k":"v"}])";
  message.message_expiry_s = 3600;
  bus_.publish(message);
  restart();
  Client b(*broker_, "dev", with(5, false));
  std::vector<mqtt::Publish> sent = b.publishes();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].properties.content_type, "application/json");
  EXPECT_EQ(sent[0].properties.correlation_data, std::string("\x01\x00", 2));
  ASSERT_EQ(sent[0].properties.user_properties.size(), 1u);
  EXPECT_EQ(sent[0].properties.user_properties[0].first, "k");
  ASSERT_TRUE(sent[0].properties.message_expiry_interval);
  EXPECT_LE(*sent[0].properties.message_expiry_interval, 3600u);
  EXPECT_GE(*sent[0].properties.message_expiry_interval, 3590u);
}

TEST_F(MqttSessionTest, ExpiredSessionsAreErasedAtStart) {
  MqttSessionKey gone{kScope.account_id, kScope.region, "gone"};
  MqttSessionKey kept{kScope.account_id, kScope.region, "kept"};
  std::string credential = broker_->credential_of(account_root(kScope.account_id, "test"));
  store_->put_session({gone, credential, 4, 60, now_ms() - 1000});
  store_->put_message(gone, {1, now_ms(), "not a packet"});
  store_->put_session({kept, credential, 4, 60, now_ms() + 60000});
  restart();
  store_->flush();
  std::vector<StoredMqttSession> stored = store_->load();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].record.key.client_id, "kept");
  EXPECT_FALSE(Client(*broker_, "gone").session_present());
  EXPECT_TRUE(Client(*broker_, "kept").session_present());
}

TEST_F(MqttSessionTest, ASessionHeldAtACrashExpiresFromTheRestart) {
  MqttSessionKey key{kScope.account_id, kScope.region, "held"};
  std::string credential = broker_->credential_of(account_root(kScope.account_id, "test"));
  store_->put_session({key, credential, 4, 60, std::nullopt});
  restart();
  store_->flush();
  std::vector<StoredMqttSession> stored = store_->load();
  ASSERT_EQ(stored.size(), 1u);
  ASSERT_TRUE(stored[0].record.expires_at_ms);
  EXPECT_GT(*stored[0].record.expires_at_ms, now_ms() + 50000);
}

TEST_F(MqttSessionTest, CredentialsFindTheirPrincipalAgain) {
  Principal root = account_root(kScope.account_id, "test");
  auto found = broker_->principal_of(broker_->credential_of(root), kScope);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->arn, root.arn);
  EXPECT_FALSE(broker_->principal_of(broker_->credential_of(root), {"111122223333", "us-east-1"}));
  Principal device;
  device.certificate_id = "abc";
  // No registry: no certificate is known.
  EXPECT_FALSE(broker_->principal_of(broker_->credential_of(device), kScope));
  EXPECT_FALSE(broker_->principal_of("not json", kScope));
}

}  // namespace
}  // namespace offcloud

#include "storage/mqtt_session_store.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "tests/unit/scratch_dir_test.h"

namespace offcloud {
namespace {

class MqttSessionStoreTest : public ScratchDirTest {};

const MqttSessionKey kKey{"000000000000", "us-east-1", "device-1"};

MqttSessionRecord record(const MqttSessionKey& key, std::optional<std::int64_t> expires_at_ms) {
  return {key, "{\"access_key_id\":\"test\"}", 5, 3600, expires_at_ms};
}

TEST_F(MqttSessionStoreTest, SessionsSubscriptionsAndMessagesSurviveReopen) {
  {
    MqttSessionStore store(db());
    store.put_session(record(kKey, std::nullopt));
    store.put_subscription(kKey, "a/#", "opts-1");
    store.put_subscription(kKey, "b/+", "opts-2");
    store.put_subscription(kKey, "a/#", "opts-3");  // replaces
    store.erase_subscription(kKey, "b/+");
    store.put_message(kKey, {2, 200, std::string("bin\0ary", 7)});
    store.put_message(kKey, {1, 100, "first"});
    store.put_message(kKey, {3, 300, "third"});
    store.erase_message(kKey, 3);
    store.put_message(kKey, {1, 100, "first, sent"});  // replaces
    store.put_session(record(kKey, 123456));           // the row again: what it holds stays
  }                                                    // the destructor commits what is queued
  MqttSessionStore store(db());
  std::vector<StoredMqttSession> sessions = store.load();
  ASSERT_EQ(sessions.size(), 1u);
  const StoredMqttSession& session = sessions[0];
  EXPECT_EQ(session.record.key, kKey);
  EXPECT_EQ(session.record.credential, "{\"access_key_id\":\"test\"}");
  EXPECT_EQ(session.record.protocol_version, 5);
  EXPECT_EQ(session.record.expiry_s, 3600);
  EXPECT_EQ(session.record.expires_at_ms, 123456);
  ASSERT_EQ(session.subscriptions.size(), 1u);
  EXPECT_EQ(session.subscriptions[0], std::make_pair(std::string("a/#"), std::string("opts-3")));
  ASSERT_EQ(session.messages.size(), 2u);
  EXPECT_EQ(session.messages[0].seq, 1);
  EXPECT_EQ(session.messages[0].data, "first, sent");
  EXPECT_EQ(session.messages[1].seq, 2);
  EXPECT_EQ(session.messages[1].received_ms, 200);
  EXPECT_EQ(session.messages[1].data, std::string("bin\0ary", 7));
}

TEST_F(MqttSessionStoreTest, EraseSessionTakesEverythingOfItsKeyOnly) {
  MqttSessionStore store(db());
  MqttSessionKey other{"111122223333", "us-east-1", "device-1"};   // another account
  MqttSessionKey region{"000000000000", "eu-west-1", "device-1"};  // another region
  for (const MqttSessionKey& key : {kKey, other, region}) {
    store.put_session(record(key, std::nullopt));
    store.put_subscription(key, "t", "o");
    store.put_message(key, {1, 1, "m"});
  }
  store.erase_session(kKey);
  std::vector<StoredMqttSession> sessions = store.load();
  ASSERT_EQ(sessions.size(), 2u);
  for (const StoredMqttSession& session : sessions) {
    EXPECT_NE(session.record.key, kKey);
    EXPECT_EQ(session.subscriptions.size(), 1u);
    EXPECT_EQ(session.messages.size(), 1u);
  }
  EXPECT_FALSE(sessions[0].record.expires_at_ms);
}

TEST_F(MqttSessionStoreTest, WritesForAnErasedSessionAreDroppedOnOpen) {
  {
    MqttSessionStore store(db());
    store.put_session(record(kKey, std::nullopt));
    store.erase_session(kKey);
    // A publisher that raced the session's end.
    store.put_message(kKey, {7, 1, "late"});
    store.put_subscription(kKey, "t", "o");
    ASSERT_TRUE(store.flush());
    EXPECT_TRUE(store.load().empty());
  }
  MqttSessionStore store(db());
  EXPECT_TRUE(store.load().empty());
  // The session made again starts without the orphans.
  store.put_session(record(kKey, std::nullopt));
  std::vector<StoredMqttSession> sessions = store.load();
  ASSERT_EQ(sessions.size(), 1u);
  EXPECT_TRUE(sessions[0].messages.empty());
  EXPECT_TRUE(sessions[0].subscriptions.empty());
}

TEST_F(MqttSessionStoreTest, DoneRunsOnceDurableForConcurrentWriters) {
  std::atomic<int> durable{0};
  {
    MqttSessionStore store(db());
    std::vector<std::thread> writers;
    for (int t = 0; t < 8; ++t) {
      writers.emplace_back([&, t] {
        MqttSessionKey key{"000000000000", "us-east-1", "c" + std::to_string(t)};
        store.put_session(record(key, std::nullopt));
        for (int i = 1; i <= 50; ++i) {
          store.put_message(key, {i, i, "m"}, [&](bool ok) {
            if (ok) ++durable;
          });
        }
      });
    }
    for (auto& writer : writers) writer.join();
    EXPECT_TRUE(store.flush());
    EXPECT_EQ(durable.load(), 400);
  }
  MqttSessionStore store(db());
  std::vector<StoredMqttSession> sessions = store.load();
  ASSERT_EQ(sessions.size(), 8u);
  for (const StoredMqttSession& session : sessions) {
    ASSERT_EQ(session.messages.size(), 50u);
    EXPECT_EQ(session.messages.front().seq, 1);
    EXPECT_EQ(session.messages.back().seq, 50);
  }
}

}  // namespace
}  // namespace offcloud

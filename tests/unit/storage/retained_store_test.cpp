#include "storage/retained_store.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/unit/scratch_dir_test.h"

namespace offcloud {
namespace {

constexpr const char* kA = "000000000000";
constexpr const char* kR = "us-east-1";

class RetainedStoreTest : public ScratchDirTest {};

TEST_F(RetainedStoreTest, PutGetEraseAndSurviveReopen) {
  {
    RetainedStore store(db());
    store.put({kA, kR, "a/b", std::string("bin\0ary", 7), 1, "[{\"k\":\"v\"}]", 1000});
    store.put({kA, kR, "a/c", "second", 0, std::nullopt, 2000});
    store.put({kA, kR, "a/c", "replaced", 1, std::nullopt, 3000});
    store.erase(kA, kR, "missing");
  }
  RetainedStore store(db());
  auto message = store.get(kA, kR, "a/b");
  ASSERT_TRUE(message);
  EXPECT_EQ(message->payload, std::string("bin\0ary", 7));
  EXPECT_EQ(message->qos, 1);
  EXPECT_EQ(message->user_properties, "[{\"k\":\"v\"}]");
  EXPECT_EQ(store.get(kA, kR, "a/c")->payload, "replaced");
  store.erase(kA, kR, "a/b");
  EXPECT_FALSE(store.get(kA, kR, "a/b"));
}

TEST_F(RetainedStoreTest, ListsInPagesInTopicOrder) {
  RetainedStore store(db());
  for (const char* topic : {"t/3", "t/1", "t/2", "t/5", "t/4"}) {
    store.put({kA, kR, topic, std::string(10, 'x'), 0, std::nullopt, 1});
  }
  RetainedPage first = store.list(kA, kR, "", 2);
  ASSERT_EQ(first.messages.size(), 2u);
  EXPECT_EQ(first.messages[0].topic, "t/1");
  EXPECT_EQ(first.messages[0].payload_size, 10);
  ASSERT_TRUE(first.next_topic);
  RetainedPage second = store.list(kA, kR, *first.next_topic, 2);
  EXPECT_EQ(second.messages[0].topic, "t/3");
  RetainedPage last = store.list(kA, kR, *second.next_topic, 2);
  ASSERT_EQ(last.messages.size(), 1u);
  EXPECT_EQ(last.messages[0].topic, "t/5");
  EXPECT_FALSE(last.next_topic);
}

TEST_F(RetainedStoreTest, EachAccountAndRegionRetainsItsOwn) {
  RetainedStore store(db());
  store.put({kA, kR, "t", "default", 0, std::nullopt, 1});
  store.put({"111122223333", kR, "t", "other account", 0, std::nullopt, 1});
  store.put({kA, "ap-northeast-1", "t", "other region", 0, std::nullopt, 1});
  EXPECT_EQ(store.get(kA, kR, "t")->payload, "default");
  EXPECT_EQ(store.get("111122223333", kR, "t")->payload, "other account");
  EXPECT_EQ(store.get(kA, "ap-northeast-1", "t")->payload, "other region");
  EXPECT_EQ(store.list(kA, kR, "", 10).messages.size(), 1u);
  store.erase("111122223333", kR, "t");
  EXPECT_FALSE(store.get("111122223333", kR, "t"));
  EXPECT_TRUE(store.get(kA, kR, "t"));
}

TEST_F(RetainedStoreTest, MessagesRetainedBeforeAccountsOpenInTheDefaultAccount) {
  {
    Database old(db());
    old.exec(
        "CREATE TABLE retained_message (topic TEXT PRIMARY KEY, payload BLOB NOT NULL,"
        " qos INTEGER NOT NULL, user_properties TEXT, last_modified_ms INTEGER NOT NULL)"
        " WITHOUT ROWID;"
        "INSERT INTO retained_message VALUES ('a/b', 'old', 1, NULL, 42)");
  }
  RetainedStore store(db());
  auto message = store.get(kA, kR, "a/b");
  ASSERT_TRUE(message);
  EXPECT_EQ(message->payload, "old");
  EXPECT_EQ(message->qos, 1);
  EXPECT_EQ(message->last_modified_ms, 42);
}

}  // namespace
}  // namespace offcloud

#include "storage/retained_store.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/unit/scratch_dir_test.h"

namespace offcloud {
namespace {

class RetainedStoreTest : public ScratchDirTest {};

TEST_F(RetainedStoreTest, PutGetEraseAndSurviveReopen) {
  {
    RetainedStore store(db());
    store.put({"a/b", std::string("bin\0ary", 7), 1, "[{\"k\":\"v\"}]", 1000});
    store.put({"a/c", "second", 0, std::nullopt, 2000});
    store.put({"a/c", "replaced", 1, std::nullopt, 3000});
    store.erase("missing");
  }
  RetainedStore store(db());
  auto message = store.get("a/b");
  ASSERT_TRUE(message);
  EXPECT_EQ(message->payload, std::string("bin\0ary", 7));
  EXPECT_EQ(message->qos, 1);
  EXPECT_EQ(message->user_properties, "[{\"k\":\"v\"}]");
  EXPECT_EQ(store.get("a/c")->payload, "replaced");
  store.erase("a/b");
  EXPECT_FALSE(store.get("a/b"));
}

TEST_F(RetainedStoreTest, ListsInPagesInTopicOrder) {
  RetainedStore store(db());
  for (const char* topic : {"t/3", "t/1", "t/2", "t/5", "t/4"}) {
    store.put({topic, std::string(10, 'x'), 0, std::nullopt, 1});
  }
  RetainedPage first = store.list("", 2);
  ASSERT_EQ(first.messages.size(), 2u);
  EXPECT_EQ(first.messages[0].topic, "t/1");
  EXPECT_EQ(first.messages[0].payload_size, 10);
  ASSERT_TRUE(first.next_topic);
  RetainedPage second = store.list(*first.next_topic, 2);
  EXPECT_EQ(second.messages[0].topic, "t/3");
  RetainedPage last = store.list(*second.next_topic, 2);
  ASSERT_EQ(last.messages.size(), 1u);
  EXPECT_EQ(last.messages[0].topic, "t/5");
  EXPECT_FALSE(last.next_topic);
}

}  // namespace
}  // namespace offcloud

#include "rules/flow_counters.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace offcloud {
namespace {

const AccountRegion kTokyo{"111122223333", "ap-northeast-1"};
const AccountRegion kOregon{"111122223333", "us-west-2"};

TEST(FlowCountersTest, CountsMessagesPerTopicInTheirScopeOnly) {
  FlowCounters counters;
  counters.count_message(kTokyo, "handson/analysisLogData", 10);
  counters.count_message(kTokyo, "handson/analysisLogData", 5);
  counters.count_message(kTokyo, "other", 1);
  counters.count_message(kOregon, "handson/analysisLogData", 7);
  FlowCounters::Snapshot tokyo = counters.snapshot(kTokyo, 10);
  ASSERT_EQ(tokyo.topics.size(), 2u);
  EXPECT_EQ(tokyo.topics[0].topic, "handson/analysisLogData");  // the busiest first
  EXPECT_EQ(tokyo.topics[0].messages, 2u);
  EXPECT_EQ(tokyo.topics[0].bytes, 15u);
  EXPECT_GT(tokyo.topics[0].last_ms, 0);
  EXPECT_EQ(tokyo.messages, 3u);
  EXPECT_EQ(tokyo.other_messages, 0u);
  EXPECT_EQ(counters.snapshot(kOregon, 10).messages, 1u);
  EXPECT_TRUE(counters.snapshot({"444455556666", "ap-northeast-1"}, 10).topics.empty());
}

TEST(FlowCountersTest, ShowsTheTopTopicsAndCountsTheRestTogether) {
  FlowCounters counters;
  for (int i = 0; i < 5; ++i) {
    for (int n = 0; n <= i; ++n) counters.count_message(kTokyo, "t/" + std::to_string(i), 1);
  }
  FlowCounters::Snapshot snapshot = counters.snapshot(kTokyo, 2);
  ASSERT_EQ(snapshot.topics.size(), 2u);
  EXPECT_EQ(snapshot.topics[0].topic, "t/4");
  EXPECT_EQ(snapshot.topics[1].topic, "t/3");
  EXPECT_EQ(snapshot.topics_counted, 5u);
  EXPECT_EQ(snapshot.messages, 15u);
  EXPECT_EQ(snapshot.other_messages, 1u + 2u + 3u);
}

TEST(FlowCountersTest, StaysBoundedWhenTopicsNeverRepeat) {
  FlowCounters counters;
  const int kTopics = 5000;
  for (int i = 0; i < kTopics; ++i)
    counters.count_message(kTokyo, "device/" + std::to_string(i), 1);
  FlowCounters::Snapshot snapshot = counters.snapshot(kTokyo, 1000);
  EXPECT_LE(snapshot.topics_counted, FlowCounters::kTopicsPerScope);
  EXPECT_GT(snapshot.topics_counted, FlowCounters::kTopicsPerScope / 2);
  EXPECT_EQ(snapshot.messages, static_cast<std::uint64_t>(kTopics));  // none lost
  EXPECT_EQ(snapshot.messages - snapshot.other_messages, snapshot.topics_counted);
}

TEST(FlowCountersTest, RulesAndStreamsKeepTheirCounterByName) {
  FlowCounters counters;
  RuleCounter* rule = counters.rule(kTokyo, "handsonRule");
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(counters.rule(kTokyo, "handsonRule"), rule);  // made again: the same counter
  EXPECT_NE(counters.rule(kOregon, "handsonRule"), rule);
  rule->matched();
  rule->matched();
  rule->failed();
  StreamCounter* stream = counters.stream(kTokyo, "handson-stream");
  ASSERT_NE(stream, nullptr);
  stream->received(3, 300);
  stream->buffered(3, 300);
  stream->delivered(310, 1234);
  stream->buffered(0, 0);
  FlowCounters::Snapshot snapshot = counters.snapshot(kTokyo, 10);
  ASSERT_EQ(snapshot.rules.size(), 1u);
  EXPECT_EQ(snapshot.rules[0].name, "handsonRule");
  EXPECT_EQ(snapshot.rules[0].matches, 2u);
  EXPECT_EQ(snapshot.rules[0].errors, 1u);
  EXPECT_GT(snapshot.rules[0].last_error_ms, 0);
  ASSERT_EQ(snapshot.streams.size(), 1u);
  EXPECT_EQ(snapshot.streams[0].records_in, 3u);
  EXPECT_EQ(snapshot.streams[0].bytes_in, 300u);
  EXPECT_EQ(snapshot.streams[0].records_buffered, 0u);
  EXPECT_EQ(snapshot.streams[0].objects, 1u);
  EXPECT_EQ(snapshot.streams[0].object_bytes, 310u);
  EXPECT_EQ(snapshot.streams[0].last_delivery_ms, 1234);
}

TEST(FlowCountersTest, CountsFromManyThreadsWithoutLosingOne) {
  FlowCounters counters;
  const int kThreads = 4, kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        // Every thread adds the same new topics at once, racing for slots.
        counters.count_message(kTokyo, "race/" + std::to_string(i % 100), 1);
        if (i % 1000 == 0) counters.count_message({"a" + std::to_string(t), "r"}, "x", 1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  FlowCounters::Snapshot snapshot = counters.snapshot(kTokyo, 1000);
  EXPECT_EQ(snapshot.topics_counted, 100u);  // each topic once, however many raced
  EXPECT_EQ(snapshot.messages, static_cast<std::uint64_t>(kThreads * kEach));
  for (const auto& topic : snapshot.topics) {
    EXPECT_EQ(topic.messages, static_cast<std::uint64_t>(kThreads * kEach / 100)) << topic.topic;
  }
}

}  // namespace
}  // namespace offcloud

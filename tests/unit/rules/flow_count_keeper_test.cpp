#include "rules/flow_count_keeper.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/unit/scratch_dir_test.h"

namespace offcloud {
namespace {

const AccountRegion kTokyo{"111122223333", "ap-northeast-1"};

class FlowCountKeeperTest : public ScratchDirTest {};

// The hands-on's flow counted once: three messages, their rule, their stream.
void count_the_hands_on(FlowCounters& counters) {
  for (int i = 0; i < 3; ++i) counters.count_message(kTokyo, "handson/analysisLogData", 100);
  RuleCounter* rule = counters.rule(kTokyo, "handsonRule");
  for (int i = 0; i < 3; ++i) rule->matched();
  rule->failed();
  StreamCounter* stream = counters.stream(kTokyo, "handson-stream");
  stream->received(3, 300);
  stream->buffered(3, 300);
  stream->delivered(300, 1234);
  stream->buffered(0, 0);
}

TEST_F(FlowCountKeeperTest, CountsComeBackAfterARestartButNotWhatWasBuffered) {
  {
    FlowCounters counters;
    FlowCountKeeper keeper(counters, db(), nullptr);
    count_the_hands_on(counters);
    counters.stream(kTokyo, "handson-stream")->buffered(2, 20);  // waiting at the stop
    keeper.stop();
  }
  FlowCounters counters;
  FlowCountKeeper keeper(counters, db(), nullptr);
  FlowCounters::Snapshot tokyo = counters.snapshot(kTokyo, 10);
  ASSERT_EQ(tokyo.topics.size(), 1u);
  EXPECT_EQ(tokyo.topics[0].messages, 3u);
  EXPECT_EQ(tokyo.topics[0].bytes, 300u);
  EXPECT_GT(tokyo.topics[0].last_ms, 0);
  ASSERT_EQ(tokyo.rules.size(), 1u);
  EXPECT_EQ(tokyo.rules[0].matches, 3u);
  EXPECT_EQ(tokyo.rules[0].errors, 1u);
  EXPECT_GT(tokyo.rules[0].last_error_ms, 0);
  ASSERT_EQ(tokyo.streams.size(), 1u);
  EXPECT_EQ(tokyo.streams[0].records_in, 3u);
  EXPECT_EQ(tokyo.streams[0].objects, 1u);
  EXPECT_EQ(tokyo.streams[0].object_bytes, 300u);
  EXPECT_EQ(tokyo.streams[0].last_delivery_ms, 1234);
  // The stream tells what it holds when it starts again, not the keeper.
  EXPECT_EQ(tokyo.streams[0].records_buffered, 0u);
  // Counting goes on from there.
  counters.count_message(kTokyo, "handson/analysisLogData", 1);
  EXPECT_EQ(counters.snapshot(kTokyo, 10).topics[0].messages, 4u);
}

TEST_F(FlowCountKeeperTest, SavesWhileRunningOnlyWhatChanged) {
  FlowCounters counters;
  FlowCountKeeper keeper(counters, db(), nullptr, std::chrono::milliseconds(10));
  count_the_hands_on(counters);
  // Read back by a second store on the same file, as a restart after a
  // kill would: the thread saved without stop().
  FlowCountStore reader(db());
  auto saved = [&] {
    std::vector<FlowCountRow> rows = reader.load();
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.kind < b.kind; });
    return rows;
  };
  for (int i = 0; i < 500 && saved().size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::vector<FlowCountRow> rows = saved();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].kind, FlowCountRow::Kind::kTopic);
  EXPECT_EQ(rows[0].counts[0], 3u);
  EXPECT_EQ(rows[2].kind, FlowCountRow::Kind::kStream);
  EXPECT_EQ(rows[2].counts[2], 1u);
  counters.count_message(kTokyo, "handson/analysisLogData", 1);
  for (int i = 0; i < 500 && saved()[0].counts[0] != 4u; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(saved()[0].counts[0], 4u);
}

TEST_F(FlowCountKeeperTest, MessagesPastTheTopicsRoomStayCountedAsOther) {
  {
    FlowCounters counters;
    FlowCountKeeper keeper(counters, db(), nullptr);
    for (std::size_t i = 0; i < FlowCounters::kTopicsPerScope + 50; ++i) {
      counters.count_message(kTokyo, "t/" + std::to_string(i), 1);
    }
  }  // the destructor saves
  FlowCounters counters;
  FlowCountKeeper keeper(counters, db(), nullptr);
  FlowCounters::Snapshot tokyo = counters.snapshot(kTokyo, 0);
  EXPECT_EQ(tokyo.messages, FlowCounters::kTopicsPerScope + 50);
}

}  // namespace
}  // namespace offcloud

#include "emulator/activity/live_feed.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace offcloud {
namespace {

using json = nlohmann::json;

// Records what the feed sends, as the WebSocket would write it.
class FakeChannel : public MessageChannel {
 public:
  void send(std::string bytes) override { sent.push_back(json::parse(bytes)); }
  void close() override { closed = true; }
  std::vector<json> sent;
  bool closed = false;
};

ActivityEntry entry(const std::string& account, const std::string& arn) {
  ActivityEntry e;
  e.account_id = account;
  e.caller_arn = arn;
  e.service = "s3";
  e.operation = "ListBuckets";
  e.status = 200;
  return e;
}

const std::string kAlice = "111122223333";
const std::string kAliceRoot = "arn:aws:iam::111122223333:root";
const std::string kStudent = "arn:aws:iam::111122223333:user/student";

LiveSubscription viewer_of(const std::string& account, const std::string& arn, bool root) {
  Principal principal;
  principal.account_id = account;
  principal.arn = arn;
  principal.is_root = root;
  LiveSubscription subscription;
  subscription.viewer = ActivityViewer::of(principal);
  return subscription;
}

TEST(LiveFeedTest, SendsHelloThenWhatTheViewerMaySeeAfterIt) {
  ActivityLog log;
  log.record(entry(kAlice, kAliceRoot));  // before: not sent without `after`
  LiveFeed feed(log, nullptr);
  auto channel = std::make_shared<FakeChannel>();
  auto handler = feed.open(channel, viewer_of(kAlice, kStudent, false));
  ASSERT_EQ(channel->sent.size(), 1u);
  EXPECT_EQ(channel->sent[0]["type"], "hello");
  EXPECT_EQ(channel->sent[0]["last_seq"], 1);
  log.record(entry(kAlice, kAliceRoot));
  log.record(entry(kAlice, kStudent));
  log.record(entry("444455556666", "arn:aws:iam::444455556666:root"));
  feed.pump_all();
  ASSERT_EQ(channel->sent.size(), 2u);
  const json& frame = channel->sent[1];
  EXPECT_EQ(frame["type"], "activity");
  EXPECT_EQ(frame["frame"], 2);
  ASSERT_EQ(frame["entries"].size(), 1u);  // the student's own only
  EXPECT_EQ(frame["entries"][0]["caller_arn"], kStudent);
  EXPECT_EQ(frame["last_seq"], 4);
  feed.pump_all();  // nothing new: nothing sent
  EXPECT_EQ(channel->sent.size(), 2u);
  feed.stop();
}

TEST(LiveFeedTest, AfterResumesFromASequenceNumber) {
  ActivityLog log;
  for (int i = 0; i < 3; ++i) log.record(entry(kAlice, kAliceRoot));
  LiveFeed feed(log, nullptr);
  auto channel = std::make_shared<FakeChannel>();
  LiveSubscription subscription = viewer_of(kAlice, kAliceRoot, true);
  subscription.after = 1;
  auto handler = feed.open(channel, subscription);
  ASSERT_EQ(channel->sent.size(), 2u);  // hello, then seq 2 and 3 at once
  ASSERT_EQ(channel->sent[1]["entries"].size(), 2u);
  EXPECT_EQ(channel->sent[1]["entries"][0]["seq"], 2);
  feed.stop();
}

TEST(LiveFeedTest, AReaderThatLagsGetsItsWindowThenTheNewestMarkedMissed) {
  ActivityLog log;
  LiveOptions options;
  options.window = 3;
  options.max_entries_per_frame = 5;
  LiveFeed feed(log, nullptr, {}, options);
  auto channel = std::make_shared<FakeChannel>();
  auto handler = feed.open(channel, viewer_of(kAlice, kAliceRoot, true));
  for (int round = 0; round < 10; ++round) {
    log.record(entry(kAlice, kAliceRoot));
    feed.pump_all();
  }
  ASSERT_EQ(channel->sent.size(), 3u);  // hello and two frames: the window is full
  for (int i = 0; i < 20; ++i) log.record(entry(kAlice, kAliceRoot));
  feed.pump_all();
  EXPECT_EQ(channel->sent.size(), 3u);
  EXPECT_TRUE(handler->on_message(R"({"ack": 3})"));
  feed.pump_all();
  ASSERT_EQ(channel->sent.size(), 4u);
  const json& frame = channel->sent[3];
  EXPECT_TRUE(frame["missed"].get<bool>());
  ASSERT_EQ(frame["entries"].size(), 5u);
  EXPECT_EQ(frame["entries"][4]["seq"], 30);  // the newest
  feed.stop();
}

TEST(LiveFeedTest, BadMessagesEndTheConnectionWithAReason) {
  ActivityLog log;
  LiveFeed feed(log, nullptr);
  auto channel = std::make_shared<FakeChannel>();
  auto handler = feed.open(channel, viewer_of(kAlice, kAliceRoot, true));
  EXPECT_TRUE(handler->on_message(R"({"ping": true})"));
  EXPECT_TRUE(handler->on_message(R"({"ack": 1})"));
  EXPECT_FALSE(handler->on_message(R"({"ack": 7})"));
  EXPECT_EQ(channel->sent.back()["type"], "error");
  auto other = std::make_shared<FakeChannel>();
  auto second = feed.open(other, viewer_of(kAlice, kAliceRoot, true));
  EXPECT_FALSE(second->on_message("not json"));
  EXPECT_EQ(other->sent.back()["type"], "error");
  EXPECT_EQ(feed.connections(), 0u);  // both ended
  feed.stop();
}

TEST(LiveFeedTest, CountersAreSentWhenTheyChange) {
  ActivityLog log;
  FlowCounters counters;
  LiveOptions options;
  options.counters_every = std::chrono::milliseconds(0);
  LiveFeed feed(log, &counters, {}, options);
  auto channel = std::make_shared<FakeChannel>();
  LiveSubscription subscription = viewer_of(kAlice, kAliceRoot, true);
  subscription.activity = false;
  subscription.counters = AccountRegion{kAlice, "ap-northeast-1"};
  auto handler = feed.open(channel, subscription);
  ASSERT_EQ(channel->sent.size(), 2u);  // hello, counters (empty)
  EXPECT_EQ(channel->sent[1]["type"], "counters");
  EXPECT_EQ(channel->sent[1]["messages"], 0);
  ASSERT_TRUE(handler->on_message(R"({"ack": 2})"));
  feed.pump_all();
  EXPECT_EQ(channel->sent.size(), 2u);  // unchanged: not sent again
  counters.count_message({kAlice, "ap-northeast-1"}, "handson/analysisLogData", 42);
  counters.count_message({kAlice, "us-west-2"}, "elsewhere", 1);
  feed.pump_all();
  ASSERT_EQ(channel->sent.size(), 3u);
  EXPECT_EQ(channel->sent[2]["messages"], 1);
  EXPECT_EQ(channel->sent[2]["topics"][0]["topic"], "handson/analysisLogData");
  EXPECT_EQ(channel->sent[2]["topics"][0]["bytes"], 42);
  feed.stop();
}

TEST(LiveFeedTest, BuffersAreSentWhenTheyChangeAndOnlyTheStreamsTheKeyMaySee) {
  ActivityLog log;
  LiveOptions options;
  options.counters_every = std::chrono::milliseconds(0);
  // Two streams; the second's buffer fills between pumps.
  json views = json::array({{{"stream", "a"}, {"arn", "arn:a"}, {"records", 0}},
                            {{"stream", "b"}, {"arn", "arn:b"}, {"records", 0}}});
  std::vector<AccountRegion> asked;
  StreamBuffers buffers = [&](const AccountRegion& scope,
                              const std::function<bool(std::string_view)>& visible) {
    asked.push_back(scope);
    json out = json::array();
    for (const json& view : views) {
      if (!visible || visible(view["arn"].get<std::string>())) out.push_back(view);
    }
    return out;
  };
  LiveFeed feed(log, nullptr, buffers, options);
  auto channel = std::make_shared<FakeChannel>();
  LiveSubscription subscription = viewer_of(kAlice, kStudent, false);
  subscription.activity = false;
  subscription.buffers = AccountRegion{kAlice, "ap-northeast-1"};
  subscription.may_see_stream = [](std::string_view arn) { return arn == "arn:b"; };
  auto handler = feed.open(channel, subscription);
  ASSERT_EQ(channel->sent.size(), 2u);  // hello, buffers
  EXPECT_EQ(channel->sent[0]["feeds"], json::array({"buffers"}));
  const json& first = channel->sent[1];
  EXPECT_EQ(first["type"], "buffers");
  EXPECT_EQ(first["region"], "ap-northeast-1");
  EXPECT_GT(first["server_time_ms"].get<std::int64_t>(), 0);
  ASSERT_EQ(first["streams"].size(), 1u);
  EXPECT_EQ(first["streams"][0]["stream"], "b");
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].account_id, kAlice);
  ASSERT_TRUE(handler->on_message(R"({"ack": 2})"));
  feed.pump_all();
  EXPECT_EQ(channel->sent.size(), 2u);  // unchanged: not sent again
  views[0]["records"] = 3;              // a stream the key may not see
  feed.pump_all();
  EXPECT_EQ(channel->sent.size(), 2u);
  views[1]["records"] = 2;
  feed.pump_all();
  ASSERT_EQ(channel->sent.size(), 3u);
  EXPECT_EQ(channel->sent[2]["streams"][0]["records"], 2);
  feed.stop();
}

}  // namespace
}  // namespace offcloud

#include "rules/message_bus.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace offcloud {
namespace {

Message on(std::string topic) {
  Message message;
  message.topic = std::move(topic);
  message.payload = "{}";
  return message;
}

TEST(MessageBus, DeliversToMatchingSubscribersOnly) {
  MessageBus bus;
  std::vector<std::string> handson, everything;
  bus.subscribe({}, TopicFilter("handson/+"),
                [&](const Message& m) { handson.push_back(m.topic); });
  auto id =
      bus.subscribe({}, TopicFilter("#"), [&](const Message& m) { everything.push_back(m.topic); });
  bus.publish(on("handson/analysisLogData"));
  bus.publish(on("other/topic"));
  bus.unsubscribe(id);
  bus.publish(on("handson/again"));
  EXPECT_EQ(handson, (std::vector<std::string>{"handson/analysisLogData", "handson/again"}));
  EXPECT_EQ(everything, (std::vector<std::string>{"handson/analysisLogData", "other/topic"}));
  EXPECT_EQ(bus.published_count(), 3u);
}

TEST(MessageBus, SubscriberMaySubscribeWhileBeingCalled) {
  MessageBus bus;
  int inner = 0;
  bus.subscribe({}, TopicFilter("a"), [&](const Message&) {
    bus.subscribe({}, TopicFilter("a"), [&](const Message&) { ++inner; });
  });
  bus.publish(on("a"));
  EXPECT_EQ(inner, 0);  // the new subscriber sees only later messages
  bus.publish(on("a"));
  EXPECT_EQ(inner, 1);
}

TEST(MessageBus, ConcurrentPublishersLoseNothing) {
  MessageBus bus;
  std::atomic<int> received{0};
  bus.subscribe({}, TopicFilter("load/#"), [&](const Message&) { ++received; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2500; ++i) bus.publish(on("load/x"));
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(received.load(), 10000);
}

}  // namespace
}  // namespace offcloud

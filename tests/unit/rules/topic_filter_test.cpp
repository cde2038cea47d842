#include "rules/topic_filter.h"

#include <gtest/gtest.h>

namespace offcloud {
namespace {

struct MatchCase {
  const char* filter;
  const char* topic;
  bool matches;
};

TEST(TopicFilter, MatchesAsMqttDefines) {
  const MatchCase cases[] = {
      {"handson/analysisLogData", "handson/analysisLogData", true},
      {"handson/analysisLogData", "handson/analysisLogDat", false},
      {"handson/+", "handson/analysisLogData", true},
      {"handson/+", "handson", false},
      {"handson/+", "handson/a/b", false},
      {"handson/+", "handson/", true},
      {"handson/#", "handson", true},
      {"handson/#", "handson/a/b/c", true},
      {"handson/#", "other/a", false},
      {"#", "anything/at/all", true},
      {"+/+", "a/b", true},
      {"+/+", "a", false},
      {"+", "a", true},
      {"a/+/c", "a/b/c", true},
      {"a/+/c", "a/b/d", false},
      {"#", "$aws/things/x/shadow/update", false},
      {"+/things/#", "$aws/things/x", false},
      {"$aws/things/+/shadow/update", "$aws/things/x/shadow/update", true},
      {"a", "a/b", false},
      {"a/b", "a", false},
  };
  for (const MatchCase& c : cases) {
    EXPECT_EQ(TopicFilter(c.filter).matches(c.topic), c.matches) << c.filter << " ~ " << c.topic;
  }
}

TEST(ValidatePublishTopic, AwsLimits) {
  EXPECT_EQ(validate_publish_topic("handson/analysisLogData"), "");
  EXPECT_EQ(validate_publish_topic("a/b/c/d/e/f/g/h"), "");    // 7 slashes
  EXPECT_NE(validate_publish_topic("a/b/c/d/e/f/g/h/i"), "");  // 8 slashes
  EXPECT_EQ(validate_publish_topic(std::string(256, 'x')), "");
  EXPECT_NE(validate_publish_topic(std::string(257, 'x')), "");
  EXPECT_NE(validate_publish_topic(""), "");
  EXPECT_NE(validate_publish_topic("a/+/b"), "");
  EXPECT_NE(validate_publish_topic("a/#"), "");
  EXPECT_NE(validate_publish_topic(std::string("a\0b", 3)), "");
  EXPECT_NE(validate_publish_topic("bad\xff"), "");
  EXPECT_EQ(validate_publish_topic("\xe6\x97\xa5\xe6\x9c\xac"), "");
}

TEST(ValidatePublishTopic, ReservedTopics) {
  EXPECT_NE(validate_publish_topic("$aws/events/presence/connected/x"), "");
  EXPECT_EQ(validate_publish_topic("$aws/things/cam1/shadow/update"), "");
  EXPECT_EQ(validate_publish_topic("$aws/rules/handsonRule/handson/data"), "");
  EXPECT_NE(validate_publish_topic("$aws/rules/handsonRule"), "");
  // Basic ingest's "$aws/rules/<rule>/" prefix does not count toward the levels.
  EXPECT_EQ(validate_publish_topic("$aws/rules/r/a/b/c/d/e/f/g/h"), "");
  EXPECT_EQ(validate_publish_topic("$SYS/other"), "");
}

TEST(ValidateTopicFilter, WildcardsOccupyWholeLevels) {
  EXPECT_EQ(validate_topic_filter("handson/+"), "");
  EXPECT_EQ(validate_topic_filter("handson/#"), "");
  EXPECT_EQ(validate_topic_filter("#"), "");
  EXPECT_NE(validate_topic_filter("handson/#/x"), "");
  EXPECT_NE(validate_topic_filter("hand+son"), "");
  EXPECT_NE(validate_topic_filter("a/b#"), "");
  EXPECT_NE(validate_topic_filter(""), "");
}

TEST(Utf8, RejectsMalformedSequences) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("\xe3\x81\x82\xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xe3\x81"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

}  // namespace
}  // namespace offcloud

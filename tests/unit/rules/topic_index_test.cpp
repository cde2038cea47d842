#include "rules/topic_index.h"

#include <gtest/gtest.h>

#include "rules/topic_filter.h"

namespace offcloud {
namespace {

using Ids = std::vector<std::size_t>;

TEST(TopicIndex, LiteralsAndWildcards) {
  TopicIndex index;
  index.add("handson/analysisLogData", 0);
  index.add("handson/+", 1);
  index.add("handson/#", 2);
  index.add("#", 3);
  index.add("+/+/c", 4);
  index.add("a/+/c/#", 5);
  EXPECT_EQ(index.match("handson/analysisLogData"), (Ids{0, 1, 2, 3}));
  EXPECT_EQ(index.match("handson/other"), (Ids{1, 2, 3}));
  // '#' matches its parent level too; '+' needs a level.
  EXPECT_EQ(index.match("handson"), (Ids{2, 3}));
  EXPECT_EQ(index.match("handson/a/b"), (Ids{2, 3}));
  EXPECT_EQ(index.match("a/b/c"), (Ids{3, 4, 5}));
  EXPECT_EQ(index.match("a/b/c/d/e"), (Ids{3, 5}));
  EXPECT_EQ(index.match("x"), (Ids{3}));
}

TEST(TopicIndex, EmptyLevelsAreLevels) {
  TopicIndex index;
  index.add("a/+/b", 0);
  index.add("/x", 1);
  EXPECT_EQ(index.match("a//b"), (Ids{0}));
  EXPECT_EQ(index.match("/x"), (Ids{1}));
  EXPECT_EQ(index.match("x"), Ids{});
}

TEST(TopicIndex, LeadingWildcardsSkipReservedTopics) {
  TopicIndex index;
  index.add("#", 0);
  index.add("+/things/+/shadow/update", 1);
  index.add("$aws/things/+/shadow/update", 2);
  index.add("$aws/#", 3);
  EXPECT_EQ(index.match("$aws/things/lamp/shadow/update"), (Ids{2, 3}));
  EXPECT_EQ(index.match("aws/things/lamp/shadow/update"), (Ids{0, 1}));
}

TEST(TopicIndex, FiltersSharingAPrefixAndDuplicates) {
  TopicIndex index;
  index.add("a/b", 7);
  index.add("a/b", 3);
  index.add("a/#", 3);  // the same id twice is reported once
  EXPECT_EQ(index.match("a/b"), (Ids{3, 7}));
}

// The index must agree with TopicFilter, which the bus uses, on every pair.
TEST(TopicIndex, AgreesWithTopicFilter) {
  const std::vector<std::string> filters = {"#",      "+",        "a",     "a/#",    "a/+", "+/b",
                                            "a/b",    "+/+",      "a/+/#", "/#",     "+/",  "a//b",
                                            "$aws/#", "$aws/+/x", "+/#",   "a/b/c/#"};
  const std::vector<std::string> topics = {"a",        "a/b",     "a/b/c", "b",    "/",
                                           "a/",       "/a",      "a//b",  "",     "$aws",
                                           "$aws/y/x", "a/b/c/d", "$a/b",  "x/b/c"};
  TopicIndex index;
  for (std::size_t i = 0; i < filters.size(); ++i) index.add(filters[i], i);
  for (const std::string& topic : topics) {
    Ids expected;
    for (std::size_t i = 0; i < filters.size(); ++i) {
      if (TopicFilter(filters[i]).matches(topic)) expected.push_back(i);
    }
    EXPECT_EQ(index.match(topic), expected) << "topic '" << topic << "'";
  }
}

}  // namespace
}  // namespace offcloud

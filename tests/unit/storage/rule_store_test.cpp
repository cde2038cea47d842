#include "storage/rule_store.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/unit/scratch_dir_test.h"

namespace offcloud {
namespace {

constexpr const char* kA = "000000000000";
constexpr const char* kR = "us-east-1";

class RuleStoreTest : public ScratchDirTest {};

TEST_F(RuleStoreTest, KeepsRulesAcrossReopen) {
  {
    RuleStore store(db());
    EXPECT_TRUE(
        store.insert({kA, kR, "b_rule", R"({"sql":"SELECT * FROM 'b'"})", 2000, false, "arn:b"}));
    EXPECT_TRUE(
        store.insert({kA, kR, "a_rule", R"({"sql":"SELECT * FROM 'a'"})", 1000, true, "arn:a"}));
    EXPECT_FALSE(store.insert({kA, kR, "a_rule", "{}", 3000, false, "arn:other"}));
  }
  RuleStore store(db());
  std::vector<StoredTopicRule> rules = store.list(kA, kR);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].name, "a_rule");  // by name
  EXPECT_EQ(rules[0].payload, R"({"sql":"SELECT * FROM 'a'"})");
  EXPECT_EQ(rules[0].created_ms, 1000);
  EXPECT_TRUE(rules[0].disabled);
  EXPECT_EQ(rules[0].arn, "arn:a");
  EXPECT_EQ(rules[1].name, "b_rule");
  EXPECT_FALSE(rules[1].disabled);
}

TEST_F(RuleStoreTest, ReplaceToggleAndErase) {
  RuleStore store(db());
  ASSERT_TRUE(store.insert({kA, kR, "r", "{\"v\":1}", 1000, false, "arn:r"}));
  EXPECT_TRUE(store.replace(kA, kR, "r", "{\"v\":2}", true));
  EXPECT_FALSE(store.replace(kA, kR, "missing", "{}", false));
  auto rule = store.get(kA, kR, "r");
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->payload, "{\"v\":2}");
  EXPECT_TRUE(rule->disabled);
  EXPECT_EQ(rule->created_ms, 1000);  // replacing keeps the creation time

  EXPECT_TRUE(store.set_disabled(kA, kR, "r", false));
  EXPECT_FALSE(store.get(kA, kR, "r")->disabled);
  EXPECT_FALSE(store.set_disabled(kA, kR, "missing", true));

  EXPECT_TRUE(store.erase(kA, kR, "r"));
  EXPECT_FALSE(store.erase(kA, kR, "r"));
  EXPECT_FALSE(store.get(kA, kR, "r"));
  EXPECT_TRUE(store.list(kA, kR).empty());
  // The name is free again.
  EXPECT_TRUE(store.insert({kA, kR, "r", "{}", 5000, false, "arn:r"}));
}

TEST_F(RuleStoreTest, NamesAreUniqueWithinAnAccountAndRegion) {
  RuleStore store(db());
  EXPECT_TRUE(store.insert({kA, kR, "r", "{\"v\":1}", 1, false, "arn:1"}));
  EXPECT_TRUE(store.insert({kA, "ap-northeast-1", "r", "{\"v\":2}", 2, false, "arn:2"}));
  EXPECT_TRUE(store.insert({"111122223333", kR, "r", "{\"v\":3}", 3, false, "arn:3"}));
  EXPECT_EQ(store.get(kA, "ap-northeast-1", "r")->payload, "{\"v\":2}");
  EXPECT_EQ(store.list(kA, kR).size(), 1u);
  EXPECT_EQ(store.list_all().size(), 3u);
  EXPECT_TRUE(store.erase("111122223333", kR, "r"));
  EXPECT_TRUE(store.get(kA, kR, "r"));
}

TEST_F(RuleStoreTest, RulesFromBeforeAccountsKeepTheRegionOfTheirArn) {
  {
    Database old(db());
    old.exec(
        "CREATE TABLE topic_rule (name TEXT PRIMARY KEY, payload TEXT NOT NULL,"
        " created_ms INTEGER NOT NULL, disabled INTEGER NOT NULL, arn TEXT NOT NULL)"
        " WITHOUT ROWID;"
        "INSERT INTO topic_rule VALUES ('handson', '{}', 7, 1,"
        " 'arn:aws:iot:ap-northeast-1:000000000000:rule/handson');"
        "INSERT INTO topic_rule VALUES ('odd', '{}', 8, 0, 'not an arn')");
  }
  RuleStore store(db());
  auto handson = store.get(kA, "ap-northeast-1", "handson");
  ASSERT_TRUE(handson);
  EXPECT_EQ(handson->created_ms, 7);
  EXPECT_TRUE(handson->disabled);
  EXPECT_TRUE(store.get(kA, kR, "odd")) << "no region recorded: the default";
}

}  // namespace
}  // namespace offcloud

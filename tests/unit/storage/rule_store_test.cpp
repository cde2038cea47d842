#include "storage/rule_store.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/unit/scratch_dir_test.h"

namespace offcloud {
namespace {

class RuleStoreTest : public ScratchDirTest {};

TEST_F(RuleStoreTest, KeepsRulesAcrossReopen) {
  {
    RuleStore store(db());
    EXPECT_TRUE(store.insert({"b_rule", R"({"sql":"SELECT * FROM 'b'"})", 2000, false, "arn:b"}));
    EXPECT_TRUE(store.insert({"a_rule", R"({"sql":"SELECT * FROM 'a'"})", 1000, true, "arn:a"}));
    EXPECT_FALSE(store.insert({"a_rule", "{}", 3000, false, "arn:other"}));
  }
  RuleStore store(db());
  std::vector<StoredTopicRule> rules = store.list();
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
  ASSERT_TRUE(store.insert({"r", "{\"v\":1}", 1000, false, "arn:r"}));
  EXPECT_TRUE(store.replace("r", "{\"v\":2}", true));
  EXPECT_FALSE(store.replace("missing", "{}", false));
  auto rule = store.get("r");
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->payload, "{\"v\":2}");
  EXPECT_TRUE(rule->disabled);
  EXPECT_EQ(rule->created_ms, 1000);  // replacing keeps the creation time

  EXPECT_TRUE(store.set_disabled("r", false));
  EXPECT_FALSE(store.get("r")->disabled);
  EXPECT_FALSE(store.set_disabled("missing", true));

  EXPECT_TRUE(store.erase("r"));
  EXPECT_FALSE(store.erase("r"));
  EXPECT_FALSE(store.get("r"));
  EXPECT_TRUE(store.list().empty());
  // The name is free again.
  EXPECT_TRUE(store.insert({"r", "{}", 5000, false, "arn:r"}));
}

}  // namespace
}  // namespace offcloud

#include <gtest/gtest.h>

#include "iotsql_test_support.h"
#include "rules/sql_evaluator.h"

namespace offcloud {
namespace {

TEST(CompiledRule, CompilesOnceEvaluatesMany) {
  auto compiled = compile_rule("SELECT n * 2 AS d FROM 'sensors/+/data' WHERE n > 1");
  ASSERT_TRUE(std::holds_alternative<CompiledRule>(compiled));
  const CompiledRule& rule = std::get<CompiledRule>(compiled);
  EXPECT_EQ(rule.version(), SqlVersion::k2016_03_23);
  EXPECT_EQ(rule.topic_filter().text(), "sensors/+/data");
  Message message;
  message.topic = "sensors/a/data";
  EvaluationContext context = iotsql_test::fixed_context(message);
  for (int n = 0; n < 100; ++n) {
    message.payload = "{\"n\":" + std::to_string(n) + "}";
    std::optional<std::string> output = rule.evaluate(context);
    if (n > 1) {
      EXPECT_EQ(output, "{\"d\":" + std::to_string(2 * n) + "}");
    } else {
      EXPECT_EQ(output, std::nullopt);
    }
  }
  CompiledRule moved = std::move(std::get<CompiledRule>(compiled));
  message.payload = R"({"n": 3})";
  EXPECT_EQ(moved.evaluate(context), R"({"d":6})");
}

TEST(CompiledRule, RefusesBadSqlAndVersions) {
  auto bad_sql = compile_rule("SELECT * FROM");
  ASSERT_TRUE(std::holds_alternative<SqlParseError>(bad_sql));
  EXPECT_NE(std::get<SqlParseError>(bad_sql).message.find("Line 1:13"), std::string::npos);
  auto bad_version = compile_rule("SELECT * FROM 'a'", "2099-01-01");
  ASSERT_TRUE(std::holds_alternative<SqlParseError>(bad_version));
  auto v1 = compile_rule("SELECT * FROM 'a'", "2015-10-08");
  ASSERT_TRUE(std::holds_alternative<CompiledRule>(v1));
  EXPECT_EQ(std::get<CompiledRule>(v1).version(), SqlVersion::k2015_10_08);
}

struct TemplateCase {
  const char* text;
  const char* expanded;
};

TEST(SubstitutionTemplate, ExpandsExpressions) {
  Message message;
  message.topic = "handson/analysisLogData";
  message.payload = R"({"face_id": 7, "Gender": "Female", "o": {"a": 1}})";
  EvaluationContext context = iotsql_test::fixed_context(message);
  const TemplateCase cases[] = {
      {"${topic()}/${timestamp()}.json", "handson/analysisLogData/1610293303000.json"},
      {"faces/${face_id}-${Gender}", "faces/7-Female"},
      {"${topic(2)}", "analysisLogData"},
      {"no substitutions", "no substitutions"},
      {"${missing}x", "x"},
      {"${o}", R"({"a":1})"},
      {"${concat('a', {'k': 1}.k)}", "a1"},
      {"${parse_time('yyyy/MM/dd', timestamp())}/${newuuid()}",
       "2021/01/10/01234567-89ab-4def-8123-456789abcdef"},
  };
  for (const TemplateCase& c : cases) {
    EXPECT_EQ(expand_template(c.text, context), c.expanded) << c.text;
  }
}

TEST(SubstitutionTemplate, UsesRuleVariablesAndReportsErrors) {
  auto compiled =
      compile_rule("SET @day = parse_time('yyyy-MM-dd', timestamp()) SELECT * FROM 'a'");
  const CompiledRule& rule = std::get<CompiledRule>(compiled);
  auto tmpl = compile_template("logs/${@day}/${topic()}", rule.version(), rule.variable_names());
  ASSERT_TRUE(std::holds_alternative<CompiledTemplate>(tmpl));
  Message message;
  message.topic = "a";
  EvaluationContext context = iotsql_test::fixed_context(message);
  std::vector<SqlValue> variables = evaluate_variables(rule.statement(), context);
  EXPECT_EQ(std::get<CompiledTemplate>(tmpl).expand(context, variables), "logs/2021-01-10/a");

  auto unterminated = compile_template("a/${topic()");
  ASSERT_TRUE(std::holds_alternative<SqlParseError>(unterminated));
  auto bad = compile_template("a/${topic(}");
  ASSERT_TRUE(std::holds_alternative<SqlParseError>(bad));
  EXPECT_EQ(std::get<SqlParseError>(bad).position, 10u);
}

}  // namespace
}  // namespace offcloud

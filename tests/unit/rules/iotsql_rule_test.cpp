#include <gtest/gtest.h>

#include "rules/sql_evaluator.h"
#include "tests/unit/rules/iotsql_test_support.h"

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

// Expands each template against one message, with the fixed clock and uuid.
void expect_templates(const std::string& topic, const std::string& payload,
                      const std::vector<TemplateCase>& cases) {
  Message message;
  message.topic = topic;
  message.payload = payload;
  EvaluationContext context = iotsql_test::fixed_context(message);
  for (const TemplateCase& c : cases) {
    EXPECT_EQ(expand_template(c.text, context), c.expanded) << c.text << "  on  " << topic;
  }
}

TEST(SubstitutionTemplate, ExpandsExpressions) {
  expect_templates(
      "handson/analysisLogData", R"({"face_id": 7, "Gender": "Female", "o": {"a": 1}})",
      {
          {"${topic()}/${timestamp()}.json", "handson/analysisLogData/1610293303000.json"},
          {"faces/${face_id}-${Gender}", "faces/7-Female"},
          {"${topic(2)}", "analysisLogData"},
          {"no substitutions", "no substitutions"},
          {"${missing}x", "x"},
          {"${o}", R"({"a":1})"},
          {"${concat('a', {'k': 1}.k)}", "a1"},
          {"${parse_time('yyyy/MM/dd', timestamp())}/${newuuid()}",
           "2021/01/10/01234567-89ab-4def-8123-456789abcdef"},
      });
}

// The examples of AWS's "Substitution templates" page and of the pages that
// show templates in action fields.
TEST(SubstitutionTemplate, DocumentedExamples) {
  const char* device = R"({"deviceid": "iot123", "temp": 54.98, "humidity": 32.43,
      "coords": {"latitude": 47.615694, "longitude": -122.3359976}})";
  // Substitution templates page: the rule's output and its republish topic.
  EXPECT_EQ(
      iotsql_test::run_rule("SELECT *, timestamp() AS timestamp FROM 'my/iot/topic'", device,
                            "my/iot/topic"),
      R"({"deviceid":"iot123","temp":54.98,"humidity":32.43,)"
      R"("coords":{"latitude":47.615694,"longitude":-122.3359976},"timestamp":1610293303000})");
  expect_templates("my/iot/topic", device,
                   {
                       {"${topic()}/republish", "my/iot/topic/republish"},
                       // "you can't reference an alias created using the AS
                       // clause": the template reads the original payload,
                       // which has no "timestamp" key.
                       {"t-${timestamp}", "t-"},
                       {"t-${timestamp()}", "t-1610293303000"},
                       // "functions, operators, and information present in
                       // the original message payload"
                       {"${deviceid}/${temp * 2}/${coords.latitude}", "iot123/109.96/47.615694"},
                       {"${upper(deviceid) + '-' + topic(2)}", "IOT123-iot"},
                   });
  // S3 action page: key ${topic()}/${timestamp()} for a message on some/topic.
  // Functions page, parse_time: its key "${parse_time("yyyy", timestamp(),
  // "UTC")}" gave "2017" when the page was written; the fixed clock here is
  // in 2021. (The page puts that template, double quotes and all, inside a
  // JSON string without escaping them.)
  expect_templates("some/topic", "{}",
                   {
                       {"${topic()}/${timestamp()}", "some/topic/1610293303000"},
                       {R"(${parse_time("yyyy", timestamp(), "UTC")})", "2021"},
                   });
  // Functions page, topic(): a Basic Ingest message's topic once
  // $aws/rules/<rule-name>/ is taken off (the rules engine does that).
  expect_templates(
      "Buildings/Building5/Floor2/Room201/Lights", "{}",
      {{"${topic()}|${topic(3)}", "Buildings/Building5/Floor2/Room201/Lights|Floor2"}});
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

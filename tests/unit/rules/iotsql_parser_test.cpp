#include <gtest/gtest.h>

#include "rules/sql_parser.h"
#include "rules/sql_tokenizer.h"

namespace offcloud {
namespace {

struct TokenCase {
  const char* sql;
  std::vector<std::pair<TokenKind, std::string>> tokens;  // without kEnd
};

TEST(IotSqlTokenizer, SplitsIntoTokens) {
  const TokenCase cases[] = {
      {"SELECT * FROM 'a/b'",
       {{TokenKind::kIdentifier, "SELECT"},
        {TokenKind::kSymbol, "*"},
        {TokenKind::kIdentifier, "FROM"},
        {TokenKind::kString, "a/b"}}},
      {"a.b[0] >= 2.5e3",
       {{TokenKind::kIdentifier, "a"},
        {TokenKind::kSymbol, "."},
        {TokenKind::kIdentifier, "b"},
        {TokenKind::kSymbol, "["},
        {TokenKind::kInteger, "0"},
        {TokenKind::kSymbol, "]"},
        {TokenKind::kSymbol, ">="},
        {TokenKind::kDecimal, "2.5e3"}}},
      {"'it''s' \"q\\\"x\"", {{TokenKind::kString, "it's"}, {TokenKind::kString, "q\"x"}}},
      {"`my-key` @temp <> != <=",
       {{TokenKind::kQuotedIdentifier, "my-key"},
        {TokenKind::kVariable, "temp"},
        {TokenKind::kSymbol, "<>"},
        {TokenKind::kSymbol, "!="},
        {TokenKind::kSymbol, "<="}}},
      // The SQL reference page: "Comments are not currently supported".
      {"'\\d+' -- comment",
       {{TokenKind::kString, "\\d+"},
        {TokenKind::kSymbol, "-"},
        {TokenKind::kSymbol, "-"},
        {TokenKind::kIdentifier, "comment"}}},
      // Number forms the reference pages write: 5.7 (Operators), 2.411E247
      // and 1.2 (Functions), 5E-12 and 1E-999 (Data types), 10.0.
      {"5.7 -2.411E247 1.2 5E-12 1E-999 10.0 34",
       {{TokenKind::kDecimal, "5.7"},
        {TokenKind::kSymbol, "-"},
        {TokenKind::kDecimal, "2.411E247"},
        {TokenKind::kDecimal, "1.2"},
        {TokenKind::kDecimal, "5E-12"},
        {TokenKind::kDecimal, "1E-999"},
        {TokenKind::kDecimal, "10.0"},
        {TokenKind::kInteger, "34"}}},
      // Strings in either quote (the Functions page writes "ranger", the
      // Literals page 'latitude'), keeping the other quote as text.
      {"\"it's\" 'say \"hi\"' ''",
       {{TokenKind::kString, "it's"},
        {TokenKind::kString, "say \"hi\""},
        {TokenKind::kString, ""}}},
      // item2.0: the JSON extensions page's path that dot notation cannot take.
      {"mydata.item2.0",
       {{TokenKind::kIdentifier, "mydata"},
        {TokenKind::kSymbol, "."},
        {TokenKind::kIdentifier, "item2"},
        {TokenKind::kSymbol, "."},
        {TokenKind::kInteger, "0"}}},
  };
  for (const TokenCase& c : cases) {
    std::vector<Token> tokens = tokenize_sql(c.sql);
    ASSERT_EQ(tokens.size(), c.tokens.size() + 1) << c.sql;
    for (std::size_t i = 0; i < c.tokens.size(); ++i) {
      EXPECT_EQ(tokens[i].kind, c.tokens[i].first) << c.sql << " #" << i;
      EXPECT_EQ(tokens[i].text, c.tokens[i].second) << c.sql << " #" << i;
    }
    EXPECT_EQ(tokens.back().kind, TokenKind::kEnd);
  }
}

TEST(IotSqlTokenizer, RecordsBytePositions) {
  std::vector<Token> tokens = tokenize_sql("SELECT  a\nFROM 'x'");
  EXPECT_EQ(tokens[0].position, 0u);
  EXPECT_EQ(tokens[1].position, 8u);
  EXPECT_EQ(tokens[2].position, 10u);
  EXPECT_EQ(tokens[3].position, 15u);
}

struct ErrorCase {
  const char* sql;
  std::size_t position;
  const char* message_part;
};

TEST(IotSqlTokenizer, ErrorsCarryLineAndColumn) {
  const ErrorCase cases[] = {
      {"SELECT 'abc FROM 'a'", 19, "Line 1:19 unterminated"},
      {"SELECT a FROM 'x' WHERE a ~ 1", 26, "Line 1:26 token recognition error at: '~'"},
      {"SELECT a\nFROM 'x'\nWHERE ^", 24, "Line 3:6"},
  };
  for (const ErrorCase& c : cases) {
    try {
      tokenize_sql(c.sql);
      ADD_FAILURE() << c.sql;
    } catch (const SqlParseError& error) {
      EXPECT_EQ(error.position, c.position) << c.sql << ": " << error.message;
      EXPECT_NE(error.message.find(c.message_part), std::string::npos) << error.message;
    }
  }
}

TEST(IotSqlParser, ParsesStatementShape) {
  SqlStatement statement =
      parse_sql("SET @c = (f - 32) * 5 / 9 SELECT VALUE @c FROM 'a/+' WHERE x IN [1, 2]",
                SqlVersion::k2016_03_23);
  ASSERT_EQ(statement.variables.size(), 1u);
  EXPECT_EQ(statement.variables[0].name, "c");
  EXPECT_TRUE(statement.select.select_value);
  EXPECT_EQ(statement.select.topic_filter, "a/+");
  ASSERT_TRUE(statement.select.where);
  EXPECT_EQ(statement.select.where->kind, SqlExprKind::kBinary);
  EXPECT_EQ(statement.select.where->op, SqlOperator::kIn);
  EXPECT_EQ(statement.select.items[0].expr->kind, SqlExprKind::kVariable);
}

TEST(IotSqlParser, BindsOperatorsByPrecedence) {
  // a OR b AND NOT c = 1 + 2 * 3  ==  a OR (b AND (NOT (c = (1 + (2 * 3)))))
  std::unique_ptr<SqlExpr> expr =
      parse_sql_expression("a OR b AND NOT c = 1 + 2 * 3", SqlVersion::k2016_03_23);
  ASSERT_EQ(expr->op, SqlOperator::kOr);
  const SqlExpr& conjunction = *expr->operands[1];
  ASSERT_EQ(conjunction.op, SqlOperator::kAnd);
  const SqlExpr& negation = *conjunction.operands[1];
  ASSERT_EQ(negation.kind, SqlExprKind::kUnary);
  const SqlExpr& equality = *negation.operands[0];
  ASSERT_EQ(equality.op, SqlOperator::kEqual);
  const SqlExpr& sum = *equality.operands[1];
  ASSERT_EQ(sum.op, SqlOperator::kAdd);
  EXPECT_EQ(sum.operands[1]->op, SqlOperator::kMultiply);
}

struct NameCase {
  const char* sql;
  std::vector<std::string> names;
};

TEST(IotSqlParser, NamesOutputColumns) {
  const NameCase cases[] = {
      {"SELECT color FROM 't'", {"color"}},   {"SELECT color AS my_color FROM 't'", {"my_color"}},
      {"SELECT color.red FROM 't'", {"red"}}, {"SELECT foo.bar AS bar.baz FROM 't'", {"bar.baz"}},
      {"SELECT topic() FROM 't'", {"topic"}}, {"SELECT a[0], 1 + 2 FROM 't'", {"a", "_2"}},
      {"SELECT value FROM 't'", {"value"}},   {"SELECT `my-key` FROM 't'", {"my-key"}},
  };
  for (const NameCase& c : cases) {
    SqlStatement statement = parse_sql(c.sql, SqlVersion::k2016_03_23);
    ASSERT_EQ(statement.select.items.size(), c.names.size()) << c.sql;
    for (std::size_t i = 0; i < c.names.size(); ++i) {
      EXPECT_EQ(statement.select.items[i].output_name, c.names[i]) << c.sql;
    }
  }
}

TEST(IotSqlParser, AcceptsTopicFilterForms) {
  const std::pair<const char*, const char*> cases[] = {
      {"SELECT * FROM 'handson/+'", "handson/+"},
      {"SELECT * FROM \"a/#\"", "a/#"},
      {"SELECT temp FROM topic/# WHERE temp > 1", "topic/#"},
      {"select * from 'iot/rules'", "iot/rules"},
      // Keywords in any case; the pages write both "as" and "AS".
      {"SeLeCt color As c FrOm 'a/b' WhErE temperature > 50", "a/b"},
      {"select value transform(\"enrichArray\", attributes, values) from 'A/B'", "A/B"},
  };
  for (const auto& [sql, filter] : cases) {
    EXPECT_EQ(parse_sql(sql, SqlVersion::k2016_03_23).select.topic_filter, filter) << sql;
  }
}

struct ParseErrorCase {
  const char* sql;
  SqlVersion version;
  std::size_t position;
  const char* message_part;
};

TEST(IotSqlParser, RefusesWithPositions) {
  constexpr SqlVersion v2 = SqlVersion::k2016_03_23;
  constexpr SqlVersion v1 = SqlVersion::k2015_10_08;
  const ParseErrorCase cases[] = {
      {"SELECT FROM 'a'", v2, 7, "Line 1:7 no viable alternative at input 'FROM'"},
      {"SELECT a 'a'", v2, 9, "expecting FROM"},
      {"SELECT a FROM", v2, 13, "<EOF>"},
      {"SELECT a FROM 'a/#/b'", v2, 14, "invalid topic filter"},
      {"SELECT a FROM 'a' WHERE", v2, 23, "no viable alternative"},
      {"SELECT a FROM 'a' WHERE b = 1 c", v2, 30, "extraneous input 'c'"},
      {"SELECT (1 + 2 FROM 'a'", v2, 14, "expecting ')'"},
      {"SELECT nosuchfn(1) FROM 'a'", v2, 7, "undefined function nosuchfn"},
      {"SELECT @x FROM 'a'", v2, 7, "variable @x is not defined"},
      {"SET @x = 1, @x = 2 SELECT @x FROM 'a'", v2, 12, "already assigned"},
      {"SELECT (SELECT v FROM e) AS t FROM 'a'", v1, 8, "2016-03-23"},
      {"SELECT encode(*, 'base64') FROM 'a'", v1, 7, "2016-03-23"},
      {"SELECT CASE WHEN a THEN 1 FROM 'a'", v2, 26, "expecting END"},
      {"SELECT a\nFROM 'a'\nWHERE b ==", v2, 27, "Line 3:9"},
      // No comments (the SQL reference page): "--" after the topic is extra.
      {"SELECT * FROM 'a' -- every message", v2, 18, "extraneous input '-' expecting <EOF>"},
      {"SELECT a FROM 'a' /* note */", v2, 18, "extraneous input '/'"},
  };
  for (const ParseErrorCase& c : cases) {
    try {
      parse_sql(c.sql, c.version);
      ADD_FAILURE() << "parsed: " << c.sql;
    } catch (const SqlParseError& error) {
      EXPECT_EQ(error.position, c.position) << c.sql << ": " << error.message;
      EXPECT_NE(error.message.find(c.message_part), std::string::npos)
          << c.sql << ": " << error.message;
    }
  }
}

TEST(IotSqlParser, RefusesFunctionsThatCallOtherServices) {
  const char* cases[] = {
      "SELECT aws_lambda('arn:aws:lambda:us-east-1:123456789012:function:f', *) FROM 'a'",
      "SELECT get_dynamodb('t', 'k', 'v', 'arn:aws:iam::1:role/r') FROM 'a'",
      "SELECT get_thing_shadow('thing', 'arn:aws:iam::1:role/r') FROM 'a'",
      "SELECT get_secret('id', 'SecretString', 'k', 'arn:aws:iam::1:role/r') FROM 'a'",
      "SELECT machinelearning_predict('m', 'arn:aws:iam::1:role/r', *) FROM 'a'",
      "SELECT * FROM 'a' WHERE get_registry_data('thing', 'arn:aws:iam::1:role/r') = 1",
  };
  for (const char* sql : cases) {
    try {
      parse_sql(sql, SqlVersion::k2016_03_23);
      ADD_FAILURE() << sql;
    } catch (const SqlParseError& error) {
      EXPECT_NE(error.message.find("not supported offline"), std::string::npos) << error.message;
    }
  }
}

// Nesting is bounded, so that pasted "((((..." is refused, not a stack overflow.
TEST(IotSqlParser, RefusesDeepNesting) {
  auto nested = [](const std::string& open, const std::string& close, int levels) {
    std::string sql = "SELECT ";
    for (int i = 0; i < levels; ++i) sql += open;
    sql += "1";
    for (int i = 0; i < levels; ++i) sql += close;
    return sql + " FROM 'a'";
  };
  EXPECT_NO_THROW(parse_sql(nested("(", ")", 150), SqlVersion::k2016_03_23));
  EXPECT_NO_THROW(parse_sql(nested("- ", "", 150), SqlVersion::k2016_03_23));
  for (const std::string& sql :
       {nested("(", ")", 100000), nested("abs(", ")", 300), nested("[", "]", 300),
        nested("NOT ", "", 100000), nested("- ", "", 100000)}) {
    try {
      parse_sql(sql, SqlVersion::k2016_03_23);
      ADD_FAILURE() << sql.substr(0, 40);
    } catch (const SqlParseError& error) {
      EXPECT_NE(error.message.find("nested more than 200 levels"), std::string::npos)
          << error.message;
      EXPECT_TRUE(error.message.starts_with("Line 1:")) << error.message;
    }
  }
}

TEST(IotSqlParser, ParsesSqlVersions) {
  SqlVersion version;
  EXPECT_TRUE(parse_sql_version("", &version));
  EXPECT_EQ(version, SqlVersion::k2016_03_23);
  EXPECT_TRUE(parse_sql_version("2015-10-08", &version));
  EXPECT_EQ(version, SqlVersion::k2015_10_08);
  EXPECT_FALSE(parse_sql_version("beta", &version));
}

}  // namespace
}  // namespace offcloud

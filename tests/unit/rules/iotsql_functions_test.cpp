#include <gtest/gtest.h>

#include "tests/unit/rules/iotsql_test_support.h"

namespace offcloud {
namespace {

using iotsql_test::run_rule;

struct FunctionCase {
  const char* expr;
  const char* json;  // SELECT VALUE's output; "" for Undefined
};

// Each expression runs as SELECT VALUE over kPayload with SQL 2016-03-23.
constexpr const char* kPayload =
    R"({"deviceid": "iot123", "s": "  hi  ", "n": -5.123, "arr": [1, 2], "obj": {"a": 1},
        "e": "", "AgeRange-Low": 22})";

void expect_functions(const std::vector<FunctionCase>& cases) {
  for (const FunctionCase& c : cases) {
    std::string sql = std::string("SELECT VALUE ") + c.expr + " FROM 'topic/subtopic'";
    EXPECT_EQ(run_rule(sql, kPayload), c.json) << c.expr;
  }
}

// Examples from AWS's "Functions" page, where it gives them.
TEST(IotSqlFunctions, Math) {
  expect_functions({
      {"abs(-5)", "5"},
      {"abs(n)", "5.123"},
      {"abs('-5.123')", "5.123"},
      {"abs(true)", ""},
      {"acos(0)", "1.5707963267948966"},
      {"asin(0)", "0"},
      {"atan(0)", "0"},
      {"atan2(7, 0)", "1.5707963267948966"},
      {"acos(2)", ""},
      {"ceil(1.2)", "2"},
      {"ceil(-1.2)", "-1"},
      {"floor(1.2)", "1"},
      {"floor(-1.2)", "-2"},
      {"cos(0)", "1"},
      {"cosh(0)", "1"},
      {"exp(1)", "2.718281828459045"},
      {"ln(1)", "0"},
      {"log(100)", "2"},
      {"mod(8, 3)", "2"},
      {"remainder(8, 3)", "2"},
      {"mod(8, 0)", ""},
      {"nanvl(8, 3)", "8"},
      {"power(2, 10)", "1024"},
      {"power(2, 0.5)", "1.4142135623730951"},
      {"rand()", "0.25"},
      {"round(1.2)", "1"},
      {"round(1.5)", "2"},
      {"round(-1.7)", "-2"},
      {"round(-1.5)", "-2"},
      {"sign(-7.5)", "-1"},
      {"sign(0)", "0"},
      {"sin(0)", "0"},
      {"sinh(0)", "0"},
      {"sqrt(9)", "3"},
      {"sqrt(-1)", ""},
      {"tan(0)", "0"},
      {"tanh(0)", "0"},
      {"trunc(2.3, 0)", "2"},
      {"trunc(2.3123, 2)", "2.31"},
      {"trunc(2.888, 2)", "2.88"},
      // "If the second argument is less than zero, it is set to zero."
      {"trunc(123.4, -1)", "123"},
      {"trunc(2.00, 5)", "2"},
      {"abs()", ""},
      // More of the page's own examples.
      {"atan2(1, 0)", "1.5707963267948966"},
      {"cosh(2.3)", "5.037220649268761"},
      {"ln(exp(1))", "1"},
      {"Nanvl(8, 3)", "8"},
      {"power(2, 5)", "32"},
      {"Round(1.7)", "2"},
      {"Round(-1.1)", "-1"},
      {"sign(-7)", "-1"},
      {"sign(13)", "1"},
      {"sinh(2.3)", "4.936961805545957"},
      {"tan(3)", "-0.1425465430742778"},
      {"tanh(2.3)", "0.9800963962661914"},
      {"mod('8', 3)", "2"},
      {"ceil('1.2')", "2"},
      {"floor('-1.2')", "-2"},
  });
}

TEST(IotSqlFunctions, Bitwise) {
  expect_functions({
      {"bitand(13, 5)", "5"},
      {"bitor(8, 5)", "13"},
      {"bitxor(13, 5)", "8"},
      {"bitnot(13)", "-14"},
      {"bitand('13', 5)", "5"},
      {"bitand(true, 5)", ""},
  });
}

TEST(IotSqlFunctions, Strings) {
  expect_functions({
      {"chr(65)", R"("A")"},
      {"concat()", ""},
      {"concat(1)", "1"},
      {"concat([1, 2, 3], 4)", "[1,2,3,4]"},
      {"concat([1, 2, 3], 'hello')", R"([1,2,3,"hello"])"},
      {"concat('con', 'cat')", R"("concat")"},
      {"concat(1, 'hello')", R"("1hello")"},
      {"concat('he', 'is', 'man')", R"("heisman")"},
      {"concat([1, 2, 3], 'hello', [4, 5, 6])", R"([1,2,3,"hello",4,5,6])"},
      {"endswith('cat', 'at')", "true"},
      {"indexof('abcd', 'bc')", "1"},
      {"indexof('abcd', 'x')", "-1"},
      {"length('hi there')", "8"},
      {"length('日本')", "2"},
      {"numbytes('日本')", "6"},
      {"lower('HeLLo')", R"("hello")"},
      {"upper('HeLLo')", R"("HELLO")"},
      {"lpad('hello', 2)", R"("  hello")"},
      {"rpad('hello', 2)", R"("hello  ")"},
      {"ltrim(s)", R"("hi  ")"},
      {"rtrim(s)", R"("  hi")"},
      {"trim(s)", R"("hi")"},
      {"regexp_matches('aaaa', 'a{2,}')", "true"},
      {"regexp_matches('aaaa', 'b')", "false"},
      {"regexp_replace('abcd', 'bc', 'x')", R"("axd")"},
      {"regexp_replace('abc', '(b)', '[$1]')", R"("a[b]c")"},
      {"regexp_substr('hihihello', 'hi')", R"("hi")"},
      {"regexp_substr('v42x', '\\d+')", R"("42")"},
      {"replace('abcd', 'bc', 'x')", R"("axd")"},
      {"replace('abcdabcd', 'b', 'x')", R"("axcdaxcd")"},
      {"startswith('cat', 'c')", "true"},
      {"substring('012345', 0)", R"("012345")"},
      {"substring('012345', 2)", R"("2345")"},
      {"substring('012345', 2.745)", R"("2345")"},
      {"substring(123, 2)", R"("3")"},
      {"substring('012345', -1)", R"("012345")"},
      {"substring('012345', 100)", R"("")"},
      {"substring('012345', 2, 4)", R"("23")"},
      {"substring('012345', 2, 100)", R"("2345")"},
      {"substring('012345', 3, 1)", R"("")"},
      {"substring(nothing, 1)", ""},
      // More of the page's own examples, with its double-quoted strings.
      {"chr(49)", R"("1")"},
      {"endswith(\"cat\",\"at\")", "true"},
      {"startswith(\"ranger\",\"ran\")", "true"},
      {"length(\"hi\")", "2"},
      {"length(false)", "5"},
      {"numbytes(\"hi\")", "2"},
      {"numbytes(\"€\")", "3"},
      {"lower(\"HELLO\")", R"("hello")"},
      {"lower([\"HELLO\"])", R"("[\"hello\"]")"},
      {"upper(\"hello\")", R"("HELLO")"},
      {"upper([\"hello\"])", R"("[\"HELLO\"]")"},
      {"lpad(1, 3)", R"("   1")"},
      {"rpad(1, 3)", R"("1   ")"},
      {"Ltrim(\" h i \")", R"("h i ")"},
      {"rtrim(\" h i \")", R"(" h i")"},
      {"Trim(\" hi \")", R"("hi")"},
      {"regexp_replace(\"abcd\", \"b(.*)d\", \"$1\")", R"("ac")"},
      {"regexp_substr(\"hihihello\", \"(hi)*\")", R"("hihi")"},
      {"substring(true, 1.2)", R"("rue")"},
      {"substring(false, -2.411E247)", R"("false")"},
      {"substring(\"012345\", 1, 3)", R"("12")"},
      {"substring(\"012345\", -50, 50)", R"("012345")"},
  });
}

TEST(IotSqlFunctions, TypesAndJson) {
  expect_functions({
      {"cast(true AS Int)", "1"},
      {"cast('3.9' AS Int)", "3"},
      {"cast(3 AS Decimal)", "3"},
      {"cast(0 AS Boolean)", "false"},
      {"cast('TRUE' AS Boolean)", "true"},
      {"cast(3.5 AS String)", R"("3.5")"},
      {"cast(arr AS String)", R"("[1,2]")"},
      {"cast(obj AS Nonsense)", ""},
      {"get(*, 'AgeRange-Low')", "22"},
      {"get(arr, 1)", "2"},
      {"get(arr, 5)", ""},
      {"get(obj, 'a')", "1"},
      {"get_or_default(missing, 'dflt')", R"("dflt")"},
      {"get_or_default(deviceid, 'dflt')", R"("iot123")"},
      {"isArray(arr)", "true"},
      {"isBoolean(true)", "true"},
      {"isNumber(n)", "true"},
      {"isNumber('1')", "false"},
      {"isString(deviceid)", "true"},
      {"isObject(obj)", "true"},
      {"isNull(null)", "true"},
      {"isUndefined(missing)", "true"},
      {"isUndefined(deviceid)", "false"},
      {"isEmpty(e)", "true"},
      {"isEmpty(arr)", "false"},
      {"isEmpty([])", "true"},
      // More of the page's own examples.
      {"get([\"a\", \"b\", \"c\"], 1)", R"("b")"},
      {"get({\"a\":\"b\"}, \"a\")", R"("b")"},
      // The page shows get("abc", 1) = "a", but its table says "the character
      // at the 0-based index", which is "b".
      {"get(\"abc\", 1)", R"("b")"},
      {"isNull(5)", "false"},
      {"isNull(Null)", "true"},
      {"isUndefined(5)", "false"},
      {"isUndefined(floor([1,2,3]))", "true"},
      // cast keywords and rules from the page's tables.
      {"cast(true as Int)", "1"},
      {"cast(false AS Integer)", "0"},
      {"cast(12 AS Nvarchar)", R"("12")"},
      {"cast(12 AS Text)", R"("12")"},
      {"cast(12 AS Ntext)", R"("12")"},
      {"cast(12 AS varchar)", R"("12")"},
      {"cast('2.5' AS Double)", "2.5"},
      {"cast(true AS Decimal)", "1"},
      {"cast(2.5 AS Bool)", "true"},
      {"cast(0.0 AS Boolean)", "false"},
      {"cast('maybe' AS Boolean)", ""},
      {"cast(true AS String)", R"("true")"},
      {"cast(obj AS String)", R"("{\"a\":1}")"},
      {"cast(null AS String)", ""},
      {"cast(arr AS Int)", ""},
      {"cast(null AS Int)", ""},
      {"transform('enrichArray', {'key': 'v'}, [{'a': 1}, {'a': 2}])",
       R"([{"a":1,"key":"v"},{"a":2,"key":"v"}])"},
  });
}

TEST(IotSqlFunctions, EncodingAndHashes) {
  expect_functions({
      {"md5('hello')", R"("5d41402abc4b2a76b9719d911017c592")"},
      {"sha1('hello')", R"("aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d")"},
      {"sha224('hello')", R"("ea09ae9cc6768c50fcee903ed054556e5bfc8347907f12598aa24193")"},
      {"sha256('hello')", R"("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")"},
      {"sha384('')",
       R"("38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b")"},
      {"sha512('')",
       R"("cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")"},
      {"encode('hello', 'base64')", R"("aGVsbG8=")"},
      {"decode('aGVsbG8=', 'base64')", R"("hello")"},
      // "The function returns NULL if the string cannot be decoded."
      {"decode('!!', 'base64')", "null"},
      // A JSON scalar decodes to its value (the WHERE clause page's 80).
      {"decode('ODA=', 'base64')", "80"},
      {"decode('ODA=', 'base64') > 50", "true"},
      {"encode('x', 'hex')", ""},
  });
}

TEST(IotSqlFunctions, Time) {
  expect_functions({
      {"timestamp()", "1610293303000"},
      {"parse_time('yyyy-MM-dd HH:mm:ss', 1610293303000)", R"("2021-01-10 15:41:43")"},
      {"parse_time(\"yyyy-MM-dd'T'HH:mm:ss.SSSZ\", 1610293303123)",
       R"("2021-01-10T15:41:43.123+0000")"},
      {"parse_time('yyyy-MM-dd HH:mm:ss', 1610293303000, 'Asia/Tokyo')",
       R"("2021-01-11 00:41:43")"},
      {"parse_time('E, d MMM yyyy hh:mm a', 0, 'UTC')", R"("Thu, 1 Jan 1970 12:00 AM")"},
      {"parse_time('yyyy', 0, 'Mars/Olympus')", ""},
      {"time_to_epoch('2021-01-10 15:41:43', 'yyyy-MM-dd HH:mm:ss')", "1610293303000"},
      {"time_to_epoch('2020-01-01T09:00:00.5+09:00', \"yyyy-MM-dd'T'HH:mm:ss.SZZ\")",
       "1577836800500"},
      {"time_to_epoch('not a time', 'yyyy')", ""},
      // The page's examples.
      {"parse_time(\"yyyy.MM.dd G 'at' HH:mm:ss z\", 100000000, \"America/Belize\")",
       R"("1970.01.01 AD at 21:46:40 CST")"},
      {"time_to_epoch(\"2020-04-03 09:45:18 UTC+01:00\", \"yyyy-MM-dd HH:mm:ss VV\")",
       "1585903518000"},
      {"time_to_epoch(\"18 December 2015\", \"dd MMMM yyyy\")", "1450396800000"},
      {"time_to_epoch(\"2007-12-03 10:15:30.592 America/Los_Angeles\", "
       "\"yyyy-MM-dd HH:mm:ss.SSS z\")",
       "1196705730592"},
  });
}

// Zones with daylight saving, against Python's zoneinfo (the system tz
// database): the rule decides the offset and the 'z' name by date.
TEST(IotSqlFunctions, DaylightSavingZones) {
  expect_functions({
      {"parse_time('yyyy-MM-dd HH:mm z', 1594000000000, 'America/Los_Angeles')",
       R"("2020-07-05 18:46 PDT")"},
      {"parse_time('yyyy-MM-dd HH:mm z', 1610293303000, 'America/Los_Angeles')",
       R"("2021-01-10 07:41 PST")"},
      {"parse_time('HH:mm:ss Z', 1615715999000, 'America/Los_Angeles')", R"("01:59:59 -0800")"},
      {"parse_time('HH:mm:ss Z', 1615716000000, 'America/Los_Angeles')", R"("03:00:00 -0700")"},
      {"parse_time('yyyy-MM-dd HH:mm z', 1610293303000, 'America/New_York')",
       R"("2021-01-10 10:41 EST")"},
      {"parse_time('yyyy-MM-dd HH:mm z', 1594000000000, 'Europe/London')",
       R"("2020-07-06 02:46 BST")"},
      {"parse_time('yyyy-MM-dd HH:mm z', 1610293303000, 'Europe/Berlin')",
       R"("2021-01-10 16:41 CET")"},
      // Southern summer spans the new year.
      {"parse_time('yyyy-MM-dd HH:mm z', 1610293303000, 'Australia/Sydney')",
       R"("2021-01-11 02:41 AEDT")"},
      {"parse_time('yyyy-MM-dd HH:mm z', 1594000000000, 'Australia/Sydney')",
       R"("2020-07-06 11:46 AEST")"},
      {"time_to_epoch('2020-07-05 18:46 America/Los_Angeles', 'yyyy-MM-dd HH:mm z')",
       "1593999960000"},
      // 02:30 does not exist on 2021-03-14: java.time moves it on by the gap.
      {"time_to_epoch('2021-03-14 02:30 America/Los_Angeles', 'yyyy-MM-dd HH:mm z')",
       "1615717800000"},
      // 01:30 happens twice on 2021-11-07: the earlier offset, PDT, wins.
      {"time_to_epoch('2021-11-07 01:30 America/Los_Angeles', 'yyyy-MM-dd HH:mm z')",
       "1636273800000"},
      {"time_to_epoch('2021-01-10 07:41 US/Pacific', 'yyyy-MM-dd HH:mm VV')", "1610293260000"},
      {"parse_time('yyyy', 0, 'America/Atlantis')", ""},
  });
}

// The Functions page's cast keywords: Decimal, Bool and Boolean are listed
// "additionally, for SQL version 2016-03-23", so 2015-10-08 casts to them
// give Undefined, as cast does for any type it does not know.
TEST(IotSqlFunctions, CastKeywordsBySqlVersion) {
  struct VersionCase {
    const char* expr;
    const char* v2015;
    const char* v2016;
  };
  const VersionCase cases[] = {
      {"cast(1 AS Decimal)", "", "1"},
      {"cast(1 AS Bool)", "", "true"},
      {"cast(0 AS Boolean)", "", "false"},
      {"cast(true AS Int)", "1", "1"},
      {"cast(2.5 AS Integer)", "2", "2"},
      {"cast('2.5' AS Double)", "2.5", "2.5"},
      {"cast(12 AS Nvarchar)", R"("12")", R"("12")"},
  };
  for (const VersionCase& c : cases) {
    std::string sql = std::string("SELECT VALUE ") + c.expr + " FROM 'topic/subtopic'";
    EXPECT_EQ(run_rule(sql, "{}", "topic/subtopic", "2015-10-08"), c.v2015) << c.expr;
    EXPECT_EQ(run_rule(sql, "{}", "topic/subtopic", "2016-03-23"), c.v2016) << c.expr;
  }
}

TEST(IotSqlFunctions, Context) {
  expect_functions({
      {"accountid()", R"("000000000000")"},
      {"clientid()", R"("device-1")"},
      {"principal()", R"("arn:aws:iam::000000000000:root")"},
      {"sourceip()", R"("127.0.0.1")"},
      {"topic()", R"("topic/subtopic")"},
      {"topic(1)", R"("topic")"},
      {"topic(2)", R"("subtopic")"},
      {"topic(3)", ""},
      {"newuuid()", R"("01234567-89ab-4def-8123-456789abcdef")"},
      {"sql_version()", R"("2016-03-23")"},
      {"TOPIC()", R"("topic/subtopic")"},
  });
}

// Examples the "Functions" page gives as whole statements.
TEST(IotSqlFunctions, PageStatementExamples) {
  EXPECT_EQ(run_rule("SELECT VALUE topic() FROM 'things/#'", "{}", "things/myThings/thingOne"),
            R"("things/myThings/thingOne")");
  EXPECT_EQ(run_rule("SELECT VALUE topic(1) FROM 'things/#'", "{}", "things/myThings/thingOne"),
            R"("things")");
  EXPECT_EQ(run_rule("SELECT decode(encoded_temp,\"base64\").temperature AS temp "
                     "from 'topic/subtopic'",
                     R"({"encoded_temp": "eyAidGVtcGVyYXR1cmUiOiAzMyB9Cg=="})"),
            R"({"temp":33})");
  const char* transform_payload = R"({"attributes": {"data1": 1, "data2": 2},
      "values": [{"a": 3}, {"b": 4}, {"c": 5}]})";
  EXPECT_EQ(run_rule("select value transform(\"enrichArray\", attributes, values) from 'A/B'",
                     transform_payload, "A/B"),
            R"([{"a":3,"data1":1,"data2":2},{"b":4,"data1":1,"data2":2},)"
            R"({"c":5,"data1":1,"data2":2}])");
  EXPECT_EQ(run_rule("select value transform(\"enrichArray\", {\"key\": attributes.data1}, "
                     "values) from 'A/B'",
                     transform_payload, "A/B"),
            R"([{"a":3,"key":1},{"b":4,"key":1},{"c":5,"key":1}])");
  EXPECT_EQ(
      run_rule("select value transform('enrichArray', (select a, b from data2), "
               "(select value c from data2)) from 'A/B'",
               R"({"data1": "example", "data2": {"a": "first attribute", "b": "second attribute",
                   "c": [{"x": {"someInt": 5, "someString": "hello"}, "y": true},
                         {"x": {"someInt": 10, "someString": "world"}, "y": false}]}})",
               "A/B"),
      R"([{"x":{"someInt":5,"someString":"hello"},"y":true,"a":"first attribute",)"
      R"("b":"second attribute"},{"x":{"someInt":10,"someString":"world"},"y":false,)"
      R"("a":"first attribute","b":"second attribute"}])");
}

TEST(IotSqlFunctions, UserProperties) {
  auto compiled = compile_rule(
      "SELECT get_user_properties('deviceName') AS names, get_user_properties('nope') AS none "
      "FROM 'a'");
  Message message;
  message.topic = "a";
  message.payload = "{}";
  message.user_properties =
      R"([{"deviceName": "alpha"}, {"deviceCnt": "45"}, {"deviceName": "beta"}])";
  EvaluationContext context = iotsql_test::fixed_context(message);
  EXPECT_EQ(std::get<CompiledRule>(compiled).evaluate(context), R"({"names":["alpha","beta"]})");
}

TEST(IotSqlFunctions, DefaultUuidsAreVersion4) {
  auto compiled = compile_rule("SELECT VALUE newuuid() FROM 'a'");
  Message message;
  message.topic = "a";
  EvaluationContext context;
  context.message = &message;
  std::optional<std::string> first = std::get<CompiledRule>(compiled).evaluate(context);
  std::optional<std::string> second = std::get<CompiledRule>(compiled).evaluate(context);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->size(), 38u);  // quoted 36-character UUID
  EXPECT_EQ((*first)[15], '4');
  EXPECT_NE(*first, *second);
}

}  // namespace
}  // namespace offcloud

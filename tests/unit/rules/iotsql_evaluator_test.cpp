#include <gtest/gtest.h>

#include "tests/unit/rules/iotsql_test_support.h"

namespace offcloud {
namespace {

using iotsql_test::run_rule;

struct QueryCase {
  const char* sql;
  const char* payload;
  std::optional<std::string> output;  // nullopt: WHERE rejects
};

void expect_cases(const std::vector<QueryCase>& cases, const std::string& version = "") {
  for (const QueryCase& c : cases) {
    EXPECT_EQ(run_rule(c.sql, c.payload, "topic/subtopic", version), c.output)
        << c.sql << "  over  " << c.payload;
  }
}

// The examples of AWS's "SELECT clause" page.
TEST(IotSqlEvaluator, SelectClauseExamples) {
  const char* color = R"({"color":"red", "temperature":50})";
  expect_cases({
      {"SELECT * FROM 'topic/subtopic'", color, R"({"color":"red","temperature":50})"},
      {"SELECT color FROM 'topic/subtopic'", color, R"({"color":"red"})"},
      {"SELECT color AS my_color FROM 'topic/subtopic'", color, R"({"my_color":"red"})"},
      {"SELECT color as my_color, temperature as fahrenheit FROM 'topic/subtopic'", color,
       R"({"my_color":"red","fahrenheit":50})"},
      {"SELECT *, 15 as speed FROM 'topic/subtopic'", color,
       R"({"color":"red","temperature":50,"speed":15})"},
      {"SELECT VALUE color FROM 'topic/subtopic'", color, R"("red")"},
      {"SELECT color.red as red_value FROM 'topic/subtopic'",
       R"({"color":{"red":255,"green":0,"blue":0}, "temperature":50})", R"({"red_value":255})"},
      {"SELECT 'Hello World' AS my_message FROM 'topic/subtopic'", color,
       R"({"my_message":"Hello World"})"},
      {"SELECT NULL AS n FROM 'topic/subtopic'", color, R"({"n":null})"},
  });
}

// The SELECT clause page's last example. The page writes "temperature – 32"
// with an en dash, which is no operator (the tokenizer refuses it); the
// minus sign is meant.
TEST(IotSqlEvaluator, SelectClauseFunctionsAndGrouping) {
  expect_cases({
      {"SELECT (temperature - 32) * 5 / 9 AS celsius, upper(color) as my_color "
       "FROM 'topic/subtopic'",
       R"({"color":"red", "temperature":50})", R"({"celsius":10,"my_color":"RED"})"},
  });
  EXPECT_EQ(run_rule("SELECT (temperature \u2013 32) AS c FROM 'topic/subtopic'", "{}")
                ->rfind("<parse error: Line 1:20 token recognition error", 0),
            0u);
}

// AWS's "AWS IoT SQL reference" page: its example statement, and its note
// that attribute names with spaces cannot be named in SQL but pass through
// the * wildcard.
TEST(IotSqlEvaluator, SqlReferencePageExamples) {
  expect_cases({
      {"SELECT color AS rgb FROM 'topic/subtopic' WHERE temperature > 50",
       R"({ "color":"red", "temperature":100 })", R"({"rgb":"red"})"},
      {"SELECT color AS rgb FROM 'topic/subtopic' WHERE temperature > 50",
       R"({ "color":"red", "temperature":50 })", std::nullopt},
      {"SELECT *, 1 AS n FROM 'topic/subtopic'", R"({"my key": "v"})", R"({"my key":"v","n":1})"},
      // "Comments are not currently supported": -- is minus minus.
      {"SELECT VALUE 10 -- 2 FROM 'topic/subtopic'", "{}", "12"},
  });
}

// AWS's "WHERE clause" page.
TEST(IotSqlEvaluator, WhereClauseExamples) {
  expect_cases({
      {"SELECT color AS my_color FROM 'topic/subtopic' WHERE temperature > 50 AND color <> 'red'",
       R"({"color":"red", "temperature":40})", std::nullopt},
      // The page calls the payload 80 "non-JSON", though it is a JSON number;
      // encode(*) sees its bytes either way.
      {"SELECT decode(encode(*, 'base64'), 'base64') AS value FROM 'topic/subtopic' "
       "WHERE decode(encode(*, 'base64'), 'base64') > 50",
       "80", R"({"value":80})"},
      {"SELECT decode(encode(*, 'base64'), 'base64') AS value FROM 'topic/subtopic' "
       "WHERE decode(encode(*, 'base64'), 'base64') > 50",
       "40", std::nullopt},
  });
}

// AWS's "FROM clause" page: which published topics each filter lets in. The
// page writes the payloads as {temperature: 50}, which is not JSON (AWS
// would read no temperature from it); the rows quote the key.
TEST(IotSqlEvaluator, FromClauseExamples) {
  struct Publication {
    const char* topic;
    int temperature;
  };
  const Publication published[] = {
      {"topic/subtopic", 50},
      {"topic/subtopic-2", 60},
      {"topic/subtopic-3/details", 70},
      {"topic-2/subtopic-x", 80},
  };
  struct FilterCase {
    const char* filter;
    std::vector<bool> triggers;  // per publication above
  };
  const FilterCase cases[] = {
      {"topic/subtopic", {true, false, false, false}},
      {"topic/#", {true, true, true, false}},
      {"topic/+", {true, true, false, false}},
  };
  for (const FilterCase& c : cases) {
    std::string sql = std::string("SELECT temperature AS t FROM '") + c.filter + "'";
    for (std::size_t i = 0; i < std::size(published); ++i) {
      std::string payload = "{\"temperature\": " + std::to_string(published[i].temperature) + "}";
      std::optional<std::string> expected;
      if (c.triggers[i]) expected = "{\"t\":" + std::to_string(published[i].temperature) + "}";
      EXPECT_EQ(run_rule(sql, payload, published[i].topic), expected)
          << c.filter << " on " << published[i].topic;
    }
  }
}

// "Output an array as a top-level object" and nested object queries.
TEST(IotSqlEvaluator, SqlVersionsAndNestedQueries) {
  const char* sensors = R"({"e": [
      {"n": "temperature", "u": "Cel", "t": 1234, "v": 22.5},
      {"n": "light", "u": "lm", "t": 1235, "v": 135},
      {"n": "acidity", "u": "pH", "t": 1235, "v": 7}]})";
  expect_cases({
      {"SELECT VALUE arr FROM 'topic/subtopic'", R"({"a": {"b":"c"}, "arr":[1,2,3,4]})",
       "[1,2,3,4]"},
      {"SELECT (SELECT VALUE n FROM e) as sensors FROM 'topic/subtopic'", sensors,
       R"({"sensors":["temperature","light","acidity"]})"},
      {"SELECT (SELECT v FROM e WHERE n = 'temperature') as temperature FROM 'topic/subtopic'",
       sensors, R"({"temperature":[{"v":22.5}]})"},
      {"SELECT get((SELECT v FROM e WHERE n = 'temperature'), 0).v as temperature "
       "FROM 'topic/subtopic'",
       sensors, R"({"temperature":22.5})"},
      {"SELECT (SELECT n, v FROM e WHERE v > 100) AS bright FROM 'topic/subtopic'", sensors,
       R"({"bright":[{"n":"light","v":135}]})"},
      {"SELECT e[1].n AS second FROM 'topic/subtopic'", sensors, R"({"second":"light"})"},
      {"SELECT e[9].n AS missing FROM 'topic/subtopic'", sensors, "{}"},
  });
}

TEST(IotSqlEvaluator, WholeNumberDecimalsDependOnVersion) {
  const char* payload = R"({"v": 10.0, "w": 2.5})";
  EXPECT_EQ(run_rule("SELECT v, w * 2 AS x FROM 'topic/subtopic'", payload), R"({"v":10,"x":5})");
  EXPECT_EQ(run_rule("SELECT v, w * 2 AS x FROM 'topic/subtopic'", payload, "topic/subtopic",
                     "2015-10-08"),
            R"({"v":10.0,"x":5.0})");
  EXPECT_EQ(run_rule("SELECT isNumber(v) AS n FROM 'topic/subtopic' WHERE v = 10", payload,
                     "topic/subtopic", "2015-10-08"),
            R"({"n":true})");
}

// AWS's "JSON extensions" page.
TEST(IotSqlEvaluator, JsonExtensionsExamples) {
  expect_cases({
      {"SELECT foo.bar AS bar_value FROM 'topic/subtopic'",
       R"({ "foo": { "bar": "RED", "bar1": "GREEN", "bar2": "BLUE" } })", R"({"bar_value":"RED"})"},
      {"SELECT * from 'topic/subtopic' WHERE get(get(get(mydata,\"item2\"),\"0\"),\"my-key\") = "
       "\"myValue\"",
       R"({ "mydata": { "item2": { "0": { "my-key": "myValue" } } } })",
       R"({"mydata":{"item2":{"0":{"my-key":"myValue"}}}})"},
      {"SELECT temp, md5(deviceid) AS hashed_id FROM topic/#",
       R"({ "deviceid" : "iot123", "temp" : 54.98, "humidity" : 32.43,
            "coords" : { "latitude" : 47.615694, "longitude" : -122.3359976 } })",
       R"({"temp":54.98,"hashed_id":"e37f81fb397e595c4aeb5645b8cbbbd1"})"},
      {"SELECT `my-key` AS k FROM 'topic/subtopic'", R"({"my-key": 1})", R"({"k":1})"},
  });
  // "the simple 'dot' notation will not work" for item2.0.my-key: a number
  // after '.' is no key name, so the page's first query does not parse.
  EXPECT_EQ(run_rule("SELECT * from iot/rules WHERE mydata.item2.0.my-key= \"myValue\"",
                     R"({ "mydata": { "item2": { "0": { "my-key": "myValue" } } } })", "iot/rules")
                ->rfind("<parse error: Line 1:43 mismatched input '0' expecting a key name", 0),
            0u);
}

TEST(IotSqlEvaluator, NonJsonPayloads) {
  std::string binary("\x00\x01\xff{", 4);
  EXPECT_EQ(run_rule("SELECT * FROM 'topic/subtopic'", binary), binary);
  EXPECT_EQ(run_rule("SELECT VALUE * FROM 'topic/subtopic'", binary), binary);
  EXPECT_EQ(run_rule("SELECT a FROM 'topic/subtopic'", binary), "{}");
  EXPECT_EQ(run_rule("SELECT encode(*, 'base64') AS data FROM 'topic/subtopic'", "hello"),
            R"({"data":"aGVsbG8="})");
  EXPECT_EQ(run_rule("SELECT *, 1 AS one FROM 'topic/subtopic'", binary), R"({"one":1})");
  EXPECT_EQ(run_rule("SELECT * FROM 'topic/subtopic' WHERE a = 1", binary), std::nullopt);
  // JSON that is not an object passes through SELECT * too.
  EXPECT_EQ(run_rule("SELECT * FROM 'topic/subtopic'", "[1, 2]"), "[1,2]");
}

TEST(IotSqlEvaluator, UndefinedSemantics) {
  const char* payload = R"({"foo": null, "n": 5, "s": "x"})";
  expect_cases({
      // A missing key is Undefined and is left out; null stays.
      {"SELECT foo, bar FROM 'topic/subtopic'", payload, R"({"foo":null})"},
      {"SELECT bar + 1 AS a, n + bar AS b, -bar AS c FROM 'topic/subtopic'", payload, "{}"},
      {"SELECT VALUE bar FROM 'topic/subtopic'", payload, ""},
      {"SELECT n FROM 'topic/subtopic' WHERE bar = 1", payload, std::nullopt},
      {"SELECT n FROM 'topic/subtopic' WHERE bar <> 1", payload, std::nullopt},
      {"SELECT n FROM 'topic/subtopic' WHERE NOT bar", payload, std::nullopt},
      // WHERE must be a Boolean (or "true"/"false"): numbers do not pass.
      {"SELECT n FROM 'topic/subtopic' WHERE n", payload, std::nullopt},
      {"SELECT n FROM 'topic/subtopic' WHERE 'true'", payload, std::nullopt},
      {"SELECT n FROM 'topic/subtopic' WHERE 'TRUE' AND true", payload, R"({"n":5})"},
      {"SELECT isUndefined(bar) AS u, isNull(foo) AS z FROM 'topic/subtopic'", payload,
       R"({"u":true,"z":true})"},
      {"SELECT n FROM 'topic/subtopic' WHERE s > 1", payload, std::nullopt},
      {"SELECT [1, bar, 2] AS a, {'k': bar, 'j': 1} AS o FROM 'topic/subtopic'", payload,
       R"({"a":[1,2],"o":{"j":1}})"},
  });
}

// AWS's "Operators" page.
TEST(IotSqlEvaluator, Operators) {
  const char* payload =
      R"({"i": 7, "d": 2.5, "s": "20", "t": "abc", "b": true, "arr": [1, "x", [2]]})";
  struct Case {
    const char* expr;
    const char* json;  // the value as SELECT VALUE prints it; "" for Undefined
  };
  const Case cases[] = {
      {"i + 1", "8"},
      {"i + d", "9.5"},
      {"i - 10", "-3"},
      {"i * d", "17.5"},
      {"i / 2", "3"},
      {"i / 2.0", "3.5"},
      {"i % 4", "3"},
      {"i / 0", ""},
      {"i + s", "\"720\""},
      {"s + i", "\"207\""},
      {"s - 5", "15.0"},
      {"t * 2", ""},
      {"b + 1", ""},
      {"'a' + 'b'", "\"ab\""},
      {"-i", "-7"},
      {"-(i + d)", "-9.5"},
      {"i = 7", "true"},
      {"i = 7.0", "true"},
      {"i = '7'", "false"},
      {"i <> 8", "true"},
      {"i != 7", "false"},
      {"s > 3", "true"},
      {"s > 30", "false"},
      {"t > 3", ""},
      {"i >= 7 AND i <= 7", "true"},
      {"i < d", "false"},
      {"b AND 'false'", "false"},
      {"b OR 1", ""},
      {"NOT b", "false"},
      {"NOT 'False'", "true"},
      {"'x' IN arr", "true"},
      {"[2] IN arr", "true"},
      {"3 IN arr", "false"},
      {"i IN (1, 7)", "true"},
      {"i IN i", ""},
      {"[1, 2] = [1, 2]", "true"},
      {"{'a': 1} = {'a': 1.0}", "true"},
      {"null = null", "true"},
      {"9223372036854775807 + 1", "9223372036854775808.0"},
      // Rows of the page's operator tables not shown above.
      {"s - '5'", "15.0"},
      {"'2' * 3", "6.0"},
      {"'9' / '2'", "4.5"},
      {"i / d", "2.8"},
      {"'7' % 4", "3.0"},
      {"d % 2", "0.5"},
      {"i * 2", "14"},
      {"i - d", "4.5"},
      {"'a' + 1.5", "\"a1.5\""},
      {"'a' + b", "\"atrue\""},
      {"'x' + [1, 2]", "\"x[1,2]\""},
      {"t - 1", ""},
      {"arr + 1", ""},
      {"'5E-1' < 1", "true"},
      {"'-1.2' <= -1.2", "true"},
      {"'abc' >= 1", ""},
      {"i <> 's'", "true"},
      {"null <> null", "false"},
      {"i = 's'", "false"},
      {"i = nothing", ""},
      {"nothing <> i", ""},
      {"[1, 2] <> [2, 1]", "true"},
      {"{'a': 1, 'b': 2} = {'b': 2, 'a': 1}", "true"},
      {"'true' AND 'TRUE'", "true"},
      {"'true' OR false", "true"},
      {"'false' OR 'False'", "false"},
      {"1 AND true", ""},
      {"NOT 1", ""},
  };
  for (const Case& c : cases) {
    std::string sql = std::string("SELECT VALUE ") + c.expr + " FROM 'topic/subtopic'";
    EXPECT_EQ(run_rule(sql, payload, "topic/subtopic", "2015-10-08"), c.json) << c.expr;
  }
}

// The Operators page's IN example, which shows that the array may mix
// types. The stored copies of the live page break off after the IN
// section's first sentence ("You can use the IN operator in a WHERE
// clause..."): the example is the live page's as remembered, not as read.
TEST(IotSqlEvaluator, InOperatorExample) {
  const char* payload = R"({"arr":[1, 2, 3, "three", 5.7, null]})";
  EXPECT_EQ(run_rule("select * from 'a/b' where 3 in arr", payload, "a/b"),
            R"({"arr":[1,2,3,"three",5.7,null]})");
  EXPECT_EQ(run_rule("select * from 'a/b' where 4 in arr", payload, "a/b"), std::nullopt);
  EXPECT_EQ(run_rule("select VALUE [null in arr, 'three' in arr, 5.7 in arr, '3' in arr] "
                     "from 'a/b'",
                     payload, "a/b"),
            "[true,true,true,false]");
}

// AWS's "Case statements" page.
TEST(IotSqlEvaluator, CaseStatements) {
  const char* sql =
      "SELECT CASE color WHEN 'green' THEN 'go' WHEN 'yellow' THEN 'caution' "
      "WHEN 'red' THEN 'stop' ELSE 'you are not at a stop light' END as instructions "
      "FROM 'topic/subtopic'";
  expect_cases({
      {sql, R"({"color":"yellow"})", R"({"instructions":"caution"})"},
      {sql, R"({"color":"blue"})", R"({"instructions":"you are not at a stop light"})"},
      {"SELECT CASE WHEN t > 30 THEN 'hot' WHEN t > 10 THEN 'mild' END AS feel "
       "FROM 'topic/subtopic'",
       R"({"t": 20})", R"({"feel":"mild"})"},
      {"SELECT CASE WHEN t > 30 THEN 'hot' END AS feel FROM 'topic/subtopic'", R"({"t": 20})",
       "{}"},
      // "If v is Undefined, the result of the case statement is Undefined."
      {sql, R"({"colour":"yellow"})", "{}"},
  });
}

// AWS's "Literals" page.
TEST(IotSqlEvaluator, LiteralsExamples) {
  expect_cases({
      {"SELECT {'latitude': get(lat_long, 0),'longitude':get(lat_long, 1)} as lat_long "
       "FROM 'topic/subtopic'",
       R"({"lat_long": [47.606,-122.332]})",
       R"({"lat_long":{"latitude":47.606,"longitude":-122.332}})"},
      // The page's payload says 47.696 but its output 47.606; the output is
      // the payload's values, so the payload here uses 47.606.
      {"SELECT [lat,long] as lat_long FROM 'topic/subtopic'",
       R"({"lat": 47.606, "long": -122.332})", R"({"lat_long":[47.606,-122.332]})"},
  });
}

// AWS's "Data types" page: conversions and Undefined.
TEST(IotSqlEvaluator, DataTypeConversions) {
  const char* payload = R"({"foo": null})";
  expect_cases({
      {"SELECT foo, bar FROM 'topic/subtopic'", payload, R"({"foo":null})"},
      {"SELECT NULL AS n FROM 'topic/subtopic'", payload, R"({"n":null})"},
      {"SELECT VALUE bar FROM 'topic/subtopic'", payload, ""},
      {"SELECT abs('-5.123') AS a FROM 'topic/subtopic'", payload, R"({"a":5.123})"},
      // "0", "-1.2" and "5E-12" convert to Decimals automatically.
      {"SELECT '0' < 1 AS a, '-1.2' < 0 AS b, '5E-12' > 0 AS c, '5e-12' < 1 AS d "
       "FROM 'topic/subtopic'",
       payload, R"({"a":true,"b":true,"c":true,"d":true})"},
      {"SELECT '1.' < 2 AS a, '.5' < 2 AS b, 'five' < 2 AS c FROM 'topic/subtopic'", payload, "{}"},
      // Boolean does not convert to a number; Null gives no number either.
      {"SELECT abs(true) AS a, abs(foo) AS b FROM 'topic/subtopic'", payload, "{}"},
      {"SELECT concat('x', true) AS a, concat('x', [1, 'y']) AS b FROM 'topic/subtopic'", payload,
       R"({"a":"xtrue","b":["x",1,"y"]})"},
  });
}

// AWS's "SET clause" page.
TEST(IotSqlEvaluator, SetClauseVariables) {
  expect_cases({
      // AWS's page divides by 9 and shows 23.89; offcloud keeps Int / Int an
      // Int as the operator table says, so the Decimal divisor is explicit.
      {"SET @temp_celsius = (temp_fahrenheit - 32) * 5 / 9.0 "
       "SELECT round(@temp_celsius) AS celsius, humidity FROM 'topic/subtopic'",
       R"({"temp_fahrenheit": 75, "humidity": 60})", R"({"celsius":24,"humidity":60})"},
      {"SET @device_sensor_data = device1.deviceData.sensors "
       "SELECT @device_sensor_data.temp_fahrenheit AS temp_fahrenheit, "
       "@device_sensor_data.humidity as humidity, device1.deviceId AS device_id "
       "FROM 'topic/subtopic'",
       R"({"device1": {"deviceId":"weather_sensor", "deviceData": {"sensors":
           {"temp_fahrenheit": 75, "humidity": 60}, "location": [47.606,-122.332]}}})",
       R"({"temp_fahrenheit":75,"humidity":60,"device_id":"weather_sensor"})"},
      {"SET @a = 2, @b = @a * 3 SELECT @b AS b FROM 'topic/subtopic' WHERE @a = 2", "{}",
       R"({"b":6})"},
      {"SET @a = 2 SELECT @a AS b FROM 'topic/subtopic' WHERE @a = 3", "{}", std::nullopt},
      {"SET @limit = 10 SELECT (SELECT VALUE v FROM e WHERE v > @limit) AS big "
       "FROM 'topic/subtopic'",
       R"({"e": [{"v": 5}, {"v": 50}]})", R"({"big":[50]})"},
  });
}

// The hands-on acceptance case: one rule over three published records.
TEST(IotSqlEvaluator, HandsOnAnalysisLogData) {
  const std::string sql =
      "SELECT Gender, get(*, 'AgeRange-Low') AS age, topic() AS t FROM 'handson/+' "
      "WHERE Smile = true AND get(*, 'AgeRange-Low') >= 20";
  const char* records[] = {
      R"({"timestamp": "2021-01-10 15:41:43", "face_id": 0, "AgeRange-Low": 22, "AgeRange-High": 34, "Gender": "Female", "Smile": true, "Calm": 72.5})",
      R"({"timestamp": "2021-01-10 15:41:44", "face_id": 1, "AgeRange-Low": 15, "AgeRange-High": 21, "Gender": "Male", "Smile": true, "Calm": 10.1})",
      R"({"timestamp": "2021-01-10 15:41:45", "face_id": 2, "AgeRange-Low": 30, "AgeRange-High": 40, "Gender": "Male", "Smile": false, "Calm": 88.0})",
  };
  EXPECT_EQ(run_rule(sql, records[0], "handson/analysisLogData"),
            R"({"Gender":"Female","age":22,"t":"handson/analysisLogData"})");
  EXPECT_EQ(run_rule(sql, records[1], "handson/analysisLogData"), std::nullopt);
  EXPECT_EQ(run_rule(sql, records[2], "handson/analysisLogData"), std::nullopt);
  // The FROM filter decides first: another topic never reaches WHERE.
  EXPECT_EQ(run_rule(sql, records[0], "other/analysisLogData"), std::nullopt);
}

}  // namespace
}  // namespace offcloud

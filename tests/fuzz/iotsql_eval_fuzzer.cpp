// AWS IoT SQL evaluation over untrusted payloads: whatever a device
// publishes reaches every matching rule. The input is a rule's SQL, a NUL
// byte, then the payload; the payload also goes through a fixed set of
// representative rules (projections, nested objects and arrays, WHERE,
// CASE, string, math and JSON functions, a nested SELECT), so that payload
// mutations are explored even while the SQL part does not parse. Clock,
// uuid and randomness are fixed, so every run of an input is the same.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <variant>

#include "rules/sql_evaluator.h"
#include "rules/topic_rule.h"

namespace offcloud {
namespace {

constexpr const char* kRules[] = {
    "SELECT * FROM 'fuzz/#'",
    "SELECT VALUE * FROM 'fuzz/#'",
    "SELECT temperature, humidity AS h, topic(2) AS device, timestamp() AS ts FROM 'fuzz/#' "
    "WHERE temperature > 50 AND NOT (humidity < 10)",
    "SELECT a.b.c, a.b[0], arr[1], arr[-1] AS last, * FROM 'fuzz/#'",
    "SELECT (SELECT VALUE n FROM e) AS names, (SELECT v FROM e WHERE n = 'light') AS light "
    "FROM 'fuzz/#'",
    "SELECT CASE state WHEN 'on' THEN 1 WHEN 'off' THEN 0 ELSE -1 END AS s, "
    "nanvl(x, 'none') AS c, get_or_default(obj.k, 0) AS g, isUndefined(z) AS u, isNull(x) AS n "
    "FROM 'fuzz/#'",
    "SELECT upper(name) AS u, lower(name) AS l, substring(name, 1, 3) AS s, length(name) AS n, "
    "concat(name, '-', id) AS c, replace(name, 'a', 'b') AS r, trim(name) AS t, "
    "regexp_matches(name, '^[a-z]+$') AS m, startswith(name, 'x') AS sw FROM 'fuzz/#'",
    "SELECT abs(v), ceil(v), floor(v), round(v), sqrt(v), power(v, 2), mod(v, 7), log(v), "
    "ln(v), exp(v), sign(v), trunc(v, 2), v / 3 AS d, v * 1000000000000 AS big, bitand(v, 12) "
    "FROM 'fuzz/#'",
    "SELECT cast(v AS String) AS s, cast(s AS Int) AS i, cast(s AS Decimal) AS dec, "
    "cast(v AS Boolean) AS b, lpad(s, 5, '*') AS p, indexof(s, '1') AS i2 FROM 'fuzz/#'",
    "SELECT get(arr, 0) AS first, get(obj, 'k') AS k, arr[0] AS a0, obj.k AS ok "
    "FROM 'fuzz/#' WHERE arr[0] <> obj.k OR v >= 1.5",
    "SELECT encode(*, 'base64') AS b64, md5(name) AS m, sha256(name) AS s, decode(b, 'base64') AS "
    "d "
    "FROM 'fuzz/#'",
    "SELECT parse_time(\"yyyy-MM-dd'T'HH:mm:ss\", ts) AS t, "
    "time_to_epoch(\"2021-01-10 15:41:43\", \"yyyy-MM-dd HH:mm:ss\") AS e FROM 'fuzz/#'",
};

std::vector<CompiledRule>* compile_fixed_rules() {
  auto* rules = new std::vector<CompiledRule>();
  for (const char* sql : kRules) {
    auto compiled = compile_rule(sql);
    // Only rules the parser accepts are worth running; one it refuses would
    // silently test nothing, so it is a harness error.
    if (!std::holds_alternative<CompiledRule>(compiled)) {
      std::fprintf(stderr, "iotsql_eval_fuzzer: fixed rule does not compile: %s\n  %s\n", sql,
                   std::get<SqlParseError>(compiled).message.c_str());
      std::abort();
    }
    rules->push_back(std::move(std::get<CompiledRule>(compiled)));
  }
  return rules;
}

void run(const SqlStatement& statement, const EvaluationContext& context) {
  evaluate_statement(statement, context);
  evaluate_variables(statement, context);
}

}  // namespace
}  // namespace offcloud

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace offcloud;
  static std::vector<CompiledRule>* fixed = compile_fixed_rules();

  const char* text = reinterpret_cast<const char*>(data);
  const void* nul = std::memchr(text, '\0', size);
  std::size_t split = nul ? static_cast<const char*>(nul) - text : 0;

  Message message;
  message.topic = "fuzz/device-1/telemetry";
  message.payload.assign(text + (nul ? split + 1 : 0), text + size);
  message.client_id = "device-1";
  message.principal = "arn:aws:iam::000000000000:root";
  message.source_ip = "127.0.0.1";
  message.timestamp_ms = 1610293303000;
  EvaluationContext context;
  context.message = &message;
  context.now_ms = [] { return std::int64_t{1610293303000}; };
  context.new_uuid = [] { return std::string("01234567-89ab-4def-8123-456789abcdef"); };
  context.random = [] { return 0.25; };

  if (nul) {
    for (const char* version : {"2016-03-23", "2015-10-08"}) {
      auto compiled = compile_rule(std::string_view(text, split), version);
      if (auto* rule = std::get_if<CompiledRule>(&compiled)) run(rule->statement(), context);
    }
  }
  for (const CompiledRule& rule : *fixed) run(rule.statement(), context);
  return 0;
}

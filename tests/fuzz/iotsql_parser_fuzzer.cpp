// AWS IoT SQL's front end, as CreateTopicRule and ReplaceTopicRule feed it a
// rule's text: the tokenizer, the parser in both SQL versions, a lone
// expression, and a substitution template (action fields such as an S3
// key's "${topic()}/${timestamp()}"). SqlParseError is the one exception a
// caller expects; any other escapes and fails the run.
#include <cstdint>
#include <string>

#include "rules/sql_parser.h"
#include "rules/topic_rule.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace offcloud;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    tokenize_sql(text);
  } catch (const SqlParseError&) {
  }
  for (SqlVersion version : {SqlVersion::k2015_10_08, SqlVersion::k2016_03_23}) {
    try {
      parse_sql(text, version);
    } catch (const SqlParseError&) {
    }
    try {
      parse_sql_expression(text, version, {"a", "b"});
    } catch (const SqlParseError&) {
    }
  }
  // The way rules are really compiled, FROM filter included.
  compile_rule(text, "2016-03-23");
  compile_template(text);
  return 0;
}

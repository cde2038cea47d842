// Runs one rule over one message for the IoT SQL tests, with a fixed clock
// and uuid so that every function has one right answer.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "rules/topic_rule.h"

namespace offcloud::iotsql_test {

inline constexpr std::int64_t kNowMs = 1610293303000;  // 2021-01-10T15:41:43Z

inline EvaluationContext fixed_context(const Message& message) {
  EvaluationContext context;
  context.message = &message;
  context.now_ms = [] { return kNowMs; };
  context.new_uuid = [] { return std::string("01234567-89ab-4def-8123-456789abcdef"); };
  context.random = [] { return 0.25; };
  return context;
}

// The output payload, nullopt when WHERE rejects, or "<parse error: ...>".
inline std::optional<std::string> run_rule(const std::string& sql, const std::string& payload,
                                           const std::string& topic = "topic/subtopic",
                                           const std::string& version = "") {
  auto compiled = compile_rule(sql, version);
  if (auto* error = std::get_if<SqlParseError>(&compiled)) {
    return "<parse error: " + error->message + ">";
  }
  Message message;
  message.topic = topic;
  message.payload = payload;
  message.client_id = "device-1";
  message.principal = "arn:aws:iam::000000000000:root";
  message.source_ip = "127.0.0.1";
  message.timestamp_ms = kNowMs;
  return std::get<CompiledRule>(compiled).evaluate(fixed_context(message));
}

}  // namespace offcloud::iotsql_test

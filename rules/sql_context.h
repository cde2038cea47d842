// What a rule is evaluated against besides its SQL: the message and the
// pieces of the world that functions such as timestamp() and newuuid() read.
// Tests inject the clock, uuids and randomness to get fixed answers.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "rules/message_bus.h"

namespace offcloud {

struct EvaluationContext {
  const Message* message = nullptr;
  std::string account_id = "000000000000";
  std::function<std::int64_t()> now_ms;   // unset: the system clock
  std::function<std::string()> new_uuid;  // unset: a random version 4 UUID
  std::function<double()> random;         // unset: uniform in [0, 1)
};

}  // namespace offcloud

// Log lines on stderr: "<UTC time> <LEVEL> <text>". Lines are written whole,
// so threads never interleave within one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace offcloud {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

std::optional<LogLevel> parse_log_level(std::string_view text);
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
void log(LogLevel level, std::string_view text);

// Milliseconds since the epoch, and as "2026-11-27T06:56:14.123Z".
long long now_ms();
std::string iso8601_ms(long long epoch_ms);

}  // namespace offcloud

// Joda-Time patterns (yyyy-MM-dd'T'HH:mm:ss.SSSZ and friends), which AWS
// IoT SQL's parse_time() and time_to_epoch() take, for the letters devices
// and workshops use: y M d H h m s S a E Z, 'quoted text' and ''.
//
// Zones: those sql_time_zone.h lists (UTC, Asia/Tokyo, America/Los_Angeles
// with its daylight saving, ...) and fixed offsets (+09:00, -0530).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace offcloud {

// nullopt for an unknown zone or a pattern letter outside the list above.
std::optional<std::string> format_joda_time(std::string_view pattern, std::int64_t epoch_ms,
                                            std::string_view zone);

// Epoch milliseconds of `text` read with `pattern`; UTC unless the pattern
// has a Z, z or V field. nullopt when the text does not match.
std::optional<std::int64_t> parse_joda_time(std::string_view pattern, std::string_view text);

}  // namespace offcloud

// Time zones for parse_time() and time_to_epoch(): the zone IDs AWS's
// examples use (UTC, America/Los_Angeles, America/Belize, Asia/Tokyo, ...)
// and fixed offsets (+09:00, -0530, UTC+01:00).
//
// offcloud carries no time-zone database: GCC 12's <chrono> has no tzdb and
// the container images may have no /usr/share/zoneinfo. Zones with daylight
// saving carry their current rule, as a POSIX TZ string states it (for
// America/Los_Angeles "PST8PDT,M3.2.0,M11.1.0"), and apply it to every year:
// instants before a zone's last rule change (in the US, before 2007) can be
// an hour off, where Joda-Time's full history would not be.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace offcloud {

// "The `week`th `weekday` of `month` at `minutes` past local midnight", as
// POSIX's Mm.w.d/time: week 5 is the month's last, weekday 0 is Sunday.
struct ZoneTransition {
  unsigned month = 0, week = 0, weekday = 0;
  int minutes = 120;
};

struct TimeZone {
  int standard_minutes = 0;        // offset from UTC outside daylight saving
  std::string_view standard_name;  // Joda's 'z' text; empty prints the offset
  std::string_view daylight_name;  // empty: the zone keeps no daylight saving
  ZoneTransition daylight_start;   // in local standard time
  ZoneTransition daylight_end;     // in local daylight time
};

// A zone ID from offcloud's table, or a fixed offset; nullopt otherwise.
std::optional<TimeZone> find_time_zone(std::string_view id);

struct ZoneOffset {
  int minutes;    // offset from UTC
  bool daylight;  // daylight saving is in force
};

ZoneOffset offset_at(const TimeZone& zone, std::int64_t utc_ms);

// The offset that makes `local_ms` (wall-clock time as if it were UTC) an
// instant, resolved as java.time resolves local times: in the autumn's
// repeated hour the earlier (daylight) offset, and a time in the spring's
// gap moves forward by the gap.
int offset_for_local(const TimeZone& zone, std::int64_t local_ms);

}  // namespace offcloud

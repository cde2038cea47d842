#include "rules/sql_time_zone.h"

#include <chrono>
#include <string>

namespace offcloud {
namespace {

namespace chrono = std::chrono;

constexpr std::int64_t kMinuteMs = 60000;
constexpr std::int64_t kDayMs = 86400000;

struct NamedZone {
  std::string_view id;
  TimeZone zone;
};

// From tzdata's POSIX TZ strings (the last line of each zone's TZif file).
constexpr ZoneTransition kUsStart{3, 2, 0, 120};  // M3.2.0
constexpr ZoneTransition kUsEnd{11, 1, 0, 120};   // M11.1.0
constexpr ZoneTransition kEuStart{3, 5, 0, 60};   // M3.5.0/1 (01:00 UTC)
constexpr ZoneTransition kEuEnd{10, 5, 0, 120};   // M10.5.0 (01:00 UTC)
constexpr ZoneTransition kCentralEuStart{3, 5, 0, 120};
constexpr ZoneTransition kCentralEuEnd{10, 5, 0, 180};
constexpr ZoneTransition kSydneyStart{10, 1, 0, 120};  // M10.1.0
constexpr ZoneTransition kSydneyEnd{4, 1, 0, 180};     // M4.1.0/3

constexpr TimeZone fixed(int minutes, std::string_view name) {
  return TimeZone{minutes, name, {}, {}, {}};
}
constexpr TimeZone seasonal(int minutes, std::string_view standard, std::string_view daylight,
                            ZoneTransition start, ZoneTransition end) {
  return TimeZone{minutes, standard, daylight, start, end};
}

constexpr NamedZone kZones[] = {
    {"UTC", fixed(0, "UTC")},
    {"Etc/UTC", fixed(0, "UTC")},
    {"Z", fixed(0, "UTC")},
    {"GMT", fixed(0, "GMT")},
    {"Etc/GMT", fixed(0, "GMT")},
    {"Asia/Tokyo", fixed(540, "JST")},
    {"Japan", fixed(540, "JST")},
    {"Asia/Seoul", fixed(540, "KST")},
    {"Asia/Shanghai", fixed(480, "CST")},
    {"Asia/Taipei", fixed(480, "CST")},
    {"Asia/Singapore", fixed(480, "SGT")},
    {"Asia/Hong_Kong", fixed(480, "HKT")},
    {"Asia/Kolkata", fixed(330, "IST")},
    {"Asia/Calcutta", fixed(330, "IST")},
    {"America/Belize", fixed(-360, "CST")},
    {"America/Phoenix", fixed(-420, "MST")},
    {"America/Los_Angeles", seasonal(-480, "PST", "PDT", kUsStart, kUsEnd)},
    {"US/Pacific", seasonal(-480, "PST", "PDT", kUsStart, kUsEnd)},
    {"America/Denver", seasonal(-420, "MST", "MDT", kUsStart, kUsEnd)},
    {"America/Chicago", seasonal(-360, "CST", "CDT", kUsStart, kUsEnd)},
    {"America/New_York", seasonal(-300, "EST", "EDT", kUsStart, kUsEnd)},
    {"US/Eastern", seasonal(-300, "EST", "EDT", kUsStart, kUsEnd)},
    {"Europe/London", seasonal(0, "GMT", "BST", kEuStart, kEuEnd)},
    {"Europe/Berlin", seasonal(60, "CET", "CEST", kCentralEuStart, kCentralEuEnd)},
    {"Europe/Paris", seasonal(60, "CET", "CEST", kCentralEuStart, kCentralEuEnd)},
    {"Australia/Sydney", seasonal(600, "AEST", "AEDT", kSydneyStart, kSydneyEnd)},
};

// +09:00, -0530, +09 and UTC+01:00, GMT-05.
std::optional<int> fixed_offset(std::string_view text) {
  if (text.size() > 3 && (text.substr(0, 3) == "UTC" || text.substr(0, 3) == "GMT")) {
    text.remove_prefix(3);
  }
  if (text.size() < 3 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
  std::string digits;
  for (char c : text.substr(1)) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c != ':') {
      return std::nullopt;
    }
  }
  if (digits.size() != 2 && digits.size() != 4) return std::nullopt;
  int hours = std::stoi(digits.substr(0, 2));
  int minutes = digits.size() == 4 ? std::stoi(digits.substr(2)) : 0;
  if (hours > 18 || minutes > 59) return std::nullopt;
  int total = hours * 60 + minutes;
  return text[0] == '-' ? -total : total;
}

// Milliseconds since the epoch of the transition's local wall-clock time.
std::int64_t local_transition_ms(int year, const ZoneTransition& rule) {
  chrono::year_month ym{chrono::year{year}, chrono::month{rule.month}};
  chrono::weekday weekday{rule.weekday};
  chrono::sys_days day = rule.week >= 5
                             ? chrono::sys_days{ym / chrono::weekday_last{weekday}}
                             : chrono::sys_days{ym / chrono::weekday_indexed{weekday, rule.week}};
  return day.time_since_epoch().count() * kDayMs + std::int64_t{rule.minutes} * kMinuteMs;
}

int year_of(std::int64_t ms) {
  std::int64_t days = ms >= 0 ? ms / kDayMs : -((-ms + kDayMs - 1) / kDayMs);
  chrono::year_month_day date{chrono::sys_days{chrono::days{days}}};
  return static_cast<int>(date.year());
}

}  // namespace

std::optional<TimeZone> find_time_zone(std::string_view id) {
  for (const NamedZone& named : kZones) {
    if (named.id == id) return named.zone;
  }
  if (std::optional<int> minutes = fixed_offset(id)) return fixed(*minutes, {});
  return std::nullopt;
}

ZoneOffset offset_at(const TimeZone& zone, std::int64_t utc_ms) {
  if (zone.daylight_name.empty()) return {zone.standard_minutes, false};
  std::int64_t standard_ms = std::int64_t{zone.standard_minutes} * kMinuteMs;
  int year = year_of(utc_ms + standard_ms);
  std::int64_t start = local_transition_ms(year, zone.daylight_start) - standard_ms;
  std::int64_t end = local_transition_ms(year, zone.daylight_end) - standard_ms - 60 * kMinuteMs;
  // Southern zones keep daylight saving across the new year.
  bool daylight = start < end ? utc_ms >= start && utc_ms < end : utc_ms >= start || utc_ms < end;
  return {zone.standard_minutes + (daylight ? 60 : 0), daylight};
}

int offset_for_local(const TimeZone& zone, std::int64_t local_ms) {
  int daylight_minutes = zone.standard_minutes + 60;
  if (!zone.daylight_name.empty() &&
      offset_at(zone, local_ms - std::int64_t{daylight_minutes} * kMinuteMs).daylight) {
    return daylight_minutes;
  }
  return zone.standard_minutes;
}

}  // namespace offcloud

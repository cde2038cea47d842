#include "rules/sql_time.h"

#include <cstdio>
#include <vector>

#include "rules/sql_time_zone.h"

namespace offcloud {
namespace {

constexpr const char* kMonthNames[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};
constexpr const char* kDayNames[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                     "Friday", "Saturday", "Sunday"};

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month, day, hour, minute, second, millisecond, weekday;  // weekday 0 = Monday
};

Civil civil_from_ms(std::int64_t ms) {
  std::int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  std::int64_t rest = ms - days * 86400000;
  Civil c{};
  c.hour = static_cast<unsigned>(rest / 3600000);
  c.minute = static_cast<unsigned>(rest / 60000 % 60);
  c.second = static_cast<unsigned>(rest / 1000 % 60);
  c.millisecond = static_cast<unsigned>(rest % 1000);
  c.weekday = static_cast<unsigned>(((days % 7) + 7 + 3) % 7);  // 1970-01-01 was a Thursday
  std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = static_cast<std::int64_t>(yoe) + era * 400 + (c.month <= 2);
  return c;
}

// Joda's 'z': the zone's short name, or the offset for a zone without one.
std::string zone_short_name(const TimeZone& zone, const ZoneOffset& offset) {
  std::string_view name = offset.daylight ? zone.daylight_name : zone.standard_name;
  if (!name.empty()) return std::string(name);
  int minutes = offset.minutes < 0 ? -offset.minutes : offset.minutes;
  char buffer[24];  // room for any int, so the format can never be cut short
  std::snprintf(buffer, sizeof buffer, "%c%02d:%02d", offset.minutes < 0 ? '-' : '+', minutes / 60,
                minutes % 60);
  return buffer;
}

struct Field {
  char letter;  // 0 for literal text
  int count;
  std::string literal;
};

std::optional<std::vector<Field>> split_pattern(std::string_view pattern) {
  std::vector<Field> fields;
  for (std::size_t i = 0; i < pattern.size();) {
    char c = pattern[i];
    if (c == '\'') {
      std::string text;
      ++i;
      if (i < pattern.size() && pattern[i] == '\'') {  // '' is a quote
        fields.push_back({0, 0, "'"});
        ++i;
        continue;
      }
      while (i < pattern.size()) {
        if (pattern[i] == '\'') {
          if (i + 1 < pattern.size() && pattern[i + 1] == '\'') {
            text.push_back('\'');
            i += 2;
            continue;
          }
          break;
        }
        text.push_back(pattern[i++]);
      }
      if (i >= pattern.size()) return std::nullopt;
      ++i;
      fields.push_back({0, 0, text});
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      if (std::string_view("GyMdHhmsSaEZzV").find(c) == std::string_view::npos) return std::nullopt;
      int count = 0;
      while (i < pattern.size() && pattern[i] == c) {
        ++count;
        ++i;
      }
      fields.push_back({c, count, {}});
    } else {
      fields.push_back({0, 0, std::string(1, c)});
      ++i;
    }
  }
  return fields;
}

std::string padded(std::int64_t value, int width) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  if (static_cast<int>(digits.size()) < width) {
    digits.insert(0, static_cast<std::size_t>(width) - digits.size(), '0');
  }
  return value < 0 ? "-" + digits : digits;
}

}  // namespace

std::optional<std::string> format_joda_time(std::string_view pattern, std::int64_t epoch_ms,
                                            std::string_view zone) {
  std::optional<TimeZone> time_zone = find_time_zone(zone);
  std::optional<std::vector<Field>> fields = split_pattern(pattern);
  if (!time_zone || !fields) return std::nullopt;
  const ZoneOffset offset = offset_at(*time_zone, epoch_ms);
  Civil c = civil_from_ms(epoch_ms + std::int64_t{offset.minutes} * 60000);
  std::string out;
  for (const Field& field : *fields) {
    switch (field.letter) {
      case 0:
        out += field.literal;
        break;
      case 'y':
        out += field.count == 2 ? padded(c.year % 100, 2) : padded(c.year, field.count);
        break;
      case 'M':
        if (field.count >= 4) {
          out += kMonthNames[c.month - 1];
        } else if (field.count == 3) {
          out += std::string_view(kMonthNames[c.month - 1]).substr(0, 3);
        } else {
          out += padded(c.month, field.count);
        }
        break;
      case 'd':
        out += padded(c.day, field.count);
        break;
      case 'H':
        out += padded(c.hour, field.count);
        break;
      case 'h':
        out += padded(c.hour % 12 == 0 ? 12 : c.hour % 12, field.count);
        break;
      case 'm':
        out += padded(c.minute, field.count);
        break;
      case 's':
        out += padded(c.second, field.count);
        break;
      case 'S': {
        std::string millis = padded(c.millisecond, 3);
        while (static_cast<int>(millis.size()) < field.count) millis.push_back('0');
        out += millis.substr(0, static_cast<std::size_t>(field.count));
        break;
      }
      case 'a':
        out += c.hour < 12 ? "AM" : "PM";
        break;
      case 'G':
        out += c.year > 0 ? "AD" : "BC";
        break;
      case 'z':
        out += zone_short_name(*time_zone, offset);
        break;
      case 'V':
        out += zone;
        break;
      case 'E':
        out += field.count >= 4 ? std::string(kDayNames[c.weekday])
                                : std::string(kDayNames[c.weekday]).substr(0, 3);
        break;
      case 'Z': {
        if (offset.minutes == 0 && field.count >= 2) {
          out += "Z";
          break;
        }
        int minutes = offset.minutes < 0 ? -offset.minutes : offset.minutes;
        out += offset.minutes < 0 ? "-" : "+";
        out += padded(minutes / 60, 2);
        if (field.count >= 2) out += ":";
        out += padded(minutes % 60, 2);
        break;
      }
    }
  }
  return out;
}

std::optional<std::int64_t> parse_joda_time(std::string_view pattern, std::string_view text) {
  std::optional<std::vector<Field>> fields = split_pattern(pattern);
  if (!fields) return std::nullopt;
  std::int64_t year = 1970;
  unsigned month = 1, day = 1, hour = 0, minute = 0, second = 0, millisecond = 0;
  bool pm = false, twelve_hour = false;
  // A zone ID is resolved once the wall-clock time is known: its offset
  // depends on the date where the zone keeps daylight saving.
  std::optional<TimeZone> zone;
  int offset = 0;
  std::size_t at = 0;
  auto number = [&](int min_digits, int max_digits) -> std::optional<std::int64_t> {
    std::size_t start = at;
    bool negative = at < text.size() && text[at] == '-';
    if (negative) ++at;
    std::size_t digits_start = at;
    while (at < text.size() && at - digits_start < static_cast<std::size_t>(max_digits) &&
           text[at] >= '0' && text[at] <= '9') {
      ++at;
    }
    if (at - digits_start < static_cast<std::size_t>(min_digits)) {
      at = start;
      return std::nullopt;
    }
    std::int64_t value = std::stoll(std::string(text.substr(digits_start, at - digits_start)));
    return negative ? -value : value;
  };
  for (std::size_t i = 0; i < fields->size(); ++i) {
    const Field& field = (*fields)[i];
    // A numeric field followed directly by another takes only its width.
    bool adjacent = i + 1 < fields->size() && (*fields)[i + 1].letter != 0;
    int max_digits = adjacent ? field.count : 9;
    std::optional<std::int64_t> value;
    switch (field.letter) {
      case 0:
        if (text.substr(at, field.literal.size()) != field.literal) return std::nullopt;
        at += field.literal.size();
        continue;
      case 'y':
        value = number(1, adjacent ? field.count : 9);
        if (!value) return std::nullopt;
        year = field.count == 2 ? 2000 + *value : *value;
        continue;
      case 'M':
        if (field.count >= 3) {
          bool found = false;
          for (unsigned m = 0; m < 12 && !found; ++m) {
            std::string_view name = kMonthNames[m];
            if (field.count == 3) name = name.substr(0, 3);
            if (text.substr(at, name.size()) == name) {
              month = m + 1;
              at += name.size();
              found = true;
            }
          }
          if (!found) return std::nullopt;
          continue;
        }
        value = number(1, adjacent ? 2 : max_digits);
        if (!value || *value < 1 || *value > 12) return std::nullopt;
        month = static_cast<unsigned>(*value);
        continue;
      case 'E': {
        bool found = false;
        for (const char* name : kDayNames) {
          std::string_view full = name;
          std::string_view candidate = field.count >= 4 ? full : full.substr(0, 3);
          if (text.substr(at, candidate.size()) == candidate) {
            at += candidate.size();
            found = true;
            break;
          }
        }
        if (!found) return std::nullopt;
        continue;
      }
      case 'a':
        if (text.substr(at, 2) == "AM" || text.substr(at, 2) == "am") {
          pm = false;
        } else if (text.substr(at, 2) == "PM" || text.substr(at, 2) == "pm") {
          pm = true;
        } else {
          return std::nullopt;
        }
        at += 2;
        continue;
      case 'G':
        if (text.substr(at, 2) != "AD" && text.substr(at, 2) != "BC") return std::nullopt;
        at += 2;
        continue;
      case 'z':
      case 'V': {
        // A zone ID or offset such as "UTC", "Asia/Tokyo" or "UTC+01:00".
        std::size_t start = at;
        while (at < text.size() && text[at] != ' ') ++at;
        zone = find_time_zone(text.substr(start, at - start));
        if (!zone) return std::nullopt;
        continue;
      }
      case 'Z': {
        if (at < text.size() && text[at] == 'Z') {
          ++at;
          offset = 0;
          zone.reset();
          continue;
        }
        if (at >= text.size() || (text[at] != '+' && text[at] != '-')) return std::nullopt;
        std::size_t start = at++;
        while (at < text.size() && ((text[at] >= '0' && text[at] <= '9') || text[at] == ':')) {
          ++at;
        }
        std::optional<TimeZone> parsed = find_time_zone(text.substr(start, at - start));
        if (!parsed) return std::nullopt;
        offset = parsed->standard_minutes;
        zone.reset();
        continue;
      }
      case 'S': {
        std::size_t start = at;
        value = number(1, adjacent ? field.count : 9);
        if (!value || *value < 0) return std::nullopt;
        std::size_t digits = at - start;
        std::int64_t ms = *value;
        for (std::size_t d = digits; d < 3; ++d) ms *= 10;
        for (std::size_t d = 3; d < digits; ++d) ms /= 10;
        millisecond = static_cast<unsigned>(ms);
        continue;
      }
      default:
        value = number(1, adjacent ? field.count : 2);
        if (!value || *value < 0) return std::nullopt;
        break;
    }
    switch (field.letter) {
      case 'd':
        day = static_cast<unsigned>(*value);
        break;
      case 'H':
        hour = static_cast<unsigned>(*value);
        break;
      case 'h':
        hour = static_cast<unsigned>(*value);
        twelve_hour = true;
        break;
      case 'm':
        minute = static_cast<unsigned>(*value);
        break;
      case 's':
        second = static_cast<unsigned>(*value);
        break;
    }
  }
  if (at != text.size()) return std::nullopt;
  if (twelve_hour) hour = hour % 12 + (pm ? 12 : 0);
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  std::int64_t days = days_from_civil(year, month, day);
  std::int64_t local_ms =
      ((days * 24 + hour) * 60 + minute) * 60000 + std::int64_t{second} * 1000 + millisecond;
  if (zone) offset = offset_for_local(*zone, local_ms);
  return local_ms - std::int64_t{offset} * 60000;
}

}  // namespace offcloud

#include "emulator/s3/s3_object_lock.h"

#include <charconv>
#include <ctime>

#include "emulator/s3/s3_common.h"
#include "emulator/util/xml.h"

namespace offcloud::s3 {
namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
// AWS's ceiling on a default retention: 100 years.
constexpr std::int64_t kMaxYears = 100;
constexpr std::int64_t kMaxDays = 36500;

S3Invalid malformed() {
  return S3Invalid{ErrorCode::kMalformedXML, ""};
}

bool is_mode(std::string_view mode) {
  return mode == kLockGovernance || mode == kLockCompliance;
}

// A whole number as XML gives it; nullopt otherwise (or beyond int64).
std::optional<std::int64_t> integer(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Exactly `count` digits at text[at...], as a number.
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::optional<std::int64_t> parse_iso8601(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS
  auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2),
       hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::nullopt;
  }
  std::size_t at = 19;
  std::int64_t millis = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    std::size_t start = at;
    int scale = 100;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      millis += (text[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start) return std::nullopt;
  }
  std::int64_t offset_s = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    auto hours = digits(text, at + 1, 2);
    std::size_t minutes_at = at + 3 < text.size() && text[at + 3] == ':' ? at + 4 : at + 3;
    auto minutes = digits(text, minutes_at, 2);
    if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
    offset_s = (*hours * 3600 + *minutes * 60) * (text[at] == '+' ? 1 : -1);
    at = minutes_at + 2;
  } else {
    return std::nullopt;  // a time without a zone names no instant
  }
  if (at != text.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  std::int64_t seconds = static_cast<std::int64_t>(timegm(&tm)) - offset_s;
  return seconds * 1000 + millis;
}

std::optional<S3Invalid> parse_lock_configuration(std::string_view body,
                                                  LockConfiguration* config) {
  *config = {};
  auto document = parse_xml(body);
  if (!document || document->name != "ObjectLockConfiguration") return malformed();
  const XmlElement* enabled = document->child("ObjectLockEnabled");
  if (!enabled || enabled->text != "Enabled") return malformed();
  const XmlElement* rule = document->child("Rule");
  if (!rule) return std::nullopt;
  const XmlElement* retention = rule->child("DefaultRetention");
  if (!retention) return malformed();
  const XmlElement* mode = retention->child("Mode");
  const XmlElement* days = retention->child("Days");
  const XmlElement* years = retention->child("Years");
  if (!mode || !is_mode(mode->text) || (days != nullptr) == (years != nullptr)) {
    return malformed();
  }
  const XmlElement* period = days ? days : years;
  std::optional<std::int64_t> value = integer(period->text);
  if (!value) return malformed();
  std::vector<std::pair<std::string, std::string>> argument{{"ArgumentName", period->name},
                                                            {"ArgumentValue", period->text}};
  if (*value <= 0) {
    return S3Invalid{ErrorCode::kInvalidArgument,
                     "Default retention period must be a positive integer value.", argument};
  }
  if (*value > (days ? kMaxDays : kMaxYears)) {
    return S3Invalid{ErrorCode::kInvalidArgument, "Default retention period is too large.",
                     argument};
  }
  config->mode = mode->text;
  (days ? config->days : config->years) = *value;
  return std::nullopt;
}

std::string lock_configuration_xml(const LockConfiguration& config) {
  XmlWriter xml("ObjectLockConfiguration", kXmlns);
  xml.element("ObjectLockEnabled", "Enabled");
  if (!config.mode.empty()) {
    xml.open("Rule").open("DefaultRetention").element("Mode", config.mode);
    if (config.days) xml.element("Days", std::to_string(config.days));
    if (config.years) xml.element("Years", std::to_string(config.years));
    xml.close().close();
  }
  return xml.finish();
}

std::string encode_lock_configuration(const LockConfiguration& config) {
  // "" enabled without a default retention; else "MODE Days|Years N".
  if (config.mode.empty()) return "";
  return config.mode + (config.days ? " Days " + std::to_string(config.days)
                                    : " Years " + std::to_string(config.years));
}

std::optional<LockConfiguration> decode_lock_configuration(std::string_view stored) {
  LockConfiguration config;
  if (stored.empty()) return config;
  std::size_t first = stored.find(' ');
  std::size_t second = first == std::string_view::npos ? first : stored.find(' ', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  std::string_view mode = stored.substr(0, first);
  std::string_view unit = stored.substr(first + 1, second - first - 1);
  std::optional<std::int64_t> value = integer(stored.substr(second + 1));
  if (!is_mode(mode) || !value || *value <= 0 || (unit != "Days" && unit != "Years")) {
    return std::nullopt;
  }
  config.mode = std::string(mode);
  (unit == "Days" ? config.days : config.years) = *value;
  return config;
}

std::int64_t default_retain_until(const LockConfiguration& config, std::int64_t now_ms) {
  if (config.days) return now_ms + config.days * kDayMs;
  std::time_t seconds = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  tm.tm_year += static_cast<int>(config.years);
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + now_ms % 1000;
}

std::optional<S3Invalid> parse_retention(std::string_view body, std::int64_t now_ms,
                                         std::string* mode, std::int64_t* until_ms) {
  auto document = parse_xml(body);
  if (!document || document->name != "Retention") return malformed();
  const XmlElement* mode_element = document->child("Mode");
  const XmlElement* date = document->child("RetainUntilDate");
  mode->clear();
  *until_ms = 0;
  if (!mode_element && !date) return std::nullopt;  // removes the retention
  if (!mode_element || !date || !is_mode(mode_element->text)) return malformed();
  std::optional<std::int64_t> until = parse_iso8601(date->text);
  if (!until) return malformed();
  if (*until <= now_ms) {
    return S3Invalid{ErrorCode::kInvalidArgument,
                     "The retain until date must be in the future!",
                     {{"ArgumentName", "RetainUntilDate"}, {"ArgumentValue", date->text}}};
  }
  *mode = mode_element->text;
  *until_ms = *until;
  return std::nullopt;
}

std::optional<S3Invalid> parse_legal_hold(std::string_view body, std::string* status) {
  auto document = parse_xml(body);
  if (!document || document->name != "LegalHold") return malformed();
  const XmlElement* element = document->child("Status");
  if (!element || (element->text != "ON" && element->text != "OFF")) return malformed();
  *status = element->text;
  return std::nullopt;
}

bool has_lock_headers(const Headers& headers) {
  return headers.find("x-amz-object-lock-mode") ||
         headers.find("x-amz-object-lock-retain-until-date") ||
         headers.find("x-amz-object-lock-legal-hold");
}

std::optional<S3Invalid> read_lock_headers(const Headers& headers, std::int64_t now_ms,
                                           ObjectLock* lock) {
  const std::string* mode = headers.find("x-amz-object-lock-mode");
  const std::string* date = headers.find("x-amz-object-lock-retain-until-date");
  const std::string* hold = headers.find("x-amz-object-lock-legal-hold");
  auto invalid = [](std::string message, std::string name,
                    std::optional<std::string> value = std::nullopt) {
    S3Invalid refusal{ErrorCode::kInvalidArgument, std::move(message), {{"ArgumentName", name}}};
    if (value) refusal.details.emplace_back("ArgumentValue", *value);
    return refusal;
  };
  if ((mode != nullptr) != (date != nullptr)) {
    return invalid(
        "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
        mode ? "x-amz-object-lock-retain-until-date" : "x-amz-object-lock-mode");
  }
  if (mode) {
    if (!is_mode(*mode)) {
      return invalid("Unknown wormMode directive.", "x-amz-object-lock-mode", *mode);
    }
    std::optional<std::int64_t> until = parse_iso8601(*date);
    if (!until) {
      return invalid("The retain until date must be provided in ISO 8601 format",
                     "x-amz-object-lock-retain-until-date", *date);
    }
    if (*until <= now_ms) {
      return invalid("The retain until date must be in the future!",
                     "x-amz-object-lock-retain-until-date", *date);
    }
    lock->mode = *mode;
    lock->until_ms = *until;
  }
  if (hold) {
    if (*hold != "ON" && *hold != "OFF") {
      return invalid("Legal Hold must be either of 'ON' or 'OFF'", "x-amz-object-lock-legal-hold",
                     *hold);
    }
    lock->legal_hold = *hold;
  }
  return std::nullopt;
}

}  // namespace offcloud::s3

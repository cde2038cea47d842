#include "rules/topic_filter.h"

#include <algorithm>

namespace offcloud {
namespace {

constexpr std::size_t kMaxTopicBytes = 256;
constexpr std::size_t kMaxSlashes = 7;
constexpr std::string_view kBasicIngestPrefix = "$aws/rules/";

std::vector<std::string> split_levels(std::string_view topic) {
  std::vector<std::string> levels;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = topic.find('/', start);
    levels.emplace_back(topic.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return levels;
}

// Topics under $aws/ that AWS IoT lets a device publish to: basic ingest,
// and the per-thing shadow, jobs and tunnels families.
bool is_publishable_reserved(std::string_view topic) {
  if (topic.starts_with(kBasicIngestPrefix)) {
    // "$aws/rules/<rule-name>/..." needs a rule name and something after it.
    std::string_view rest = topic.substr(kBasicIngestPrefix.size());
    std::size_t slash = rest.find('/');
    return slash != 0 && slash != std::string_view::npos && slash + 1 < rest.size();
  }
  return topic.starts_with("$aws/things/");
}

bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

}  // namespace

TopicFilter::TopicFilter(std::string_view filter) : text_(filter), levels_(split_levels(filter)) {}

bool TopicFilter::matches(std::string_view topic) const {
  // MQTT: filters starting with a wildcard do not match topics starting with
  // '$', so "#" never sees "$aws/..." traffic.
  if (!topic.empty() && topic[0] == '$' && !levels_.empty() &&
      (levels_[0] == "#" || levels_[0] == "+")) {
    return false;
  }
  std::size_t start = 0;
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    const std::string& level = levels_[i];
    if (level == "#") return true;
    if (start > topic.size()) return false;
    std::size_t slash = topic.find('/', start);
    std::string_view actual = topic.substr(start, slash - start);
    if (level != "+" && level != actual) return false;
    start = slash == std::string_view::npos ? topic.size() + 1 : slash + 1;
  }
  return start > topic.size();
}

std::string validate_publish_topic(std::string_view topic) {
  if (topic.empty()) return "The topic must not be empty.";
  if (topic.size() > kMaxTopicBytes) {
    return "The topic is longer than " + std::to_string(kMaxTopicBytes) + " bytes.";
  }
  if (has_nul(topic)) return "The topic must not contain a null character.";
  if (!is_valid_utf8(topic)) return "The topic must be valid UTF-8.";
  if (topic.find_first_of("+#") != std::string_view::npos) {
    return "Wildcards '+' and '#' are not allowed in a topic to publish to.";
  }
  std::string_view counted = topic;
  if (topic.starts_with(kBasicIngestPrefix)) {
    // "$aws/rules/<rule-name>/" is excluded from the level count.
    std::size_t slash = topic.find('/', kBasicIngestPrefix.size());
    counted = slash == std::string_view::npos ? "" : topic.substr(slash + 1);
  }
  if (static_cast<std::size_t>(std::count(counted.begin(), counted.end(), '/')) > kMaxSlashes) {
    return "The topic has more than " + std::to_string(kMaxSlashes) + " forward slashes.";
  }
  if (topic.starts_with("$aws/") && !is_publishable_reserved(topic)) {
    return "The topic " + std::string(topic) + " is reserved and cannot be published to.";
  }
  return {};
}

bool is_valid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size(), i = 0;
  while (i < n) {
    unsigned char c = s[i];
    std::size_t length;
    std::uint32_t code;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      length = 2, code = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3, code = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      length = 4, code = c & 0x07;
    } else {
      return false;
    }
    if (i + length > n) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      code = (code << 6) | (s[i + k] & 0x3f);
    }
    static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += length;
  }
  return true;
}

std::string validate_topic_filter(std::string_view filter) {
  if (filter.empty()) return "The topic filter must not be empty.";
  if (filter.size() > kMaxTopicBytes) return "The topic filter is too long.";
  if (has_nul(filter)) return "The topic filter must not contain a null character.";
  if (!is_valid_utf8(filter)) return "The topic filter must be valid UTF-8.";
  std::vector<std::string> levels = split_levels(filter);
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const std::string& level = levels[i];
    bool wildcard = level.find_first_of("+#") != std::string::npos;
    if (wildcard && level != "+" && level != "#") {
      return "A wildcard must occupy a whole topic level.";
    }
    if (level == "#" && i + 1 != levels.size()) return "'#' must be the last topic level.";
  }
  return {};
}

}  // namespace offcloud

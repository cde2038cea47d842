// MQTT topic names and filters as AWS IoT Core defines them: levels split by
// '/', '+' matches one level, '#' (last) matches the rest, including none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace offcloud {

class TopicFilter {
 public:
  // The filter must already be valid (see validate_topic_filter).
  explicit TopicFilter(std::string_view filter);

  bool matches(std::string_view topic) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<std::string> levels_;
};

// Empty when `topic` may be published to; otherwise why not, in the words an
// InvalidRequestException would carry. AWS's limits: at most 256 bytes and 7
// slashes (a leading "$aws/rules/<rule>/" does not count), no wildcards, and
// no reserved "$aws/" topic but those devices may publish to.
std::string validate_publish_topic(std::string_view topic);

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates).
bool is_valid_utf8(std::string_view text);

// Empty when `filter` is a well-formed subscription filter.
std::string validate_topic_filter(std::string_view filter);

}  // namespace offcloud

// Which of many topic filters match a topic, without trying each filter: a
// trie over topic levels with a child per literal level and one each for '+'
// and '#'. Matching walks one path per level and wildcard branch, so its cost
// follows the topic's depth and the matches, not how many filters exist.
//
// Built once and then only read, so any number of threads may match at once;
// the rules engine builds a new index when its rules change.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace offcloud {

class TopicIndex {
 public:
  TopicIndex();
  ~TopicIndex();
  TopicIndex(TopicIndex&&) noexcept;
  TopicIndex& operator=(TopicIndex&&) noexcept;

  // `filter` must be valid (validate_topic_filter); `id` is the caller's.
  void add(std::string_view filter, std::size_t id);

  // The ids of every filter matching `topic`, each once, in ascending order.
  // As in MQTT, a filter starting with a wildcard never matches a topic
  // starting with '$'.
  std::vector<std::size_t> match(std::string_view topic) const;

 private:
  struct Node;
  std::unique_ptr<Node> root_;
};

}  // namespace offcloud

#include "rules/topic_index.h"

#include <algorithm>

namespace offcloud {

struct TopicIndex::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> children;
  std::unique_ptr<Node> single;   // '+'
  std::vector<std::size_t> rest;  // ids of filters ending in '#' here
  std::vector<std::size_t> here;  // ids of filters ending exactly here
};

namespace {

// Splits "a/b/c" into its levels; "" is one empty level, as MQTT counts.
std::vector<std::string_view> levels_of(std::string_view topic) {
  std::vector<std::string_view> levels;
  std::size_t start = 0;
  while (true) {
    std::size_t slash = topic.find('/', start);
    levels.push_back(topic.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return levels;
}

}  // namespace

TopicIndex::TopicIndex() : root_(std::make_unique<Node>()) {}
TopicIndex::~TopicIndex() = default;
TopicIndex::TopicIndex(TopicIndex&&) noexcept = default;
TopicIndex& TopicIndex::operator=(TopicIndex&&) noexcept = default;

void TopicIndex::add(std::string_view filter, std::size_t id) {
  Node* node = root_.get();
  for (std::string_view level : levels_of(filter)) {
    if (level == "#") {
      node->rest.push_back(id);
      return;
    }
    std::unique_ptr<Node>* child;
    if (level == "+") {
      child = &node->single;
    } else {
      auto it = node->children.find(level);
      if (it == node->children.end()) {
        it = node->children.emplace(std::string(level), nullptr).first;
      }
      child = &it->second;
    }
    if (!*child) *child = std::make_unique<Node>();
    node = child->get();
  }
  node->here.push_back(id);
}

std::vector<std::size_t> TopicIndex::match(std::string_view topic) const {
  std::vector<std::string_view> levels = levels_of(topic);
  bool reserved = !topic.empty() && topic[0] == '$';
  std::vector<std::size_t> ids;
  // Depth-first over (node, level) pairs; '+' forks the walk.
  std::vector<std::pair<const Node*, std::size_t>> pending{{root_.get(), 0}};
  while (!pending.empty()) {
    auto [node, depth] = pending.back();
    pending.pop_back();
    bool wildcards_allowed = !(reserved && depth == 0);
    // '#' also matches the parent level: "a/#" matches "a".
    if (wildcards_allowed) ids.insert(ids.end(), node->rest.begin(), node->rest.end());
    if (depth == levels.size()) {
      ids.insert(ids.end(), node->here.begin(), node->here.end());
      continue;
    }
    if (auto it = node->children.find(levels[depth]); it != node->children.end()) {
      pending.emplace_back(it->second.get(), depth + 1);
    }
    if (node->single && wildcards_allowed) pending.emplace_back(node->single.get(), depth + 1);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace offcloud

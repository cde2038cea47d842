// The console Overview's counts (rules/flow_counters.h) kept across
// restarts, so the picture of a class's data flow does not start again at
// zero when offcloud does. A row per counted thing of an account and region:
// a topic, a rule, a stream, and the messages on topics past the counters'
// room. Counts are telemetry, not data a client was told is kept: they are
// saved now and then and at shutdown (rules/flow_count_keeper.h), and a
// crash loses at most what came since the last save.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "storage/database.h"

namespace offcloud {

struct FlowCountRow {
  enum class Kind : int { kTopic = 0, kRule = 1, kStream = 2, kOtherTopics = 3 };
  std::string account_id;
  std::string region;
  Kind kind = Kind::kTopic;
  std::string name;  // empty for kOtherTopics
  // A topic's messages and bytes; a rule's matches and errors; a stream's
  // records in, bytes in, objects and object bytes; the other topics'
  // messages.
  std::array<std::uint64_t, 4> counts{};
  // A topic's last message; a rule's last match and last error; a stream's
  // last delivery (epoch ms).
  std::array<std::int64_t, 2> times{};

  bool operator==(const FlowCountRow&) const = default;
};

class FlowCountStore {
 public:
  explicit FlowCountStore(const std::string& db_path);

  std::vector<FlowCountRow> load();
  // Writes `rows` over the saved ones of the same account, region, kind and
  // name, in one transaction; rows not among them stay.
  void save(const std::vector<FlowCountRow>& rows);

 private:
  Database db_;
};

}  // namespace offcloud

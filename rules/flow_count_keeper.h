// Keeps the flow counters (flow_counters.h) across restarts: when made, it
// restores what FlowCountStore saved; then a thread of its own saves the
// counts every `every` while they change, and stop() saves them once more.
// Counting stays atomics only: saving reads the counters, never locks them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "rules/flow_counters.h"
#include "storage/flow_count_store.h"

namespace offcloud {

class FlowCountKeeper {
 public:
  // `counters` must outlive the keeper and count nothing yet. `warn` hears
  // of a save that failed (a full disk); the next one tries again.
  FlowCountKeeper(FlowCounters& counters, const std::string& db_path,
                  std::function<void(std::string_view)> warn,
                  std::chrono::milliseconds every = std::chrono::seconds(5));
  ~FlowCountKeeper();
  FlowCountKeeper(const FlowCountKeeper&) = delete;
  FlowCountKeeper& operator=(const FlowCountKeeper&) = delete;

  // Ends the thread and saves what changed since its last save. Call it
  // once nothing counts any more (shutdown); the destructor calls it too.
  void stop();

 private:
  void run();
  void save_changes();

  FlowCounters& counters_;
  FlowCountStore store_;
  const std::function<void(std::string_view)> warn_;
  const std::chrono::milliseconds every_;
  std::vector<FlowCountRow> saved_;  // as of the last save; the thread's (and stop()'s) only
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace offcloud

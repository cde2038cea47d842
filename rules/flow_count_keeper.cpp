#include "rules/flow_count_keeper.h"

#include <algorithm>
#include <exception>
#include <iterator>
#include <tuple>

namespace offcloud {

namespace {

// Rows in a total order, so that sorted lists can be compared.
bool less(const FlowCountRow& a, const FlowCountRow& b) {
  return std::tie(a.account_id, a.region, a.kind, a.name, a.counts, a.times) <
         std::tie(b.account_id, b.region, b.kind, b.name, b.counts, b.times);
}

}  // namespace

FlowCountKeeper::FlowCountKeeper(FlowCounters& counters, const std::string& db_path,
                                 std::function<void(std::string_view)> warn,
                                 std::chrono::milliseconds every)
    : counters_(counters), store_(db_path), warn_(std::move(warn)), every_(every) {
  saved_ = store_.load();
  counters_.restore(saved_);
  std::sort(saved_.begin(), saved_.end(), less);
  thread_ = std::thread([this] { run(); });
}

FlowCountKeeper::~FlowCountKeeper() {
  stop();
}

void FlowCountKeeper::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, every_);
    if (stopping_) break;
    lock.unlock();
    save_changes();
    lock.lock();
  }
}

void FlowCountKeeper::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  save_changes();
}

void FlowCountKeeper::save_changes() {
  std::vector<FlowCountRow> now = counters_.rows();
  std::sort(now.begin(), now.end(), less);
  // Only what changed is written: an idle server writes nothing.
  std::vector<FlowCountRow> changed;
  std::set_difference(now.begin(), now.end(), saved_.begin(), saved_.end(),
                      std::back_inserter(changed), less);
  if (changed.empty()) return;
  try {
    store_.save(changed);
    saved_ = std::move(now);
  } catch (const std::exception& error) {
    if (warn_) warn_(std::string("saving the flow counts failed: ") + error.what());
  }
}

}  // namespace offcloud

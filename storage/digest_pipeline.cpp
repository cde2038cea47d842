#include "storage/digest_pipeline.h"

#include <algorithm>

namespace offcloud {

DigestPipeline::DigestPipeline(std::vector<Update> updates, std::size_t max_chunks)
    : max_chunks_(max_chunks) {
  for (Update& update : updates) {
    lanes_.push_back(std::make_unique<Lane>());
    lanes_.back()->update = std::move(update);
  }
  for (auto& lane : lanes_) lane->thread = std::thread([this, &lane = *lane] { run(lane); });
}

DigestPipeline::~DigestPipeline() {
  finish();
}

std::size_t DigestPipeline::slowest() const {
  std::size_t lowest = pushed_;
  for (const auto& lane : lanes_) lowest = std::min(lowest, lane->next);
  return lowest;
}

void DigestPipeline::push(std::string chunk) {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return pushed_ - slowest() < max_chunks_; });
    chunks_.push_back(std::move(chunk));
    ++pushed_;
  }
  changed_.notify_all();
}

std::string DigestPipeline::reclaim() {
  std::lock_guard lock(mutex_);
  if (finished_.empty()) return {};
  std::string chunk = std::move(finished_.back());
  finished_.pop_back();
  return chunk;
}

void DigestPipeline::finish() {
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
  }
  changed_.notify_all();
  for (auto& lane : lanes_) lane->thread.join();
}

void DigestPipeline::retire() {
  std::size_t done = slowest();
  while (first_ < done) {
    finished_.push_back(std::move(chunks_.front()));
    chunks_.pop_front();
    ++first_;
  }
}

void DigestPipeline::run(Lane& lane) {
  for (;;) {
    const std::string* chunk;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return closing_ || lane.next < pushed_; });
      if (lane.next == pushed_) return;  // closing, and nothing left
      // A deque's elements stay put while others are added or removed,
      // and this one is retired only once this lane is past it.
      chunk = &chunks_[lane.next - first_];
    }
    lane.update(*chunk);
    {
      std::lock_guard lock(mutex_);
      ++lane.next;
      retire();
    }
    changed_.notify_all();
  }
}

}  // namespace offcloud

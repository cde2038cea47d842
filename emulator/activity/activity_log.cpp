#include "emulator/activity/activity_log.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace offcloud {

ActivityViewer ActivityViewer::of(const Principal& principal) {
  ActivityViewer viewer;
  viewer.account_id = principal.account_id;
  if (principal.is_root) {
    viewer.everything = principal.account_id == kAccountId;
  } else {
    viewer.arn = principal.arn;
  }
  return viewer;
}

bool ActivityViewer::sees(const ActivityEntry& entry) const {
  if (everything) return true;
  if (entry.account_id.empty() || entry.account_id != account_id) return false;
  return arn.empty() || entry.caller_arn == arn;
}

ActivityLog::ActivityLog(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {
  ring_.reserve(capacity_);
}

void ActivityLog::record(ActivityEntry entry) {
  if (entry.time_ms == 0) {
    entry.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  }
  if (entry.resource.size() > kMaxFieldBytes) {
    entry.resource = truncate_utf8(std::move(entry.resource), kMaxFieldBytes);
  }
  {
    std::lock_guard lock(mutex_);
    entry.seq = next_seq_++;
    if (ring_.size() < capacity_) {
      ring_.push_back(std::move(entry));
      return;
    }
    // The overwritten entry leaves in `entry`, freed after the lock.
    std::swap(ring_[(entry.seq - 1) % capacity_], entry);
  }
}

ActivityLog::Page ActivityLog::since(std::uint64_t after, const ActivityViewer& viewer,
                                     std::size_t limit) const {
  Page page;
  std::lock_guard lock(mutex_);
  std::uint64_t newest = next_seq_ - 1;
  // A sequence number from before a restart: start again.
  if (after > newest) after = 0;
  page.last_seq = newest;
  if (after == newest || limit == 0) return page;
  std::uint64_t oldest = newest - ring_.size() + 1;  // the ring holds oldest..newest
  std::uint64_t first = std::max(after + 1, oldest);
  page.missed = first > after + 1;
  // A live tail: the newest `limit` the viewer may see, found from the end.
  for (std::uint64_t seq = newest; seq >= first; --seq) {
    const ActivityEntry& entry = ring_[(seq - 1) % capacity_];
    if (!viewer.sees(entry)) continue;
    if (page.entries.size() == limit) {
      page.missed = true;
      break;
    }
    page.entries.push_back(entry);
  }
  std::reverse(page.entries.begin(), page.entries.end());
  return page;
}

std::string truncate_utf8(std::string text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t cut = max_bytes;
  // Back up over continuation bytes (10xxxxxx) to a character's start.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text;
}

}  // namespace offcloud

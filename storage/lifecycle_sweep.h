// The background lifecycle sweep: on start and then every interval, it
// walks each bucket that has lifecycle rules and applies them as S3 does
// (expiration of current versions, expired delete markers, noncurrent
// expiration, abort of incomplete multipart uploads, transitions), and
// moves RestoreObject requests along (a restore completes at the first
// sweep at or after its ready time; a restored copy goes at its expiry).
// Every change goes through the object store, as a client's would, and
// only if the version is still as the sweep listed it. Protocol-free: the
// rules come from `RulesFor`, which the S3 front end fills from the
// bucket's stored configuration.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/lifecycle.h"
#include "storage/object_store.h"

namespace offcloud {

class LifecycleSweep {
 public:
  using RulesFor = std::function<std::vector<LifecycleRule>(const std::string& bucket)>;
  struct Options {
    LifecycleClock clock;
    std::chrono::milliseconds interval{std::chrono::hours(1)};
    // Told why a sweep failed (a full disk, ...); the next sweep tries again.
    std::function<void(std::string_view)> report_error;
  };

  LifecycleSweep(ObjectStore& store, RulesFor rules, Options options);
  ~LifecycleSweep();  // stop()s
  LifecycleSweep(const LifecycleSweep&) = delete;
  LifecycleSweep& operator=(const LifecycleSweep&) = delete;

  // A sweep now, then one every interval, on a thread of its own.
  void start();
  // Waits for a sweep in progress to finish; idempotent.
  void stop();

  // What one sweep did.
  struct Stats {
    int expired = 0;  // current versions deleted (or hidden by a delete marker)
    int delete_markers_removed = 0;
    int noncurrent_deleted = 0;
    int transitioned = 0;  // versions whose storage class changed
    int uploads_aborted = 0;
    int restores_completed = 0;
    int restores_expired = 0;
  };
  // One sweep as of `now_ms`, on the calling thread.
  Stats sweep_once(std::int64_t now_ms);

  // The one place the sweep asks whether it may remove a version for good
  // (Object Lock: a legal hold or an unexpired retention keeps it).
  static bool may_delete(const ObjectInfo& version, std::int64_t now_ms);

 private:
  void run();
  void sweep_bucket(const BucketInfo& bucket, const std::vector<LifecycleRule>& rules,
                    std::int64_t now_ms, Stats* stats);
  // One key's versions, newest first (the current one first, if any).
  void sweep_key(const BucketInfo& bucket, const std::vector<LifecycleRule>& rules,
                 const std::vector<ObjectInfo>& versions, std::int64_t now_ms, Stats* stats);
  void abort_uploads(const BucketInfo& bucket, const std::vector<LifecycleRule>& rules,
                     std::int64_t now_ms, Stats* stats);
  void advance_restores(std::int64_t now_ms, Stats* stats);

  ObjectStore& store_;
  RulesFor rules_;
  Options options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace offcloud

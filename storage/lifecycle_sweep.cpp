#include "storage/lifecycle_sweep.h"

#include <exception>

#include "storage/object_lock.h"

namespace offcloud {
namespace {

constexpr int kPage = 1000;

// The deepest storage class a due transition of the rules moves `version`
// to, below its own; "" when none. `current`: Transition (from creation),
// else NoncurrentVersionTransition (from `since_ms`, sparing the newest
// noncurrent versions).
std::string transition_target(const std::vector<LifecycleRule>& rules, const ObjectInfo& version,
                              bool current, std::int64_t since_ms, std::size_t noncurrent_index,
                              const LifecycleClock& clock, std::int64_t now_ms) {
  int rank = storage_class_rank(version.storage_class);
  if (rank < 0 || version.delete_marker) return "";
  std::string target;
  int target_rank = rank;
  auto consider = [&](const std::string& storage_class) {
    int to = storage_class_rank(storage_class);
    if (to > target_rank) {
      target_rank = to;
      target = storage_class;
    }
  };
  for (const LifecycleRule& rule : rules) {
    if (!rule.enabled || !lifecycle_matches(rule, version) ||
        !transition_size_allowed(rule, version.size)) {
      continue;
    }
    if (current) {
      for (const LifecycleTransition& transition : rule.transitions) {
        if (lifecycle_due_ms(transition.when, version.last_modified_ms, clock) <= now_ms) {
          consider(transition.storage_class);
        }
      }
    } else {
      for (const LifecycleNoncurrent& transition : rule.noncurrent_transitions) {
        if (noncurrent_index >= static_cast<std::size_t>(transition.newer_noncurrent_versions) &&
            clock.due_ms(since_ms, transition.days) <= now_ms) {
          consider(transition.storage_class);
        }
      }
    }
  }
  return target;
}

}  // namespace

LifecycleSweep::LifecycleSweep(ObjectStore& store, RulesFor rules, Options options)
    : store_(store), rules_(std::move(rules)), options_(std::move(options)) {}

LifecycleSweep::~LifecycleSweep() {
  stop();
}

void LifecycleSweep::start() {
  thread_ = std::thread([this] { run(); });
}

void LifecycleSweep::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LifecycleSweep::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      using namespace std::chrono;
      sweep_once(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
    } catch (const std::exception& e) {
      if (options_.report_error) options_.report_error(e.what());
    }
    lock.lock();
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
}

bool LifecycleSweep::may_delete(const ObjectInfo& version, std::int64_t now_ms) {
  // Lifecycle never bypasses governance, as on AWS.
  return may_delete_version(version.lock, now_ms, /*bypass_governance=*/false);
}

LifecycleSweep::Stats LifecycleSweep::sweep_once(std::int64_t now_ms) {
  Stats stats;
  for (const BucketInfo& bucket : store_.list_buckets()) {
    std::vector<LifecycleRule> rules = rules_(bucket.name);
    bool any_enabled = false;
    for (const LifecycleRule& rule : rules) any_enabled = any_enabled || rule.enabled;
    if (any_enabled) sweep_bucket(bucket, rules, now_ms, &stats);
  }
  advance_restores(now_ms, &stats);
  return stats;
}

void LifecycleSweep::sweep_bucket(const BucketInfo& bucket, const std::vector<LifecycleRule>& rules,
                                  std::int64_t now_ms, Stats* stats) {
  abort_uploads(bucket, rules, now_ms, stats);
  // Versions come in key order, newest first within a key. A page may end
  // inside a key: its versions wait for the next page, which resumes after
  // the last of them listed, untouched so far.
  VersionListRequest request;
  request.max_keys = kPage;
  std::vector<ObjectInfo> key_versions;
  for (;;) {
    VersionListResult page = store_.list_object_versions(bucket.name, request);
    for (ObjectInfo& version : page.versions) {
      if (!key_versions.empty() && key_versions.front().key != version.key) {
        sweep_key(bucket, rules, key_versions, now_ms, stats);
        key_versions.clear();
      }
      key_versions.push_back(std::move(version));
    }
    if (!page.truncated) break;
    request.key_marker = page.next_key_marker;
    request.version_id_marker = page.next_version_id_marker;
  }
  if (!key_versions.empty()) sweep_key(bucket, rules, key_versions, now_ms, stats);
}

void LifecycleSweep::sweep_key(const BucketInfo& bucket, const std::vector<LifecycleRule>& rules,
                               const std::vector<ObjectInfo>& versions, std::int64_t now_ms,
                               Stats* stats) {
  const LifecycleClock& clock = options_.clock;
  const ObjectInfo& newest = versions.front();
  bool versioned = bucket.versioning != Versioning::kUnversioned;
  if (newest.is_latest && !newest.delete_marker) {
    // Expiration of the current version; a due transition otherwise. In a
    // versioned bucket expiring makes a delete marker (nothing is removed,
    // except a suspended bucket's null version, which it replaces).
    bool due = false;
    for (const LifecycleRule& rule : rules) {
      due = due || (rule.enabled && rule.expiration && lifecycle_matches(rule, newest) &&
                    lifecycle_due_ms(*rule.expiration, newest.last_modified_ms, clock) <= now_ms);
    }
    bool removes = bucket.versioning == Versioning::kUnversioned ||
                   (bucket.versioning == Versioning::kSuspended && newest.version_id.empty());
    if (due && (!removes || may_delete(newest, now_ms))) {
      if (store_.expire_current(bucket.name, newest).found) ++stats->expired;
    } else if (!due) {
      std::string to = transition_target(rules, newest, true, 0, 0, clock, now_ms);
      if (!to.empty() && store_.set_storage_class(bucket.name, newest, to)) ++stats->transitioned;
    }
  } else if (newest.is_latest && versioned && versions.size() == 1) {
    // An expired object delete marker: the key's only version. Removed by
    // ExpiredObjectDeleteMarker at once, or by Expiration Days once the
    // marker is that old, as AWS does.
    bool due = false;
    for (const LifecycleRule& rule : rules) {
      if (!rule.enabled || !lifecycle_matches(rule, newest)) continue;
      due = due || rule.expired_object_delete_marker ||
            (rule.expiration && rule.expiration->days &&
             clock.due_ms(newest.last_modified_ms, *rule.expiration->days) <= now_ms);
    }
    if (due && may_delete(newest, now_ms) && store_.delete_version_if(bucket.name, newest)) {
      ++stats->delete_markers_removed;
    }
  }
  // Noncurrent versions: each became noncurrent when the next newer one was
  // made; the k newest noncurrent ones are index 0 .. k-1.
  std::size_t noncurrent_index = 0;
  for (std::size_t i = 1; i < versions.size(); ++i, ++noncurrent_index) {
    const ObjectInfo& version = versions[i];
    std::int64_t since_ms = versions[i - 1].last_modified_ms;
    bool due = false;
    for (const LifecycleRule& rule : rules) {
      if (!rule.enabled || !rule.noncurrent_expiration || !lifecycle_matches(rule, version)) {
        continue;
      }
      const LifecycleNoncurrent& expiration = *rule.noncurrent_expiration;
      due = due ||
            (noncurrent_index >= static_cast<std::size_t>(expiration.newer_noncurrent_versions) &&
             clock.due_ms(since_ms, expiration.days) <= now_ms);
    }
    if (due) {
      if (may_delete(version, now_ms) && store_.delete_version_if(bucket.name, version)) {
        ++stats->noncurrent_deleted;
      }
      continue;
    }
    std::string to =
        transition_target(rules, version, false, since_ms, noncurrent_index, clock, now_ms);
    if (!to.empty() && store_.set_storage_class(bucket.name, version, to)) ++stats->transitioned;
  }
}

void LifecycleSweep::abort_uploads(const BucketInfo& bucket,
                                   const std::vector<LifecycleRule>& rules, std::int64_t now_ms,
                                   Stats* stats) {
  bool any = false;
  for (const LifecycleRule& rule : rules) any = any || (rule.enabled && rule.abort_upload_days);
  if (!any) return;
  // Listed first, aborted after: an abort would move the listing's marker.
  std::vector<std::string> stale;
  UploadListRequest request;
  request.max_uploads = kPage;
  for (;;) {
    UploadListResult page = store_.list_uploads(bucket.name, request);
    for (const UploadInfo& upload : page.uploads) {
      for (const LifecycleRule& rule : rules) {
        // Uploads have no tags or size yet: the prefix alone selects them.
        if (rule.enabled && rule.abort_upload_days && upload.key.starts_with(rule.filter.prefix) &&
            options_.clock.due_ms(upload.initiated_ms, *rule.abort_upload_days) <= now_ms) {
          stale.push_back(upload.id);
          break;
        }
      }
    }
    if (!page.truncated) break;
    request.key_marker = page.next_key_marker;
    request.upload_id_marker = page.next_upload_id_marker;
  }
  for (const std::string& id : stale) {
    if (store_.abort_upload(id)) ++stats->uploads_aborted;
  }
}

void LifecycleSweep::advance_restores(std::int64_t now_ms, Stats* stats) {
  for (const auto& [bucket, version] : store_.restoring_versions()) {
    if (version.restore_ongoing()) {
      // restore_expiry_ms holds when the restore may complete.
      if (version.restore_expiry_ms <= now_ms &&
          store_.set_restore_state(bucket, version, 0,
                                   options_.clock.due_ms(now_ms, version.restore_days))) {
        ++stats->restores_completed;
      }
    } else if (version.restore_expiry_ms <= now_ms &&
               store_.set_restore_state(bucket, version, 0, 0)) {
      ++stats->restores_expired;
    }
  }
}

}  // namespace offcloud

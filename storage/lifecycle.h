// S3 Lifecycle's rules as the sweep applies them, free of any protocol: the
// S3 front end parses a bucket's stored configuration into these
// (emulator/s3/s3_lifecycle.h), and the sweep (lifecycle_sweep.h) and the
// x-amz-expiration header read them. Also the day arithmetic both share,
// and which storage classes are archived (read only once restored).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/object_store.h"

namespace offcloud {

// How long a lifecycle "day" is. AWS counts an object's age in days from
// its creation, and moves the moment an action is due to the next midnight
// UTC: an object made at 10:00 with "Days 1" expires at the second
// midnight after. offcloud does exactly that with real days; with a
// shorter day (--lifecycle-day-seconds, for tests) "N days" is simply
// N × day_ms after creation, with no rounding.
struct LifecycleClock {
  static constexpr std::int64_t kRealDayMs = 24LL * 3600 * 1000;
  std::int64_t day_ms = kRealDayMs;

  bool real_days() const { return day_ms == kRealDayMs; }
  // When something that began at `start_ms` is `days` days old.
  std::int64_t due_ms(std::int64_t start_ms, std::int64_t days) const;
};

struct LifecycleFilter {
  std::string prefix;
  HeaderList tags;  // every one must be on the object, with that value
  std::optional<std::uint64_t> size_greater_than;
  std::optional<std::uint64_t> size_less_than;
};

// Expiration / Transition: after Days (from creation) or on a Date.
struct LifecycleWhen {
  std::optional<std::int64_t> days;
  std::optional<std::int64_t> date_ms;  // midnight UTC
};

struct LifecycleTransition {
  LifecycleWhen when;
  std::string storage_class;
};

// NoncurrentVersionExpiration / NoncurrentVersionTransition: NoncurrentDays
// counted from when the version became noncurrent (its successor's
// creation), sparing the `newer_noncurrent_versions` newest noncurrent ones.
struct LifecycleNoncurrent {
  std::int64_t days = 0;
  std::int64_t newer_noncurrent_versions = 0;
  std::string storage_class;  // transitions only
};

struct LifecycleRule {
  std::string id;
  bool enabled = false;
  LifecycleFilter filter;
  std::optional<LifecycleWhen> expiration;  // Days or Date
  bool expired_object_delete_marker = false;
  std::optional<LifecycleNoncurrent> noncurrent_expiration;
  std::optional<std::int64_t> abort_upload_days;  // AbortIncompleteMultipartUpload
  std::vector<LifecycleTransition> transitions;
  std::vector<LifecycleNoncurrent> noncurrent_transitions;
};

// Whether an enabled `rule`'s filter selects this version (an object or a
// delete marker: a delete marker has no tags and no size, so a filter on
// tags or size never selects one).
bool lifecycle_matches(const LifecycleRule& rule, const ObjectInfo& version);

// When `days`/`date` of `when` is reached for something begun at `start_ms`.
std::int64_t lifecycle_due_ms(const LifecycleWhen& when, std::int64_t start_ms,
                              const LifecycleClock& clock);

// The Expiration (Days or Date) that applies to a current object: the
// earliest of the enabled rules selecting it, for x-amz-expiration.
struct LifecycleExpiry {
  std::int64_t due_ms = 0;
  std::string rule_id;
};
std::optional<LifecycleExpiry> lifecycle_expiry(const std::vector<LifecycleRule>& rules,
                                                const ObjectInfo& object,
                                                const LifecycleClock& clock);

// Archived classes: GET is InvalidObjectState until RestoreObject restored
// a copy. GLACIER_IR is read instantly, as on AWS.
bool is_archived_storage_class(std::string_view storage_class);

// The classes lifecycle moves objects to, in AWS's one-way waterfall
// (STANDARD first, DEEP_ARCHIVE last); -1 for a class it cannot move to or
// from (REDUCED_REDUNDANCY is above STANDARD_IA, OUTPOSTS and the like off it).
int storage_class_rank(std::string_view storage_class);

// AWS's default since September 2024 (all_storage_classes_128K): objects
// smaller than this do not transition unless the rule's filter names a
// smaller ObjectSizeGreaterThan.
inline constexpr std::uint64_t kTransitionMinimumBytes = 128 * 1024;
bool transition_size_allowed(const LifecycleRule& rule, std::uint64_t size);

}  // namespace offcloud

#include "storage/lifecycle.h"

#include <algorithm>

namespace offcloud {

std::int64_t LifecycleClock::due_ms(std::int64_t start_ms, std::int64_t days) const {
  std::int64_t due = start_ms + days * day_ms;
  if (!real_days()) return due;
  // AWS rounds up to the next midnight UTC (epoch days start at midnight).
  std::int64_t into_day = ((due % kRealDayMs) + kRealDayMs) % kRealDayMs;
  return into_day == 0 ? due : due - into_day + kRealDayMs;
}

std::int64_t lifecycle_due_ms(const LifecycleWhen& when, std::int64_t start_ms,
                              const LifecycleClock& clock) {
  if (when.date_ms) return *when.date_ms;
  return clock.due_ms(start_ms, when.days.value_or(0));
}

bool lifecycle_matches(const LifecycleRule& rule, const ObjectInfo& version) {
  const LifecycleFilter& filter = rule.filter;
  if (!version.key.starts_with(filter.prefix)) return false;
  bool sized = filter.size_greater_than || filter.size_less_than;
  if (version.delete_marker) return filter.tags.empty() && !sized;
  if (filter.size_greater_than && !(version.size > *filter.size_greater_than)) return false;
  if (filter.size_less_than && !(version.size < *filter.size_less_than)) return false;
  // Every tag of the filter, key and value, among the version's.
  for (const auto& wanted : filter.tags) {
    bool found = std::any_of(version.tags.begin(), version.tags.end(),
                             [&](const auto& tag) { return tag == wanted; });
    if (!found) return false;
  }
  return true;
}

std::optional<LifecycleExpiry> lifecycle_expiry(const std::vector<LifecycleRule>& rules,
                                                const ObjectInfo& object,
                                                const LifecycleClock& clock) {
  std::optional<LifecycleExpiry> earliest;
  if (object.delete_marker) return earliest;
  for (const LifecycleRule& rule : rules) {
    if (!rule.enabled || !rule.expiration || !lifecycle_matches(rule, object)) continue;
    std::int64_t due = lifecycle_due_ms(*rule.expiration, object.last_modified_ms, clock);
    if (!earliest || due < earliest->due_ms) earliest = LifecycleExpiry{due, rule.id};
  }
  return earliest;
}

bool is_archived_storage_class(std::string_view storage_class) {
  return storage_class == "GLACIER" || storage_class == "DEEP_ARCHIVE";
}

int storage_class_rank(std::string_view storage_class) {
  static constexpr std::string_view kWaterfall[] = {
      "STANDARD",   "STANDARD_IA", "INTELLIGENT_TIERING", "ONEZONE_IA",
      "GLACIER_IR", "GLACIER",     "DEEP_ARCHIVE"};
  if (storage_class == "REDUCED_REDUNDANCY" || storage_class.empty()) return 0;
  for (std::size_t i = 0; i < std::size(kWaterfall); ++i) {
    if (kWaterfall[i] == storage_class) return static_cast<int>(i);
  }
  return -1;
}

bool transition_size_allowed(const LifecycleRule& rule, std::uint64_t size) {
  if (size >= kTransitionMinimumBytes) return true;
  // A filter that asks for smaller objects overrides the default minimum.
  return rule.filter.size_greater_than &&
         *rule.filter.size_greater_than < kTransitionMinimumBytes &&
         size > *rule.filter.size_greater_than;
}

}  // namespace offcloud

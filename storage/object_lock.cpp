#include "storage/object_lock.h"

namespace offcloud {

bool may_delete_version(const ObjectLock& lock, std::int64_t now_ms, bool bypass_governance) {
  if (lock.held()) return false;  // no permission lifts a legal hold but removing it
  if (!lock.retained(now_ms)) return true;
  return lock.mode == kLockGovernance && bypass_governance;
}

bool may_change_retention(const ObjectLock& lock, std::string_view mode, std::int64_t until_ms,
                          std::int64_t now_ms, bool bypass_governance) {
  if (!lock.retained(now_ms)) return true;
  if (mode == lock.mode && until_ms >= lock.until_ms) return true;  // an extension
  return lock.mode == kLockGovernance && bypass_governance;
}

}  // namespace offcloud

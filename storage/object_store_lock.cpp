// Object Lock in the object store: a version's retention and legal hold
// live on its row (`object` or `object_version`), and change under the
// mutex deletes commit under, so a DELETE never sees half a change and a
// retention is never shortened past object_lock.h's rules.
#include "storage/object_lock.h"
#include "storage/object_store.h"
#include "storage/object_store_detail.h"

namespace offcloud {
namespace {

using namespace detail;

// Where a version's row is: its table and its lock.
struct LockedRow {
  const char* table;
  ObjectLock lock;
};

// Under the store's mutex: the row of bucket/key's version (nullopt: the
// current one), unless it is a delete marker.
std::optional<LockedRow> find_version_row(Database& db, const std::string& bucket,
                                          const std::string& key,
                                          const std::optional<std::string>& version_id) {
  for (const char* table : {"object", "object_version"}) {
    if (!version_id && std::string_view(table) != "object") break;
    auto select = db.cached(std::string("SELECT lock_mode, lock_until_ms, legal_hold FROM ") +
                            table + " WHERE bucket = ?1 AND key = ?2 AND delete_marker = 0" +
                            (version_id ? " AND version_id = ?3" : ""));
    select->bind(1, bucket);
    select->bind(2, key);
    if (version_id) select->bind(3, *version_id);
    if (select->step()) {
      return LockedRow{table,
                       {select->column_text(0), select->column_int(1), select->column_text(2)}};
    }
  }
  return std::nullopt;
}

// Sets the row's lock columns to `lock`.
void write_lock(Database& db, const LockedRow& row, const std::string& bucket,
                const std::string& key, const std::optional<std::string>& version_id,
                const ObjectLock& lock) {
  auto update = db.cached(std::string("UPDATE ") + row.table +
                          " SET lock_mode = ?4, lock_until_ms = ?5, legal_hold = ?6"
                          " WHERE bucket = ?1 AND key = ?2 AND delete_marker = 0" +
                          (version_id ? " AND version_id = ?3" : ""));
  update->bind(1, bucket);
  update->bind(2, key);
  if (version_id) update->bind(3, *version_id);
  update->bind(4, lock.mode);
  update->bind(5, lock.until_ms);
  update->bind(6, lock.legal_hold);
  update->step();
}

}  // namespace

ObjectStore::LockStatus ObjectStore::set_object_retention(
    const std::string& bucket, const std::string& key, const std::optional<std::string>& version_id,
    const std::string& mode, std::int64_t until_ms, bool bypass_governance) {
  std::lock_guard lock(mutex_);
  std::optional<LockedRow> row = find_version_row(db_, bucket, key, version_id);
  if (!row) return LockStatus::kNoSuchVersion;
  if (!may_change_retention(row->lock, mode, until_ms, now_ms(), bypass_governance)) {
    return LockStatus::kLocked;
  }
  ObjectLock changed = row->lock;
  changed.mode = mode;
  changed.until_ms = mode.empty() ? 0 : until_ms;
  write_lock(db_, *row, bucket, key, version_id, changed);
  return LockStatus::kOk;
}

ObjectStore::LockStatus ObjectStore::set_object_legal_hold(
    const std::string& bucket, const std::string& key, const std::optional<std::string>& version_id,
    const std::string& status) {
  std::lock_guard lock(mutex_);
  std::optional<LockedRow> row = find_version_row(db_, bucket, key, version_id);
  if (!row) return LockStatus::kNoSuchVersion;
  ObjectLock changed = row->lock;
  changed.legal_hold = status;
  write_lock(db_, *row, bucket, key, version_id, changed);
  return LockStatus::kOk;
}

}  // namespace offcloud

// What the lifecycle sweep and RestoreObject change in the object store.
// The sweep decides from a listing, then acts on each version only while it
// is still as listed (unchanged()), inside the transaction that changes it:
// an overwrite or a delete that lands between the two wins. Deletions go
// through the store's own DELETE path (delete_object_version_now), so they
// are as crash-safe as a client's: rows first, blobs after the commit.
#include <algorithm>

#include "storage/lifecycle.h"
#include "storage/object_store.h"
#include "storage/object_store_detail.h"

namespace offcloud {

using namespace detail;

bool ObjectStore::unchanged(const std::string& bucket, const ObjectInfo& seen, bool current_only) {
  for (const char* table : {"object", "object_version"}) {
    auto select = db_.cached(std::string("SELECT 1 FROM ") + table +
                             " WHERE bucket = ?1 AND key = ?2 AND version_id = ?3"
                             " AND etag = ?4 AND last_modified_ms = ?5 AND delete_marker = ?6");
    select->bind(1, bucket);
    select->bind(2, seen.key);
    select->bind(3, seen.version_id);
    select->bind(4, seen.etag);
    select->bind(5, seen.last_modified_ms);
    select->bind(6, static_cast<std::int64_t>(seen.delete_marker));
    bool found = select->step();
    select->reset();
    if (found) return true;
    if (current_only) return false;
  }
  return false;
}

DeleteResult ObjectStore::expire_current(const std::string& bucket, const ObjectInfo& seen) {
  return reserve_.run(
      [&] { return delete_object_version_now(bucket, seen.key, std::nullopt, &seen); });
}

bool ObjectStore::delete_version_if(const std::string& bucket, const ObjectInfo& seen) {
  return reserve_
      .run([&] { return delete_object_version_now(bucket, seen.key, seen.version_id, &seen); })
      .found;
}

namespace {

// Runs `update` (with ?1 bucket, ?2 key, ?3 version id, ?4 ETag, ?5
// Last-Modified and its own parameters from ?6) on whichever table holds
// the version; true when a row changed.
template <typename Bind>
bool update_seen_version(Database& db, const std::string& set, const std::string& bucket,
                         const ObjectInfo& seen, Bind bind) {
  for (const char* table : {"object", "object_version"}) {
    auto update = db.cached(std::string("UPDATE ") + table + " SET " + set +
                            " WHERE bucket = ?1 AND key = ?2 AND version_id = ?3 AND etag = ?4"
                            " AND last_modified_ms = ?5 AND delete_marker = 0");
    update->bind(1, bucket);
    update->bind(2, seen.key);
    update->bind(3, seen.version_id);
    update->bind(4, seen.etag);
    update->bind(5, seen.last_modified_ms);
    bind(*update);
    update->step();
    auto changes = db.cached("SELECT changes()");
    changes->step();
    if (changes->column_int(0) != 0) return true;
  }
  return false;
}

}  // namespace

bool ObjectStore::set_storage_class(const std::string& bucket, const ObjectInfo& seen,
                                    const std::string& storage_class) {
  std::lock_guard lock(mutex_);
  return update_seen_version(db_, "storage_class = ?6", bucket, seen,
                             [&](Statement& update) { update.bind(6, storage_class); });
}

bool ObjectStore::set_restore_state(const std::string& bucket, const ObjectInfo& seen,
                                    std::int64_t days, std::int64_t expiry_ms) {
  std::lock_guard lock(mutex_);
  return update_seen_version(db_, "restore_days = ?6, restore_expiry_ms = ?7", bucket, seen,
                             [&](Statement& update) {
                               update.bind(6, days);
                               update.bind(7, expiry_ms);
                             });
}

ObjectStore::RestoreStatus ObjectStore::request_restore(
    const std::string& bucket, const std::string& key, const std::optional<std::string>& version_id,
    std::int64_t days, std::int64_t ready_ms, std::int64_t extended_expiry_ms,
    std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  std::optional<ObjectInfo> version;
  {
    auto select = db_.cached(std::string("SELECT ") + kObjectColumns +
                             " FROM object WHERE bucket = ?1 AND key = ?2");
    select->bind(1, bucket);
    select->bind(2, key);
    if (select->step()) version = read_object(*select);
  }
  if (version && version_id && version->version_id != *version_id) {
    version = noncurrent_version(bucket, key, *version_id);
  }
  if (!version || version->delete_marker) return RestoreStatus::kNoSuchVersion;
  if (!is_archived_storage_class(version->storage_class)) {
    return RestoreStatus::kNotArchived;
  }
  if (version->restore_ongoing()) return RestoreStatus::kInProgress;
  bool restored = version->restored(now_ms);
  update_seen_version(db_, "restore_days = ?6, restore_expiry_ms = ?7", bucket, *version,
                      [&](Statement& update) {
                        update.bind(6, restored ? std::int64_t{0} : days);
                        update.bind(7, restored ? extended_expiry_ms : ready_ms);
                      });
  return restored ? RestoreStatus::kExtended : RestoreStatus::kStarted;
}

std::vector<std::pair<std::string, ObjectInfo>> ObjectStore::restoring_versions() {
  std::lock_guard lock(mutex_);
  // The bucket after read_object's columns.
  std::string_view columns = kObjectColumns;
  int bucket_column = 1 + static_cast<int>(std::count(columns.begin(), columns.end(), ','));
  std::vector<std::pair<std::string, ObjectInfo>> versions;
  for (const char* table : {"object", "object_version"}) {
    auto select = db_.cached(std::string("SELECT ") + kObjectColumns + ", bucket FROM " + table +
                             " WHERE restore_days > 0 OR restore_expiry_ms > 0");
    while (select->step()) {
      ObjectInfo info = read_object(*select);
      info.is_latest = std::string_view(table) == "object";
      versions.emplace_back(select->column_text(bucket_column), std::move(info));
    }
  }
  return versions;
}

}  // namespace offcloud

// S3 versioning in the object store. The `object` table holds each key's
// current version (an object or a delete marker), so reads and writes of
// the latest version touch one row as they do without versioning; the
// `object_version` table holds the noncurrent versions, ordered within a
// key by `seq` (newest highest). A key has noncurrent versions only while
// it has a current one: deleting the current version promotes the newest
// noncurrent one. Every change is one transaction; blobs no row refers to
// any more are removed after it commits, so a crash leaves garbage at
// worst, which start-up collects.
#include <climits>
#include <random>

#include "storage/object_store.h"
#include "storage/object_store_detail.h"

namespace offcloud {
namespace detail {

namespace {

// AWS's version ids are 32 URL-safe characters; so are ours.
constexpr std::string_view kVersionIdAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";

}  // namespace

Versioning versioning_from_text(const std::string& text) {
  if (text == "Enabled") return Versioning::kEnabled;
  if (text == "Suspended") return Versioning::kSuspended;
  return Versioning::kUnversioned;
}

std::string new_version_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::string id;
  id.reserve(ObjectStore::kVersionIdLength);
  while (id.size() < ObjectStore::kVersionIdLength) {
    std::uint64_t bits = random();
    for (int i = 0; i < 10 && id.size() < ObjectStore::kVersionIdLength; ++i, bits >>= 6) {
      id.push_back(kVersionIdAlphabet[bits & 63]);
    }
  }
  return id;
}

bool update_version_column(Database& db, const char* column, const std::string& bucket,
                           const std::string& key, const std::string& value,
                           const std::optional<std::string>& version_id) {
  auto changed = [&] {
    auto changes = db.cached("SELECT changes()");
    changes->step();
    return changes->column_int(0) != 0;
  };
  std::string set = std::string(" SET ") + column + " = ?3 WHERE bucket = ?1 AND key = ?2";
  if (!version_id) {
    auto update = db.cached("UPDATE object" + set + " AND delete_marker = 0");
    update->bind(1, bucket);
    update->bind(2, key);
    update->bind(3, value);
    update->step();
    return changed();
  }
  for (const char* table : {"object", "object_version"}) {
    auto update = db.cached(std::string("UPDATE ") + table + set +
                            " AND version_id = ?4 AND delete_marker = 0");
    update->bind(1, bucket);
    update->bind(2, key);
    update->bind(3, value);
    update->bind(4, *version_id);
    update->step();
    if (changed()) return true;
  }
  return false;
}

}  // namespace detail

namespace {

using namespace detail;

// The columns both tables have besides bucket, key (and object_version's seq).
constexpr const char* kVersionRowColumns =
    "version_id, delete_marker, size, etag, content_type, headers, metadata, checksums,"
    " last_modified_ms, blob, checksum_type, storage_class, parts, acl, tags, restore_days,"
    " restore_expiry_ms, lock_mode, lock_until_ms, legal_hold, customer_key";

}  // namespace

bool ObjectStore::is_version_id(std::string_view text) {
  if (text.size() != kVersionIdLength) return false;
  for (char c : text) {
    if (kVersionIdAlphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

ObjectStore::Status ObjectStore::set_bucket_versioning(const std::string& name, Versioning state) {
  std::lock_guard lock(mutex_);
  auto update = db_.cached("UPDATE bucket SET versioning = ?2 WHERE name = ?1");
  update->bind(1, name);
  update->bind(2, state == Versioning::kEnabled     ? "Enabled"
                  : state == Versioning::kSuspended ? "Suspended"
                                                    : "");
  update->step();
  auto changed = db_.cached("SELECT changes()");
  changed->step();
  return changed->column_int(0) ? Status::kOk : Status::kNoSuchBucket;
}

void ObjectStore::copy_current_to_versions(const std::string& bucket, const std::string& key) {
  auto copy = db_.cached(std::string("INSERT INTO object_version (bucket, key, seq, ") +
                         kVersionRowColumns + ") SELECT bucket, key, ?3, " + kVersionRowColumns +
                         " FROM object WHERE bucket = ?1 AND key = ?2");
  copy->bind(1, bucket);
  copy->bind(2, key);
  copy->bind(3, next_version_seq_++);
  copy->step();
}

void ObjectStore::retire_current(const std::string& bucket, const std::string& key) {
  copy_current_to_versions(bucket, key);
  auto remove = db_.cached("DELETE FROM object WHERE bucket = ?1 AND key = ?2");
  remove->bind(1, bucket);
  remove->bind(2, key);
  remove->step();
}

void ObjectStore::promote_newest(const std::string& bucket, const std::string& key) {
  auto newest = db_.cached(
      "SELECT seq FROM object_version WHERE bucket = ?1 AND key = ?2 ORDER BY seq DESC LIMIT 1");
  newest->bind(1, bucket);
  newest->bind(2, key);
  if (!newest->step()) return;
  std::int64_t seq = newest->column_int(0);
  auto copy = db_.cached(std::string("INSERT INTO object (bucket, key, ") + kVersionRowColumns +
                         ") SELECT bucket, key, " + kVersionRowColumns +
                         " FROM object_version WHERE bucket = ?1 AND key = ?2 AND seq = ?3");
  copy->bind(1, bucket);
  copy->bind(2, key);
  copy->bind(3, seq);
  copy->step();
  auto remove =
      db_.cached("DELETE FROM object_version WHERE bucket = ?1 AND key = ?2 AND seq = ?3");
  remove->bind(1, bucket);
  remove->bind(2, key);
  remove->bind(3, seq);
  remove->step();
}

std::vector<std::string> ObjectStore::write_current(const std::string& bucket, ObjectInfo* info,
                                                    Versioning state) {
  std::vector<std::string> unreferenced;
  if (state == Versioning::kUnversioned) {
    // As before versioning: the one row is replaced.
    info->version_id.clear();
  } else if (state == Versioning::kEnabled) {
    // The current row, if any, becomes a noncurrent version (its blob with
    // it); the new row takes its place. Two statements: this is every PUT
    // to a versioned bucket.
    info->version_id = new_version_id();
    copy_current_to_versions(bucket, info->key);
    write_row(bucket, *info);
    return unreferenced;
  } else {
    // Suspended: the write is the null version, which replaces the key's
    // null version wherever it is; other versions stay.
    info->version_id.clear();
    auto current = db_.cached("SELECT version_id FROM object WHERE bucket = ?1 AND key = ?2");
    current->bind(1, bucket);
    current->bind(2, info->key);
    if (current->step() && !current->column_text(0).empty()) {
      retire_current(bucket, info->key);
      auto null_version = db_.cached(
          "SELECT blob FROM object_version WHERE bucket = ?1 AND key = ?2 AND version_id = ''");
      null_version->bind(1, bucket);
      null_version->bind(2, info->key);
      if (null_version->step()) {
        unreferenced.push_back(null_version->column_text(0));
        auto remove = db_.cached(
            "DELETE FROM object_version WHERE bucket = ?1 AND key = ?2 AND version_id = ''");
        remove->bind(1, bucket);
        remove->bind(2, info->key);
        remove->step();
      }
    }
  }
  if (std::optional<std::string> replaced = upsert_object(bucket, *info)) {
    unreferenced.push_back(std::move(*replaced));
  }
  return unreferenced;
}

DeleteResult ObjectStore::delete_object_version_now(const std::string& bucket,
                                                    const std::string& key,
                                                    const std::optional<std::string>& version_id,
                                                    const ObjectInfo* seen,
                                                    bool bypass_governance) {
  DeleteResult result;
  std::vector<std::string> unreferenced;
  {
    std::lock_guard lock(mutex_);
    std::optional<Versioning> state = versioning_of(bucket);
    if (!state) return result;
    Transaction transaction(db_);
    if (seen && !unchanged(bucket, *seen, !version_id)) return result;
    auto current = db_.cached(
        "SELECT version_id, delete_marker, blob, lock_mode, lock_until_ms, legal_hold FROM object"
        " WHERE bucket = ?1 AND key = ?2");
    current->bind(1, bucket);
    current->bind(2, key);
    bool has_current = current->step();
    // Object Lock: a version goes for good only as object_lock.h allows; a
    // refusal leaves everything as it was (the transaction rolls back).
    auto locked = [&](const Statement& row, int first_column) {
      ObjectLock lock{row.column_text(first_column), row.column_int(first_column + 1),
                      row.column_text(first_column + 2)};
      result.locked = !may_delete_version(lock, now_ms(), bypass_governance);
      return result.locked;
    };
    if (!version_id && *state != Versioning::kUnversioned) {
      // A delete marker becomes the current version, even of nothing.
      current->reset();
      ObjectInfo marker;
      marker.key = key;
      marker.delete_marker = true;
      marker.last_modified_ms = now_ms();
      unreferenced = write_current(bucket, &marker, *state);
      result = {true, marker.version_id, true};
    } else if (has_current && (!version_id || current->column_text(0) == *version_id)) {
      if (locked(*current, 3)) return result;
      result.found = true;
      result.delete_marker = current->column_int(1) != 0;
      unreferenced.push_back(current->column_text(2));
      current->reset();
      auto remove = db_.cached("DELETE FROM object WHERE bucket = ?1 AND key = ?2");
      remove->bind(1, bucket);
      remove->bind(2, key);
      remove->step();
      if (version_id) promote_newest(bucket, key);
    } else if (version_id) {
      current->reset();
      auto select = db_.cached(
          "SELECT delete_marker, blob, lock_mode, lock_until_ms, legal_hold FROM object_version"
          " WHERE bucket = ?1 AND key = ?2 AND version_id = ?3");
      select->bind(1, bucket);
      select->bind(2, key);
      select->bind(3, *version_id);
      if (select->step()) {
        if (locked(*select, 2)) return result;
        result.found = true;
        result.delete_marker = select->column_int(0) != 0;
        unreferenced.push_back(select->column_text(1));
        auto remove = db_.cached(
            "DELETE FROM object_version WHERE bucket = ?1 AND key = ?2 AND version_id = ?3");
        remove->bind(1, bucket);
        remove->bind(2, key);
        remove->bind(3, *version_id);
        remove->step();
      }
    }
    if (version_id && *state != Versioning::kUnversioned) result.version_id = *version_id;
    drop_inline(&unreferenced);
    transaction.commit();
  }
  // After the commit: a crash before this line leaves only garbage.
  for (const std::string& blob : unreferenced) {
    if (!blob.empty()) remove_blob(blob);
  }
  return result;
}

VersionListResult ObjectStore::list_object_versions(const std::string& bucket,
                                                    const VersionListRequest& request) {
  std::lock_guard lock(mutex_);
  VersionListResult result;
  if (request.max_keys <= 0) return result;
  int count = 0;
  auto full = [&] {
    if (count < request.max_keys) return false;
    result.truncated = true;
    return true;
  };
  auto emit = [&](ObjectInfo info) {
    info.blob.clear();
    result.next_key_marker = info.key;
    result.next_version_id_marker = info.version_id;
    result.versions.push_back(std::move(info));
    ++count;
  };
  // A key's noncurrent versions older than `below` (a seq), newest first;
  // false when the page filled up.
  auto emit_noncurrent = [&](const std::string& key, std::int64_t below) {
    auto select = db_.cached(std::string("SELECT ") + kObjectColumns +
                             " FROM object_version WHERE bucket = ?1 AND key = ?2 AND seq < ?3"
                             " ORDER BY seq DESC");
    select->bind(1, bucket);
    select->bind(2, key);
    select->bind(3, below);
    while (select->step()) {
      if (full()) return false;
      ObjectInfo info = read_object(*select);
      info.is_latest = false;
      emit(std::move(info));
    }
    return true;
  };
  auto rolls_up = [&](const std::string& key) {
    return !request.delimiter.empty() &&
           key.find(request.delimiter, request.prefix.size()) != std::string::npos;
  };

  // The rest of the marker key's versions, after the marker version.
  const std::string& marker = request.key_marker;
  if (request.version_id_marker && !marker.empty() && marker.starts_with(request.prefix) &&
      !rolls_up(marker)) {
    std::optional<std::int64_t> below;
    {
      auto current = db_.cached("SELECT version_id FROM object WHERE bucket = ?1 AND key = ?2");
      current->bind(1, bucket);
      current->bind(2, marker);
      if (current->step() && current->column_text(0) == *request.version_id_marker) {
        below = LLONG_MAX;
      }
    }
    if (!below) {
      auto at = db_.cached(
          "SELECT seq FROM object_version WHERE bucket = ?1 AND key = ?2 AND version_id = ?3");
      at->bind(1, bucket);
      at->bind(2, marker);
      at->bind(3, *request.version_id_marker);
      if (at->step()) below = at->column_int(0);
    }
    if (below && !emit_noncurrent(marker, *below)) return result;
  }

  // Then every key after the marker: its current version, then the others.
  auto select = db_.cached(std::string("SELECT ") + kObjectColumns +
                           " FROM object WHERE bucket = ?1 AND key > ?2 AND key >= ?3"
                           " ORDER BY key LIMIT 1000");
  std::string cursor = marker;
  for (;;) {
    select->reset();
    select->bind(1, bucket);
    select->bind(2, cursor);
    select->bind(3, request.prefix);
    bool any = false;
    while (select->step()) {
      any = true;
      std::string key = select->column_text(0);
      if (!std::string_view(key).starts_with(request.prefix)) return result;
      if (rolls_up(key)) {
        std::size_t at = key.find(request.delimiter, request.prefix.size());
        std::string common = key.substr(0, at + request.delimiter.size());
        // 0xFF never occurs in UTF-8: this skips every key under `common`.
        cursor = common + "\xff";
        if (common <= marker) break;  // reported on an earlier page
        if (full()) return result;
        result.common_prefixes.push_back(common);
        result.next_key_marker = common;
        result.next_version_id_marker.reset();
        ++count;
        break;
      }
      cursor = key;
      if (full()) return result;
      emit(read_object(*select));
      if (!emit_noncurrent(key, LLONG_MAX)) return result;
    }
    if (!any) return result;
  }
}

}  // namespace offcloud

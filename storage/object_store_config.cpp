// Bucket configurations: one opaque document per bucket and kind, in the
// same database as the bucket, so they survive restarts and go with it.
#include "storage/object_store.h"

namespace offcloud {

bool ObjectStore::put_bucket_config(const std::string& bucket, const std::string& kind,
                                    const std::string& document) {
  std::lock_guard lock(mutex_);
  auto exists = db_.cached("SELECT 1 FROM bucket WHERE name = ?1");
  exists->bind(1, bucket);
  if (!exists->step()) return false;
  auto upsert = db_.cached(
      "INSERT OR REPLACE INTO bucket_config (bucket, kind, document) VALUES (?1, ?2, ?3)");
  upsert->bind(1, bucket);
  upsert->bind(2, kind);
  upsert->bind(3, document);
  upsert->step();
  return true;
}

std::optional<std::string> ObjectStore::bucket_config(const std::string& bucket,
                                                      const std::string& kind) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached("SELECT document FROM bucket_config WHERE bucket = ?1 AND kind = ?2");
  select->bind(1, bucket);
  select->bind(2, kind);
  if (!select->step()) return std::nullopt;
  return select->column_text(0);
}

void ObjectStore::delete_bucket_config(const std::string& bucket, const std::string& kind) {
  std::lock_guard lock(mutex_);
  auto remove = db_.cached("DELETE FROM bucket_config WHERE bucket = ?1 AND kind = ?2");
  remove->bind(1, bucket);
  remove->bind(2, kind);
  remove->step();
}

}  // namespace offcloud

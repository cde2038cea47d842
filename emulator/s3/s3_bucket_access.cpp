#include "emulator/s3/s3_bucket_access.h"

#include <mutex>

#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_lifecycle.h"

namespace offcloud::s3 {

std::shared_ptr<const BucketAccess> BucketAccessCache::get(const std::string& bucket) const {
  std::uint64_t generation;
  {
    std::shared_lock lock(mutex_);
    if (auto it = buckets_.find(bucket); it != buckets_.end()) return it->second;
    generation = generation_;
  }
  std::shared_ptr<const BucketAccess> loaded = load(bucket);
  if (!loaded) return nullptr;
  std::unique_lock lock(mutex_);
  if (generation_ == generation) buckets_.emplace(bucket, loaded);
  return loaded;
}

void BucketAccessCache::forget(const std::string& bucket) {
  std::unique_lock lock(mutex_);
  buckets_.erase(bucket);
  ++generation_;
}

std::shared_ptr<const BucketAccess> BucketAccessCache::load(const std::string& bucket) const {
  std::optional<BucketInfo> info = store_.bucket(bucket);
  if (!info) return nullptr;
  auto access = std::make_shared<BucketAccess>();
  access->owner = info->owner;
  access->owner_canonical_id = canonical_user_id(info->owner);
  access->acl = decode_acl(info->acl, access->owner_canonical_id);
  if (auto text = store_.bucket_config(bucket, kPolicyConfig)) {
    access->policy = parse_bucket_policy(*text, bucket);
  }
  if (auto text = store_.bucket_config(bucket, kOwnershipConfig)) {
    parse_ownership(*text, &access->ownership);
  }
  if (auto text = store_.bucket_config(bucket, kPublicAccessBlockConfig)) {
    parse_public_access_block(*text, &access->block);
  }
  if (auto text = store_.bucket_config(bucket, kLifecycleConfig)) {
    access->lifecycle = parse_lifecycle_rules(*text);
  }
  return access;
}

}  // namespace offcloud::s3

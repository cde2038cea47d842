#include "emulator/s3/s3_bucket_state.h"

#include <mutex>

#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_lifecycle.h"

namespace offcloud::s3 {

std::shared_ptr<const BucketState> BucketStateCache::get(const std::string& bucket) const {
  std::uint64_t generation;
  {
    std::shared_lock lock(mutex_);
    if (auto it = buckets_.find(bucket); it != buckets_.end()) return it->second;
    generation = generation_;
  }
  std::shared_ptr<const BucketState> loaded = load(bucket);
  if (!loaded) return nullptr;
  std::unique_lock lock(mutex_);
  if (generation_ == generation) buckets_.emplace(bucket, loaded);
  return loaded;
}

void BucketStateCache::forget(const std::string& bucket) {
  std::unique_lock lock(mutex_);
  buckets_.erase(bucket);
  ++generation_;
}

std::shared_ptr<const BucketState> BucketStateCache::load(const std::string& bucket) const {
  std::optional<BucketInfo> info = store_.bucket(bucket);
  if (!info) return nullptr;
  auto state = std::make_shared<BucketState>();
  state->info = *info;
  state->owner_canonical_id = canonical_user_id(info->owner);
  state->acl = decode_acl(info->acl, state->owner_canonical_id);
  if (auto text = store_.bucket_config(bucket, kPolicyConfig)) {
    state->policy = parse_bucket_policy(*text, bucket);
  }
  if (auto text = store_.bucket_config(bucket, kOwnershipConfig)) {
    parse_ownership(*text, &state->ownership);
  }
  if (auto text = store_.bucket_config(bucket, kPublicAccessBlockConfig)) {
    parse_public_access_block(*text, &state->block);
  }
  if (auto text = store_.bucket_config(bucket, kLifecycleConfig)) {
    state->lifecycle = parse_lifecycle_rules(*text);
  }
  if (auto text = store_.bucket_config(bucket, kEncryptionConfig)) {
    parse_encryption(*text, &state->encryption.emplace());
  }
  if (auto text = store_.bucket_config(bucket, kObjectLockConfig)) {
    state->lock = decode_lock_configuration(*text);
  }
  return state;
}

}  // namespace offcloud::s3

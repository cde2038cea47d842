// What S3 reads about a bucket on every request to it: its row (owner,
// region, versioning), what authorizes a request (bucket policy, ACL,
// ownership controls, public access block) and what a write applies
// (default encryption, Object Lock, lifecycle rules). Read from the object
// store once and kept in memory, so that the owner's GET or PUT costs a hash
// lookup and no SQLite read before the object's own.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "emulator/s3/s3_acl.h"
#include "emulator/s3/s3_bucket_config.h"
#include "emulator/s3/s3_bucket_policy.h"
#include "emulator/s3/s3_object_lock.h"
#include "storage/lifecycle.h"
#include "storage/object_store.h"

namespace offcloud::s3 {

// The object store's names for the configurations it reads.
inline constexpr const char* kPolicyConfig = "policy";
inline constexpr const char* kOwnershipConfig = "ownershipControls";
inline constexpr const char* kPublicAccessBlockConfig = "publicAccessBlock";
inline constexpr const char* kEncryptionConfig = "encryption";

struct BucketState {
  BucketInfo info;  // as the bucket table has it (info.owner: the owning account)
  std::string owner_canonical_id;
  std::optional<BucketPolicy> policy;
  Acl acl;                                 // the bucket's own
  std::string ownership = "ObjectWriter";  // no controls: ACLs as before they existed
  PublicAccessBlock block;                 // none stored: nothing blocked
  // The lifecycle rules (x-amz-expiration on object responses).
  std::vector<LifecycleRule> lifecycle;
  // What a write gets when it asks for nothing else.
  std::optional<BucketEncryption> encryption;  // none stored: nothing
  std::optional<LockConfiguration> lock;       // none: Object Lock is off
  bool acls_enabled() const { return ownership != "BucketOwnerEnforced"; }
};

class BucketStateCache {
 public:
  explicit BucketStateCache(ObjectStore& store) : store_(store) {}

  // Null when there is no such bucket (never remembered: a bucket made
  // meanwhile is found).
  std::shared_ptr<const BucketState> get(const std::string& bucket) const;
  // After a request that may have changed the bucket (created, deleted, its
  // versioning or ACL or any configuration above set).
  void forget(const std::string& bucket);

 private:
  std::shared_ptr<const BucketState> load(const std::string& bucket) const;

  ObjectStore& store_;
  mutable std::shared_mutex mutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<const BucketState>> buckets_;
  // Bumped by forget(): a load that began before a forget is not kept,
  // since it may have read what the forgotten request replaced.
  std::uint64_t generation_ = 0;
};

}  // namespace offcloud::s3

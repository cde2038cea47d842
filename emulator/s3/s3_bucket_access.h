// What S3 needs to know about a bucket to authorize a request on it (its
// owner, bucket policy, ACL, ownership controls and public access block),
// read from the object store once and kept in memory, so that authorizing
// the owner's own request costs a hash lookup and no SQLite read.
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
#include "storage/lifecycle.h"
#include "storage/object_store.h"

namespace offcloud::s3 {

// The object store's names for the configurations it reads.
inline constexpr const char* kPolicyConfig = "policy";
inline constexpr const char* kOwnershipConfig = "ownershipControls";
inline constexpr const char* kPublicAccessBlockConfig = "publicAccessBlock";

struct BucketAccess {
  std::string owner;  // the owning account's id
  std::string owner_canonical_id;
  std::optional<BucketPolicy> policy;
  Acl acl;                                 // the bucket's own
  std::string ownership = "ObjectWriter";  // no controls: ACLs as before they existed
  PublicAccessBlock block;                 // none stored: nothing blocked
  // The lifecycle rules (x-amz-expiration on object responses).
  std::vector<LifecycleRule> lifecycle;
  bool acls_enabled() const { return ownership != "BucketOwnerEnforced"; }
};

class BucketAccessCache {
 public:
  explicit BucketAccessCache(ObjectStore& store) : store_(store) {}

  // Null when there is no such bucket (never remembered: a bucket made
  // meanwhile is found).
  std::shared_ptr<const BucketAccess> get(const std::string& bucket) const;
  // After a request that may have changed the bucket (created, deleted, or
  // its policy, ACL, ownership or public access block set).
  void forget(const std::string& bucket);

 private:
  std::shared_ptr<const BucketAccess> load(const std::string& bucket) const;

  ObjectStore& store_;
  mutable std::shared_mutex mutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<const BucketAccess>> buckets_;
  // Bumped by forget(): a load that began before a forget is not kept,
  // since it may have read what the forgotten request replaced.
  std::uint64_t generation_ = 0;
};

}  // namespace offcloud::s3

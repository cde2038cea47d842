// S3 bucket policies: resource-based IAM policy documents, checked as S3
// checks them before storing one (MalformedPolicy), and whether one makes
// its bucket public (GetBucketPolicyStatus, BlockPublicPolicy). The IAM
// grammar (Effect, Action, Resource, Condition) is IAM's own parser's; S3
// adds the principal and keeps actions and resources to S3 and the bucket.
#pragma once

#include <optional>
#include <string_view>

#include "emulator/s3/s3_invalid.h"

namespace offcloud::s3 {

// nullopt when `text` is a valid policy for `bucket`; *is_public then says
// whether some statement allows everyone ("*") unconditionally.
std::optional<S3Invalid> validate_bucket_policy(std::string_view text, std::string_view bucket,
                                                bool* is_public);

}  // namespace offcloud::s3

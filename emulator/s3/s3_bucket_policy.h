// S3 bucket policies: resource-based IAM policy documents, checked as S3
// checks them before storing one (MalformedPolicy), and whether one makes
// its bucket public (GetBucketPolicyStatus, BlockPublicPolicy). The IAM
// grammar (Effect, Action, Resource, Condition) is IAM's own parser's; S3
// adds the principal and keeps actions and resources to S3 and the bucket.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/auth/iam_policy.h"
#include "emulator/s3/s3_invalid.h"

namespace offcloud::s3 {

// nullopt when `text` is a valid policy for `bucket`; *is_public then says
// whether some statement allows everyone ("*") unconditionally.
std::optional<S3Invalid> validate_bucket_policy(std::string_view text, std::string_view bucket,
                                                bool* is_public);

// Who a statement's Principal (or NotPrincipal) names.
struct PolicyPrincipals {
  bool everyone = false;                   // "*" or {"AWS": "*"}
  std::vector<std::string> accounts;       // "111122223333" or "arn:aws:iam::111122223333:root"
  std::vector<std::string> arns;           // users' (and roles') ARNs, compared exactly
  std::vector<std::string> canonical_ids;  // {"CanonicalUser": ...}
};

struct BucketPolicyStatement {
  bool not_principal = false;
  PolicyPrincipals principals;
  PolicyDocument document;  // the statement alone, without its principal, for IAM's evaluator
};

// A stored policy, parsed once for evaluation (S3's cache keeps it).
struct BucketPolicy {
  std::vector<BucketPolicyStatement> statements;
  bool is_public = false;          // as validate_bucket_policy() says
  bool reads_object_tags = false;  // a condition tests s3:ExistingObjectTag/<key>
};
// nullopt when `text` is no valid policy for `bucket`.
std::optional<BucketPolicy> parse_bucket_policy(std::string_view text, std::string_view bucket);

// The caller, as a bucket policy's principals see it.
struct PolicyCaller {
  bool anonymous = false;
  std::string account_id;
  std::string arn;  // the user's, or the account's root ARN
  std::string canonical_id;
  bool is_root = false;
  // Whether a statement naming the caller's account (not the caller itself)
  // applies to this user: across accounts it does (the account then
  // delegates to its users' identity policies); within the bucket owner's
  // account an account principal names its root alone, as in IAM.
  bool account_names_users = false;
};

// What the statements whose principal names the caller decide for
// `action` on `resource`: an explicit Deny wins, else any Allow.
Decision evaluate_bucket_policy(const BucketPolicy& policy, const PolicyCaller& caller,
                                std::string_view action, std::string_view resource,
                                const ConditionContext& conditions);

}  // namespace offcloud::s3

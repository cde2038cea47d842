// The policy of an S3 browser-based POST upload: a JSON document (base64 in
// the form's "policy" field) giving an expiration and the conditions the
// form must meet, as S3's "Creating a POST policy" defines them: exact
// matches ({"acl": "public-read"} or ["eq", "$acl", "public-read"]),
// ["starts-with", "$key", "user/"] (an empty prefix takes anything) and
// ["content-length-range", min, max]. Pure: the signature over the policy
// and what the fields do are s3_post_object's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace offcloud::s3 {

struct PostPolicyCondition {
  enum class Kind { kEq, kStartsWith, kContentLengthRange };
  Kind kind = Kind::kEq;
  std::string field;  // lower-case, without the '$' ("key", "content-type", "bucket")
  std::string value;
  std::uint64_t min = 0, max = 0;  // content-length-range, inclusive
};

struct PostPolicy {
  std::int64_t expiration_ms = 0;
  std::vector<PostPolicyCondition> conditions;
  // The content-length-range the policy sets, if any (the last one wins).
  std::optional<std::pair<std::uint64_t, std::uint64_t>> length_range() const;
};

// The form's fields as the policy sees them: names lower-case, the key with
// ${filename} already replaced.
using PostFields = std::vector<std::pair<std::string, std::string>>;

// Reads the decoded document; nullopt with S3's message ("Invalid Policy:
// ...") in *error when it is not a policy S3 takes.
std::optional<PostPolicy> parse_post_policy(std::string_view json, std::string* error);

// Empty when the policy has not expired at `now_ms`, every condition holds
// for `fields` (the "bucket" condition on `bucket`, the request's), and every
// field but those S3 exempts is named by some condition; else S3's
// AccessDenied message ("Invalid according to Policy: ...").
std::string check_post_policy(const PostPolicy& policy, const PostFields& fields,
                              std::string_view bucket, std::int64_t now_ms);

// Whether a field needs no condition: the signature, the policy, the file
// and x-ignore-* (and SigV2's AWSAccessKeyId and signature).
bool is_exempt_post_field(std::string_view lower_name);

}  // namespace offcloud::s3

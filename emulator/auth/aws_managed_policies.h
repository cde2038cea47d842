// The AWS managed policies offcloud knows (arn:aws:iam::aws:policy/...), for
// AttachUserPolicy as tutorials write it. Their documents keep the part that
// concerns the services offcloud emulates.
#pragma once

#include <string_view>
#include <vector>

namespace offcloud {

inline constexpr std::string_view kAwsManagedPolicyPrefix = "arn:aws:iam::aws:policy/";

struct AwsManagedPolicy {
  std::string_view name;
  std::string_view policy_id;
  std::string_view description;
  std::string_view document;
};

const std::vector<AwsManagedPolicy>& aws_managed_policies();
// nullptr when `arn` is not one of them.
const AwsManagedPolicy* find_aws_managed_policy(std::string_view arn);

}  // namespace offcloud

// What a request asks of IAM: one action on one resource, as AWS's service
// authorization reference names them ("iot:Publish" on
// "arn:aws:iot:ap-northeast-1:000000000000:topic/handson/analysisLogData").
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace offcloud {

struct IamRequest {
  std::string action;
  std::string resource;  // an ARN, or "*" for actions on no resource
  // Condition keys the service adds for this action (s3:prefix, iam:PolicyARN, ...).
  std::vector<std::pair<std::string, std::string>> conditions = {};
};

}  // namespace offcloud

// AWS STS (botocore "sts", query protocol, signing name sts):
// GetCallerIdentity, which every principal may call, as on AWS.
#pragma once

#include "emulator/api/service.h"

namespace offcloud {

class StsService : public Service {
 public:
  std::string_view name() const override { return "sts"; }
  Protocol protocol() const override { return Protocol::kQuery; }
  std::vector<IamRequest> iam_requests(const HttpRequest& request, const QueryParams& query,
                                       const RequestContext& context) const override;
  void handle(HttpRequest& request, RequestContext& context, Reply reply) override;
};

}  // namespace offcloud

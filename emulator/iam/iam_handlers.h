// AWS IAM's API (botocore "iam", query protocol, signing name iam): users,
// access keys, customer managed policies (one version each), attaching
// policies to users, and users' inline policies. State lives in the
// IamStore; every change to a user's keys or policies is mirrored through
// the Authorizer, so the next request is decided by it.
#pragma once

#include <mutex>

#include "emulator/api/service.h"
#include "emulator/auth/authorizer.h"
#include "storage/iam_store.h"

namespace offcloud {

class IamService : public Service {
 public:
  static constexpr int kMaxAccessKeysPerUser = 2;
  static constexpr int kMaxAttachedPoliciesPerUser = 10;
  static constexpr std::size_t kMaxManagedPolicyChars = 6144;     // without whitespace
  static constexpr std::size_t kMaxUserInlinePolicyChars = 2048;  // all of a user's together

  IamService(IamStore& store, Authorizer& authorizer) : store_(store), authorizer_(authorizer) {}

  std::string_view name() const override { return "iam"; }
  Protocol protocol() const override { return Protocol::kQuery; }
  std::vector<IamRequest> iam_requests(const HttpRequest& request, const QueryParams& query,
                                       const RequestContext& context) const override;
  void handle(HttpRequest& request, RequestContext& context, Reply reply) override;

 private:
  IamStore& store_;
  Authorizer& authorizer_;
  // Serializes changes: a check and the change it guards (DeleteUser and
  // its keys) see no other change between them, and the Authorizer mirrors
  // the store in the order it changed.
  std::mutex changes_;
};

}  // namespace offcloud

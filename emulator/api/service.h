// What a service front-end (iot-data, s3, firehose, ...) implements. The
// router has already authenticated the caller when handle() runs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/api/api_errors.h"
#include "emulator/auth/credential_store.h"
#include "emulator/auth/iam_policy.h"
#include "emulator/auth/iam_request.h"
#include "emulator/auth/signature_v4.h"
#include "emulator/http/http_types.h"
#include "emulator/http/request_handler.h"
#include "emulator/http/uri.h"

namespace offcloud {

// What the router knows of identities, for a service that finds a
// request's credentials in its body rather than its head (S3's browser POST
// form, admitted as anonymous): the service authenticates them itself, then
// asks what the caller's identity policies allow, as the router would have.
class IdentityChecks {
 public:
  virtual ~IdentityChecks() = default;
  // The credential an access key id names (active or not), if any.
  virtual std::optional<Credential> find_credential(std::string_view access_key_id) const = 0;
  // What `principal`'s identity policies decide for each of `asks`, in
  // order: kAllow for a root, and for everyone with --iam off.
  virtual std::vector<Decision> identity_decisions(const Principal& principal,
                                                   const std::vector<IamRequest>& asks,
                                                   const ConditionContext& conditions) const = 0;
};

struct RequestContext {
  std::string request_id;
  const IdentityChecks* identity_checks = nullptr;  // set by the router
  Principal principal;
  std::string region;                   // from the credential scope
  QueryParams query;                    // decoded
  std::string operation;                // set by the service, for the request log
  std::optional<ChunkSigning> signing;  // from the verified signature
};

// Called exactly once with the response, from any thread.
using Reply = std::function<void(HttpResponse)>;

class Service {
 public:
  virtual ~Service() = default;
  // The SigV4 signing name that routes requests here ("iotdata", "s3", ...).
  virtual std::string_view name() const = 0;
  virtual Protocol protocol() const = 0;
  // Whether `head`'s body should stream to open_body()'s reader rather than
  // be buffered. Only services whose signatures cover a declared payload hash
  // (S3) can say yes: the request is authenticated before its body is read.
  virtual bool streams_body(const HttpRequest& /*head*/, const QueryParams& /*query*/) const {
    return false;
  }
  virtual BodyPlan open_body(HttpRequest& /*head*/, RequestContext& /*context*/) { return {}; }
  // Whether the router may hand `request`, which carries no credentials at
  // all (no Authorization header, no presigned query), over as an anonymous
  // caller: a Principal with no account (Principal::is_anonymous()). S3 takes
  // any (public buckets, CORS preflights, browser POST forms that carry their
  // own signature); the service then decides what an anonymous caller may do,
  // in authorize_access() or in its handler.
  virtual bool serves_anonymously(const HttpRequest& /*request*/,
                                  const QueryParams& /*query*/) const {
    return false;
  }

  // Services with resource-based access control (S3's bucket policies and
  // ACLs) decide themselves, once the router has evaluated the caller's
  // identity policies for each of `asks`: `identity[i]` is that decision
  // (kAllow for a root, and for everyone with --iam off; kImplicitDeny for
  // an anonymous caller). `conditions` are the request's condition keys.
  // A refusal names its operation in context.operation, for the log.
  // Other services keep the router's rule: what identity policies allow.
  virtual bool has_resource_policies() const { return false; }
  virtual std::optional<ApiError> authorize_access(const HttpRequest& /*request*/,
                                                   RequestContext& /*context*/,
                                                   const std::vector<IamRequest>& /*asks*/,
                                                   const std::vector<Decision>& /*identity*/,
                                                   const ConditionContext& /*conditions*/) const {
    return std::nullopt;
  }
  // Condition keys of the service's own that every request carries (S3's
  // s3:authType, s3:x-amz-acl, ...), added before any policy is evaluated.
  virtual void add_condition_keys(const HttpRequest& /*request*/, const QueryParams& /*query*/,
                                  ConditionContext* /*conditions*/) const {}

  // What the request asks of IAM, decided before handle() runs (on the head
  // alone for a streamed body), as AWS's service authorization reference
  // has it for the operation. Empty: nothing to authorize (sts
  // GetCallerIdentity), or a request the service will refuse anyway.
  virtual std::vector<IamRequest> iam_requests(const HttpRequest& request, const QueryParams& query,
                                               const RequestContext& context) const = 0;

  // `request` and `context` stay valid until `reply` is called. A streamed
  // body has been read whole into request.body_reader.
  virtual void handle(HttpRequest& request, RequestContext& context, Reply reply) = 0;
  // A WebSocket upgrade, authenticated like any request (a presigned URL);
  // nullopt: the service takes none.
  virtual std::optional<UpgradePlan> upgrade(HttpRequest& /*head*/, RequestContext& /*context*/) {
    return std::nullopt;
  }
  // Headers the service adds to each of its answers, refusals made before
  // handle() ran included (S3's CORS headers, which AWS sends on errors too).
  virtual void decorate(const HttpRequest& /*request*/, HttpResponse* /*response*/) {}
  // Called once on shutdown after the last request: flush what is buffered.
  virtual void shutdown() {}
};

}  // namespace offcloud

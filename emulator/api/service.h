// What a service front-end (iot-data, s3, firehose, ...) implements. The
// router has already authenticated the caller when handle() runs.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "emulator/api/api_errors.h"
#include "emulator/auth/credential_store.h"
#include "emulator/auth/iam_request.h"
#include "emulator/auth/signature_v4.h"
#include "emulator/http/http_types.h"
#include "emulator/http/request_handler.h"
#include "emulator/http/uri.h"

namespace offcloud {

struct RequestContext {
  std::string request_id;
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
  // Whether the router may hand `request` over unsigned, with no principal
  // (S3's CORS preflight: browsers send OPTIONS without credentials). The
  // service then serves that request and nothing else.
  virtual bool serves_anonymously(const HttpRequest& /*request*/,
                                  const QueryParams& /*query*/) const {
    return false;
  }

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
  // Called once on shutdown after the last request: flush what is buffered.
  virtual void shutdown() {}
};

}  // namespace offcloud

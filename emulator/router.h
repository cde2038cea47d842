// Sends each request to its service the way AWS endpoints would see it: the
// service in the SigV4 credential scope, else X-Amz-Target, else the path
// and host. Authenticates and authorizes before the service runs, answers
// the built-in /_offcloud/ endpoints, and writes the one log line per request.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "emulator/activity/activity_log.h"
#include "emulator/api/service.h"
#include "emulator/auth/authorizer.h"
#include "emulator/auth/sigv4_verifier.h"
#include "emulator/http/request_handler.h"

namespace offcloud {

class Router : public RequestHandler, public IdentityChecks {
 public:
  // Without an authorizer (--iam off) every authenticated request may do
  // anything.
  Router(const CredentialStore& credentials, SigV4Verifier& verifier,
         const Authorizer* authorizer = nullptr);
  ~Router();

  // Registers a service; call before serving.
  void add(std::unique_ptr<Service> service);

  // Requests to a service that streams bodies (S3 uploads) are
  // authenticated here, on their head, and their body goes to the service.
  BodyPlan plan_body(HttpRequest& head) override;
  void handle(HttpRequest&& request, Reply reply) override;
  // A WebSocket upgrade (MQTT over WebSocket at /mqtt): authenticated by its
  // presigned URL, then handed to the service its credential scope names.
  UpgradePlan plan_upgrade(HttpRequest& head) override;
  // Shaped as the service the request was meant for would shape it.
  HttpResponse reject(RequestFault fault, std::string_view message,
                      const HttpRequest& head) override;

  // What GET /_offcloud/ca.pem serves: the local CA's certificate, which
  // devices trust where AWS's instructions say AmazonRootCA1.pem.
  void set_ca_certificate(std::string pem) { ca_pem_ = std::move(pem); }

  // Where each request's outcome goes for the console's Activity page
  // (one entry per request to a service; none for the console's own
  // files and endpoints); null: nowhere. Must outlive the router.
  void set_activity_log(ActivityLog* log) { activity_ = log; }

  // Lets every service flush; after the last request.
  void shutdown();

  // IdentityChecks, for a service that authenticates a request from its body.
  std::optional<Credential> find_credential(std::string_view access_key_id) const override;
  std::vector<Decision> identity_decisions(const Principal& principal,
                                           const std::vector<IamRequest>& asks,
                                           const ConditionContext& conditions) const override;

 private:
  struct Route;
  struct Admission;
  Route route_for(const HttpRequest& request, const QueryParams& query) const;
  // Authenticates and authorizes; on success fills the principal and region
  // of `context`.
  std::optional<ApiError> admit(const HttpRequest& request, const QueryParams& query,
                                const Route& route, RequestContext& context);
  std::optional<ApiError> authorize(const HttpRequest& request, const QueryParams& query,
                                    const Route& route, RequestContext& context) const;
  // For the Activity page, after admit() refused: which check failed and
  // why, found again (refusals only, so the admitted path pays nothing).
  void explain_refusal(const HttpRequest& request, const QueryParams& query, const Route& route,
                       const RequestContext& context, ActivityEntry* entry) const;
  // Completes `entry` with who asked what and the answer, and records it.
  void note_activity(ActivityEntry entry, const RequestContext& context, const HttpRequest& head,
                     const std::string& service, const HttpResponse& response) const;
  HttpResponse reject(ErrorCode code, std::string_view message, const HttpRequest& head) const;
  HttpResponse health() const;

  const CredentialStore& credentials_;
  SigV4Verifier& verifier_;
  const Authorizer* authorizer_;
  std::map<std::string, std::unique_ptr<Service>, std::less<>> services_;
  std::string ca_pem_;
  ActivityLog* activity_ = nullptr;
};

}  // namespace offcloud

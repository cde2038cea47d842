#include "emulator/router.h"

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

#include "emulator/activity/activity_reasons.h"
#include "emulator/auth/signature_v2.h"
#include "emulator/auth_errors.h"
#include "emulator/console/console.h"
#include "emulator/util/log.h"
#include "emulator/util/uuid.h"

namespace offcloud {
namespace {

// The services AWS has at these signing names, and their protocols, so that
// a request for one offcloud does not emulate (yet) gets that service's
// error shape.
struct KnownService {
  std::string_view name;
  Protocol protocol;
};
constexpr KnownService kKnownServices[] = {
    {"s3", Protocol::kRestXml},    {"iotdata", Protocol::kRestJson}, {"iot", Protocol::kRestJson},
    {"firehose", Protocol::kJson}, {"iam", Protocol::kQuery},        {"sts", Protocol::kQuery},
};

std::optional<Protocol> known_protocol(std::string_view name) {
  for (const KnownService& service : kKnownServices) {
    if (service.name == name) return service.protocol;
  }
  return std::nullopt;
}

// Which service an unsigned request was meant for, from what AWS endpoints
// see besides the signature.
std::string_view unsigned_service(const HttpRequest& request) {
  std::string_view target = request.headers.get("x-amz-target");
  if (target.starts_with("Firehose_")) return "firehose";
  std::string_view path = request.path;
  // offcloud's own signed endpoints (emulator/activity/, Firehose's buffer view,
  // IoT's SQL check).
  if (path.starts_with("/_offcloud/firehose/")) return "firehose";
  if (path.starts_with("/_offcloud/iot/")) return "iot";
  if (path.starts_with("/_offcloud/")) return "offcloud";
  if (path.starts_with("/topics/") || path == "/retainedMessage" ||
      path.starts_with("/retainedMessage/")) {
    return "iotdata";
  }
  if (path.starts_with("/rules") || path == "/endpoint") return "iot";
  if (path == "/mqtt") return "iotdevicegateway";
  return "s3";
}

// A request for the server's root that carries no credentials at all (no
// Authorization header, no presigned query), to the path-style endpoint: a
// browser, which the console's sign-in page serves better than S3's
// AccessDenied. A virtual-hosted bucket's root stays S3's.
bool opens_console(const HttpRequest& request) {
  if (request.headers.find("authorization")) return false;
  // An AWS SDK's unsigned client (botocore.UNSIGNED) is no browser: S3
  // answers its ListBuckets.
  if (request.headers.find("amz-sdk-invocation-id")) return false;
  std::string query = request.query;
  for (char& c : query) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (query.find("x-amz-") != std::string::npos ||
      query.find("awsaccesskeyid") != std::string::npos ||
      query.find("signature") != std::string::npos) {
    return false;
  }
  return s3_virtual_host_bucket(request.headers.get("host")).empty();
}

// Whether an unsigned request's query carries some credential (a presigned
// URL missing a part): such a request is refused, never taken as anonymous.
bool carries_query_credentials(const QueryParams& query) {
  for (std::string_view name :
       {"X-Amz-Credential", "X-Amz-Signature", "AWSAccessKeyId", "Signature"}) {
    if (find_param(query, name)) return true;
  }
  return false;
}

void add_request_id(Protocol protocol, const std::string& request_id, HttpResponse* response) {
  const char* name = protocol == Protocol::kRestXml ? "x-amz-request-id" : "x-amzn-RequestId";
  if (!response->headers.find(name)) response->headers.add(name, request_id);
}

void log_request(const std::string& remote, const std::string& service,
                 const std::string& operation, int status,
                 std::chrono::steady_clock::time_point started) {
  if (!log_enabled(LogLevel::kInfo)) return;
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  char latency[32];
  std::snprintf(latency, sizeof latency, "%.2fms", ms);
  log(LogLevel::kInfo, remote + " " + service + " " + (operation.empty() ? "-" : operation) + " " +
                           std::to_string(status) + " " + latency);
}

}  // namespace

struct Router::Route {
  std::string service_name;
  Protocol protocol = Protocol::kRestXml;
  Service* service = nullptr;
  ParsedAuth auth;
};

// A request admitted on its head alone, whose body streams into a service's
// reader: carries what handle() needs, and logs a refusal found mid-body.
struct Router::Admission : BodyReader {
  std::shared_ptr<BodyReader> inner;
  HttpRequest head;  // what Service::decorate reads of a refusal found mid-body
  Route route;
  RequestContext context;
  std::string remote;
  std::chrono::steady_clock::time_point started;

  std::optional<HttpResponse> consume(std::string_view bytes) override {
    return logged(inner->consume(bytes));
  }
  std::optional<HttpResponse> finish() override { return logged(inner->finish()); }
  std::optional<HttpResponse> logged(std::optional<HttpResponse> refusal) {
    if (refusal) {
      route.service->decorate(head, &*refusal);
      add_request_id(route.protocol, context.request_id, &*refusal);
      log_request(remote, route.service_name, context.operation, refusal->status, started);
    }
    return refusal;
  }
};

Router::Router(const CredentialStore& credentials, SigV4Verifier& verifier,
               const Authorizer* authorizer)
    : credentials_(credentials), verifier_(verifier), authorizer_(authorizer) {}
Router::~Router() = default;

void Router::add(std::unique_ptr<Service> service) {
  std::string name(service->name());
  services_.emplace(std::move(name), std::move(service));
}

Router::Route Router::route_for(const HttpRequest& request, const QueryParams& query) const {
  Route route;
  route.auth = parse_sigv4(request, query);
  route.service_name = route.auth.state == ParsedAuth::State::kSigned
                           ? route.auth.params.service
                           : std::string(unsigned_service(request));
  if (auto it = services_.find(route.service_name); it != services_.end()) {
    route.service = it->second.get();
    route.protocol = route.service->protocol();
  } else {
    route.protocol = known_protocol(route.service_name).value_or(Protocol::kJson);
  }
  return route;
}

std::optional<ApiError> Router::admit(const HttpRequest& request, const QueryParams& query,
                                      const Route& route, RequestContext& context) {
  context.identity_checks = this;
  if (route.auth.state == ParsedAuth::State::kUnsigned) {
    if (route.service_name == "s3" && is_sigv2_presigned(query) && route.service) {
      auto failure = verify_sigv2_presigned(request, query, credentials_,
                                            std::chrono::system_clock::now(), &context.principal);
      if (!failure) return authorize(request, query, route, context);
      SigV4Params params;
      params.presigned = true;
      params.access_key_id = *find_param(query, "AWSAccessKeyId");
      params.signature = *find_param(query, "Signature");
      return auth_error(route.protocol, *failure, params);
    }
    // Only a request with no credentials at all is anonymous: a partial
    // presigned query is refused as before.
    if (route.service && !carries_query_credentials(query) &&
        route.service->serves_anonymously(request, query)) {
      context.principal = Principal{};
      context.principal.account_id.clear();  // nobody's
      return authorize(request, query, route, context);
    }
    return missing_authentication_error(route.protocol);
  }
  if (route.auth.state == ParsedAuth::State::kMalformed) {
    AuthFailure failure{AuthFailureKind::kMalformed, route.auth.error, {}, {}, {}};
    return auth_error(route.protocol, failure, route.auth.params);
  }
  if (!route.service) {
    if (known_protocol(route.service_name)) {
      return ApiError{ErrorCode::kNotImplemented,
                      "offcloud does not emulate the " + route.service_name + " service yet."};
    }
    return ApiError{ErrorCode::kUnknownServiceException,
                    "offcloud does not emulate a service named '" + route.service_name + "'."};
  }
  bool s3 = route.service_name == "s3";
  ChunkSigning signing;
  if (auto failure =
          verifier_.verify(request, query, route.auth.params, s3, &context.principal, &signing)) {
    return auth_error(route.protocol, *failure, route.auth.params);
  }
  if (!route.auth.params.presigned) context.signing = std::move(signing);
  context.region = route.auth.params.region;
  return authorize(request, query, route, context);
}

std::optional<ApiError> Router::authorize(const HttpRequest& request, const QueryParams& query,
                                          const Route& route, RequestContext& context) const {
  bool resource_policies = route.service->has_resource_policies();
  const Principal& principal = context.principal;
  // A service that serves anonymous callers without resource policies
  // decides what they get itself.
  if (!resource_policies && (!authorizer_ || principal.is_root || principal.is_anonymous())) {
    return std::nullopt;
  }
  std::vector<IamRequest> asks = route.service->iam_requests(request, query, context);
  long long now = now_ms();
  ConditionContext conditions([&, now](ConditionContext* keys) {
    *keys =
        request_conditions(principal, request.remote_address, context.region, now, request.secure);
    route.service->add_condition_keys(request, query, keys);
  });
  if (resource_policies) {
    std::vector<Decision> identity;
    if (principal.is_anonymous()) {
      identity.assign(asks.size(), Decision::kImplicitDeny);
    } else if (!authorizer_) {
      identity.assign(asks.size(), Decision::kAllow);  // --iam off
    } else {
      identity = authorizer_->decide(principal, asks, conditions);
    }
    return route.service->authorize_access(request, context, asks, identity, conditions);
  }
  std::optional<Denial> denial = authorizer_->authorize(principal, asks, conditions);
  if (!denial) return std::nullopt;
  // The log line names the refused operation.
  context.operation = denial->action.substr(denial->action.find(':') + 1);
  // Each service's own word for it: S3 and the query services AccessDenied,
  // IoT's data plane ForbiddenException, the other JSON services
  // AccessDeniedException.
  ErrorCode code = ErrorCode::kAccessDeniedException;
  if (route.protocol == Protocol::kRestXml || route.protocol == Protocol::kQuery) {
    code = ErrorCode::kAccessDenied;
  } else if (route.service_name == "iotdata") {
    code = ErrorCode::kForbiddenException;
  }
  return ApiError{code, denial_message(context.principal, *denial)};
}

BodyPlan Router::plan_body(HttpRequest& head) {
  std::optional<QueryParams> query = parse_query(head.query);
  if (!query) return {};  // handle() reports it
  Route route = route_for(head, *query);
  if (!route.service || !route.service->streams_body(head, *query)) return {};

  // S3 signs the payload hash its client declares, so the head alone is
  // enough to authenticate, and a refused upload is never read.
  auto admission = std::make_shared<Admission>();
  admission->started = std::chrono::steady_clock::now();
  admission->remote = head.remote_address;
  admission->context.request_id = new_uuid();
  ActivityEntry activity;
  auto refuse = [&](HttpResponse response) {
    route.service->decorate(head, &response);
    add_request_id(route.protocol, admission->context.request_id, &response);
    log_request(head.remote_address, route.service_name, admission->context.operation,
                response.status, admission->started);
    note_activity(std::move(activity), admission->context, head, route.service_name, response);
    return BodyPlan{nullptr, std::make_shared<HttpResponse>(std::move(response))};
  };
  if (auto error = admit(head, *query, route, admission->context)) {
    explain_refusal(head, *query, route, admission->context, &activity);
    return refuse(error_response(route.protocol, *error, admission->context.request_id));
  }
  admission->context.query = std::move(*query);
  BodyPlan plan = route.service->open_body(head, admission->context);
  if (plan.refusal) return refuse(std::move(*plan.refusal));
  if (!plan.reader) return {};
  admission->inner = std::move(plan.reader);
  admission->head = head;
  admission->route = std::move(route);
  return {admission, nullptr};
}

void Router::handle(HttpRequest&& request, Reply reply) {
  // Everything a service may touch until it replies lives here.
  struct Exchange {
    HttpRequest request;
    RequestContext context;
    std::string service_name;
    Service* service = nullptr;  // decorates every answer, once routed
    Protocol protocol = Protocol::kRestJson;
    std::chrono::steady_clock::time_point started;
    ActivityEntry activity;
  };
  auto exchange = std::make_shared<Exchange>();
  exchange->started = std::chrono::steady_clock::now();
  auto admission = std::dynamic_pointer_cast<Admission>(request.body_reader);
  exchange->request = std::move(request);
  HttpRequest& req = exchange->request;
  RequestContext& context = exchange->context;
  if (admission) {
    exchange->started = admission->started;
    context = std::move(admission->context);
    req.body_reader = admission->inner;
  } else {
    context.request_id = new_uuid();
  }

  // A service answers once; `responded` guards the catch below too.
  auto responded = std::make_shared<std::atomic<bool>>(false);
  Reply finish = [this, exchange, responded, reply = std::move(reply)](HttpResponse response) {
    if (responded->exchange(true)) return;
    if (exchange->service) exchange->service->decorate(exchange->request, &response);
    // Every answer carries its request id, as AWS's do.
    add_request_id(exchange->protocol, exchange->context.request_id, &response);
    log_request(exchange->request.remote_address, exchange->service_name,
                exchange->context.operation, response.status, exchange->started);
    note_activity(std::move(exchange->activity), exchange->context, exchange->request,
                  exchange->service_name, response);
    reply(std::move(response));
  };

  if (req.path == "/_offcloud/health" && (req.method == "GET" || req.method == "HEAD")) {
    exchange->service_name = "offcloud";
    context.operation = "Health";
    return finish(health());
  }
  if (req.path == "/_offcloud/ca.pem" && (req.method == "GET" || req.method == "HEAD") &&
      !ca_pem_.empty()) {
    exchange->service_name = "offcloud";
    context.operation = "GetCaCertificate";
    HttpResponse response;
    response.headers.add("Content-Type", "application/x-pem-file");
    response.headers.add("Content-Disposition", "attachment; filename=\"offcloud-ca.pem\"");
    response.body = ca_pem_;
    return finish(std::move(response));
  }
  // The web console (emulator/console/), and a browser opening the root
  // with no credentials sent there; a signed GET / stays S3's ListBuckets.
  if (console::is_console_path(req.path)) {
    exchange->service_name = "offcloud";
    context.operation = "Console";
    return finish(console::serve(req));
  }
  if (req.path == "/" && (req.method == "GET" || req.method == "HEAD") && opens_console(req)) {
    exchange->service_name = "offcloud";
    context.operation = "Console";
    return finish(console::redirect_to_console());
  }

  Route route;
  if (admission) {
    route = std::move(admission->route);
    exchange->service = route.service;
  } else {
    std::optional<QueryParams> query = parse_query(req.query);
    if (!query) {
      exchange->service_name = "-";
      return finish(reject(ErrorCode::kInvalidRequest, "The query string is malformed.", req));
    }
    route = route_for(req, *query);
    exchange->service = route.service;
    if (auto error = admit(req, *query, route, context)) {
      explain_refusal(req, *query, route, context, &exchange->activity);
      exchange->service_name = route.service_name;
      exchange->protocol = route.protocol;
      return finish(error_response(route.protocol, *error, context.request_id));
    }
    context.query = std::move(*query);
  }
  exchange->service_name = route.service_name;
  exchange->protocol = route.protocol;
  try {
    route.service->handle(req, context, finish);
  } catch (const std::exception& e) {
    // A bug in a service costs one request, never the server.
    log(LogLevel::kError, "request " + context.request_id + " failed: " + e.what());
    ErrorCode code = route.protocol == Protocol::kRestXml ? ErrorCode::kInternalError
                                                          : ErrorCode::kInternalFailureException;
    finish(error_response(route.protocol, {code, ""}, context.request_id));
  }
}

UpgradePlan Router::plan_upgrade(HttpRequest& head) {
  auto started = std::chrono::steady_clock::now();
  RequestContext context;
  context.request_id = new_uuid();
  UpgradePlan plan;
  ActivityEntry activity;
  auto refuse = [&](const std::string& service, Protocol protocol, const ApiError& error) {
    plan.refusal = error_response(protocol, error, context.request_id);
    add_request_id(protocol, context.request_id, &*plan.refusal);
    log_request(head.remote_address, service, "Upgrade", plan.refusal->status, started);
    if (context.operation.empty()) context.operation = "Upgrade";
    note_activity(std::move(activity), context, head, service, *plan.refusal);
    return std::move(plan);
  };
  std::optional<QueryParams> query = parse_query(head.query);
  if (!query) {
    return refuse("-", Protocol::kRestJson,
                  {ErrorCode::kInvalidRequest, "The query string is malformed."});
  }
  Route route = route_for(head, *query);
  if (auto error = admit(head, *query, route, context)) {
    explain_refusal(head, *query, route, context, &activity);
    return refuse(route.service_name, route.protocol, *error);
  }
  context.query = std::move(*query);
  std::optional<UpgradePlan> upgrade = route.service->upgrade(head, context);
  if (!upgrade) {
    return refuse(route.service_name, route.protocol,
                  {ErrorCode::kInvalidRequest,
                   "The " + route.service_name + " service takes no WebSocket connections."});
  }
  if (!upgrade->refusal) {
    log_request(head.remote_address, route.service_name, "Connect", 101, started);
    HttpResponse switching;
    switching.status = 101;
    context.operation = "Connect";
    note_activity(std::move(activity), context, head, route.service_name, switching);
  }
  return std::move(*upgrade);
}

HttpResponse Router::reject(RequestFault fault, std::string_view message, const HttpRequest& head) {
  switch (fault) {
    case RequestFault::kHeaderTooLarge:
      return reject(ErrorCode::kRequestHeaderSectionTooLarge, message, head);
    case RequestFault::kMalformed:
      return reject(ErrorCode::kMalformedHttpRequest, message, head);
    case RequestFault::kBodyTooLarge:
      return reject(ErrorCode::kEntityTooLarge, message, head);
    case RequestFault::kIncompleteBody:
      return reject(ErrorCode::kIncompleteBody, message, head);
  }
  return reject(ErrorCode::kMalformedHttpRequest, message, head);
}

HttpResponse Router::reject(ErrorCode code, std::string_view message,
                            const HttpRequest& head) const {
  auto query = parse_query(head.query);
  Protocol protocol = query ? route_for(head, *query).protocol : Protocol::kRestXml;
  // S3 calls a too-large body EntityTooLarge; the JSON services do not.
  if (code == ErrorCode::kEntityTooLarge && protocol != Protocol::kRestXml) {
    code = ErrorCode::kRequestEntityTooLargeException;
  }
  // A body shorter than declared: S3 says IncompleteBody, the others only
  // that the request could not be parsed.
  if (code == ErrorCode::kIncompleteBody && protocol != Protocol::kRestXml) {
    code = ErrorCode::kMalformedHttpRequest;
  }
  return error_response(protocol, {code, std::string(message)}, new_uuid());
}

HttpResponse Router::health() const {
  nlohmann::json services = nlohmann::json::object();
  for (const KnownService& known : kKnownServices) {
    services[std::string(known.name)] = services_.count(known.name) ? "running" : "not implemented";
  }
  HttpResponse response;
  response.headers.add("Content-Type", "application/json");
  response.body = nlohmann::json{{"version", OFFCLOUD_VERSION}, {"services", services}}.dump();
  return response;
}

std::optional<Credential> Router::find_credential(std::string_view access_key_id) const {
  return credentials_.find(access_key_id);
}

std::vector<Decision> Router::identity_decisions(const Principal& principal,
                                                 const std::vector<IamRequest>& asks,
                                                 const ConditionContext& conditions) const {
  std::vector<Decision> decisions;
  for (const IamRequest& ask : asks) {
    std::optional<Denial> denial;
    if (authorizer_ && !principal.is_root)
      denial = authorizer_->authorize(principal, {ask}, conditions);
    decisions.push_back(!denial                 ? Decision::kAllow
                        : denial->explicit_deny ? Decision::kExplicitDeny
                                                : Decision::kImplicitDeny);
  }
  return decisions;
}

void Router::explain_refusal(const HttpRequest& request, const QueryParams& query,
                             const Route& route, const RequestContext& context,
                             ActivityEntry* entry) const {
  if (!activity_) return;
  // The operation refused before its service ran, as the request names it.
  if (context.operation.empty()) {
    std::string_view target = request.headers.get("x-amz-target");
    if (auto dot = target.rfind('.'); dot != std::string_view::npos) {
      entry->operation = truncate_utf8(std::string(target.substr(dot + 1)), 128);
    } else if (route.protocol == Protocol::kQuery) {
      std::optional<QueryParams> form = parse_query(request.body);
      const std::string* action = form ? find_param(*form, "Action") : nullptr;
      if (action) entry->operation = truncate_utf8(*action, 128);
    }
  }
  auto now = std::chrono::system_clock::now();
  if (route.auth.state == ParsedAuth::State::kMalformed) {
    AuthFailure failure{AuthFailureKind::kMalformed, route.auth.error, {}, {}, {}};
    return note_signature_failure(entry, failure, route.auth.params, credentials_, now);
  }
  if (route.auth.state == ParsedAuth::State::kUnsigned) {
    if (route.service_name == "s3" && is_sigv2_presigned(query)) {
      Principal ignored;
      if (auto failure = verify_sigv2_presigned(request, query, credentials_, now, &ignored)) {
        SigV4Params params;
        params.presigned = true;
        params.access_key_id = *find_param(query, "AWSAccessKeyId");
        params.signature = *find_param(query, "Signature");
        return note_signature_failure(entry, *failure, params, credentials_, now);
      }
    }
    if (context.principal.arn.empty()) note_unsigned(entry);
    return;
  }
  if (!route.service) return;  // its error code says all there is to say
  if (context.principal.arn.empty()) {
    Principal ignored;
    if (auto failure = verifier_.verify(request, query, route.auth.params,
                                        route.service_name == "s3", &ignored)) {
      note_signature_failure(entry, *failure, route.auth.params, credentials_, now);
    }
    return;
  }
  if (!authorizer_ || context.principal.is_root) return;
  std::vector<IamRequest> asks = route.service->iam_requests(request, query, context);
  ConditionContext conditions = request_conditions(context.principal, request.remote_address,
                                                   context.region, now_ms(), request.secure);
  route.service->add_condition_keys(request, query, &conditions);  // as authorize() had them
  if (auto denial = authorizer_->authorize(context.principal, asks, conditions)) {
    authorizer_->name_deny(context.principal, asks, conditions, &*denial);
    note_denial(entry, *denial);
  }
}

void Router::note_activity(ActivityEntry entry, const RequestContext& context,
                           const HttpRequest& head, const std::string& service,
                           const HttpResponse& response) const {
  // The console's files and its own polling (and SQL checks, one a pause
  // in typing) would drown what it shows: nothing under /_offcloud/.
  if (!activity_ || service == "offcloud" || head.path.starts_with("/_offcloud/")) return;
  if (!context.principal.arn.empty()) {  // authenticated
    entry.account_id = context.principal.account_id;
    entry.caller_arn = context.principal.arn;
    entry.access_key_id = context.principal.access_key_id;
  }
  entry.source = head.remote_address;
  entry.service = service;
  if (!context.operation.empty()) entry.operation = context.operation;
  if (entry.resource.empty() && head.path != "/") entry.resource = head.path;
  entry.status = response.status;
  entry.error_code = response_error_code(response);
  activity_->record(std::move(entry));
}

void Router::shutdown() {
  for (auto& [name, service] : services_) service->shutdown();
}

}  // namespace offcloud

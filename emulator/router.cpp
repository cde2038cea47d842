#include "emulator/router.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

#include "emulator/auth_errors.h"
#include "emulator/log.h"

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

std::string new_request_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uint64_t a = random(), b = random();
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(0x4000 | (a & 0x0fff)),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buffer;
}

// Which service an unsigned request was meant for, from what AWS endpoints
// see besides the signature.
std::string_view unsigned_service(const HttpRequest& request) {
  std::string_view target = request.headers.get("x-amz-target");
  if (target.starts_with("Firehose_")) return "firehose";
  std::string_view path = request.path;
  if (path.starts_with("/topics/") || path == "/retainedMessage" ||
      path.starts_with("/retainedMessage/")) {
    return "iotdata";
  }
  if (path.starts_with("/rules") || path == "/endpoint") return "iot";
  return "s3";
}

}  // namespace

struct Router::Route {
  std::string service_name;
  Protocol protocol = Protocol::kRestXml;
  Service* service = nullptr;
  ParsedAuth auth;
};

Router::Router(SigV4Verifier& verifier) : verifier_(verifier) {}
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

void Router::handle(HttpRequest&& request, Reply reply) {
  auto started = std::chrono::steady_clock::now();
  // Everything a service may touch until it replies lives here.
  struct Exchange {
    HttpRequest request;
    RequestContext context;
    std::string service_name;
    Protocol protocol = Protocol::kRestJson;
  };
  auto exchange = std::make_shared<Exchange>();
  exchange->request = std::move(request);
  exchange->context.request_id = new_request_id();
  HttpRequest& req = exchange->request;
  RequestContext& context = exchange->context;

  // A service answers once; `responded` guards the catch below too.
  auto responded = std::make_shared<std::atomic<bool>>(false);
  Reply finish = [exchange, started, responded, reply = std::move(reply)](HttpResponse response) {
    if (responded->exchange(true)) return;
    // Every answer carries its request id, as AWS's do.
    const char* id_header =
        exchange->protocol == Protocol::kRestXml ? "x-amz-request-id" : "x-amzn-RequestId";
    if (!response.headers.find(id_header)) {
      response.headers.add(id_header, exchange->context.request_id);
    }
    if (log_enabled(LogLevel::kInfo)) {
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
              .count();
      char latency[32];
      std::snprintf(latency, sizeof latency, "%.2fms", ms);
      const std::string& operation = exchange->context.operation;
      log(LogLevel::kInfo, exchange->request.remote_address + " " + exchange->service_name + " " +
                               (operation.empty() ? "-" : operation) + " " +
                               std::to_string(response.status) + " " + latency);
    }
    reply(std::move(response));
  };

  if (req.path == "/_offcloud/health" && (req.method == "GET" || req.method == "HEAD")) {
    exchange->service_name = "offcloud";
    context.operation = "Health";
    return finish(health());
  }

  std::optional<QueryParams> query = parse_query(req.query);
  if (!query) {
    exchange->service_name = "-";
    return finish(reject(ErrorCode::kInvalidRequest, "The query string is malformed.", req));
  }
  Route route = route_for(req, *query);
  exchange->service_name = route.service_name;
  exchange->protocol = route.protocol;
  auto fail = [&](const ApiError& error) {
    finish(error_response(route.protocol, error, context.request_id));
  };

  if (route.auth.state == ParsedAuth::State::kUnsigned) {
    return fail(missing_authentication_error(route.protocol));
  }
  if (route.auth.state == ParsedAuth::State::kMalformed) {
    AuthFailure failure{AuthFailureKind::kMalformed, route.auth.error, {}, {}, {}};
    return fail(auth_error(route.protocol, failure, route.auth.params));
  }
  if (!route.service) {
    if (known_protocol(route.service_name)) {
      return fail({ErrorCode::kNotImplemented,
                   "offcloud does not emulate the " + route.service_name + " service yet."});
    }
    return fail({ErrorCode::kUnknownServiceException,
                 "offcloud does not emulate a service named '" + route.service_name + "'."});
  }
  bool s3 = route.service_name == "s3";
  if (auto failure = verifier_.verify(req, *query, route.auth.params, s3, &context.principal)) {
    return fail(auth_error(route.protocol, *failure, route.auth.params));
  }
  context.region = route.auth.params.region;
  context.query = std::move(*query);
  try {
    route.service->handle(req, context, finish);
  } catch (const std::exception& e) {
    // A bug in a service costs one request, never the server.
    log(LogLevel::kError, "request " + context.request_id + " failed: " + e.what());
    fail({ErrorCode::kInternalFailureException, ""});
  }
}

HttpResponse Router::reject(ErrorCode code, std::string_view message, const HttpRequest& head) {
  auto query = parse_query(head.query);
  Protocol protocol = query ? route_for(head, *query).protocol : Protocol::kRestXml;
  return error_response(protocol, {code, std::string(message)}, new_request_id());
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

void Router::shutdown() {
  for (auto& [name, service] : services_) service->shutdown();
}

}  // namespace offcloud

#include "emulator/iot/iot_registry_handlers.h"

#include <stdexcept>

#include "emulator/iot/iot_registry_call.h"
#include "emulator/iot/iot_scope.h"
#include "emulator/util/log.h"

namespace offcloud {
namespace {

using namespace iot_registry;

// What IAM authorizes each operation on, as AWS's service authorization
// reference names it.
enum class Resource {
  kAny,              // "*"
  kThing,            // thing/<first placeholder>
  kCertificate,      // cert/<first placeholder>
  kPolicy,           // policy/<first placeholder>
  kTargetInBody,     // the body's "target"
  kTargetInPath,     // the last placeholder
  kPrincipalHeader,  // x-amzn-iot-principal
};

struct Route {
  std::string_view method;
  // Segments; "{}" is one non-empty segment, "{+}" the rest of the path.
  std::string_view path;
  std::string_view operation;
  Resource resource;
  Handler handler;
};

constexpr Route kRoutes[] = {
    {"POST", "things/{}", "CreateThing", Resource::kThing, create_thing},
    {"GET", "things/{}", "DescribeThing", Resource::kThing, describe_thing},
    {"PATCH", "things/{}", "UpdateThing", Resource::kThing, update_thing},
    {"DELETE", "things/{}", "DeleteThing", Resource::kThing, delete_thing},
    {"GET", "things", "ListThings", Resource::kAny, list_things},
    {"PUT", "things/{}/principals", "AttachThingPrincipal", Resource::kThing,
     attach_thing_principal},
    {"DELETE", "things/{}/principals", "DetachThingPrincipal", Resource::kThing,
     detach_thing_principal},
    {"GET", "things/{}/principals", "ListThingPrincipals", Resource::kThing, list_thing_principals},
    {"GET", "principals/things", "ListPrincipalThings", Resource::kAny, list_principal_things},
    {"POST", "keys-and-certificate", "CreateKeysAndCertificate", Resource::kAny,
     create_keys_and_certificate},
    {"POST", "certificates", "CreateCertificateFromCsr", Resource::kAny,
     create_certificate_from_csr},
    {"GET", "certificates", "ListCertificates", Resource::kAny, list_certificates},
    {"POST", "certificate/register", "RegisterCertificate", Resource::kAny,
     register_certificate_with_ca},
    {"POST", "certificate/register-no-ca", "RegisterCertificateWithoutCA", Resource::kAny,
     register_certificate_without_ca},
    {"GET", "certificates/{}", "DescribeCertificate", Resource::kCertificate, describe_certificate},
    {"PUT", "certificates/{}", "UpdateCertificate", Resource::kCertificate, update_certificate},
    {"DELETE", "certificates/{}", "DeleteCertificate", Resource::kCertificate, delete_certificate},
    {"POST", "policies/{}", "CreatePolicy", Resource::kPolicy, create_policy},
    {"GET", "policies/{}", "GetPolicy", Resource::kPolicy, get_policy},
    {"DELETE", "policies/{}", "DeletePolicy", Resource::kPolicy, delete_policy},
    {"GET", "policies", "ListPolicies", Resource::kAny, list_policies},
    {"POST", "policies/{}/version", "CreatePolicyVersion", Resource::kPolicy,
     create_policy_version},
    {"GET", "policies/{}/version", "ListPolicyVersions", Resource::kPolicy, list_policy_versions},
    {"GET", "policies/{}/version/{}", "GetPolicyVersion", Resource::kPolicy, get_policy_version},
    {"PATCH", "policies/{}/version/{}", "SetDefaultPolicyVersion", Resource::kPolicy,
     set_default_policy_version},
    {"DELETE", "policies/{}/version/{}", "DeletePolicyVersion", Resource::kPolicy,
     delete_policy_version},
    {"PUT", "target-policies/{}", "AttachPolicy", Resource::kTargetInBody, attach_policy},
    {"POST", "target-policies/{}", "DetachPolicy", Resource::kTargetInBody, detach_policy},
    {"POST", "attached-policies/{+}", "ListAttachedPolicies", Resource::kTargetInPath,
     list_attached_policies},
    {"POST", "policy-targets/{}", "ListTargetsForPolicy", Resource::kPolicy,
     list_targets_for_policy},
    {"PUT", "principal-policies/{}", "AttachPrincipalPolicy", Resource::kPrincipalHeader,
     attach_principal_policy},
    {"DELETE", "principal-policies/{}", "DetachPrincipalPolicy", Resource::kPrincipalHeader,
     detach_principal_policy},
    {"GET", "principal-policies", "ListPrincipalPolicies", Resource::kAny, list_principal_policies},
    {"GET", "policy-principals", "ListPolicyPrincipals", Resource::kAny, list_policy_principals},
};

// The path's segments, each percent-decoded (so an encoded '/' stays inside
// its segment); nullopt on a malformed escape.
std::optional<std::vector<std::string>> path_segments(std::string_view path) {
  if (!path.starts_with('/')) return std::nullopt;
  path.remove_prefix(1);
  std::vector<std::string> out;
  while (true) {
    std::size_t slash = path.find('/');
    std::optional<std::string> segment = percent_decode(path.substr(0, slash));
    if (!segment) return std::nullopt;
    out.push_back(std::move(*segment));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
}

bool matches(std::string_view pattern, const std::vector<std::string>& path,
             std::vector<std::string>* params) {
  params->clear();
  std::size_t index = 0;
  while (!pattern.empty()) {
    std::size_t slash = pattern.find('/');
    std::string_view part = pattern.substr(0, slash);
    pattern.remove_prefix(slash == std::string_view::npos ? pattern.size() : slash + 1);
    if (part == "{+}") {
      if (index >= path.size()) return false;
      std::string rest = path[index];
      while (++index < path.size()) rest += "/" + path[index];
      if (rest.empty()) return false;
      params->push_back(std::move(rest));
      return true;
    }
    if (index >= path.size()) return false;
    const std::string& segment = path[index++];
    if (part == "{}") {
      if (segment.empty()) return false;
      params->push_back(segment);
    } else if (part != segment) {
      return false;
    }
  }
  return index == path.size();
}

struct Found {
  const Route* route = nullptr;  // null: no route has that path and method
  bool path_known = false;       // some route has that path, with another method
  std::vector<std::string> params;
};

Found find_route(const HttpRequest& request) {
  Found found;
  std::optional<std::vector<std::string>> path = path_segments(request.path);
  if (!path) return found;
  std::vector<std::string> params;
  for (const Route& route : kRoutes) {
    if (!matches(route.path, *path, &params)) continue;
    found.path_known = true;
    if (route.method == request.method) {
      found.route = &route;
      found.params = std::move(params);
      return found;
    }
  }
  return found;
}

}  // namespace

IotRegistryHandlers::IotRegistryHandlers(IotRegistry& registry, const LocalCa& ca)
    : registry_(registry), ca_(ca) {
  std::string why;
  if (std::optional<CertificateFacts> facts = ca_.read(ca_.ca_pem(), &why)) {
    ca_id_ = facts->id;
  } else {
    log(LogLevel::kError, "offcloud's CA certificate does not read back: " + why);
  }
}

std::vector<IamRequest> IotRegistryHandlers::iam_requests(const HttpRequest& request,
                                                          const RequestContext& context) const {
  Found found = find_route(request);
  if (!found.route) return {};
  AccountRegion scope = iot_scope(context);
  auto given = [](std::string text) { return text.starts_with("arn:") ? text : std::string("*"); };
  std::string resource = "*";
  switch (found.route->resource) {
    case Resource::kAny:
      break;
    case Resource::kThing:
      resource = arn(scope, "thing", found.params[0]);
      break;
    case Resource::kCertificate:
      resource = arn(scope, "cert", found.params[0]);
      break;
    case Resource::kPolicy:
      resource = arn(scope, "policy", found.params[0]);
      break;
    case Resource::kTargetInBody: {
      json body = json::parse(request.body, nullptr, false);
      if (body.is_object() && body.contains("target") && body["target"].is_string()) {
        resource = given(body["target"].get<std::string>());
      }
      break;
    }
    case Resource::kTargetInPath:
      resource = given(found.params.back());
      break;
    case Resource::kPrincipalHeader:
      resource = given(std::string(request.headers.get("x-amzn-iot-principal")));
      break;
  }
  return {{"iot:" + std::string(found.route->operation), resource}};
}

HttpResponse IotRegistryHandlers::handle(HttpRequest& request, RequestContext& context) {
  Found found = find_route(request);
  if (!found.route) {
    if (found.path_known) {
      return error_response(Protocol::kRestJson, {ErrorCode::kMethodNotAllowedException, ""},
                            context.request_id);
    }
    return error_response(Protocol::kRestJson,
                          {ErrorCode::kUnknownOperationException,
                           "No IoT operation at " + request.method + " " + request.path + "."},
                          context.request_id);
  }
  context.operation = std::string(found.route->operation);
  Call call{request, context, std::move(found.params), iot_scope(context)};
  Env env{registry_, ca_, ca_id_};
  try {
    if (!request.body.empty()) {
      call.body = json::parse(request.body, nullptr, false);
      if (!call.body.is_object()) {
        return error(ErrorCode::kInvalidRequestException, "The request body is not a JSON object.",
                     call);
      }
    }
    return found.route->handler(env, call);
  } catch (const InvalidRequest& refusal) {
    return error(ErrorCode::kInvalidRequestException, refusal.message, call);
  } catch (const json::exception& e) {
    return error(ErrorCode::kInvalidRequestException,
                 std::string("The request is not valid: ") + e.what(), call);
  } catch (const StorageError& e) {
    log(LogLevel::kError, context.operation + ": " + e.what());
    return error(ErrorCode::kInternalFailureException, "", call);
  } catch (const std::runtime_error& e) {
    log(LogLevel::kError, context.operation + ": " + e.what());
    return error(ErrorCode::kInternalFailureException, "", call);
  }
}

}  // namespace offcloud

// What the IoT registry's handlers share: the request they read (Call), the
// state they act on (Env), the readers that turn a request's inputs into
// values or an InvalidRequest, and the answers they give. Internal to
// emulator/iot; IotRegistryHandlers (iot_registry_handlers.h) is the contract.
// The operations live one family per file: iot_thing_handlers.cpp,
// iot_certificate_handlers.cpp, iot_policy_handlers.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "emulator/api/service.h"
#include "emulator/auth/local_ca.h"
#include "emulator/iot/iot_scope.h"
#include "storage/iot_registry.h"

namespace offcloud::iot_registry {

using json = nlohmann::json;

// AWS IoT's limits.
constexpr int kMaxPageSize = 250;               // RegistryMaxResults, PageSize
constexpr int kDefaultPageSize = 25;            // what ListCertificates and the others page by
constexpr std::size_t kMaxThingAttributes = 3;  // a thing without a thing type
constexpr int kMaxPolicyVersions = 5;
constexpr int kMaxPoliciesPerTarget = 10;
constexpr std::size_t kMaxNameLength = 128;
constexpr std::size_t kMaxAttributeValueLength = 800;

// -- the request --------------------------------------------------------------

// A request the handlers refuse as InvalidRequestException, thrown by the
// readers below so each handler reads its inputs in a few lines.
struct InvalidRequest {
  std::string message;
};

struct Env {
  IotRegistry& registry;
  const LocalCa& ca;
  const std::string& ca_id;
};

struct Call {
  HttpRequest& request;
  RequestContext& context;
  std::vector<std::string> params;  // the path's {placeholders}, decoded
  AccountRegion scope;
  json body = json::object();
};

using Handler = HttpResponse (*)(Env&, Call&);

// -- answers ------------------------------------------------------------------

HttpResponse json_response(const json& body);

// Operations whose output has no members: AWS sends an empty body.
HttpResponse no_content();

HttpResponse error(ErrorCode code, std::string message, const Call& call, int status = 0);

HttpResponse not_found(std::string message, const Call& call);

// ResourceAlreadyExistsException names the resource, as AWS's does.
HttpResponse already_exists(std::string message, const std::string& id, const std::string& arn,
                            const Call& call);

double seconds(std::int64_t ms);

// GenerationId: changes whenever what it describes does.
std::string generation_id(const std::string& arn, std::int64_t version, std::int64_t modified_ms);

// -- names and ARNs -------------------------------------------------------------

bool all_of(std::string_view text, std::string_view extra);

// ThingName: [a-zA-Z0-9:_-]+, 1 to 128.
bool valid_thing_name(std::string_view name);

// PolicyName: [\w+=,.@-]+, 1 to 128.
bool valid_policy_name(std::string_view name);

// CertificateId: 64 hexadecimal digits.
bool valid_certificate_id(std::string_view id);

std::string arn(const AccountRegion& scope, std::string_view kind, std::string_view name);

// Whether `text` is shaped as a certificate's ARN (in any account): the only
// principals and policy targets offcloud has.
bool certificate_arn_shape(std::string_view text);

void check_thing_name(const std::string& name);

void check_policy_name(const std::string& name);

void check_certificate_id(const std::string& id);

// A principal or policy target: offcloud's principals are certificates.
void check_certificate_arn(const std::string& text, std::string_view what);

// -- inputs ---------------------------------------------------------------------

std::optional<std::int64_t> parse_integer(std::string_view text);

// A boolean query parameter; `fallback` when absent.
bool query_flag(const Call& call, std::string_view name, bool fallback = false);

int query_page_size(const Call& call, std::string_view name);

// A page token (nextToken, marker): the base64 of where the page starts.
std::string query_token(const Call& call, std::string_view name);

std::optional<std::int64_t> query_integer(const Call& call, std::string_view name);

std::string header(const Call& call, std::string_view name);

const json* member(const Call& call, std::string_view name);

std::optional<std::string> body_string(const Call& call, std::string_view name);

std::string required_string(const Call& call, std::string_view name);

std::optional<bool> body_flag(const json& object, std::string_view name);

// AttributePayload: {"attributes": {name: value}, "merge": bool}; nullopt
// when the payload or its attributes are absent.
std::optional<std::map<std::string, std::string>> attribute_payload(const Call& call, bool* merge);

// Offcloud has no thing types or billing groups: naming one names what
// does not exist, as on AWS.
std::optional<HttpResponse> refuse_thing_type(const Call& call);

// A policy document, checked as IAM checks one (the grammar IoT policies
// share, and what the MQTT broker evaluates).
std::optional<HttpResponse> refuse_policy_document(const std::string& document, const Call& call);

// Pages a sorted list of names held whole: from `from` (included), at most
// `limit`; the token of the next page goes in body[token_name].
json page_of(const std::vector<std::string>& items, const std::string& from, int limit, json* body,
             std::string_view token_name);

// -- the operations, as the route table names them ------------------------------
// things
HttpResponse create_thing(Env& env, Call& call);
HttpResponse describe_thing(Env& env, Call& call);
HttpResponse list_things(Env& env, Call& call);
HttpResponse update_thing(Env& env, Call& call);
HttpResponse delete_thing(Env& env, Call& call);
HttpResponse attach_thing_principal(Env& env, Call& call);
HttpResponse detach_thing_principal(Env& env, Call& call);
HttpResponse list_thing_principals(Env& env, Call& call);
HttpResponse list_principal_things(Env& env, Call& call);

// certificates
HttpResponse create_keys_and_certificate(Env& env, Call& call);
HttpResponse create_certificate_from_csr(Env& env, Call& call);
HttpResponse register_certificate_with_ca(Env& env, Call& call);
HttpResponse register_certificate_without_ca(Env& env, Call& call);
HttpResponse describe_certificate(Env& env, Call& call);
HttpResponse list_certificates(Env& env, Call& call);
HttpResponse update_certificate(Env& env, Call& call);
HttpResponse delete_certificate(Env& env, Call& call);

// policies
HttpResponse create_policy(Env& env, Call& call);
HttpResponse get_policy(Env& env, Call& call);
HttpResponse list_policies(Env& env, Call& call);
HttpResponse delete_policy(Env& env, Call& call);
HttpResponse create_policy_version(Env& env, Call& call);
HttpResponse get_policy_version(Env& env, Call& call);
HttpResponse list_policy_versions(Env& env, Call& call);
HttpResponse set_default_policy_version(Env& env, Call& call);
HttpResponse delete_policy_version(Env& env, Call& call);
HttpResponse attach_policy(Env& env, Call& call);
HttpResponse detach_policy(Env& env, Call& call);
HttpResponse attach_principal_policy(Env& env, Call& call);
HttpResponse detach_principal_policy(Env& env, Call& call);
HttpResponse list_attached_policies(Env& env, Call& call);
HttpResponse list_principal_policies(Env& env, Call& call);
HttpResponse list_targets_for_policy(Env& env, Call& call);
HttpResponse list_policy_principals(Env& env, Call& call);

}  // namespace offcloud::iot_registry

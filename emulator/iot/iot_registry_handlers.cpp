#include "emulator/iot/iot_registry_handlers.h"

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "emulator/auth/iam_policy.h"
#include "emulator/iot/iot_scope.h"
#include "emulator/util/log.h"
#include "emulator/util/uuid.h"
#include "storage/digest.h"

namespace offcloud {
namespace {

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

HttpResponse json_response(const json& body) {
  HttpResponse response;
  response.headers.add("Content-Type", "application/json");
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

// Operations whose output has no members: AWS sends an empty body.
HttpResponse no_content() {
  HttpResponse response;
  response.headers.add("Content-Type", "application/json");
  return response;
}

HttpResponse error(ErrorCode code, std::string message, const Call& call, int status = 0) {
  return error_response(Protocol::kRestJson, {code, std::move(message), {}, status},
                        call.context.request_id);
}

HttpResponse not_found(std::string message, const Call& call) {
  return error(ErrorCode::kResourceNotFoundException, std::move(message), call);
}

// ResourceAlreadyExistsException names the resource, as AWS's does.
HttpResponse already_exists(std::string message, const std::string& id, const std::string& arn,
                            const Call& call) {
  HttpResponse response =
      error(ErrorCode::kResourceAlreadyExistsException, std::move(message), call);
  json body = json::parse(response.body);
  body["resourceId"] = id;
  body["resourceArn"] = arn;
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

double seconds(std::int64_t ms) {
  return static_cast<double>(ms) / 1000.0;
}

// GenerationId: changes whenever what it describes does.
std::string generation_id(const std::string& arn, std::int64_t version, std::int64_t modified_ms) {
  return sha256_hex(arn + "\n" + std::to_string(version) + "\n" + std::to_string(modified_ms));
}

// -- names and ARNs -------------------------------------------------------------

bool all_of(std::string_view text, std::string_view extra) {
  return std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           extra.find(c) != std::string_view::npos;
  });
}

// ThingName: [a-zA-Z0-9:_-]+, 1 to 128.
bool valid_thing_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength && all_of(name, ":_-");
}

// PolicyName: [\w+=,.@-]+, 1 to 128.
bool valid_policy_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength && all_of(name, "_+=,.@-");
}

// CertificateId: 64 hexadecimal digits.
bool valid_certificate_id(std::string_view id) {
  return id.size() == 64 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

std::string arn(const AccountRegion& scope, std::string_view kind, std::string_view name) {
  return "arn:aws:iot:" + scope.region + ":" + scope.account_id + ":" + std::string(kind) + "/" +
         std::string(name);
}

// Whether `text` is shaped as a certificate's ARN (in any account): the only
// principals and policy targets offcloud has.
bool certificate_arn_shape(std::string_view text) {
  if (!text.starts_with("arn:")) return false;
  std::size_t colons = 0, at = 0;
  for (std::size_t i = 0; i < text.size() && colons < 5; ++i) {
    if (text[i] == ':') {
      ++colons;
      at = i + 1;
    }
  }
  return colons == 5 && text.substr(at).starts_with("cert/") &&
         valid_certificate_id(text.substr(at + 5)) && text.find(":iot:") != std::string::npos;
}

void check_thing_name(const std::string& name) {
  if (!valid_thing_name(name)) {
    throw InvalidRequest{"The thing name " + name +
                         " is not valid: use 1 to 128 letters, digits, colons, underscores and "
                         "hyphens."};
  }
}

void check_policy_name(const std::string& name) {
  if (!valid_policy_name(name)) {
    throw InvalidRequest{"The policy name " + name +
                         " is not valid: use 1 to 128 letters, digits and _+=,.@-"};
  }
}

void check_certificate_id(const std::string& id) {
  if (!valid_certificate_id(id)) {
    throw InvalidRequest{"The certificate id " + id +
                         " is not valid: it is 64 hexadecimal digits."};
  }
}

// A principal or policy target: offcloud's principals are certificates.
void check_certificate_arn(const std::string& text, std::string_view what) {
  if (text.empty()) throw InvalidRequest{std::string(what) + " is required."};
  if (!certificate_arn_shape(text)) {
    throw InvalidRequest{std::string(what) + " " + text +
                         " is not a certificate ARN (arn:aws:iot:<region>:<account>:cert/<id>), "
                         "the only principal offcloud has."};
  }
}

// -- inputs ---------------------------------------------------------------------

std::optional<std::int64_t> parse_integer(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// A boolean query parameter; `fallback` when absent.
bool query_flag(const Call& call, std::string_view name, bool fallback = false) {
  const std::string* text = find_param(call.context.query, name);
  if (!text) return fallback;
  if (*text != "true" && *text != "false") {
    throw InvalidRequest{std::string(name) + " must be true or false."};
  }
  return *text == "true";
}

int query_page_size(const Call& call, std::string_view name) {
  const std::string* text = find_param(call.context.query, name);
  if (!text) return kDefaultPageSize;
  auto value = parse_integer(*text);
  if (!value || *value < 1 || *value > kMaxPageSize) {
    throw InvalidRequest{std::string(name) + " must be between 1 and " +
                         std::to_string(kMaxPageSize) + "."};
  }
  return static_cast<int>(*value);
}

// A page token (nextToken, marker): the base64 of where the page starts.
std::string query_token(const Call& call, std::string_view name) {
  const std::string* text = find_param(call.context.query, name);
  std::string from;
  if (text && (!base64_decode(*text, &from) || from.empty())) {
    throw InvalidRequest{"The " + std::string(name) + " is not valid."};
  }
  return from;
}

std::optional<std::int64_t> query_integer(const Call& call, std::string_view name) {
  const std::string* text = find_param(call.context.query, name);
  if (!text) return std::nullopt;
  auto value = parse_integer(*text);
  if (!value) throw InvalidRequest{std::string(name) + " must be a whole number."};
  return value;
}

std::string header(const Call& call, std::string_view name) {
  return std::string(call.request.headers.get(name));
}

const json* member(const Call& call, std::string_view name) {
  auto it = call.body.find(name);
  return it == call.body.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> body_string(const Call& call, std::string_view name) {
  const json* value = member(call, name);
  if (!value) return std::nullopt;
  if (!value->is_string()) throw InvalidRequest{std::string(name) + " must be a string."};
  return value->get<std::string>();
}

std::string required_string(const Call& call, std::string_view name) {
  std::optional<std::string> value = body_string(call, name);
  if (!value || value->empty()) throw InvalidRequest{std::string(name) + " is required."};
  return *value;
}

std::optional<bool> body_flag(const json& object, std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) throw InvalidRequest{std::string(name) + " must be true or false."};
  return it->get<bool>();
}

// AttributePayload: {"attributes": {name: value}, "merge": bool}; nullopt
// when the payload or its attributes are absent.
std::optional<std::map<std::string, std::string>> attribute_payload(const Call& call, bool* merge) {
  const json* payload = member(call, "attributePayload");
  if (!payload) return std::nullopt;
  if (!payload->is_object()) throw InvalidRequest{"attributePayload must be an object."};
  if (merge) *merge = body_flag(*payload, "merge").value_or(false);
  auto it = payload->find("attributes");
  if (it == payload->end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) throw InvalidRequest{"attributePayload.attributes must be an object."};
  std::map<std::string, std::string> attributes;
  for (const auto& [name, value] : it->items()) {
    if (name.empty() || name.size() > kMaxNameLength || !all_of(name, "_.,@/:#-")) {
      throw InvalidRequest{"The attribute name " + name +
                           " is not valid: use 1 to 128 letters, digits and _.,@/:#-"};
    }
    if (!value.is_string()) throw InvalidRequest{"The attribute " + name + " must be a string."};
    std::string text = value.get<std::string>();
    if (text.size() > kMaxAttributeValueLength || !all_of(text, "_.,@/:#=[]-")) {
      throw InvalidRequest{"The value of attribute " + name +
                           " is not valid: use up to 800 letters, digits and _.,@/:#=[]-"};
    }
    attributes[name] = std::move(text);
  }
  return attributes;
}

// Offcloud has no thing types or billing groups: naming one names what
// does not exist, as on AWS.
std::optional<HttpResponse> refuse_thing_type(const Call& call) {
  if (auto type = body_string(call, "thingTypeName")) {
    return not_found("The thing type " + *type + " does not exist.", call);
  }
  if (auto group = body_string(call, "billingGroupName")) {
    return not_found("The billing group " + *group + " does not exist.", call);
  }
  return std::nullopt;
}

// A policy document, checked as IAM checks one (the grammar IoT policies
// share, and what the MQTT broker evaluates).
std::optional<HttpResponse> refuse_policy_document(const std::string& document, const Call& call) {
  std::string why;
  if (!parse_policy(document, &why)) {
    return error(ErrorCode::kMalformedPolicyException, "The policy document is not valid: " + why,
                 call);
  }
  return std::nullopt;
}

// Pages a sorted list of names held whole: from `from` (included), at most
// `limit`; the token of the next page goes in body[token_name].
json page_of(const std::vector<std::string>& items, const std::string& from, int limit, json* body,
             std::string_view token_name) {
  json page = json::array();
  for (const std::string& item : items) {
    if (item < from) continue;
    if (static_cast<int>(page.size()) == limit) {
      (*body)[std::string(token_name)] = base64_encode(item);
      break;
    }
    page.push_back(item);
  }
  return page;
}

// -- things ---------------------------------------------------------------------

json thing_json(const IotThing& thing) {
  json attributes = json::object();
  for (const auto& [name, value] : thing.attributes) attributes[name] = value;
  return {{"thingName", thing.name},
          {"thingArn", thing.arn},
          {"attributes", std::move(attributes)},
          {"version", thing.version}};
}

HttpResponse create_thing(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_thing_name(name);
  if (auto refusal = refuse_thing_type(call)) return std::move(*refusal);
  std::map<std::string, std::string> attributes =
      attribute_payload(call, nullptr).value_or(std::map<std::string, std::string>());
  std::erase_if(attributes, [](const auto& entry) { return entry.second.empty(); });
  if (attributes.size() > kMaxThingAttributes) {
    throw InvalidRequest{"A thing without a thing type has at most " +
                         std::to_string(kMaxThingAttributes) + " attributes."};
  }
  IotThing thing;
  thing.account_id = call.scope.account_id;
  thing.region = call.scope.region;
  thing.name = name;
  thing.id = new_uuid();
  thing.arn = arn(call.scope, "thing", name);
  thing.attributes = std::move(attributes);
  thing.created_ms = now_ms();
  if (std::optional<IotThing> existing = env.registry.insert_thing(thing)) {
    // The same request again succeeds, with the thing it made.
    if (existing->attributes != thing.attributes) {
      return already_exists(
          "Thing " + name + " already exists in account with different attributes", existing->id,
          existing->arn, call);
    }
    thing = std::move(*existing);
  }
  return json_response({{"thingName", thing.name}, {"thingArn", thing.arn}, {"thingId", thing.id}});
}

HttpResponse describe_thing(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_thing_name(name);
  std::optional<IotThing> thing =
      env.registry.thing(call.scope.account_id, call.scope.region, name);
  if (!thing) return not_found("Thing " + name + " cannot be found.", call);
  json body = thing_json(*thing);
  body["thingId"] = thing->id;
  body["defaultClientId"] = thing->name;
  return json_response(body);
}

HttpResponse list_things(Env& env, Call& call) {
  int limit = query_page_size(call, "maxResults");
  std::string from = query_token(call, "nextToken");
  IotThingFilter filter;
  if (const std::string* name = find_param(call.context.query, "attributeName")) {
    filter.attribute_name = *name;
  }
  if (const std::string* value = find_param(call.context.query, "attributeValue")) {
    if (!filter.attribute_name) throw InvalidRequest{"attributeValue needs an attributeName."};
    filter.attribute_value = *value;
  }
  filter.value_prefix = query_flag(call, "usePrefixAttributeValue");
  json body = json::object();
  json things = json::array();
  // No thing has a type: filtering by one finds none.
  if (!find_param(call.context.query, "thingTypeName")) {
    std::vector<IotThing> found =
        env.registry.things(call.scope.account_id, call.scope.region, filter, from, limit + 1);
    for (const IotThing& thing : found) {
      if (static_cast<int>(things.size()) == limit) {
        body["nextToken"] = base64_encode(thing.name);
        break;
      }
      things.push_back(thing_json(thing));
    }
  }
  body["things"] = std::move(things);
  return json_response(body);
}

HttpResponse update_thing(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_thing_name(name);
  if (auto refusal = refuse_thing_type(call)) return std::move(*refusal);
  body_flag(call.body, "removeThingType");  // there is no type to remove
  IotThingUpdate update;
  update.attributes = attribute_payload(call, &update.merge);
  update.max_attributes = kMaxThingAttributes;
  if (const json* version = member(call, "expectedVersion")) {
    if (!version->is_number_integer()) throw InvalidRequest{"expectedVersion must be a number."};
    update.expected_version = version->get<std::int64_t>();
  }
  switch (env.registry.update_thing(call.scope.account_id, call.scope.region, name, update)) {
    case IotRegistry::ThingChange::kNotFound:
      return not_found("Thing " + name + " cannot be found.", call);
    case IotRegistry::ThingChange::kVersionConflict:
      return error(ErrorCode::kVersionConflictException,
                   "The version of thing " + name + " does not match the expected version.", call);
    case IotRegistry::ThingChange::kTooManyAttributes:
      throw InvalidRequest{"A thing without a thing type has at most " +
                           std::to_string(kMaxThingAttributes) + " attributes."};
    default:
      return json_response(json::object());
  }
}

HttpResponse delete_thing(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_thing_name(name);
  std::optional<std::int64_t> expected = query_integer(call, "expectedVersion");
  switch (env.registry.delete_thing(call.scope.account_id, call.scope.region, name, expected)) {
    case IotRegistry::ThingChange::kVersionConflict:
      return error(ErrorCode::kVersionConflictException,
                   "The version of thing " + name + " does not match the expected version.", call);
    case IotRegistry::ThingChange::kHasPrincipals:
      throw InvalidRequest{"Cannot delete. Thing " + name +
                           " is still attached to one or more principals"};
    default:
      // Deleting a thing that does not exist succeeds, as AWS documents.
      return json_response(json::object());
  }
}

// -- certificates ---------------------------------------------------------------

// The status a new certificate gets from ?setAsActive, or from `status`.
std::string initial_status(const Call& call) {
  if (query_flag(call, "setAsActive")) return "ACTIVE";
  std::optional<std::string> status = body_string(call, "status");
  if (!status) return "INACTIVE";
  if (*status != "ACTIVE" && *status != "INACTIVE" && *status != "REVOKED") {
    throw InvalidRequest{"The status " + *status +
                         " is not valid for a new certificate: use ACTIVE, INACTIVE or REVOKED."};
  }
  return *status;
}

IotCertificate new_certificate(const Call& call, const CertificateFacts& facts, std::string status,
                               std::string ca_id, std::string mode) {
  IotCertificate certificate;
  certificate.account_id = call.scope.account_id;
  certificate.region = call.scope.region;
  certificate.id = facts.id;
  certificate.arn = arn(call.scope, "cert", facts.id);
  certificate.pem = facts.pem;
  certificate.status = std::move(status);
  certificate.ca_certificate_id = std::move(ca_id);
  certificate.mode = std::move(mode);
  certificate.created_ms = certificate.modified_ms = now_ms();
  certificate.not_before_ms = facts.not_before_ms;
  certificate.not_after_ms = facts.not_after_ms;
  return certificate;
}

// Reads back a certificate offcloud's CA just made.
CertificateFacts issued_facts(Env& env, const std::string& pem) {
  std::string why;
  std::optional<CertificateFacts> facts = env.ca.read(pem, &why);
  if (!facts) throw std::runtime_error("the CA made a certificate it cannot read: " + why);
  return *facts;
}

HttpResponse create_keys_and_certificate(Env& env, Call& call) {
  std::string status = query_flag(call, "setAsActive") ? "ACTIVE" : "INACTIVE";
  LocalCa::Issued issued = env.ca.issue_keys_and_certificate();
  IotCertificate certificate = new_certificate(call, issued_facts(env, issued.certificate_pem),
                                               status, env.ca_id, "DEFAULT");
  if (!env.registry.insert_certificate(certificate)) {
    throw std::runtime_error("a new key's certificate id is taken");
  }
  return json_response(
      {{"certificateArn", certificate.arn},
       {"certificateId", certificate.id},
       {"certificatePem", issued.certificate_pem},
       {"keyPair",
        {{"PublicKey", issued.public_key_pem}, {"PrivateKey", issued.private_key_pem}}}});
}

HttpResponse create_certificate_from_csr(Env& env, Call& call) {
  std::string csr = required_string(call, "certificateSigningRequest");
  std::string status = query_flag(call, "setAsActive") ? "ACTIVE" : "INACTIVE";
  std::string why;
  std::optional<std::string> pem = env.ca.sign_request(csr, &why);
  if (!pem) throw InvalidRequest{"The certificate signing request is not valid: " + why};
  IotCertificate certificate =
      new_certificate(call, issued_facts(env, *pem), status, env.ca_id, "DEFAULT");
  if (!env.registry.insert_certificate(certificate)) {
    throw std::runtime_error("a new certificate's id is taken");
  }
  return json_response({{"certificateArn", certificate.arn},
                        {"certificateId", certificate.id},
                        {"certificatePem", *pem}});
}

// RegisterCertificate and RegisterCertificateWithoutCA: a certificate made
// elsewhere. With a CA, its CA must be registered: offcloud's own is, and
// is the only one (RegisterCACertificate is not emulated).
HttpResponse register_certificate(Env& env, Call& call, bool with_ca) {
  std::string pem = required_string(call, "certificatePem");
  std::string status = initial_status(call);
  std::string why;
  std::optional<CertificateFacts> facts = env.ca.read(pem, &why);
  if (!facts)
    return error(ErrorCode::kCertificateValidationException, "The certificate is not valid: " + why,
                 call);
  if (facts->not_after_ms < now_ms()) {
    return error(ErrorCode::kCertificateValidationException, "The certificate has expired.", call);
  }
  std::string ca_id;
  std::string mode = "SNI_ONLY";
  if (with_ca) {
    if (auto ca_pem = body_string(call, "caCertificatePem")) {
      std::optional<CertificateFacts> ca = env.ca.read(*ca_pem, &why);
      if (!ca)
        return error(ErrorCode::kCertificateValidationException,
                     "The CA certificate is not valid: " + why, call);
      if (ca->id != env.ca_id) {
        return error(ErrorCode::kCertificateValidationException,
                     "The CA certificate is not registered: offcloud's CA (GET "
                     "/_offcloud/ca.pem) is the only registered CA.",
                     call);
      }
    }
    if (!facts->issued_by_local_ca) {
      return error(ErrorCode::kCertificateValidationException,
                   "The certificate is not signed by a registered CA certificate: offcloud's CA "
                   "(GET /_offcloud/ca.pem) is the only one; RegisterCertificateWithoutCA takes "
                   "others.",
                   call);
    }
    ca_id = env.ca_id;
    mode = "DEFAULT";
  }
  IotCertificate certificate = new_certificate(call, *facts, status, ca_id, mode);
  // offcloud has one endpoint for every account, so the certificate a
  // device presents must name one account and region: AWS tells accounts
  // apart by the host name the device connects to (SNI), offcloud cannot.
  // Registering it where another account or region holds it would let that
  // one take the device over.
  for (const RegisteredCertificate& other : env.registry.find_certificate(facts->id)) {
    if (other.account_id != call.scope.account_id || other.region != call.scope.region) {
      return already_exists(
          "The certificate is already registered in another account or region; offcloud has "
          "one endpoint for all, so a certificate can be registered in only one.",
          certificate.id, certificate.arn, call);
    }
  }
  if (!env.registry.insert_certificate(certificate)) {
    return already_exists("The certificate is already provisioned or registered", certificate.id,
                          certificate.arn, call);
  }
  return json_response({{"certificateArn", certificate.arn}, {"certificateId", certificate.id}});
}

HttpResponse register_certificate_with_ca(Env& env, Call& call) {
  return register_certificate(env, call, true);
}

HttpResponse register_certificate_without_ca(Env& env, Call& call) {
  return register_certificate(env, call, false);
}

HttpResponse no_such_certificate(const std::string& id, const Call& call) {
  return not_found("The certificate " + id + " does not exist.", call);
}

HttpResponse describe_certificate(Env& env, Call& call) {
  const std::string& id = call.params[0];
  check_certificate_id(id);
  std::optional<IotCertificate> certificate =
      env.registry.certificate(call.scope.account_id, call.scope.region, id);
  if (!certificate) return no_such_certificate(id, call);
  json description = {
      {"certificateArn", certificate->arn},
      {"certificateId", certificate->id},
      {"status", certificate->status},
      {"certificatePem", certificate->pem},
      {"ownedBy", certificate->account_id},
      {"creationDate", seconds(certificate->created_ms)},
      {"lastModifiedDate", seconds(certificate->modified_ms)},
      {"customerVersion", certificate->customer_version},
      {"transferData", json::object()},
      {"generationId",
       generation_id(certificate->arn, certificate->customer_version, certificate->modified_ms)},
      {"validity",
       {{"notBefore", seconds(certificate->not_before_ms)},
        {"notAfter", seconds(certificate->not_after_ms)}}},
      {"certificateMode", certificate->mode}};
  if (!certificate->ca_certificate_id.empty()) {
    description["caCertificateId"] = certificate->ca_certificate_id;
  }
  return json_response({{"certificateDescription", std::move(description)}});
}

// ListCertificates' marker: the base64 of "<created ms>:<id>" of the first
// certificate of the page.
std::string certificate_marker(const IotCertificate& certificate) {
  return base64_encode(std::to_string(certificate.created_ms) + ":" + certificate.id);
}

HttpResponse list_certificates(Env& env, Call& call) {
  int limit = query_page_size(call, "pageSize");
  bool ascending = query_flag(call, "isAscendingOrder");
  std::optional<IotCertificateCursor> from;
  if (std::string marker = query_token(call, "marker"); !marker.empty()) {
    std::size_t colon = marker.find(':');
    auto created = parse_integer(std::string_view(marker).substr(0, colon));
    if (colon == std::string::npos || !created) throw InvalidRequest{"The marker is not valid."};
    from = IotCertificateCursor{*created, marker.substr(colon + 1)};
  }
  std::vector<IotCertificate> found = env.registry.certificates(
      call.scope.account_id, call.scope.region, ascending, from, limit + 1);
  json body = json::object();
  json certificates = json::array();
  for (const IotCertificate& certificate : found) {
    if (static_cast<int>(certificates.size()) == limit) {
      body["nextMarker"] = certificate_marker(certificate);
      break;
    }
    certificates.push_back({{"certificateArn", certificate.arn},
                            {"certificateId", certificate.id},
                            {"status", certificate.status},
                            {"certificateMode", certificate.mode},
                            {"creationDate", seconds(certificate.created_ms)}});
  }
  body["certificates"] = std::move(certificates);
  return json_response(body);
}

HttpResponse update_certificate(Env& env, Call& call) {
  const std::string& id = call.params[0];
  check_certificate_id(id);
  const std::string* status = find_param(call.context.query, "newStatus");
  if (!status) throw InvalidRequest{"newStatus is required."};
  if (*status == "PENDING_TRANSFER" || *status == "PENDING_ACTIVATION") {
    throw InvalidRequest{"The status " + *status + " is AWS IoT's own and cannot be set."};
  }
  if (*status != "ACTIVE" && *status != "INACTIVE" && *status != "REVOKED" &&
      *status != "REGISTER_INACTIVE") {
    throw InvalidRequest{"The status " + *status +
                         " is not valid: use ACTIVE, INACTIVE or REVOKED."};
  }
  switch (env.registry.set_certificate_status(call.scope.account_id, call.scope.region, id, *status,
                                              now_ms())) {
    case IotRegistry::CertificateChange::kNotFound:
      return no_such_certificate(id, call);
    case IotRegistry::CertificateChange::kRevoked:
      return error(ErrorCode::kCertificateStateException,
                   "The certificate " + id + " is revoked: its status cannot change.", call);
    default:
      return no_content();
  }
}

HttpResponse delete_certificate(Env& env, Call& call) {
  const std::string& id = call.params[0];
  check_certificate_id(id);
  bool force = query_flag(call, "forceDelete");
  std::string certificate_arn = arn(call.scope, "cert", id);
  switch (env.registry.delete_certificate(call.scope.account_id, call.scope.region, id, force)) {
    case IotRegistry::CertificateChange::kNotFound:
      return no_such_certificate(id, call);
    case IotRegistry::CertificateChange::kActive:
      return error(ErrorCode::kCertificateStateException,
                   "Certificate must be deactivated (not ACTIVE) before deletion. Id: " + id, call);
    case IotRegistry::CertificateChange::kHasThings:
      return error(ErrorCode::kDeleteConflictException,
                   "Things must be detached before deletion (arn: " + certificate_arn + ")", call);
    case IotRegistry::CertificateChange::kHasPolicies:
      return error(
          ErrorCode::kDeleteConflictException,
          "Certificate policies must be detached before deletion (arn: " + certificate_arn + ")",
          call);
    default:
      return no_content();
  }
}

// -- policies -------------------------------------------------------------------

HttpResponse no_such_policy(const std::string& name, const Call& call) {
  return not_found("The policy " + name + " does not exist.", call);
}

std::int64_t version_id(const std::string& text) {
  auto version = parse_integer(text);
  if (!version) throw InvalidRequest{"The policy version id " + text + " is not valid."};
  return *version;
}

HttpResponse create_policy(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_policy_name(name);
  std::optional<std::string> document = body_string(call, "policyDocument");
  if (!document) throw InvalidRequest{"policyDocument is required."};
  if (auto refusal = refuse_policy_document(*document, call)) return std::move(*refusal);
  if (const json* tags = member(call, "tags"); tags && !tags->is_array()) {
    throw InvalidRequest{"tags must be a list."};
  }
  IotPolicy policy;
  policy.account_id = call.scope.account_id;
  policy.region = call.scope.region;
  policy.name = name;
  policy.arn = arn(call.scope, "policy", name);
  policy.document = *document;
  policy.created_ms = policy.modified_ms = now_ms();
  if (!env.registry.insert_policy(policy)) {
    return already_exists("Policy cannot be created - name already exists (name=" + name + ")",
                          name, policy.arn, call);
  }
  return json_response({{"policyName", name},
                        {"policyArn", policy.arn},
                        {"policyDocument", policy.document},
                        {"policyVersionId", "1"}});
}

HttpResponse get_policy(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_policy_name(name);
  std::optional<IotPolicy> policy =
      env.registry.policy(call.scope.account_id, call.scope.region, name);
  if (!policy) return no_such_policy(name, call);
  return json_response(
      {{"policyName", policy->name},
       {"policyArn", policy->arn},
       {"policyDocument", policy->document},
       {"defaultVersionId", std::to_string(policy->default_version)},
       {"creationDate", seconds(policy->created_ms)},
       {"lastModifiedDate", seconds(policy->modified_ms)},
       {"generationId", generation_id(policy->arn, policy->default_version, policy->modified_ms)}});
}

json policy_list(const std::vector<IotPolicy>& policies, int limit, json* body) {
  json out = json::array();
  for (const IotPolicy& policy : policies) {
    if (static_cast<int>(out.size()) == limit) {
      (*body)["nextMarker"] = base64_encode(policy.name);
      break;
    }
    out.push_back({{"policyName", policy.name}, {"policyArn", policy.arn}});
  }
  return out;
}

HttpResponse list_policies(Env& env, Call& call) {
  int limit = query_page_size(call, "pageSize");
  std::string from = query_token(call, "marker");
  bool ascending = query_flag(call, "isAscendingOrder", true);
  json body = json::object();
  body["policies"] = policy_list(
      env.registry.policies(call.scope.account_id, call.scope.region, ascending, from, limit + 1),
      limit, &body);
  return json_response(body);
}

HttpResponse delete_policy(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_policy_name(name);
  switch (env.registry.delete_policy(call.scope.account_id, call.scope.region, name)) {
    case IotRegistry::PolicyChange::kNotFound:
      return no_such_policy(name, call);
    case IotRegistry::PolicyChange::kAttached:
      return error(ErrorCode::kDeleteConflictException,
                   "The policy cannot be deleted as the policy is attached to one or more "
                   "principals (name=" +
                       name + ")",
                   call);
    case IotRegistry::PolicyChange::kHasVersions:
      return error(ErrorCode::kDeleteConflictException,
                   "Cannot delete the policy because it has versions other than the default "
                   "version (name=" +
                       name + "): delete them with DeletePolicyVersion first.",
                   call);
    default:
      return no_content();
  }
}

HttpResponse create_policy_version(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_policy_name(name);
  std::optional<std::string> document = body_string(call, "policyDocument");
  if (!document) throw InvalidRequest{"policyDocument is required."};
  if (auto refusal = refuse_policy_document(*document, call)) return std::move(*refusal);
  bool set_default = query_flag(call, "setAsDefault");
  IotPolicyVersion created;
  switch (env.registry.add_policy_version(call.scope.account_id, call.scope.region, name, *document,
                                          set_default, kMaxPolicyVersions, now_ms(), &created)) {
    case IotRegistry::PolicyChange::kNotFound:
      return no_such_policy(name, call);
    case IotRegistry::PolicyChange::kLimit:
      return error(ErrorCode::kVersionsLimitExceededException,
                   "The policy " + name + " already has the maximum number of versions (" +
                       std::to_string(kMaxPolicyVersions) + ")",
                   call);
    default:
      return json_response({{"policyArn", arn(call.scope, "policy", name)},
                            {"policyDocument", created.document},
                            {"policyVersionId", std::to_string(created.version)},
                            {"isDefaultVersion", created.is_default}});
  }
}

HttpResponse get_policy_version(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_policy_name(name);
  std::int64_t version = version_id(call.params[1]);
  std::optional<IotPolicyVersion> found =
      env.registry.policy_version(call.scope.account_id, call.scope.region, name, version);
  if (!found) {
    return not_found("The policy " + name + " has no version " + call.params[1] + ".", call);
  }
  std::string policy_arn = arn(call.scope, "policy", name);
  return json_response(
      {{"policyArn", policy_arn},
       {"policyName", name},
       {"policyDocument", found->document},
       {"policyVersionId", std::to_string(found->version)},
       {"isDefaultVersion", found->is_default},
       {"creationDate", seconds(found->created_ms)},
       {"lastModifiedDate", seconds(found->created_ms)},
       {"generationId", generation_id(policy_arn, found->version, found->created_ms)}});
}

HttpResponse list_policy_versions(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_policy_name(name);
  auto versions = env.registry.policy_versions(call.scope.account_id, call.scope.region, name);
  if (!versions) return no_such_policy(name, call);
  json out = json::array();
  for (const IotPolicyVersion& version : *versions) {
    out.push_back({{"versionId", std::to_string(version.version)},
                   {"isDefaultVersion", version.is_default},
                   {"createDate", seconds(version.created_ms)}});
  }
  return json_response({{"policyVersions", std::move(out)}});
}

HttpResponse version_change(IotRegistry::PolicyChange change, const Call& call) {
  const std::string& name = call.params[0];
  switch (change) {
    case IotRegistry::PolicyChange::kNotFound:
      return no_such_policy(name, call);
    case IotRegistry::PolicyChange::kVersionNotFound:
      return not_found("The policy " + name + " has no version " + call.params[1] + ".", call);
    case IotRegistry::PolicyChange::kIsDefault:
      return error(ErrorCode::kDeleteConflictException,
                   "Cannot delete the default version of a policy (name=" + name +
                       "): make another version the default first.",
                   call);
    default:
      return no_content();
  }
}

HttpResponse set_default_policy_version(Env& env, Call& call) {
  check_policy_name(call.params[0]);
  std::int64_t version = version_id(call.params[1]);
  return version_change(
      env.registry.set_default_policy_version(call.scope.account_id, call.scope.region,
                                              call.params[0], version, now_ms()),
      call);
}

HttpResponse delete_policy_version(Env& env, Call& call) {
  check_policy_name(call.params[0]);
  std::int64_t version = version_id(call.params[1]);
  return version_change(env.registry.delete_policy_version(call.scope.account_id, call.scope.region,
                                                           call.params[0], version),
                        call);
}

// -- policy attachments ---------------------------------------------------------

HttpResponse attach(Env& env, Call& call, const std::string& name, const std::string& target) {
  check_policy_name(name);
  check_certificate_arn(target, "The target");
  switch (env.registry.attach_policy(call.scope.account_id, call.scope.region, name, target,
                                     kMaxPoliciesPerTarget)) {
    case IotRegistry::PolicyChange::kNotFound:
      return no_such_policy(name, call);
    case IotRegistry::PolicyChange::kTargetNotFound:
      return not_found("The certificate " + target + " does not exist.", call);
    case IotRegistry::PolicyChange::kLimit:
      return error(ErrorCode::kLimitExceededException,
                   "The target " + target + " already has the maximum number of policies (" +
                       std::to_string(kMaxPoliciesPerTarget) + ") attached.",
                   call, 410);
    default:
      return no_content();
  }
}

HttpResponse detach(Env& env, Call& call, const std::string& name, const std::string& target) {
  check_policy_name(name);
  check_certificate_arn(target, "The target");
  env.registry.detach_policy(call.scope.account_id, call.scope.region, name, target);
  return no_content();
}

HttpResponse attach_policy(Env& env, Call& call) {
  return attach(env, call, call.params[0], required_string(call, "target"));
}

HttpResponse detach_policy(Env& env, Call& call) {
  return detach(env, call, call.params[0], required_string(call, "target"));
}

HttpResponse attach_principal_policy(Env& env, Call& call) {
  return attach(env, call, call.params[0], header(call, "x-amzn-iot-principal"));
}

HttpResponse detach_principal_policy(Env& env, Call& call) {
  return detach(env, call, call.params[0], header(call, "x-amzn-iot-principal"));
}

// ListAttachedPolicies and ListPrincipalPolicies.
HttpResponse policies_of(Env& env, Call& call, const std::string& target) {
  check_certificate_arn(target, "The target");
  int limit = query_page_size(call, "pageSize");
  std::string from = query_token(call, "marker");
  if (!env.registry.has_certificate_arn(call.scope.account_id, call.scope.region, target)) {
    return not_found("The certificate " + target + " does not exist.", call);
  }
  json body = json::object();
  body["policies"] =
      policy_list(env.registry.attached_policies(call.scope.account_id, call.scope.region, target,
                                                 from, limit + 1),
                  limit, &body);
  return json_response(body);
}

HttpResponse list_attached_policies(Env& env, Call& call) {
  query_flag(call, "recursive");  // certificates belong to no thing group
  return policies_of(env, call, call.params[0]);
}

HttpResponse list_principal_policies(Env& env, Call& call) {
  query_flag(call, "isAscendingOrder");
  return policies_of(env, call, header(call, "x-amzn-iot-principal"));
}

// ListTargetsForPolicy and ListPolicyPrincipals.
HttpResponse targets_of(Env& env, Call& call, const std::string& name, std::string_view field) {
  check_policy_name(name);
  int limit = query_page_size(call, "pageSize");
  std::string from = query_token(call, "marker");
  auto targets =
      env.registry.policy_targets(call.scope.account_id, call.scope.region, name, from, limit + 1);
  if (!targets) return no_such_policy(name, call);
  json body = json::object();
  body[std::string(field)] = page_of(*targets, from, limit, &body, "nextMarker");
  return json_response(body);
}

HttpResponse list_targets_for_policy(Env& env, Call& call) {
  return targets_of(env, call, call.params[0], "targets");
}

HttpResponse list_policy_principals(Env& env, Call& call) {
  query_flag(call, "isAscendingOrder");
  return targets_of(env, call, header(call, "x-amzn-iot-policy"), "principals");
}

// -- thing principals -----------------------------------------------------------

HttpResponse attach_thing_principal(Env& env, Call& call) {
  const std::string& thing = call.params[0];
  check_thing_name(thing);
  std::string principal = header(call, "x-amzn-principal");
  check_certificate_arn(principal, "The principal");
  bool exclusive = false;
  if (const std::string* type = find_param(call.context.query, "thingPrincipalType")) {
    if (*type != "EXCLUSIVE_THING" && *type != "NON_EXCLUSIVE_THING") {
      throw InvalidRequest{"thingPrincipalType must be EXCLUSIVE_THING or NON_EXCLUSIVE_THING."};
    }
    exclusive = *type == "EXCLUSIVE_THING";
  }
  switch (env.registry.attach_thing_principal(call.scope.account_id, call.scope.region, thing,
                                              principal, exclusive)) {
    case IotRegistry::PrincipalChange::kThingNotFound:
      return not_found("Thing " + thing + " cannot be found.", call);
    case IotRegistry::PrincipalChange::kPrincipalNotFound:
      return not_found("The certificate " + principal + " does not exist.", call);
    case IotRegistry::PrincipalChange::kExclusive:
      throw InvalidRequest{
          exclusive ? "The principal " + principal +
                          " is attached to another thing: it cannot be " + thing + "'s exclusively."
                    : "The principal " + principal + " is attached exclusively to another thing."};
    default:
      return json_response(json::object());
  }
}

HttpResponse detach_thing_principal(Env& env, Call& call) {
  const std::string& thing = call.params[0];
  check_thing_name(thing);
  std::string principal = header(call, "x-amzn-principal");
  check_certificate_arn(principal, "The principal");
  if (env.registry.detach_thing_principal(call.scope.account_id, call.scope.region, thing,
                                          principal) ==
      IotRegistry::PrincipalChange::kThingNotFound) {
    return not_found("Thing " + thing + " cannot be found.", call);
  }
  return json_response(json::object());
}

HttpResponse list_thing_principals(Env& env, Call& call) {
  const std::string& thing = call.params[0];
  check_thing_name(thing);
  int limit = query_page_size(call, "maxResults");
  std::string from = query_token(call, "nextToken");
  auto principals = env.registry.thing_principals(call.scope.account_id, call.scope.region, thing);
  if (!principals) return not_found("Thing " + thing + " cannot be found.", call);
  json body = json::object();
  body["principals"] = page_of(*principals, from, limit, &body, "nextToken");
  return json_response(body);
}

HttpResponse list_principal_things(Env& env, Call& call) {
  std::string principal = header(call, "x-amzn-principal");
  check_certificate_arn(principal, "The principal");
  int limit = query_page_size(call, "maxResults");
  std::string from = query_token(call, "nextToken");
  if (!env.registry.has_certificate_arn(call.scope.account_id, call.scope.region, principal)) {
    return not_found("The certificate " + principal + " does not exist.", call);
  }
  json body = json::object();
  body["things"] =
      page_of(env.registry.principal_things(call.scope.account_id, call.scope.region, principal),
              from, limit, &body, "nextToken");
  return json_response(body);
}

// -- routes ---------------------------------------------------------------------

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

// Device certificates, issued by offcloud's LocalCa or registered:
// CreateKeysAndCertificate, CreateCertificateFromCsr, RegisterCertificate,
// RegisterCertificateWithoutCA, DescribeCertificate, ListCertificates,
// UpdateCertificate, DeleteCertificate.
#include "emulator/iot/iot_registry_call.h"

#include <algorithm>
#include <stdexcept>

#include "emulator/auth/iam_policy.h"
#include "emulator/iot/iot_scope.h"
#include "emulator/util/log.h"
#include "emulator/util/uuid.h"
#include "storage/digest.h"

namespace offcloud::iot_registry {

namespace {

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

HttpResponse no_such_certificate(const std::string& id, const Call& call) {
  return not_found("The certificate " + id + " does not exist.", call);
}

// ListCertificates' marker: the base64 of "<created ms>:<id>" of the first
// certificate of the page.
std::string certificate_marker(const IotCertificate& certificate) {
  return base64_encode(std::to_string(certificate.created_ms) + ":" + certificate.id);
}

}  // namespace

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

HttpResponse register_certificate_with_ca(Env& env, Call& call) {
  return register_certificate(env, call, true);
}

HttpResponse register_certificate_without_ca(Env& env, Call& call) {
  return register_certificate(env, call, false);
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

}  // namespace offcloud::iot_registry

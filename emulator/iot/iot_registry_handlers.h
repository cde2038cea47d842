// The AWS IoT registry API (botocore "iot", rest-json), kept in the
// IotRegistry per account and region, with certificates issued by
// offcloud's LocalCa:
// - things: CreateThing, DescribeThing, ListThings, UpdateThing, DeleteThing;
// - certificates: CreateKeysAndCertificate, CreateCertificateFromCsr,
//   RegisterCertificate, RegisterCertificateWithoutCA, DescribeCertificate,
//   ListCertificates, UpdateCertificate, DeleteCertificate;
// - IoT policies: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy,
//   CreatePolicyVersion, GetPolicyVersion, ListPolicyVersions,
//   SetDefaultPolicyVersion, DeletePolicyVersion;
// - policy attachments: AttachPolicy, DetachPolicy, ListAttachedPolicies,
//   ListTargetsForPolicy, and the older AttachPrincipalPolicy,
//   DetachPrincipalPolicy, ListPrincipalPolicies, ListPolicyPrincipals;
// - thing principals: AttachThingPrincipal, DetachThingPrincipal,
//   ListThingPrincipals, ListPrincipalThings.
// Paths, members, errors and status codes are botocore's model's. IotService
// hands it every request that is not a topic rule's or DescribeEndpoint.
#pragma once

#include <string>
#include <vector>

#include "emulator/api/service.h"
#include "emulator/auth/local_ca.h"
#include "storage/iot_registry.h"

namespace offcloud {

class IotRegistryHandlers {
 public:
  IotRegistryHandlers(IotRegistry& registry, const LocalCa& ca);

  // What the request asks of IAM: "iot:<Operation>" on the thing, cert or
  // policy ARN it names, or "*"; empty for a path that is not the registry's.
  std::vector<IamRequest> iam_requests(const HttpRequest& request,
                                       const RequestContext& context) const;
  // Answers every path: one that is not the registry's gets
  // UnknownOperationException.
  HttpResponse handle(HttpRequest& request, RequestContext& context);

 private:
  IotRegistry& registry_;
  const LocalCa& ca_;
  std::string ca_id_;  // the certificate id of offcloud's CA
};

}  // namespace offcloud

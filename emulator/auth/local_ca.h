// offcloud's own certificate authority, standing in for Amazon's: made under
// the data dir on first start and kept there, so devices trust one CA file
// (served at /_offcloud/ca.pem, used where AWS's instructions say
// AmazonRootCA1.pem) across restarts. It signs the server certificate of
// the TLS ports (names: localhost, 127.0.0.1 and any --hostname) and the
// device certificates CreateKeysAndCertificate and
// CreateCertificateFromCsr hand out.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace offcloud {

// What offcloud reads off a certificate.
struct CertificateFacts {
  // AWS IoT's certificate id: the SHA-256 of the DER encoding, lower-case hex.
  std::string id;
  std::string pem;  // normalized: one certificate, PEM, ending in a newline
  std::string subject_common_name;
  std::string subject;  // RFC 2253 ("CN=x,O=y")
  std::string issuer;
  std::string issuer_common_name;
  // The subject's and issuer's attributes by AWS IoT's policy variable
  // names (iot:Certificate.Subject.<name>): CommonName, Organization,
  // OrganizationalUnit, Country, State, SerialNumber, ...
  std::vector<std::pair<std::string, std::string>> subject_fields;
  std::vector<std::pair<std::string, std::string>> issuer_fields;
  std::int64_t not_before_ms = 0;
  std::int64_t not_after_ms = 0;
  // Whether the certificate's issuer is offcloud's CA (and its signature
  // checks out against it).
  bool issued_by_local_ca = false;
};

class LocalCa {
 public:
  // Loads the CA from `dir` (ca.key, ca.pem), creating both when neither
  // exists, and makes a server certificate naming localhost, 127.0.0.1 and
  // `hostnames` (kept beside them, remade when the names change, it nears
  // expiry or its key does not match). Throws std::runtime_error when the
  // files cannot be read or written, or only one of the CA's is there (a
  // new CA would silently break every device that trusts the old one).
  explicit LocalCa(const std::string& dir, const std::vector<std::string>& hostnames = {});
  ~LocalCa();
  LocalCa(const LocalCa&) = delete;
  LocalCa& operator=(const LocalCa&) = delete;

  const std::string& ca_pem() const;
  const std::string& server_certificate_pem() const;  // the leaf, then the CA
  const std::string& server_key_pem() const;
  const std::string& directory() const;

  struct Issued {
    std::string certificate_pem;
    std::string public_key_pem;
    std::string private_key_pem;
  };
  // A new RSA 2048 key pair and a certificate for it, as
  // CreateKeysAndCertificate gives (subject CN "AWS IoT Certificate"). Keys
  // take a fraction of a second to make: after the first call a few are
  // made ahead on a thread of the CA's own, so a class creating
  // certificates at once does not hold up the server's threads.
  Issued issue_keys_and_certificate() const;
  // A certificate for the key of a PEM certificate signing request, subject
  // taken from it, as CreateCertificateFromCsr gives; nullopt, with why in
  // *error, when the CSR does not parse or its signature is wrong.
  std::optional<std::string> sign_request(std::string_view csr_pem, std::string* error) const;

  // Reads one PEM (or DER) certificate; nullopt, with why in *error, when it
  // is not one.
  std::optional<CertificateFacts> read(std::string_view pem, std::string* error) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace offcloud

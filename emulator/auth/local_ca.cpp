#include "emulator/auth/local_ca.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace offcloud {
namespace {

namespace fs = std::filesystem;

// OpenSSL objects, freed on every path.
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct ReqFree {
  void operator()(X509_REQ* req) const { X509_REQ_free(req); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;
using Bio = std::unique_ptr<BIO, BioFree>;
using Req = std::unique_ptr<X509_REQ, ReqFree>;

// The CA's and the server's lifetimes; device certificates run to the end of
// 2049, as AWS IoT's do.
constexpr long kCaDays = 20 * 365;
constexpr long kServerDays = 397;  // what browsers accept of a leaf
constexpr long kRenewServerDays = 30;
constexpr std::time_t kDeviceNotAfter = 2524607999;  // 2049-12-31T23:59:59Z

std::string openssl_error(const std::string& what) {
  unsigned long code = ERR_get_error();
  char text[256] = "unknown error";
  if (code) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return what + ": " + text;
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(openssl_error(what));
}

Key new_ec_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail("making a P-256 key");
  return key;
}

Key new_rsa_key() {
  Key key(EVP_RSA_gen(2048));
  if (!key) fail("making an RSA key");
  return key;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string cert_pem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(bio.get(), cert)) fail("writing a certificate");
  return bio_text(bio.get());
}

std::string private_key_pem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  // Traditional RSA form for RSA keys ("BEGIN RSA PRIVATE KEY"), as AWS
  // hands them out; PKCS#8 for the EC keys offcloud keeps itself.
  bool ok = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA
                ? PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                       nullptr)
                : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  if (!ok) fail("writing a private key");
  return bio_text(bio.get());
}

std::string public_key_pem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PUBKEY(bio.get(), key)) fail("writing a public key");
  return bio_text(bio.get());
}

Key read_key(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) fail("reading a private key");
  return key;
}

Key read_key_or_null(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return key;
}

Cert read_cert(std::string_view text) {
  Bio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    const auto* der = reinterpret_cast<const unsigned char*>(text.data());
    cert.reset(d2i_X509(nullptr, &der, static_cast<long>(text.size())));
  }
  ERR_clear_error();
  return cert;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Written whole or not at all, and synced; keys are readable by their owner
// only from the moment the file exists.
void write_file(const fs::path& path, const std::string& text, bool secret) {
  fs::path temporary = path;
  temporary += ".tmp";
  ::unlink(temporary.c_str());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, secret ? 0600 : 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + temporary.string());
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("cannot write " + temporary.string());
    }
    done += static_cast<std::size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) throw std::runtime_error("cannot sync " + temporary.string());
  fs::rename(temporary, path);
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void set_random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) fail("drawing a serial number");
  bytes[0] &= 0x7f;  // positive
  BIGNUM* number = BN_bin2bn(bytes, sizeof bytes, nullptr);
  ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert));
  BN_free(number);
  if (!serial) fail("setting a serial number");
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (!extension) fail("making a certificate extension");
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

void add_name_entry(X509_NAME* name, const char* field, const std::string& value) {
  X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
}

using Extensions = std::vector<std::pair<int, std::string>>;

// A certificate for `key` named `subject` with `extensions`, signed by
// `issuer` (its key `issuer_key`), or by itself when `issuer` is null: the
// CA.
Cert sign(EVP_PKEY* key, X509_NAME* subject, X509* issuer, EVP_PKEY* issuer_key,
          std::time_t not_after, const Extensions& extensions) {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  set_random_serial(cert.get());
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // clocks differ a little
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, 0, &not_after);
  X509_set_subject_name(cert.get(), subject);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject);
  X509_set_pubkey(cert.get(), key);
  X509* signer = issuer ? issuer : cert.get();
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  for (const auto& [nid, value] : extensions) add_extension(cert.get(), signer, nid, value);
  if (!X509_sign(cert.get(), issuer_key, EVP_sha256())) fail("signing a certificate");
  return cert;
}

// An X509_NAME freed on every path.
struct NameFree {
  void operator()(X509_NAME* name) const { X509_NAME_free(name); }
};
using Name = std::unique_ptr<X509_NAME, NameFree>;

Name make_name(const std::vector<std::pair<const char*, std::string>>& entries) {
  Name name(X509_NAME_new());
  for (const auto& [field, value] : entries) add_name_entry(name.get(), field, value);
  return name;
}

std::time_t days_from_now(long days) {
  return std::time(nullptr) + days * 24 * 3600;
}

std::int64_t time_ms(const ASN1_TIME* time) {
  std::tm parts{};
  if (!time || ASN1_TIME_to_tm(time, &parts) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&parts)) * 1000;
}

std::string name_text(X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return bio_text(bio.get());
}

std::string common_name(X509_NAME* name) {
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return {};
  std::string text(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return text;
}

// A name's attributes by AWS IoT's policy variable names, the first value
// of each.
std::vector<std::pair<std::string, std::string>> name_fields(X509_NAME* name) {
  static constexpr std::pair<int, const char*> kFields[] = {
      {NID_commonName, "CommonName"},
      {NID_organizationName, "Organization"},
      {NID_organizationalUnitName, "OrganizationalUnit"},
      {NID_countryName, "Country"},
      {NID_stateOrProvinceName, "State"},
      {NID_dnQualifier, "DistinguishedNameQualifier"},
      {NID_serialNumber, "SerialNumber"},
      {NID_title, "Title"},
      {NID_surname, "Surname"},
      {NID_givenName, "GivenName"},
      {NID_initials, "Initials"},
      {NID_pseudonym, "Pseudonym"},
      {NID_generationQualifier, "GenerationQualifier"},
  };
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& [nid, field] : kFields) {
    int index = X509_NAME_get_index_by_NID(name, nid, -1);
    if (index < 0) continue;
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    unsigned char* utf8 = nullptr;
    int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length < 0) continue;
    fields.emplace_back(
        field, std::string(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length)));
    OPENSSL_free(utf8);
  }
  return fields;
}

bool is_ip_address(const std::string& name) {
  return name.find_first_not_of("0123456789.") == std::string::npos ||
         name.find(':') != std::string::npos;
}

std::vector<std::string> names_list(const std::vector<std::string>& hostnames) {
  std::vector<std::string> names = {"localhost", "127.0.0.1", "::1"};
  for (const std::string& name : hostnames) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

std::string names_line(const std::vector<std::string>& hostnames) {
  std::string line;
  for (const std::string& name : names_list(hostnames)) line += name + " ";
  return line + "\n";
}

}  // namespace

struct LocalCa::Impl {
  std::string dir;
  Key ca_key;
  Cert ca_cert;
  std::string ca_pem;
  std::string server_pem;
  std::string server_key_pem;

  // RSA keys made ahead for CreateKeysAndCertificate, by `maker` once the
  // first is asked for.
  static constexpr std::size_t kSpareKeys = 4;
  std::mutex keys_mutex;
  std::condition_variable keys_wanted;
  std::deque<Key> spare_keys;
  std::thread maker;
  bool stopping = false;

  ~Impl() {
    {
      std::lock_guard lock(keys_mutex);
      stopping = true;
    }
    keys_wanted.notify_all();
    if (maker.joinable()) maker.join();
  }

  Key take_key() {
    std::unique_lock lock(keys_mutex);
    if (!maker.joinable()) maker = std::thread([this] { make_keys(); });
    keys_wanted.notify_one();
    if (!spare_keys.empty()) {
      Key key = std::move(spare_keys.front());
      spare_keys.pop_front();
      return key;
    }
    lock.unlock();
    return new_rsa_key();
  }

  void make_keys() {
    std::unique_lock lock(keys_mutex);
    for (;;) {
      keys_wanted.wait(lock, [this] { return stopping || spare_keys.size() < kSpareKeys; });
      if (stopping) return;
      lock.unlock();
      Key key;
      try {
        key = new_rsa_key();
      } catch (const std::exception&) {
        // Asked for again by the next take_key(), which makes its own.
      }
      lock.lock();
      if (!key) return;
      spare_keys.push_back(std::move(key));
    }
  }

  void load_or_create_ca() {
    fs::path key_path = fs::path(dir) / "ca.key";
    fs::path cert_path = fs::path(dir) / "ca.pem";
    std::string key_text = read_file(key_path);
    std::string cert_text = read_file(cert_path);
    if (!cert_text.empty() || fs::exists(cert_path)) {
      // Devices trust this CA: never replace it behind their back.
      if (key_text.empty()) {
        throw std::runtime_error(cert_path.string() + " is there but its key " + key_path.string() +
                                 " is missing or empty");
      }
      ca_key = read_key(key_text);
      ca_cert = read_cert(cert_text);
      if (!ca_cert) throw std::runtime_error("cannot read " + cert_path.string());
      if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
        throw std::runtime_error(key_path.string() + " is not the key of " + cert_path.string());
      }
      ca_pem = cert_text;
      return;
    }
    // No certificate: a first start, or one that stopped between writing
    // the key and the certificate (the key goes first), when nobody can
    // have been given the certificate yet.
    ca_key = new_ec_key();
    Name name = make_name({{"O", "offcloud"}, {"CN", "offcloud local CA"}});
    ca_cert = sign(ca_key.get(), name.get(), nullptr, ca_key.get(), days_from_now(kCaDays),
                   {{NID_basic_constraints, "critical,CA:TRUE"},
                    {NID_key_usage, "critical,keyCertSign,cRLSign"}});
    ca_pem = cert_pem(ca_cert.get());
    write_file(key_path, private_key_pem(ca_key.get()), true);
    write_file(cert_path, ca_pem, false);
  }

  // The server's certificate is kept while it names what is asked, was
  // signed by this CA and has a month left; else it is made again.
  void load_or_create_server(const std::vector<std::string>& hostnames) {
    fs::path key_path = fs::path(dir) / "server.key";
    fs::path cert_path = fs::path(dir) / "server.pem";
    fs::path names_path = fs::path(dir) / "server.names";
    std::string names = names_line(hostnames);
    std::string key_text = read_file(key_path);
    std::string cert_text = read_file(cert_path);
    if (!key_text.empty() && !cert_text.empty() && read_file(names_path) == names) {
      Cert cert = read_cert(cert_text);
      std::time_t renew = days_from_now(kRenewServerDays);
      Key key = read_key_or_null(key_text);
      if (cert && key && X509_check_private_key(cert.get(), key.get()) == 1 &&
          X509_verify(cert.get(), X509_get0_pubkey(ca_cert.get())) == 1 &&
          X509_cmp_time(X509_get0_notAfter(cert.get()), &renew) > 0) {
        server_pem = cert_text + ca_pem;
        server_key_pem = key_text;
        return;
      }
    }
    ERR_clear_error();
    Key key = new_ec_key();
    std::string alt;
    for (const std::string& each : names_list(hostnames)) {
      alt += (alt.empty() ? "" : ",") + std::string(is_ip_address(each) ? "IP:" : "DNS:") + each;
    }
    Name name =
        make_name({{"O", "offcloud"}, {"CN", hostnames.empty() ? "localhost" : hostnames.front()}});
    Cert cert = sign(key.get(), name.get(), ca_cert.get(), ca_key.get(), days_from_now(kServerDays),
                     {{NID_basic_constraints, "critical,CA:FALSE"},
                      {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                      {NID_ext_key_usage, "serverAuth"},
                      {NID_subject_alt_name, alt}});
    std::string leaf = cert_pem(cert.get());
    server_key_pem = private_key_pem(key.get());
    server_pem = leaf + ca_pem;
    write_file(key_path, server_key_pem, true);
    write_file(cert_path, leaf, false);
    write_file(names_path, names, false);
  }

  // A device certificate for `key` named `subject`, signed by the CA.
  std::string issue(EVP_PKEY* key, X509_NAME* subject) const {
    Cert cert = sign(key, subject, ca_cert.get(), ca_key.get(), kDeviceNotAfter,
                     {{NID_basic_constraints, "critical,CA:FALSE"},
                      {NID_key_usage, "critical,digitalSignature"},
                      {NID_ext_key_usage, "clientAuth"}});
    return cert_pem(cert.get());
  }
};

LocalCa::LocalCa(const std::string& dir, const std::vector<std::string>& hostnames)
    : impl_(std::make_unique<Impl>()) {
  impl_->dir = dir;
  fs::create_directories(dir);
  impl_->load_or_create_ca();
  impl_->load_or_create_server(hostnames);
}

LocalCa::~LocalCa() = default;

const std::string& LocalCa::ca_pem() const {
  return impl_->ca_pem;
}

const std::string& LocalCa::server_certificate_pem() const {
  return impl_->server_pem;
}

const std::string& LocalCa::server_key_pem() const {
  return impl_->server_key_pem;
}

const std::string& LocalCa::directory() const {
  return impl_->dir;
}

LocalCa::Issued LocalCa::issue_keys_and_certificate() const {
  Key key = impl_->take_key();
  Name subject = make_name({{"CN", "AWS IoT Certificate"}});
  Issued issued;
  issued.certificate_pem = impl_->issue(key.get(), subject.get());
  issued.public_key_pem = public_key_pem(key.get());
  issued.private_key_pem = private_key_pem(key.get());
  return issued;
}

std::optional<std::string> LocalCa::sign_request(std::string_view csr_pem,
                                                 std::string* error) const {
  Bio bio(BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())));
  Req request(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!request) {
    *error = openssl_error("The certificate signing request is not valid PEM");
    return std::nullopt;
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(request.get());
  if (!key || X509_REQ_verify(request.get(), key) != 1) {
    *error = openssl_error("The certificate signing request's signature does not verify");
    return std::nullopt;
  }
  return impl_->issue(key, X509_REQ_get_subject_name(request.get()));
}

std::optional<CertificateFacts> LocalCa::read(std::string_view pem, std::string* error) const {
  Cert cert = read_cert(pem);
  if (!cert) {
    *error = "The certificate is not a valid PEM or DER X.509 certificate.";
    return std::nullopt;
  }
  CertificateFacts facts;
  int der_size = i2d_X509(cert.get(), nullptr);
  std::string der(static_cast<std::size_t>(std::max(der_size, 0)), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(cert.get(), &out);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(der.data()), der.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char byte : digest) {
    facts.id += kHex[byte >> 4];
    facts.id += kHex[byte & 15];
  }
  facts.pem = cert_pem(cert.get());
  facts.subject = name_text(X509_get_subject_name(cert.get()));
  facts.subject_common_name = common_name(X509_get_subject_name(cert.get()));
  facts.issuer = name_text(X509_get_issuer_name(cert.get()));
  facts.issuer_common_name = common_name(X509_get_issuer_name(cert.get()));
  facts.subject_fields = name_fields(X509_get_subject_name(cert.get()));
  facts.issuer_fields = name_fields(X509_get_issuer_name(cert.get()));
  facts.not_before_ms = time_ms(X509_get0_notBefore(cert.get()));
  facts.not_after_ms = time_ms(X509_get0_notAfter(cert.get()));
  facts.issued_by_local_ca = X509_NAME_cmp(X509_get_issuer_name(cert.get()),
                                           X509_get_subject_name(impl_->ca_cert.get())) == 0 &&
                             X509_verify(cert.get(), X509_get0_pubkey(impl_->ca_cert.get())) == 1;
  ERR_clear_error();
  return facts;
}

}  // namespace offcloud

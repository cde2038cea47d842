#include "client/sigv4_signer.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <stdexcept>
#include <vector>

#include "client/uri_encoding.h"
#include "storage/digest.h"

namespace offcloud::client {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// Headers a proxy or the transport may add, drop or rewrite: signing them
// would make a correct request fail verification.
bool is_unsigned_header(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "connection" || lower_name == "x-amzn-trace-id" ||
         lower_name == "transfer-encoding";
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// Trims the value and folds each inner run of spaces and tabs to one space.
std::string canonical_header_value(std::string_view value) {
  std::string out;
  bool in_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

struct CanonicalHeaders {
  std::string names;  // "host;x-amz-date"
  std::string block;  // "host:...\nx-amz-date:...\n"
};

CanonicalHeaders canonical_headers(const Fields& headers) {
  // Sorted by lower-case name; repeated fields joined by ',' in sending order.
  std::map<std::string, std::string> by_name;
  for (const auto& [name, value] : headers) {
    std::string key = lower(name);
    if (is_unsigned_header(key)) continue;
    auto [it, inserted] = by_name.try_emplace(key, canonical_header_value(value));
    if (!inserted) it->second += "," + canonical_header_value(value);
  }
  CanonicalHeaders out;
  for (const auto& [name, value] : by_name) {
    out.names += (out.names.empty() ? "" : ";") + name;
    out.block += name + ":" + value + "\n";
  }
  return out;
}

std::string signature_hex(const Credentials& credentials, std::string_view date,
                          std::string_view region, std::string_view service,
                          std::string_view string_to_sign) {
  Sha256 key = hmac_sha256("AWS4" + credentials.secret_access_key, date);
  key =
      hmac_sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), region);
  key =
      hmac_sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), service);
  key = hmac_sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()),
                    "aws4_request");
  return hex(hmac_sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()),
                         string_to_sign));
}

void require_host(const Request& request) {
  if (!request.header("host")) throw std::invalid_argument("SigV4: the request has no Host header");
}

}  // namespace

PathRules path_rules_for(std::string_view service) {
  if (service == "s3") return {.normalize = false, .encode = false};
  return {};
}

std::string normalize_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view segment = path.substr(start, slash - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = slash + 1;
  }
  std::string out;
  for (std::string_view segment : segments) {
    out += "/";
    out += segment;
  }
  // A path naming a directory ("/a/", "/a/b/..", "/a/.") keeps its slash.
  bool directory = path.ends_with("/") || path.ends_with("/.") || path.ends_with("/..");
  if (out.empty() || directory) out += "/";
  return out;
}

std::string canonical_path(std::string_view wire_path, PathRules rules) {
  std::string path = wire_path.empty() ? "/" : std::string(wire_path);
  if (rules.normalize) path = normalize_path(path);
  if (rules.encode) path = uri_encode(path, /*keep_slash=*/true);
  return path;
}

std::string canonical_query_string(const Fields& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    out += (out.empty() ? "" : "&") + name + "=" + value;
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[17];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

SigV4Signer::SigV4Signer(Credentials credentials, std::string region, std::string service)
    : SigV4Signer(std::move(credentials), std::move(region), service, path_rules_for(service)) {}

SigV4Signer::SigV4Signer(Credentials credentials, std::string region, std::string service,
                         PathRules rules)
    : credentials_(std::move(credentials)),
      region_(std::move(region)),
      service_(std::move(service)),
      rules_(rules) {}

std::string SigV4Signer::scope(std::string_view date) const {
  return std::string(date) + "/" + region_ + "/" + service_ + "/aws4_request";
}

SigningResult SigV4Signer::compute(const Request& request, std::string_view amz_date,
                                   std::string_view signed_header_names,
                                   std::string_view canonical_headers,
                                   std::string_view payload_hash) const {
  SigningResult result;
  result.canonical_request = request.method + "\n" + canonical_path(request.path, rules_) + "\n" +
                             canonical_query_string(request.query) + "\n" +
                             std::string(canonical_headers) + "\n" +
                             std::string(signed_header_names) + "\n" + std::string(payload_hash);
  result.string_to_sign = std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" +
                          scope(amz_date.substr(0, 8)) + "\n" +
                          sha256_hex(result.canonical_request);
  result.signature =
      signature_hex(credentials_, amz_date.substr(0, 8), region_, service_, result.string_to_sign);
  return result;
}

SigningResult SigV4Signer::sign(Request* request, std::chrono::system_clock::time_point now,
                                const SignOptions& options) const {
  require_host(*request);
  std::string date_time = amz_date(now);
  request->set_header("X-Amz-Date", date_time);
  bool has_token = !credentials_.session_token.empty();
  if (has_token && options.sign_session_token) {
    request->set_header("X-Amz-Security-Token", credentials_.session_token);
  }
  std::string payload_hash =
      options.payload_hash ? *options.payload_hash : sha256_hex(request->body);
  if (options.content_sha256_header) request->set_header("x-amz-content-sha256", payload_hash);

  CanonicalHeaders headers = canonical_headers(request->headers);
  SigningResult result = compute(*request, date_time, headers.names, headers.block, payload_hash);
  request->set_header("Authorization",
                      std::string(kAlgorithm) + " Credential=" + credentials_.access_key_id + "/" +
                          scope(date_time.substr(0, 8)) + ", SignedHeaders=" + headers.names +
                          ", Signature=" + result.signature);
  if (has_token && !options.sign_session_token) {
    request->set_header("X-Amz-Security-Token", credentials_.session_token);
  }
  return result;
}

SigningResult SigV4Signer::presign(Request* request, std::chrono::system_clock::time_point now,
                                   std::chrono::seconds expires, const SignOptions& options) const {
  require_host(*request);
  std::string date_time = amz_date(now);
  CanonicalHeaders headers = canonical_headers(request->headers);
  bool has_token = !credentials_.session_token.empty();
  auto& query = request->query;
  query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  query.emplace_back("X-Amz-Credential",
                     credentials_.access_key_id + "/" + scope(date_time.substr(0, 8)));
  query.emplace_back("X-Amz-Date", date_time);
  query.emplace_back("X-Amz-SignedHeaders", headers.names);
  query.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  if (has_token && options.sign_session_token) {
    query.emplace_back("X-Amz-Security-Token", credentials_.session_token);
  }
  std::string payload_hash =
      options.payload_hash ? *options.payload_hash : sha256_hex(request->body);
  SigningResult result = compute(*request, date_time, headers.names, headers.block, payload_hash);
  if (has_token && !options.sign_session_token) {
    query.emplace_back("X-Amz-Security-Token", credentials_.session_token);
  }
  query.emplace_back("X-Amz-Signature", result.signature);
  return result;
}

}  // namespace offcloud::client

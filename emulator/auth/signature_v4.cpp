#include "emulator/auth/signature_v4.h"

#include <algorithm>
#include <stdexcept>

namespace offcloud {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split(std::string_view s, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = s.find(separator, start);
    parts.emplace_back(s.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// "AKID/20150830/us-east-1/service/aws4_request" into the params. The key id
// is everything before the last four parts.
bool parse_credential(std::string_view credential, SigV4Params* params) {
  std::vector<std::string> parts = split(credential, '/');
  if (parts.size() < 5) return false;
  std::size_t n = parts.size();
  params->terminator = parts[n - 1];
  params->service = parts[n - 2];
  params->region = parts[n - 3];
  params->date = parts[n - 4];
  std::string key = parts[0];
  for (std::size_t i = 1; i + 4 < n; ++i) key += "/" + parts[i];
  params->access_key_id = key;
  return !key.empty() && !params->date.empty() && !params->region.empty() &&
         !params->service.empty();
}

ParsedAuth malformed(std::string error) {
  ParsedAuth parsed;
  parsed.state = ParsedAuth::State::kMalformed;
  parsed.error = std::move(error);
  return parsed;
}

ParsedAuth parse_header(std::string_view authorization, const HttpRequest& request) {
  if (!authorization.starts_with(kSigV4Algorithm) ||
      (authorization.size() > kSigV4Algorithm.size() &&
       authorization[kSigV4Algorithm.size()] != ' ')) {
    return malformed("Unsupported authorization type; only " + std::string(kSigV4Algorithm) +
                     " is supported.");
  }
  ParsedAuth parsed;
  parsed.state = ParsedAuth::State::kSigned;
  SigV4Params& params = parsed.params;
  bool have_credential = false, have_headers = false, have_signature = false;
  for (const std::string& part : split(authorization.substr(kSigV4Algorithm.size()), ',')) {
    std::string_view item = trim(part);
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = item.substr(0, eq), value = item.substr(eq + 1);
    if (name == "Credential") {
      have_credential = parse_credential(value, &params);
      if (!have_credential) return malformed("Credential is malformed: " + std::string(value));
    } else if (name == "SignedHeaders") {
      params.signed_headers = split(value, ';');
      have_headers = !value.empty();
    } else if (name == "Signature") {
      params.signature = std::string(value);
      have_signature = !value.empty();
    }
  }
  if (!have_credential) return malformed("Authorization header requires 'Credential' parameter.");
  if (!have_headers) return malformed("Authorization header requires 'SignedHeaders' parameter.");
  if (!have_signature) return malformed("Authorization header requires 'Signature' parameter.");
  params.amz_date = std::string(request.headers.get("x-amz-date"));
  if (params.amz_date.empty()) {
    return malformed(
        "Authorization header requires existence of either a 'X-Amz-Date' or a "
        "'Date' header.");
  }
  if (const std::string* token = request.headers.find("x-amz-security-token")) {
    params.security_token = *token;
  }
  return parsed;
}

ParsedAuth parse_presigned(const QueryParams& query) {
  ParsedAuth parsed;
  parsed.state = ParsedAuth::State::kSigned;
  SigV4Params& params = parsed.params;
  params.presigned = true;
  const std::string* algorithm = find_param(query, "X-Amz-Algorithm");
  if (*algorithm != kSigV4Algorithm) {
    return malformed("X-Amz-Algorithm only supports \"" + std::string(kSigV4Algorithm) + "\"");
  }
  const std::string* credential = find_param(query, "X-Amz-Credential");
  const std::string* date = find_param(query, "X-Amz-Date");
  const std::string* headers = find_param(query, "X-Amz-SignedHeaders");
  const std::string* signature = find_param(query, "X-Amz-Signature");
  if (!credential || !date || !headers || !signature) {
    return malformed(
        "Query-string authentication requires the X-Amz-Algorithm, "
        "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders and "
        "X-Amz-Expires parameters.");
  }
  if (!parse_credential(*credential, &params)) {
    return malformed("Error parsing the X-Amz-Credential parameter.");
  }
  params.amz_date = *date;
  params.signed_headers = split(*headers, ';');
  params.signature = *signature;
  if (const std::string* expires = find_param(query, "X-Amz-Expires")) {
    try {
      std::size_t used = 0;
      params.expires_s = std::stoll(*expires, &used);
      if (used != expires->size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      return malformed("X-Amz-Expires should be a number");
    }
  }
  if (const std::string* token = find_param(query, "X-Amz-Security-Token")) {
    params.security_token = *token;
  }
  return parsed;
}

}  // namespace

ParsedAuth parse_sigv4(const HttpRequest& request, const QueryParams& query) {
  if (const std::string* authorization = request.headers.find("authorization")) {
    return parse_header(*authorization, request);
  }
  if (find_param(query, "X-Amz-Algorithm")) return parse_presigned(query);
  return {};
}

std::string canonical_uri(std::string_view wire_path, bool s3) {
  if (wire_path.empty()) return "/";
  if (s3) return std::string(wire_path);
  return uri_encode(normalize_path(wire_path), /*keep_slash=*/true);
}

std::string canonical_query(const QueryParams& params, std::string_view skip,
                            std::string_view skip_also) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) {
    if (name == skip || (!skip_also.empty() && name == skip_also)) continue;
    encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string canonical_headers(const Headers& headers,
                              const std::vector<std::string>& signed_names) {
  std::string out;
  for (const std::string& name : signed_names) {
    out += name;
    out.push_back(':');
    bool first = true;
    for (const auto& [field, value] : headers) {
      if (!iequals(field, name)) continue;
      if (!first) out.push_back(',');
      first = false;
      // Trim, and fold each run of spaces (or a folded line break) into one.
      std::string_view v = trim(value);
      bool in_space = false;
      for (char c : v) {
        bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
        if (space) {
          if (!in_space) out.push_back(' ');
        } else {
          out.push_back(c);
        }
        in_space = space;
      }
    }
    out.push_back('\n');
  }
  return out;
}

std::optional<std::string> signed_payload_hash(const HttpRequest& request, bool s3,
                                               bool presigned) {
  if (!s3) return sha256_hex(request.body);
  if (const std::string* declared = request.headers.find("x-amz-content-sha256")) return *declared;
  if (presigned) return std::string(kUnsignedPayload);
  return std::nullopt;
}

std::string canonical_request(const CanonicalRequestParts& parts) {
  std::string out;
  out.reserve(parts.uri.size() + parts.query.size() + parts.headers.size() + 160);
  out.append(parts.method).push_back('\n');
  out.append(parts.uri).push_back('\n');
  out.append(parts.query).push_back('\n');
  out.append(parts.headers).push_back('\n');
  out.append(parts.signed_headers).push_back('\n');
  out.append(parts.payload_hash);
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  std::string out(kSigV4Algorithm);
  out.push_back('\n');
  out.append(amz_date).push_back('\n');
  out.append(scope).push_back('\n');
  out.append(sha256_hex(canonical_request));
  return out;
}

Sha256 derive_signing_key(std::string_view secret, std::string_view date, std::string_view region,
                          std::string_view service) {
  auto view = [](const Sha256& digest) {
    return std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size());
  };
  Sha256 k_date = hmac_sha256("AWS4" + std::string(secret), date);
  Sha256 k_region = hmac_sha256(view(k_date), region);
  Sha256 k_service = hmac_sha256(view(k_region), service);
  return hmac_sha256(view(k_service), "aws4_request");
}

std::string compute_signature(const Sha256& signing_key, std::string_view string_to_sign) {
  return hex(hmac_sha256(
      std::string_view(reinterpret_cast<const char*>(signing_key.data()), signing_key.size()),
      string_to_sign));
}

}  // namespace offcloud

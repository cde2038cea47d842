#include "emulator/auth/signature_v2.h"

#include <algorithm>
#include <charconv>

namespace offcloud {
namespace {

// The query parameters that are part of what SigV2 signs (botocore's list).
constexpr std::string_view kSignedSubresources[] = {"accelerate",
                                                    "acl",
                                                    "analytics",
                                                    "cors",
                                                    "defaultObjectAcl",
                                                    "delete",
                                                    "inventory",
                                                    "lifecycle",
                                                    "location",
                                                    "logging",
                                                    "metrics",
                                                    "notification",
                                                    "object-lock",
                                                    "partNumber",
                                                    "policy",
                                                    "replication",
                                                    "requestPayment",
                                                    "response-cache-control",
                                                    "response-content-disposition",
                                                    "response-content-encoding",
                                                    "response-content-language",
                                                    "response-content-type",
                                                    "response-expires",
                                                    "restore",
                                                    "select",
                                                    "select-type",
                                                    "storageClass",
                                                    "tagging",
                                                    "torrent",
                                                    "uploadId",
                                                    "uploads",
                                                    "versionId",
                                                    "versioning",
                                                    "versions",
                                                    "website"};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

}  // namespace

bool is_sigv2_presigned(const QueryParams& query) {
  return find_param(query, "AWSAccessKeyId") && find_param(query, "Signature") &&
         find_param(query, "Expires");
}

std::string s3_virtual_host_bucket(std::string_view host) {
  if (std::size_t colon = host.rfind(':');
      colon != std::string_view::npos && host.find(']') == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  std::string_view bucket;
  if (host.ends_with(".localhost")) {
    bucket = host.substr(0, host.size() - std::string_view(".localhost").size());
    if (bucket.ends_with(".s3")) bucket.remove_suffix(3);
    if (bucket == "s3") bucket = {};
  } else if (std::size_t at = host.find(".s3."); at != std::string_view::npos && at > 0) {
    bucket = host.substr(0, at);
  }
  return std::string(bucket);
}

std::optional<AuthFailure> verify_sigv2_presigned(const HttpRequest& request,
                                                  const QueryParams& query,
                                                  const CredentialStore& credentials,
                                                  std::chrono::system_clock::time_point now,
                                                  Principal* principal) {
  auto fail = [](AuthFailureKind kind, std::string message) {
    return AuthFailure{kind, std::move(message), {}, {}, {}};
  };
  const std::string& key_id = *find_param(query, "AWSAccessKeyId");
  const std::string& expires = *find_param(query, "Expires");
  std::optional<Credential> credential = credentials.find(key_id);
  if (!credential || !credential->active) {
    return fail(AuthFailureKind::kUnknownKey,
                "The AWS Access Key Id you provided does not exist in our records.");
  }
  long long expires_at = 0;
  auto [end, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), expires_at);
  if (ec != std::errc() || end != expires.data() + expires.size()) {
    return fail(AuthFailureKind::kMalformed, "Invalid date (should be seconds since epoch)");
  }
  // Compared in seconds: any Expires must be read, and one centuries ahead
  // would overflow the clock's nanoseconds.
  if (expires_at < static_cast<long long>(std::chrono::system_clock::to_time_t(now))) {
    AuthFailure expired = fail(AuthFailureKind::kExpired, "Request has expired");
    expired.server_time = format_amz_date(now);
    return expired;
  }

  std::string resource;
  std::string bucket = s3_virtual_host_bucket(request.headers.get("host"));
  if (!bucket.empty()) resource = "/" + bucket;
  resource += request.path.empty() ? "/" : request.path;
  std::vector<std::pair<std::string, std::string>> subresources;
  for (const auto& [name, value] : query) {
    if (std::find(std::begin(kSignedSubresources), std::end(kSignedSubresources), name) !=
        std::end(kSignedSubresources)) {
      subresources.emplace_back(name, value);
    }
  }
  std::sort(subresources.begin(), subresources.end());
  for (std::size_t i = 0; i < subresources.size(); ++i) {
    resource += (i == 0 ? "?" : "&") + subresources[i].first;
    if (!subresources[i].second.empty()) resource += "=" + subresources[i].second;
  }
  std::vector<std::pair<std::string, std::string>> amz_headers;
  for (const auto& [name, value] : request.headers) {
    std::string field = lower(name);
    if (field.starts_with("x-amz-")) amz_headers.emplace_back(std::move(field), value);
  }
  std::sort(amz_headers.begin(), amz_headers.end());
  std::string to_sign = request.method + "\n" + std::string(request.headers.get("content-md5")) +
                        "\n" + std::string(request.headers.get("content-type")) + "\n" + expires +
                        "\n";
  for (const auto& [name, value] : amz_headers) to_sign += name + ":" + value + "\n";
  to_sign += resource;

  std::string expected = base64_encode(hmac_sha1(credential->secret_access_key, to_sign));
  if (!constant_time_equals(expected, *find_param(query, "Signature"))) {
    AuthFailure mismatch = fail(AuthFailureKind::kSignatureMismatch,
                                "The request signature we calculated does not match the "
                                "signature you provided. Check your key and signing method.");
    mismatch.string_to_sign = std::move(to_sign);
    return mismatch;
  }
  *principal = credential->principal;
  return std::nullopt;
}

}  // namespace offcloud

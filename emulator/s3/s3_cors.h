// S3 CORS configurations: the <CORSConfiguration> of PutBucketCors, checked
// as S3 checks it, written back for GetBucketCors, and matched against a
// browser's request (a preflight OPTIONS or the actual request) as S3
// evaluates its rules: the first rule that allows the origin, the method
// and every requested header wins.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/s3/s3_invalid.h"

namespace offcloud::s3 {

inline constexpr std::size_t kMaxCorsRules = 100;

struct CorsRule {
  std::string id;
  std::vector<std::string> allowed_methods;  // GET, PUT, POST, DELETE, HEAD
  std::vector<std::string> allowed_origins;  // each with at most one '*'
  std::vector<std::string> allowed_headers;  // each with at most one '*'
  std::vector<std::string> expose_headers;
  std::optional<long long> max_age_seconds;
};

std::optional<S3Invalid> parse_cors(std::string_view body, std::vector<CorsRule>* rules);
std::string cors_xml(const std::vector<CorsRule>& rules);

// The rule that lets `origin` send `method` with `request_headers` (names
// as the browser lists them), or null.
const CorsRule* match_cors(const std::vector<CorsRule>& rules, std::string_view origin,
                           std::string_view method,
                           const std::vector<std::string>& request_headers);

// "a, b,c" -> {"a", "b", "c"}: Access-Control-Request-Headers' list.
std::vector<std::string> split_header_list(std::string_view list);

}  // namespace offcloud::s3

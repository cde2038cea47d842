// S3 CORS: Put/Get/DeleteBucketCors, the preflight OPTIONS a browser sends
// before a cross-origin request (answered from the bucket's rules, with no
// credentials, as browsers send none), and the Access-Control-* headers
// on the actual requests the rules allow.
#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_cors.h"
#include "emulator/s3/s3_service.h"

namespace offcloud {
namespace {

using namespace s3;

constexpr const char* kCors = "cors";

bool preflight_method(std::string_view method) {
  for (std::string_view known : {"GET", "PUT", "POST", "DELETE", "HEAD"}) {
    if (method == known) return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// What S3 answers for a request the rule allows. A rule open to every
// origin ('*') answers '*' and allows no credentials; otherwise the
// origin itself, with credentials.
void add_allow_headers(const CorsRule& rule, const std::string& origin, HttpResponse* response) {
  bool everyone = std::find(rule.allowed_origins.begin(), rule.allowed_origins.end(), "*") !=
                  rule.allowed_origins.end();
  response->headers.set("Access-Control-Allow-Origin", everyone ? "*" : origin);
  if (!everyone) response->headers.set("Access-Control-Allow-Credentials", "true");
  response->headers.set("Vary",
                        "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
  response->headers.set("Access-Control-Allow-Methods", joined(rule.allowed_methods));
  if (!rule.expose_headers.empty()) {
    response->headers.set("Access-Control-Expose-Headers", joined(rule.expose_headers));
  }
  if (rule.max_age_seconds) {
    response->headers.set("Access-Control-Max-Age", std::to_string(*rule.max_age_seconds));
  }
}

}  // namespace

HttpResponse S3Service::put_bucket_cors(S3Call& call) {
  std::vector<CorsRule> rules;
  if (auto invalid = parse_cors(call.http.body, &rules)) {
    return error(call, invalid->code, invalid->message, invalid->details);
  }
  if (!store_.put_bucket_config(call.target.bucket, kCors, cors_xml(rules))) {
    return no_such_bucket(call);
  }
  return {};
}

HttpResponse S3Service::get_bucket_cors(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  auto stored = store_.bucket_config(call.target.bucket, kCors);
  if (!stored) {
    return error(call, ErrorCode::kNoSuchCORSConfiguration, "",
                 {{"BucketName", call.target.bucket}});
  }
  return xml_response(*stored);
}

HttpResponse S3Service::delete_bucket_cors(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  store_.delete_bucket_config(call.target.bucket, kCors);
  HttpResponse response;
  response.status = 204;
  return response;
}

HttpResponse S3Service::preflight(S3Call& call) {
  const std::string* origin = call.http.headers.find("origin");
  if (!origin) {
    return error(call, ErrorCode::kBadRequest,
                 "Insufficient information. Origin request header needed.");
  }
  const std::string* method = call.http.headers.find("access-control-request-method");
  if (!method || !preflight_method(*method)) {
    return error(call, ErrorCode::kBadRequest,
                 "Invalid Access-Control-Request-Method: " + (method ? *method : "null"));
  }
  std::vector<std::pair<std::string, std::string>> details = {
      {"Method", *method}, {"ResourceType", call.target.has_key ? "OBJECT" : "BUCKET"}};
  if (!store_.bucket(call.target.bucket)) {
    return error(call, ErrorCode::kAccessForbidden, "CORSResponse: Bucket not found", details);
  }
  auto stored = store_.bucket_config(call.target.bucket, kCors);
  std::vector<CorsRule> rules;
  if (!stored || parse_cors(*stored, &rules)) {
    return error(call, ErrorCode::kAccessForbidden,
                 "CORSResponse: CORS is not enabled for this bucket.", details);
  }
  const std::string* requested = call.http.headers.find("access-control-request-headers");
  std::vector<std::string> headers = split_header_list(requested ? *requested : "");
  const CorsRule* rule = match_cors(rules, *origin, *method, headers);
  if (!rule) return error(call, ErrorCode::kAccessForbidden, "", details);
  HttpResponse response;
  add_allow_headers(*rule, *origin, &response);
  // Every header asked for is allowed, or the rule would not match.
  if (requested && !headers.empty()) {
    response.headers.set("Access-Control-Allow-Headers", joined(headers));
  }
  return response;
}

// Access-Control-* on an actual request with an Origin a rule allows,
// whatever its answer: AWS sends them on errors too (AccessDenied,
// NoSuchKey, a POST form's EntityTooLarge or expired policy), so that the
// page can read them.
void S3Service::add_cors_headers(const HttpRequest& request, const std::string& bucket,
                                 HttpResponse* response) {
  const std::string* origin = request.headers.find("origin");
  if (!origin || bucket.empty()) return;
  auto stored = store_.bucket_config(bucket, kCors);
  std::vector<CorsRule> rules;
  if (!stored || parse_cors(*stored, &rules)) return;
  if (const CorsRule* rule = match_cors(rules, *origin, request.method, {})) {
    add_allow_headers(*rule, *origin, response);
  }
}

}  // namespace offcloud

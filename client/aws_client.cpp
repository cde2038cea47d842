#include "client/aws_client.h"

#include <algorithm>
#include <array>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

namespace offcloud::client {
namespace {

// The codes AWS SDKs treat as throttling, whatever the status.
constexpr std::array<std::string_view, 14> kThrottlingCodes = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

std::string xml_element(const std::string& body, std::string_view name) {
  std::string open = "<" + std::string(name) + ">", close = "</" + std::string(name) + ">";
  std::size_t begin = body.find(open);
  if (begin == std::string::npos) return {};
  begin += open.size();
  std::size_t end = body.find(close, begin);
  return end == std::string::npos ? std::string() : body.substr(begin, end - begin);
}

// "ForbiddenException:http://internal.amazon.com/..." or
// "com.amazonaws.iot#ForbiddenException" name the same code.
std::string bare_code(std::string code) {
  if (std::size_t colon = code.find(':'); colon != std::string::npos) code.resize(colon);
  if (std::size_t hash = code.rfind('#'); hash != std::string::npos) code.erase(0, hash + 1);
  return code;
}

}  // namespace

ServiceError::ServiceError(int status, std::string code, std::string message)
    : std::runtime_error(code + ": " + message),
      status_(status),
      code_(std::move(code)),
      message_(std::move(message)) {}

ServiceError parse_service_error(const Response& response) {
  std::string code, message;
  if (const std::string* type = response.header("x-amzn-ErrorType")) code = bare_code(*type);
  const std::string& body = response.body;
  std::size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && body[first] == '{') {
    auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (json.is_object()) {
      for (const char* key : {"__type", "code", "Code"}) {
        if (code.empty() && json.contains(key) && json[key].is_string()) {
          code = bare_code(json[key].get<std::string>());
        }
      }
      for (const char* key : {"message", "Message", "errorMessage"}) {
        if (message.empty() && json.contains(key) && json[key].is_string()) {
          message = json[key].get<std::string>();
        }
      }
    }
  } else if (first != std::string::npos && body[first] == '<') {
    if (code.empty()) code = xml_element(body, "Code");
    message = xml_element(body, "Message");
  }
  if (code.empty()) code = "HTTP " + std::to_string(response.status);
  if (message.empty()) message = response.reason;
  return ServiceError(response.status, std::move(code), std::move(message));
}

bool is_retryable(const Response& response) {
  if (response.status >= 500 || response.status == 429) return true;
  if (response.status < 400) return false;
  std::string code = parse_service_error(response).code();
  return std::find(kThrottlingCodes.begin(), kThrottlingCodes.end(), code) !=
         kThrottlingCodes.end();
}

AwsClient::AwsClient(Endpoint endpoint, Credentials credentials, std::string region,
                     std::string service, ClientOptions options)
    : connection_(std::move(endpoint), options.connection),
      signer_(std::move(credentials), std::move(region), std::move(service)),
      retry_(options.retry) {}

void AwsClient::back_off(int attempt) {
  thread_local std::mt19937 random(std::random_device{}());
  auto ceiling = std::min(retry_.max_delay.count(), retry_.base_delay.count() << attempt);
  std::uniform_int_distribution<long> delay(0, ceiling);
  std::this_thread::sleep_for(std::chrono::milliseconds(delay(random)));
}

Response AwsClient::send(Request request, const SignOptions& sign_options) {
  request.set_header("Host", connection_.endpoint().host_header());
  for (int attempt = 1;; ++attempt) {
    Request signed_request = request;  // signed afresh: the time moves on
    signer_.sign(&signed_request, std::chrono::system_clock::now(), sign_options);
    bool last = attempt >= retry_.max_attempts;
    try {
      Response response = connection_.round_trip(signed_request);
      if (last || !is_retryable(response)) return response;
    } catch (const TransportError&) {
      if (last) throw;
    }
    ++retries_;
    back_off(attempt);
  }
}

Response AwsClient::call(Request request, const SignOptions& sign_options) {
  Response response = send(std::move(request), sign_options);
  if (response.status < 200 || response.status >= 300) throw parse_service_error(response);
  return response;
}

}  // namespace offcloud::client

// Sends signed requests to one AWS service over one kept-alive connection,
// retrying what AWS SDKs retry: no response at all, 5xx, 429 and the
// throttling error codes, with exponential backoff and full jitter. Not
// thread-safe, like the connection it owns.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include "client/credentials.h"
#include "client/endpoint.h"
#include "client/http_connection.h"
#include "client/http_message.h"
#include "client/sigv4_signer.h"

namespace offcloud::client {

// A response that says the request failed, in the service's own words.
class ServiceError : public std::runtime_error {
 public:
  ServiceError(int status, std::string code, std::string message);
  int status() const { return status_; }
  // "ForbiddenException", "InvalidSignatureException", "NoSuchKey", ...
  const std::string& code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  int status_;
  std::string code_;
  std::string message_;
};

// Reads the error code and message from any AWS protocol's error response:
// x-amzn-ErrorType, a JSON "__type"/"code" and "message", or S3's XML.
ServiceError parse_service_error(const Response& response);

// Whether a response is worth sending again: 5xx, 429, or a throttling code.
bool is_retryable(const Response& response);

struct RetryPolicy {
  int max_attempts = 3;  // the first try included
  std::chrono::milliseconds base_delay{50};
  std::chrono::milliseconds max_delay{2000};
};

struct ClientOptions {
  ConnectionOptions connection;
  RetryPolicy retry;
};

class AwsClient {
 public:
  // `service` is the signing name: "iotdata", "s3", "firehose".
  AwsClient(Endpoint endpoint, Credentials credentials, std::string region, std::string service,
            ClientOptions options = {});

  // Sets Host, signs, sends and retries; returns the last response whatever
  // its status. Throws TransportError when the last attempt got no response.
  Response send(Request request, const SignOptions& sign_options = {});
  // As send(), but a non-2xx response throws ServiceError.
  Response call(Request request, const SignOptions& sign_options = {});

  HttpConnection& connection() { return connection_; }
  const std::string& region() const { return signer_.region(); }
  // Attempts beyond the first, over this client's life.
  long retries() const { return retries_; }

 private:
  void back_off(int attempt);

  HttpConnection connection_;
  SigV4Signer signer_;
  RetryPolicy retry_;
  long retries_ = 0;
};

}  // namespace offcloud::client

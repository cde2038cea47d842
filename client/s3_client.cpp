#include "client/s3_client.h"

#include "client/uri_encoding.h"

namespace offcloud::client {
namespace {

std::string object_path(std::string_view bucket, std::string_view key) {
  return "/" + std::string(bucket) + "/" + uri_encode(key, /*keep_slash=*/true);
}

}  // namespace

SignOptions s3_sign_options() {
  SignOptions options;
  options.content_sha256_header = true;
  return options;
}

Request put_object_request(std::string_view bucket, std::string_view key, std::string body) {
  Request request;
  request.method = "PUT";
  request.path = object_path(bucket, key);
  request.body = std::move(body);
  return request;
}

Request get_object_request(std::string_view bucket, std::string_view key) {
  Request request;
  request.method = "GET";
  request.path = object_path(bucket, key);
  return request;
}

S3Client::S3Client(Endpoint endpoint, Credentials credentials, std::string region,
                   ClientOptions options)
    : client_(std::move(endpoint), std::move(credentials), std::move(region), "s3", options) {}

std::string S3Client::put_object(std::string_view bucket, std::string_view key, std::string body,
                                 std::string_view content_type) {
  Request request = put_object_request(bucket, key, std::move(body));
  if (!content_type.empty()) request.set_header("Content-Type", std::string(content_type));
  Response response = client_.call(std::move(request), s3_sign_options());
  const std::string* etag = response.header("ETag");
  return etag ? *etag : std::string();
}

std::string S3Client::get_object(std::string_view bucket, std::string_view key) {
  return client_.call(get_object_request(bucket, key), s3_sign_options()).body;
}

void S3Client::create_bucket(std::string_view bucket) {
  Request request;
  request.method = "PUT";
  request.path = "/" + std::string(bucket);
  // Outside us-east-1, S3 wants the region named (IllegalLocationConstraint).
  if (client_.region() != "us-east-1") {
    request.body =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" +
        client_.region() + "</LocationConstraint></CreateBucketConfiguration>";
  }
  Response response = client_.send(std::move(request), s3_sign_options());
  if (response.status >= 200 && response.status < 300) return;
  ServiceError error = parse_service_error(response);
  if (error.code() != "BucketAlreadyOwnedByYou") throw error;
}

}  // namespace offcloud::client

// Amazon S3, path-style (http://host/bucket/key), as an emulator is
// addressed: PUT and GET of whole objects in memory, and the bucket they
// need. Every request declares its payload's SHA-256 in x-amz-content-sha256.
#pragma once

#include <string>
#include <string_view>

#include "client/aws_client.h"

namespace offcloud::client {

class S3Client {
 public:
  S3Client(Endpoint endpoint, Credentials credentials, std::string region,
           ClientOptions options = {});

  // Returns the ETag. Throws ServiceError or TransportError.
  std::string put_object(std::string_view bucket, std::string_view key, std::string body,
                         std::string_view content_type = {});
  std::string get_object(std::string_view bucket, std::string_view key);
  // In the client's region. Succeeds as well when the bucket is already
  // this caller's.
  void create_bucket(std::string_view bucket);

  AwsClient& aws() { return client_; }

 private:
  AwsClient client_;
};

// The unsigned requests, for tools that drive their own AwsClient; sign them
// with s3_sign_options().
Request put_object_request(std::string_view bucket, std::string_view key, std::string body);
Request get_object_request(std::string_view bucket, std::string_view key);
SignOptions s3_sign_options();

}  // namespace offcloud::client

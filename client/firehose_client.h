// Amazon Data Firehose (JSON 1.1 protocol): PutRecordBatch, and creating the
// Direct PUT stream to S3 it needs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "client/aws_client.h"

namespace offcloud::client {

class FirehoseClient {
 public:
  FirehoseClient(Endpoint endpoint, Credentials credentials, std::string region,
                 ClientOptions options = {});

  // Returns FailedPutCount: records the service did not take (AWS answers
  // 200 even then). Throws ServiceError or TransportError.
  int put_record_batch(std::string_view stream, const std::vector<std::string>& records);
  // A DirectPut stream into `bucket`; succeeds as well when it exists.
  void create_delivery_stream(std::string_view stream, std::string_view bucket, int buffer_mb = 5,
                              int buffer_seconds = 60);

  AwsClient& aws() { return client_; }

 private:
  AwsClient client_;
};

// The unsigned request, for tools that drive their own AwsClient.
Request put_record_batch_request(std::string_view stream, const std::vector<std::string>& records);
// FailedPutCount from a PutRecordBatch response body; -1 when unreadable.
int failed_put_count(const Response& response);

}  // namespace offcloud::client

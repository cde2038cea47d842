#include "client/firehose_client.h"

#include <nlohmann/json.hpp>

#include "storage/digest.h"

namespace offcloud::client {
namespace {

Request json_request(std::string_view operation, const nlohmann::json& body) {
  Request request;
  request.method = "POST";
  request.path = "/";
  request.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
  request.headers.emplace_back("X-Amz-Target", "Firehose_20150804." + std::string(operation));
  request.body = body.dump();
  return request;
}

}  // namespace

Request put_record_batch_request(std::string_view stream, const std::vector<std::string>& records) {
  nlohmann::json list = nlohmann::json::array();
  for (const std::string& record : records) list.push_back({{"Data", base64_encode(record)}});
  return json_request("PutRecordBatch", {{"DeliveryStreamName", stream}, {"Records", list}});
}

int failed_put_count(const Response& response) {
  auto json = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("FailedPutCount") ||
      !json["FailedPutCount"].is_number_integer()) {
    return -1;
  }
  return json["FailedPutCount"].get<int>();
}

FirehoseClient::FirehoseClient(Endpoint endpoint, Credentials credentials, std::string region,
                               ClientOptions options)
    : client_(std::move(endpoint), std::move(credentials), std::move(region), "firehose", options) {
}

int FirehoseClient::put_record_batch(std::string_view stream,
                                     const std::vector<std::string>& records) {
  Response response = client_.call(put_record_batch_request(stream, records));
  int failed = failed_put_count(response);
  if (failed < 0) throw ServiceError(response.status, "MalformedResponse", response.body);
  return failed;
}

void FirehoseClient::create_delivery_stream(std::string_view stream, std::string_view bucket,
                                            int buffer_mb, int buffer_seconds) {
  nlohmann::json destination = {
      {"RoleARN", "arn:aws:iam::000000000000:role/firehose"},
      {"BucketARN", "arn:aws:s3:::" + std::string(bucket)},
      {"BufferingHints", {{"SizeInMBs", buffer_mb}, {"IntervalInSeconds", buffer_seconds}}}};
  Response response = client_.send(
      json_request("CreateDeliveryStream", {{"DeliveryStreamName", stream},
                                            {"DeliveryStreamType", "DirectPut"},
                                            {"ExtendedS3DestinationConfiguration", destination}}));
  if (response.status >= 200 && response.status < 300) return;
  ServiceError error = parse_service_error(response);
  if (error.code() != "ResourceInUseException") throw error;
}

}  // namespace offcloud::client

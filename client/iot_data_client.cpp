#include "client/iot_data_client.h"

#include "client/uri_encoding.h"

namespace offcloud::client {

Request publish_request(std::string_view topic, std::string_view payload, int qos, bool retain) {
  Request request;
  request.method = "POST";
  request.path = "/topics/" + uri_encode(topic, /*keep_slash=*/false);
  request.query.emplace_back("qos", std::to_string(qos));
  if (retain) request.query.emplace_back("retain", "true");
  request.body = std::string(payload);
  return request;
}

IotDataClient::IotDataClient(Endpoint endpoint, Credentials credentials, std::string region,
                             ClientOptions options)
    : client_(std::move(endpoint), std::move(credentials), std::move(region), "iotdata", options) {}

void IotDataClient::publish(std::string_view topic, std::string_view payload, int qos,
                            bool retain) {
  client_.call(publish_request(topic, payload, qos, retain));
}

}  // namespace offcloud::client

// AWS IoT Data Plane: what a device does with it, publishing to a topic.
#pragma once

#include <string_view>

#include "client/aws_client.h"

namespace offcloud::client {

class IotDataClient {
 public:
  IotDataClient(Endpoint endpoint, Credentials credentials, std::string region,
                ClientOptions options = {});

  // POST /topics/<topic>?qos=N, the topic percent-encoded as one path
  // segment (so "a/b" travels as a%2Fb). `retain` asks the broker to keep
  // the message for later subscribers. Throws ServiceError or TransportError.
  void publish(std::string_view topic, std::string_view payload, int qos = 0, bool retain = false);

  AwsClient& aws() { return client_; }

 private:
  AwsClient client_;
};

// The request publish() sends, unsigned: for tools that drive their own
// AwsClient (the load generator).
Request publish_request(std::string_view topic, std::string_view payload, int qos, bool retain);

}  // namespace offcloud::client

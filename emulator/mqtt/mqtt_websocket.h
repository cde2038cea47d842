// MQTT over WebSocket, as AWS IoT Core takes it: GET /mqtt with the
// subprotocol "mqtt", authenticated by a SigV4 presigned URL for the service
// "iotdevicegateway" (the router checks it like any request), each
// WebSocket message carrying MQTT bytes. The URL's key and region are the
// connection's principal and region; IAM then decides its CONNECT,
// PUBLISHes and SUBSCRIBEs.
#pragma once

#include "emulator/api/service.h"
#include "emulator/mqtt/mqtt_broker.h"

namespace offcloud {

class MqttWebSocketService : public Service {
 public:
  explicit MqttWebSocketService(MqttBroker& broker) : broker_(broker) {}

  std::string_view name() const override { return "iotdevicegateway"; }
  Protocol protocol() const override { return Protocol::kRestJson; }
  // Authorization happens per MQTT packet (iot:Connect, ...), not here.
  std::vector<IamRequest> iam_requests(const HttpRequest&, const QueryParams&,
                                       const RequestContext&) const override {
    return {};
  }
  // A plain HTTP request: 426, the path takes WebSocket connections only.
  void handle(HttpRequest& request, RequestContext& context, Reply reply) override;
  std::optional<UpgradePlan> upgrade(HttpRequest& head, RequestContext& context) override;

 private:
  MqttBroker& broker_;
};

}  // namespace offcloud

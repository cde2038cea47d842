// AWS IoT Data Plane over HTTPS (botocore "iot-data", signing name iotdata):
// Publish, ListRetainedMessages and GetRetainedMessage. A publish is
// validated as AWS validates it, then handed to the message bus.
#pragma once

#include "emulator/api/service.h"
#include "rules/message_bus.h"
#include "storage/retained_store.h"

namespace offcloud {

class IotDataService : public Service {
 public:
  static constexpr std::size_t kMaxPayloadBytes = 128 * 1024;

  IotDataService(MessageBus& bus, RetainedStore& retained) : bus_(bus), retained_(retained) {}

  std::string_view name() const override { return "iotdata"; }
  Protocol protocol() const override { return Protocol::kRestJson; }
  std::vector<IamRequest> iam_requests(const HttpRequest& request, const QueryParams& query,
                                       const RequestContext& context) const override;
  void handle(HttpRequest& request, RequestContext& context, Reply reply) override;

 private:
  void publish(HttpRequest& request, RequestContext& context, std::string topic, Reply reply);
  // Fills `message` from a Publish request, or returns AWS's refusal.
  std::optional<HttpResponse> read_message(HttpRequest& request, RequestContext& context,
                                           std::string topic, Message* message);
  HttpResponse list_retained_messages(RequestContext& context);
  HttpResponse get_retained_message(RequestContext& context, const std::string& topic);

  MessageBus& bus_;
  RetainedStore& retained_;
};

}  // namespace offcloud

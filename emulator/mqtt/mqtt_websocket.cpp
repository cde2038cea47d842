#include "emulator/mqtt/mqtt_websocket.h"

#include "emulator/http/http_types.h"

namespace offcloud {
namespace {

// One WebSocket connection's MQTT session: WebSocket messages in, MQTT bytes
// out as binary messages.
class MqttOverWebSocket : public ChannelHandler,
                          public MqttLink,
                          public std::enable_shared_from_this<MqttOverWebSocket> {
 public:
  explicit MqttOverWebSocket(std::weak_ptr<MessageChannel> channel)
      : channel_(std::move(channel)) {}

  void start(MqttBroker& broker, const std::string& remote, const Principal& principal,
             const std::string& region) {
    session_ = std::make_shared<MqttSession>(broker, weak_from_this(), remote);
    session_->preauthenticate(principal, region);
  }

  bool on_message(std::string_view bytes) override { return session_->on_bytes(bytes); }
  void on_closed() override { session_->on_closed(); }
  std::chrono::milliseconds silence_allowed() const override { return session_->silence_allowed(); }

  void send(std::string bytes) override {
    if (auto channel = channel_.lock()) channel->send(std::move(bytes));
  }
  void close() override {
    if (auto channel = channel_.lock()) channel->close();
  }

 private:
  std::weak_ptr<MessageChannel> channel_;
  std::shared_ptr<MqttSession> session_;
};

}  // namespace

void MqttWebSocketService::handle(HttpRequest& request, RequestContext& context, Reply reply) {
  context.operation = "Connect";
  HttpResponse response = error_response(
      Protocol::kRestJson,
      {ErrorCode::kInvalidRequestException,
       request.path == "/mqtt" ? "/mqtt takes WebSocket connections (Upgrade: websocket) only."
                               : "MQTT over WebSocket is served at /mqtt.",
       {},
       request.path == "/mqtt" ? 426 : 404},
      context.request_id);
  if (request.path == "/mqtt") response.headers.add("Upgrade", "websocket");
  reply(std::move(response));
}

std::optional<UpgradePlan> MqttWebSocketService::upgrade(HttpRequest& head,
                                                         RequestContext& context) {
  UpgradePlan plan;
  if (head.path != "/mqtt") {
    plan.refusal = error_response(
        Protocol::kRestJson,
        {ErrorCode::kResourceNotFoundException, "MQTT over WebSocket is served at /mqtt."},
        context.request_id);
    return plan;
  }
  // The subprotocol is echoed only when offered (RFC 6455): clients offer
  // "mqtt" (some "mqttv3.1" too); a client that offered none gets none.
  std::string_view offered = head.headers.get("sec-websocket-protocol");
  for (std::size_t at = 0; at < offered.size();) {
    std::size_t comma = std::min(offered.find(',', at), offered.size());
    std::string_view name = offered.substr(at, comma - at);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name == "mqtt") plan.subprotocol = "mqtt";
    at = comma + 1;
  }
  if (!offered.empty() && plan.subprotocol.empty()) {
    plan.refusal = error_response(
        Protocol::kRestJson,
        {ErrorCode::kInvalidRequestException, "The WebSocket subprotocol must be mqtt.", {}, 400},
        context.request_id);
    return plan;
  }
  plan.max_message_bytes = MqttLimits::kMaxPacketBytes + 8;
  plan.max_queued_bytes = MqttLimits::kMaxQueuedBytes;
  MqttBroker* broker = &broker_;
  std::string remote = head.remote_address;
  Principal principal = context.principal;
  std::string region = context.region;
  plan.open = [broker, remote, principal, region](std::weak_ptr<MessageChannel> channel) {
    auto connection = std::make_shared<MqttOverWebSocket>(std::move(channel));
    connection->start(*broker, remote, principal, region);
    return std::shared_ptr<ChannelHandler>(connection);
  };
  return plan;
}

}  // namespace offcloud

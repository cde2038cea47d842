#include "emulator/iot/iotdata_handlers.h"

#include <nlohmann/json.hpp>

#include "emulator/iot/iot_scope.h"
#include "emulator/util/log.h"
#include "storage/digest.h"

namespace offcloud {
namespace {

constexpr std::string_view kTopicsPrefix = "/topics/";
constexpr std::string_view kRetainedPrefix = "/retainedMessage";
constexpr int kMaxRetainedPageSize = 200;

HttpResponse json_response(const nlohmann::json& body) {
  HttpResponse response;
  response.headers.add("Content-Type", "application/json");
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

HttpResponse invalid(std::string message, const RequestContext& context) {
  return error_response(Protocol::kRestJson, {ErrorCode::kInvalidRequestException, message},
                        context.request_id);
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::string topic_arn(const RequestContext& context, const std::string& topic) {
  return "arn:aws:iot:" + context.region + ":" + context.principal.account_id + ":topic/" + topic;
}

}  // namespace

std::vector<IamRequest> IotDataService::iam_requests(const HttpRequest& request,
                                                     const QueryParams& query,
                                                     const RequestContext& context) const {
  std::string_view path = request.path;
  if (path.starts_with(kTopicsPrefix)) {
    auto topic = percent_decode(path.substr(kTopicsPrefix.size()));
    if (!topic) return {};
    std::vector<IamRequest> asks = {{"iot:Publish", topic_arn(context, *topic)}};
    // A retained message also needs iot:RetainPublish, as on AWS.
    if (const std::string* retain = find_param(query, "retain"); retain && *retain == "true") {
      asks.push_back({"iot:RetainPublish", topic_arn(context, *topic)});
    }
    return asks;
  }
  if (path == kRetainedPrefix) return {{"iot:ListRetainedMessages", "*"}};
  if (path.starts_with(kRetainedPrefix) && path[kRetainedPrefix.size()] == '/') {
    auto topic = percent_decode(path.substr(kRetainedPrefix.size() + 1));
    if (!topic) return {};
    return {{"iot:GetRetainedMessage", topic_arn(context, *topic)}};
  }
  return {};
}

void IotDataService::handle(HttpRequest& request, RequestContext& context, Reply reply) {
  std::string_view path = request.path;
  std::string_view method = request.method;
  auto not_allowed = [&] {
    return error_response(Protocol::kRestJson, {ErrorCode::kMethodNotAllowedException, ""},
                          context.request_id);
  };

  if (path.starts_with(kTopicsPrefix)) {
    context.operation = "Publish";
    if (method != "POST") return reply(not_allowed());
    auto topic = percent_decode(path.substr(kTopicsPrefix.size()));
    if (!topic) return reply(invalid("The topic is not correctly percent-encoded.", context));
    return publish(request, context, std::move(*topic), std::move(reply));
  }
  if (path == kRetainedPrefix) {
    context.operation = "ListRetainedMessages";
    if (method != "GET") return reply(not_allowed());
    return reply(list_retained_messages(context));
  }
  if (path.starts_with(kRetainedPrefix) && path[kRetainedPrefix.size()] == '/') {
    context.operation = "GetRetainedMessage";
    if (method != "GET") return reply(not_allowed());
    auto topic = percent_decode(path.substr(kRetainedPrefix.size() + 1));
    if (!topic) return reply(invalid("The topic is not correctly percent-encoded.", context));
    return reply(get_retained_message(context, *topic));
  }
  reply(error_response(
      Protocol::kRestJson,
      {ErrorCode::kUnknownOperationException,
       "No IoT Data operation at " + std::string(method) + " " + std::string(path) + "."},
      context.request_id));
}

void IotDataService::publish(HttpRequest& request, RequestContext& context, std::string topic,
                             Reply reply) {
  Message message;
  if (auto refused = read_message(request, context, std::move(topic), &message)) {
    return reply(std::move(*refused));
  }
  if (message.retain) {
    // Stored before the answer, so an acknowledged retained message survives
    // a crash. An empty payload clears the topic's retained message.
    const AccountRegion& scope = message.scope;
    if (message.payload.empty()) {
      retained_.erase(scope.account_id, scope.region, message.topic);
    } else {
      retained_.put({scope.account_id, scope.region, message.topic, message.payload, message.qos,
                     message.user_properties, message.timestamp_ms});
    }
  }
  // The answer waits until every durable write the publish caused (a rule's
  // Firehose records) is committed, without holding this thread meanwhile.
  message.receipt = std::make_shared<PublishReceipt>(
      [reply = std::move(reply), request_id = context.request_id](bool written) {
        if (written) return reply(json_response({{"message", "OK"}, {"traceId", request_id}}));
        reply(error_response(Protocol::kRestJson,
                             {ErrorCode::kInternalFailureException,
                              "The message could not be written to a rule's destination."},
                             request_id));
      });
  bus_.publish(message);
}

std::optional<HttpResponse> IotDataService::read_message(HttpRequest& request,
                                                         RequestContext& context, std::string topic,
                                                         Message* out) {
  Message& message = *out;
  if (std::string why = validate_publish_topic(topic); !why.empty()) {
    return invalid(std::move(why), context);
  }
  if (request.body.size() > kMaxPayloadBytes) {
    return error_response(
        Protocol::kRestJson,
        {ErrorCode::kRequestEntityTooLargeException,
         "The payload of " + std::to_string(request.body.size()) +
             " bytes exceeds the maximum of " + std::to_string(kMaxPayloadBytes) + " bytes."},
        context.request_id);
  }

  if (const std::string* qos = find_param(context.query, "qos")) {
    if (*qos != "0" && *qos != "1") return invalid("qos must be 0 or 1.", context);
    message.qos = *qos == "1" ? 1 : 0;
  }
  if (const std::string* retain = find_param(context.query, "retain")) {
    if (*retain != "true" && *retain != "false") {
      return invalid("retain must be true or false.", context);
    }
    message.retain = *retain == "true";
  }
  if (const std::string* content_type = find_param(context.query, "contentType")) {
    message.content_type = *content_type;
  }
  if (const std::string* response_topic = find_param(context.query, "responseTopic")) {
    if (std::string why = validate_publish_topic(*response_topic); !why.empty()) {
      return invalid("responseTopic: " + why, context);
    }
    message.response_topic = *response_topic;
  }
  if (const std::string* expiry = find_param(context.query, "messageExpiry")) {
    message.message_expiry_s = parse_integer(*expiry);
    if (!message.message_expiry_s) {
      return invalid("messageExpiry must be a non-negative integer.", context);
    }
  }
  if (const std::string* encoded = request.headers.find("x-amz-mqtt5-user-properties")) {
    std::string text;
    nlohmann::json properties;
    if (base64_decode(*encoded, &text)) {
      properties = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    }
    bool valid = properties.is_array();
    for (const auto& entry : properties) valid = valid && entry.is_object();
    if (!valid) {
      return invalid("userProperties must be a base64-encoded JSON array of objects.", context);
    }
    message.user_properties = std::move(text);
  }
  if (const std::string* format = request.headers.find("x-amz-mqtt5-payload-format-indicator")) {
    if (*format != "UNSPECIFIED_BYTES" && *format != "UTF8_DATA") {
      return invalid("payloadFormatIndicator must be UNSPECIFIED_BYTES or UTF8_DATA.", context);
    }
    message.payload_is_utf8 = *format == "UTF8_DATA";
    if (message.payload_is_utf8 && !is_valid_utf8(request.body)) {
      return invalid("The payload is not valid UTF-8 but payloadFormatIndicator is UTF8_DATA.",
                     context);
    }
  }
  if (const std::string* correlation = request.headers.find("x-amz-mqtt5-correlation-data")) {
    std::string bytes;
    if (!base64_decode(*correlation, &bytes)) {
      return invalid("correlationData must be base64-encoded.", context);
    }
    message.correlation_data = std::move(bytes);
  }

  message.scope = iot_scope(context);
  message.topic = std::move(topic);
  message.payload = std::move(request.body);
  message.principal = context.principal.arn;
  message.source_ip = request.remote_address.substr(0, request.remote_address.rfind(':'));
  message.timestamp_ms = now_ms();
  return std::nullopt;
}

HttpResponse IotDataService::list_retained_messages(RequestContext& context) {
  int max_results = kMaxRetainedPageSize;
  if (const std::string* text = find_param(context.query, "maxResults")) {
    auto value = parse_integer(*text);
    if (!value || *value < 1 || *value > kMaxRetainedPageSize) {
      return invalid("maxResults must be between 1 and 200.", context);
    }
    max_results = static_cast<int>(*value);
  }
  std::string from;
  if (const std::string* token = find_param(context.query, "nextToken")) {
    if (!base64_decode(*token, &from) || from.empty()) {
      return invalid("The nextToken is not valid.", context);
    }
  }
  AccountRegion scope = iot_scope(context);
  RetainedPage page = retained_.list(scope.account_id, scope.region, from, max_results);
  nlohmann::json topics = nlohmann::json::array();
  for (const RetainedSummary& summary : page.messages) {
    topics.push_back({{"topic", summary.topic},
                      {"payloadSize", summary.payload_size},
                      {"qos", summary.qos},
                      {"lastModifiedTime", summary.last_modified_ms}});
  }
  nlohmann::json body = {{"retainedTopics", std::move(topics)}};
  if (page.next_topic) body["nextToken"] = base64_encode(*page.next_topic);
  return json_response(body);
}

HttpResponse IotDataService::get_retained_message(RequestContext& context,
                                                  const std::string& topic) {
  AccountRegion scope = iot_scope(context);
  std::optional<RetainedMessage> message = retained_.get(scope.account_id, scope.region, topic);
  if (!message) {
    return error_response(Protocol::kRestJson,
                          {ErrorCode::kResourceNotFoundException,
                           "No retained message exists for topic " + topic + "."},
                          context.request_id);
  }
  nlohmann::json body = {{"topic", message->topic},
                         {"payload", base64_encode(message->payload)},
                         {"qos", message->qos},
                         {"lastModifiedTime", message->last_modified_ms}};
  if (message->user_properties) body["userProperties"] = base64_encode(*message->user_properties);
  return json_response(body);
}

}  // namespace offcloud

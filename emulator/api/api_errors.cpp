#include "emulator/api/api_errors.h"

#include <nlohmann/json.hpp>

namespace offcloud {
namespace {

constexpr ErrorInfo kErrors[] = {
#define OFFCLOUD_ERROR_INFO(code, status, message) {#code, status, message},
    OFFCLOUD_API_ERRORS(OFFCLOUD_ERROR_INFO)
#undef OFFCLOUD_ERROR_INFO
};

}  // namespace

const ErrorInfo& error_info(ErrorCode code) {
  return kErrors[static_cast<int>(code)];
}

HttpResponse error_response(Protocol protocol, const ApiError& error, std::string_view request_id) {
  const ErrorInfo& info = error_info(error.code);
  std::string message = error.message.empty() ? std::string(info.message) : error.message;
  HttpResponse response;
  response.status = error.status ? error.status : info.status;
  switch (protocol) {
    case Protocol::kRestJson:
    case Protocol::kJson: {
      nlohmann::json body = {{"message", message}};
      if (protocol == Protocol::kJson) body["__type"] = info.code;
      response.headers.add("Content-Type", protocol == Protocol::kJson
                                               ? "application/x-amz-json-1.1"
                                               : "application/json");
      response.headers.add("x-amzn-ErrorType", std::string(info.code));
      response.headers.add("x-amzn-RequestId", std::string(request_id));
      response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      break;
    }
    case Protocol::kQuery: {
      response.headers.add("Content-Type", "text/xml");
      response.headers.add("x-amzn-RequestId", std::string(request_id));
      const char* type = info.status >= 500 ? "Receiver" : "Sender";
      response.body = "<ErrorResponse><Error><Type>" + std::string(type) + "</Type><Code>" +
                      std::string(info.code) + "</Code><Message>" + xml_escape(message) +
                      "</Message></Error><RequestId>" + std::string(request_id) +
                      "</RequestId></ErrorResponse>";
      break;
    }
    case Protocol::kRestXml: {
      response.headers.add("Content-Type", "application/xml");
      response.headers.add("x-amz-request-id", std::string(request_id));
      std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" +
                         std::string(info.code) + "</Code><Message>" + xml_escape(message) +
                         "</Message>";
      for (const auto& [name, value] : error.details) {
        body += "<" + name + ">" + xml_escape(value) + "</" + name + ">";
      }
      body += "<RequestId>" + std::string(request_id) + "</RequestId></Error>";
      response.body = std::move(body);
      break;
    }
  }
  return response;
}

}  // namespace offcloud

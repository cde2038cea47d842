#include "emulator/iam/query_protocol.h"

#include <string>

namespace offcloud {
namespace {

std::optional<std::string> form_decode(std::string_view text) {
  std::string spaced(text);
  for (char& c : spaced) {
    if (c == '+') c = ' ';
  }
  return percent_decode(spaced);
}

}  // namespace

std::optional<QueryParams> query_protocol_params(const HttpRequest& request,
                                                 const QueryParams& url_query) {
  QueryParams params = url_query;
  std::string_view content_type = request.headers.get("content-type");
  bool form = content_type.empty() ||
              content_type.find("application/x-www-form-urlencoded") != std::string_view::npos;
  if (request.method != "POST" || !form || request.body.empty()) return params;
  std::string_view body = request.body;
  while (!body.empty()) {
    std::size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    auto name = form_decode(pair.substr(0, eq));
    auto value =
        form_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    params.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

HttpResponse query_response(std::string_view action, std::string_view xmlns,
                            std::string_view request_id,
                            const std::function<void(XmlWriter&)>& write_result) {
  XmlWriter xml(std::string(action) + "Response", xmlns);
  if (write_result) {
    xml.open(std::string(action) + "Result");
    write_result(xml);
    xml.close();
  }
  xml.open("ResponseMetadata").element("RequestId", request_id).close();
  HttpResponse response;
  response.headers.add("Content-Type", "text/xml");
  response.body = xml.finish();
  return response;
}

}  // namespace offcloud

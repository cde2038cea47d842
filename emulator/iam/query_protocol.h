// AWS's query protocol, which IAM and STS speak: the parameters (Action,
// Version and the operation's own) come form-encoded in a POST body or in
// the URL; the answer is <ActionResponse xmlns=...> holding <ActionResult>
// and <ResponseMetadata><RequestId>.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "emulator/http/http_types.h"
#include "emulator/http/uri.h"
#include "emulator/util/xml.h"

namespace offcloud {

// The URL's parameters followed by a form body's ('+' is a space there).
// nullopt when the body is not well-formed.
std::optional<QueryParams> query_protocol_params(const HttpRequest& request,
                                                 const QueryParams& url_query);

// `write_result` fills <ActionResult>; null for operations with no output,
// whose response has only the metadata.
HttpResponse query_response(std::string_view action, std::string_view xmlns,
                            std::string_view request_id,
                            const std::function<void(XmlWriter&)>& write_result);

}  // namespace offcloud

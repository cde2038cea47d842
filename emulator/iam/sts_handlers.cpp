#include "emulator/iam/sts_handlers.h"

#include "emulator/iam/query_protocol.h"

namespace offcloud {
namespace {

constexpr std::string_view kXmlns = "https://sts.amazonaws.com/doc/2011-06-15/";

}  // namespace

std::vector<IamRequest> StsService::iam_requests(const HttpRequest& request,
                                                 const QueryParams& query,
                                                 const RequestContext& /*context*/) const {
  auto params = query_protocol_params(request, query);
  const std::string* action = params ? find_param(*params, "Action") : nullptr;
  // GetCallerIdentity needs no permission: AWS answers it even under an
  // explicit deny. Anything else is refused by handle() as unknown.
  if (!action || *action == "GetCallerIdentity") return {};
  return {{"sts:" + *action, "*"}};
}

void StsService::handle(HttpRequest& request, RequestContext& context, Reply reply) {
  auto fail = [&](ErrorCode code, std::string message) {
    reply(error_response(Protocol::kQuery, {code, std::move(message)}, context.request_id));
  };
  auto params = query_protocol_params(request, context.query);
  if (!params) return fail(ErrorCode::kMalformedHttpRequest, "The form body is malformed.");
  const std::string* action = find_param(*params, "Action");
  if (!action) return fail(ErrorCode::kMissingAction, "Missing Action");
  context.operation = *action;
  if (*action != "GetCallerIdentity") {
    return fail(ErrorCode::kInvalidAction, "Could not find operation " + *action +
                                               " for version 2011-06-15 in offcloud's STS.");
  }
  const Principal& caller = context.principal;
  reply(query_response(*action, kXmlns, context.request_id, [&](XmlWriter& xml) {
    xml.element("Arn", caller.arn)
        .element("UserId", caller.user_id.empty() ? caller.account_id : caller.user_id)
        .element("Account", caller.account_id);
  }));
}

}  // namespace offcloud

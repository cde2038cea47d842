// Where an IoT request's topics, retained messages and rules live: the
// caller's account, in the region the request was signed for. IoT is
// regional on AWS, so the same account in two regions has two of each.
#pragma once

#include "emulator/api/service.h"
#include "rules/message_bus.h"

namespace offcloud {

inline AccountRegion iot_scope(const RequestContext& context) {
  return {context.principal.account_id, context.region.empty() ? "us-east-1" : context.region};
}

}  // namespace offcloud

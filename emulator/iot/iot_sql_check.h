// POST /_offcloud/iot/sql-check: the console's "SQL checked as you type",
// an offcloud extension (AWS's console checks only when a rule is saved).
// It compiles a rule's SQL with the rules engine's own parser, exactly as
// CreateTopicRule does, and stores and runs nothing. Signed for IoT
// (signing name iot, any region), like any IoT call; no IAM action is asked,
// since it reads no resource and changes none.
//
// Body: {"sql": "...", "awsIotSqlVersion": "2016-03-23"} (the version may
// be left out: 2016-03-23, CreateTopicRule's default). Answer, 200:
//   {"ok": true, "topic_filter": "handson/#"}
//   {"ok": false, "code": "SqlParseException",
//    "message": "Line 1:22 mismatched input ...",   (CreateTopicRule's own)
//    "line": 1, "column": 22, "offset": 22}          (column 0-based, as AWS)
// A body that is not such an object: 400 InvalidRequestException.
#pragma once

#include <string_view>

#include "emulator/api/service.h"

namespace offcloud {

inline constexpr std::string_view kSqlCheckPath = "/_offcloud/iot/sql-check";

HttpResponse check_rule_sql(const HttpRequest& request, RequestContext& context);

}  // namespace offcloud

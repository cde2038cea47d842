// The built-in functions of AWS IoT SQL (AWS's "Functions" page). As AWS
// documents, a function given the wrong number or types of arguments returns
// Undefined rather than failing the rule; only unknown names, and the
// functions that call other AWS services, are refused when the rule is
// created.
#pragma once

#include <cstddef>
#include <string_view>

#include "rules/sql_ast.h"
#include "rules/sql_context.h"
#include "rules/sql_value.h"

namespace offcloud {

struct SqlCallEnvironment {
  const EvaluationContext& context;
  SqlVersion version;
};

using SqlFunctionImpl = SqlValue (*)(const SqlValue* args, std::size_t count,
                                     const SqlCallEnvironment& env);

struct SqlFunctionSpec {
  std::string_view name;  // as AWS spells it
  int min_args;
  int max_args;  // -1: any number
  SqlFunctionImpl impl;
  // A bare * argument means the payload's bytes, JSON or not (encode).
  bool star_is_raw_payload = false;
  bool since_2016_03_23 = false;
};

// Case-insensitive; nullptr for names AWS does not define.
const SqlFunctionSpec* find_sql_function(std::string_view name);

// True for aws_lambda, get_dynamodb, get_thing_shadow, get_secret,
// machinelearning_predict, get_registry_data: they call other AWS services,
// which an offline emulator cannot.
bool is_aws_service_function(std::string_view name);

}  // namespace offcloud

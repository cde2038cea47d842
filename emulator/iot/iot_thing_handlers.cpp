// Things and the principals attached to them: CreateThing, DescribeThing,
// ListThings, UpdateThing, DeleteThing, AttachThingPrincipal,
// DetachThingPrincipal, ListThingPrincipals, ListPrincipalThings.
#include "emulator/iot/iot_registry_call.h"

#include <algorithm>
#include <stdexcept>

#include "emulator/auth/iam_policy.h"
#include "emulator/iot/iot_scope.h"
#include "emulator/util/log.h"
#include "emulator/util/uuid.h"
#include "storage/digest.h"

namespace offcloud::iot_registry {

namespace {

json thing_json(const IotThing& thing) {
  json attributes = json::object();
  for (const auto& [name, value] : thing.attributes) attributes[name] = value;
  return {{"thingName", thing.name},
          {"thingArn", thing.arn},
          {"attributes", std::move(attributes)},
          {"version", thing.version}};
}

}  // namespace

HttpResponse create_thing(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_thing_name(name);
  if (auto refusal = refuse_thing_type(call)) return std::move(*refusal);
  std::map<std::string, std::string> attributes =
      attribute_payload(call, nullptr).value_or(std::map<std::string, std::string>());
  std::erase_if(attributes, [](const auto& entry) { return entry.second.empty(); });
  if (attributes.size() > kMaxThingAttributes) {
    throw InvalidRequest{"A thing without a thing type has at most " +
                         std::to_string(kMaxThingAttributes) + " attributes."};
  }
  IotThing thing;
  thing.account_id = call.scope.account_id;
  thing.region = call.scope.region;
  thing.name = name;
  thing.id = new_uuid();
  thing.arn = arn(call.scope, "thing", name);
  thing.attributes = std::move(attributes);
  thing.created_ms = now_ms();
  if (std::optional<IotThing> existing = env.registry.insert_thing(thing)) {
    // The same request again succeeds, with the thing it made.
    if (existing->attributes != thing.attributes) {
      return already_exists(
          "Thing " + name + " already exists in account with different attributes", existing->id,
          existing->arn, call);
    }
    thing = std::move(*existing);
  }
  return json_response({{"thingName", thing.name}, {"thingArn", thing.arn}, {"thingId", thing.id}});
}

HttpResponse describe_thing(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_thing_name(name);
  std::optional<IotThing> thing =
      env.registry.thing(call.scope.account_id, call.scope.region, name);
  if (!thing) return not_found("Thing " + name + " cannot be found.", call);
  json body = thing_json(*thing);
  body["thingId"] = thing->id;
  body["defaultClientId"] = thing->name;
  return json_response(body);
}

HttpResponse list_things(Env& env, Call& call) {
  int limit = query_page_size(call, "maxResults");
  std::string from = query_token(call, "nextToken");
  IotThingFilter filter;
  if (const std::string* name = find_param(call.context.query, "attributeName")) {
    filter.attribute_name = *name;
  }
  if (const std::string* value = find_param(call.context.query, "attributeValue")) {
    if (!filter.attribute_name) throw InvalidRequest{"attributeValue needs an attributeName."};
    filter.attribute_value = *value;
  }
  filter.value_prefix = query_flag(call, "usePrefixAttributeValue");
  json body = json::object();
  json things = json::array();
  // No thing has a type: filtering by one finds none.
  if (!find_param(call.context.query, "thingTypeName")) {
    std::vector<IotThing> found =
        env.registry.things(call.scope.account_id, call.scope.region, filter, from, limit + 1);
    for (const IotThing& thing : found) {
      if (static_cast<int>(things.size()) == limit) {
        body["nextToken"] = base64_encode(thing.name);
        break;
      }
      things.push_back(thing_json(thing));
    }
  }
  body["things"] = std::move(things);
  return json_response(body);
}

HttpResponse update_thing(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_thing_name(name);
  if (auto refusal = refuse_thing_type(call)) return std::move(*refusal);
  body_flag(call.body, "removeThingType");  // there is no type to remove
  IotThingUpdate update;
  update.attributes = attribute_payload(call, &update.merge);
  update.max_attributes = kMaxThingAttributes;
  if (const json* version = member(call, "expectedVersion")) {
    if (!version->is_number_integer()) throw InvalidRequest{"expectedVersion must be a number."};
    update.expected_version = version->get<std::int64_t>();
  }
  switch (env.registry.update_thing(call.scope.account_id, call.scope.region, name, update)) {
    case IotRegistry::ThingChange::kNotFound:
      return not_found("Thing " + name + " cannot be found.", call);
    case IotRegistry::ThingChange::kVersionConflict:
      return error(ErrorCode::kVersionConflictException,
                   "The version of thing " + name + " does not match the expected version.", call);
    case IotRegistry::ThingChange::kTooManyAttributes:
      throw InvalidRequest{"A thing without a thing type has at most " +
                           std::to_string(kMaxThingAttributes) + " attributes."};
    default:
      return json_response(json::object());
  }
}

HttpResponse delete_thing(Env& env, Call& call) {
  const std::string& name = call.params[0];
  check_thing_name(name);
  std::optional<std::int64_t> expected = query_integer(call, "expectedVersion");
  switch (env.registry.delete_thing(call.scope.account_id, call.scope.region, name, expected)) {
    case IotRegistry::ThingChange::kVersionConflict:
      return error(ErrorCode::kVersionConflictException,
                   "The version of thing " + name + " does not match the expected version.", call);
    case IotRegistry::ThingChange::kHasPrincipals:
      throw InvalidRequest{"Cannot delete. Thing " + name +
                           " is still attached to one or more principals"};
    default:
      // Deleting a thing that does not exist succeeds, as AWS documents.
      return json_response(json::object());
  }
}

HttpResponse attach_thing_principal(Env& env, Call& call) {
  const std::string& thing = call.params[0];
  check_thing_name(thing);
  std::string principal = header(call, "x-amzn-principal");
  check_certificate_arn(principal, "The principal");
  bool exclusive = false;
  if (const std::string* type = find_param(call.context.query, "thingPrincipalType")) {
    if (*type != "EXCLUSIVE_THING" && *type != "NON_EXCLUSIVE_THING") {
      throw InvalidRequest{"thingPrincipalType must be EXCLUSIVE_THING or NON_EXCLUSIVE_THING."};
    }
    exclusive = *type == "EXCLUSIVE_THING";
  }
  switch (env.registry.attach_thing_principal(call.scope.account_id, call.scope.region, thing,
                                              principal, exclusive)) {
    case IotRegistry::PrincipalChange::kThingNotFound:
      return not_found("Thing " + thing + " cannot be found.", call);
    case IotRegistry::PrincipalChange::kPrincipalNotFound:
      return not_found("The certificate " + principal + " does not exist.", call);
    case IotRegistry::PrincipalChange::kExclusive:
      throw InvalidRequest{
          exclusive ? "The principal " + principal +
                          " is attached to another thing: it cannot be " + thing + "'s exclusively."
                    : "The principal " + principal + " is attached exclusively to another thing."};
    default:
      return json_response(json::object());
  }
}

HttpResponse detach_thing_principal(Env& env, Call& call) {
  const std::string& thing = call.params[0];
  check_thing_name(thing);
  std::string principal = header(call, "x-amzn-principal");
  check_certificate_arn(principal, "The principal");
  if (env.registry.detach_thing_principal(call.scope.account_id, call.scope.region, thing,
                                          principal) ==
      IotRegistry::PrincipalChange::kThingNotFound) {
    return not_found("Thing " + thing + " cannot be found.", call);
  }
  return json_response(json::object());
}

HttpResponse list_thing_principals(Env& env, Call& call) {
  const std::string& thing = call.params[0];
  check_thing_name(thing);
  int limit = query_page_size(call, "maxResults");
  std::string from = query_token(call, "nextToken");
  auto principals = env.registry.thing_principals(call.scope.account_id, call.scope.region, thing);
  if (!principals) return not_found("Thing " + thing + " cannot be found.", call);
  json body = json::object();
  body["principals"] = page_of(*principals, from, limit, &body, "nextToken");
  return json_response(body);
}

HttpResponse list_principal_things(Env& env, Call& call) {
  std::string principal = header(call, "x-amzn-principal");
  check_certificate_arn(principal, "The principal");
  int limit = query_page_size(call, "maxResults");
  std::string from = query_token(call, "nextToken");
  if (!env.registry.has_certificate_arn(call.scope.account_id, call.scope.region, principal)) {
    return not_found("The certificate " + principal + " does not exist.", call);
  }
  json body = json::object();
  body["things"] =
      page_of(env.registry.principal_things(call.scope.account_id, call.scope.region, principal),
              from, limit, &body, "nextToken");
  return json_response(body);
}

}  // namespace offcloud::iot_registry

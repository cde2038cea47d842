#include "emulator/iot/iot_registry_call.h"

#include <algorithm>
#include <stdexcept>

#include "emulator/auth/iam_policy.h"
#include "emulator/iot/iot_scope.h"
#include "emulator/util/log.h"
#include "emulator/util/uuid.h"
#include "storage/digest.h"

namespace offcloud::iot_registry {

HttpResponse json_response(const json& body) {
  HttpResponse response;
  response.headers.add("Content-Type", "application/json");
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

HttpResponse no_content() {
  HttpResponse response;
  response.headers.add("Content-Type", "application/json");
  return response;
}

HttpResponse error(ErrorCode code, std::string message, const Call& call, int status) {
  return error_response(Protocol::kRestJson, {code, std::move(message), {}, status},
                        call.context.request_id);
}

HttpResponse not_found(std::string message, const Call& call) {
  return error(ErrorCode::kResourceNotFoundException, std::move(message), call);
}

HttpResponse already_exists(std::string message, const std::string& id, const std::string& arn,
                            const Call& call) {
  HttpResponse response =
      error(ErrorCode::kResourceAlreadyExistsException, std::move(message), call);
  json body = json::parse(response.body);
  body["resourceId"] = id;
  body["resourceArn"] = arn;
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

double seconds(std::int64_t ms) {
  return static_cast<double>(ms) / 1000.0;
}

std::string generation_id(const std::string& arn, std::int64_t version, std::int64_t modified_ms) {
  return sha256_hex(arn + "\n" + std::to_string(version) + "\n" + std::to_string(modified_ms));
}

bool all_of(std::string_view text, std::string_view extra) {
  return std::all_of(text.begin(), text.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           extra.find(c) != std::string_view::npos;
  });
}

bool valid_thing_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength && all_of(name, ":_-");
}

bool valid_policy_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength && all_of(name, "_+=,.@-");
}

bool valid_certificate_id(std::string_view id) {
  return id.size() == 64 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

std::string arn(const AccountRegion& scope, std::string_view kind, std::string_view name) {
  return "arn:aws:iot:" + scope.region + ":" + scope.account_id + ":" + std::string(kind) + "/" +
         std::string(name);
}

bool certificate_arn_shape(std::string_view text) {
  if (!text.starts_with("arn:")) return false;
  std::size_t colons = 0, at = 0;
  for (std::size_t i = 0; i < text.size() && colons < 5; ++i) {
    if (text[i] == ':') {
      ++colons;
      at = i + 1;
    }
  }
  return colons == 5 && text.substr(at).starts_with("cert/") &&
         valid_certificate_id(text.substr(at + 5)) && text.find(":iot:") != std::string::npos;
}

void check_thing_name(const std::string& name) {
  if (!valid_thing_name(name)) {
    throw InvalidRequest{"The thing name " + name +
                         " is not valid: use 1 to 128 letters, digits, colons, underscores and "
                         "hyphens."};
  }
}

void check_policy_name(const std::string& name) {
  if (!valid_policy_name(name)) {
    throw InvalidRequest{"The policy name " + name +
                         " is not valid: use 1 to 128 letters, digits and _+=,.@-"};
  }
}

void check_certificate_id(const std::string& id) {
  if (!valid_certificate_id(id)) {
    throw InvalidRequest{"The certificate id " + id +
                         " is not valid: it is 64 hexadecimal digits."};
  }
}

void check_certificate_arn(const std::string& text, std::string_view what) {
  if (text.empty()) throw InvalidRequest{std::string(what) + " is required."};
  if (!certificate_arn_shape(text)) {
    throw InvalidRequest{std::string(what) + " " + text +
                         " is not a certificate ARN (arn:aws:iot:<region>:<account>:cert/<id>), "
                         "the only principal offcloud has."};
  }
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

bool query_flag(const Call& call, std::string_view name, bool fallback) {
  const std::string* text = find_param(call.context.query, name);
  if (!text) return fallback;
  if (*text != "true" && *text != "false") {
    throw InvalidRequest{std::string(name) + " must be true or false."};
  }
  return *text == "true";
}

int query_page_size(const Call& call, std::string_view name) {
  const std::string* text = find_param(call.context.query, name);
  if (!text) return kDefaultPageSize;
  auto value = parse_integer(*text);
  if (!value || *value < 1 || *value > kMaxPageSize) {
    throw InvalidRequest{std::string(name) + " must be between 1 and " +
                         std::to_string(kMaxPageSize) + "."};
  }
  return static_cast<int>(*value);
}

std::string query_token(const Call& call, std::string_view name) {
  const std::string* text = find_param(call.context.query, name);
  std::string from;
  if (text && (!base64_decode(*text, &from) || from.empty())) {
    throw InvalidRequest{"The " + std::string(name) + " is not valid."};
  }
  return from;
}

std::optional<std::int64_t> query_integer(const Call& call, std::string_view name) {
  const std::string* text = find_param(call.context.query, name);
  if (!text) return std::nullopt;
  auto value = parse_integer(*text);
  if (!value) throw InvalidRequest{std::string(name) + " must be a whole number."};
  return value;
}

std::string header(const Call& call, std::string_view name) {
  return std::string(call.request.headers.get(name));
}

const json* member(const Call& call, std::string_view name) {
  auto it = call.body.find(name);
  return it == call.body.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> body_string(const Call& call, std::string_view name) {
  const json* value = member(call, name);
  if (!value) return std::nullopt;
  if (!value->is_string()) throw InvalidRequest{std::string(name) + " must be a string."};
  return value->get<std::string>();
}

std::string required_string(const Call& call, std::string_view name) {
  std::optional<std::string> value = body_string(call, name);
  if (!value || value->empty()) throw InvalidRequest{std::string(name) + " is required."};
  return *value;
}

std::optional<bool> body_flag(const json& object, std::string_view name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) throw InvalidRequest{std::string(name) + " must be true or false."};
  return it->get<bool>();
}

std::optional<std::map<std::string, std::string>> attribute_payload(const Call& call, bool* merge) {
  const json* payload = member(call, "attributePayload");
  if (!payload) return std::nullopt;
  if (!payload->is_object()) throw InvalidRequest{"attributePayload must be an object."};
  if (merge) *merge = body_flag(*payload, "merge").value_or(false);
  auto it = payload->find("attributes");
  if (it == payload->end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) throw InvalidRequest{"attributePayload.attributes must be an object."};
  std::map<std::string, std::string> attributes;
  for (const auto& [name, value] : it->items()) {
    if (name.empty() || name.size() > kMaxNameLength || !all_of(name, "_.,@/:#-")) {
      throw InvalidRequest{"The attribute name " + name +
                           " is not valid: use 1 to 128 letters, digits and _.,@/:#-"};
    }
    if (!value.is_string()) throw InvalidRequest{"The attribute " + name + " must be a string."};
    std::string text = value.get<std::string>();
    if (text.size() > kMaxAttributeValueLength || !all_of(text, "_.,@/:#=[]-")) {
      throw InvalidRequest{"The value of attribute " + name +
                           " is not valid: use up to 800 letters, digits and _.,@/:#=[]-"};
    }
    attributes[name] = std::move(text);
  }
  return attributes;
}

std::optional<HttpResponse> refuse_thing_type(const Call& call) {
  if (auto type = body_string(call, "thingTypeName")) {
    return not_found("The thing type " + *type + " does not exist.", call);
  }
  if (auto group = body_string(call, "billingGroupName")) {
    return not_found("The billing group " + *group + " does not exist.", call);
  }
  return std::nullopt;
}

std::optional<HttpResponse> refuse_policy_document(const std::string& document, const Call& call) {
  std::string why;
  if (!parse_policy(document, &why)) {
    return error(ErrorCode::kMalformedPolicyException, "The policy document is not valid: " + why,
                 call);
  }
  return std::nullopt;
}

json page_of(const std::vector<std::string>& items, const std::string& from, int limit, json* body,
             std::string_view token_name) {
  json page = json::array();
  for (const std::string& item : items) {
    if (item < from) continue;
    if (static_cast<int>(page.size()) == limit) {
      (*body)[std::string(token_name)] = base64_encode(item);
      break;
    }
    page.push_back(item);
  }
  return page;
}

}  // namespace offcloud::iot_registry

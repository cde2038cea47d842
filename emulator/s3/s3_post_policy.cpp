#include "emulator/s3/s3_post_policy.h"

#include <cctype>
#include <ctime>

#include <nlohmann/json.hpp>

#include "emulator/s3/s3_form_data.h"  // lower

namespace offcloud::s3 {
namespace {

using Json = nlohmann::json;

// "2026-01-01T12:00:00Z" or "2026-01-01T12:00:00.000Z", as AWS's SDKs write
// a policy's expiration.
std::optional<std::int64_t> parse_expiration(std::string_view text) {
  int year, month, day, hour, minute, second, consumed = 0;
  std::string copy(text);
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  std::int64_t millis = 0;
  if (rest.starts_with('.')) {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) {
      if (digits < 3) millis = millis * 10 + (rest.front() - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (rest != "Z") return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + millis;
}

// A content-length-range bound: a non-negative integer, or a string of one.
std::optional<std::uint64_t> read_bound(const Json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer()) {
    auto signed_value = value.get<std::int64_t>();
    if (signed_value < 0) return std::nullopt;
    return static_cast<std::uint64_t>(signed_value);
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t out = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      out = out * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return out;
  }
  return std::nullopt;
}

std::optional<PostPolicyCondition> read_condition(const Json& item) {
  if (item.is_object()) {
    // {"field": "value"}: one exact match (several would be ambiguous).
    if (item.size() != 1 || !item.begin().value().is_string()) return std::nullopt;
    std::string field = lower(item.begin().key());
    if (field.starts_with('$')) field.erase(0, 1);
    if (field.empty()) return std::nullopt;
    return PostPolicyCondition{PostPolicyCondition::Kind::kEq, std::move(field),
                               item.begin().value().get<std::string>()};
  }
  if (!item.is_array() || item.size() != 3 || !item[0].is_string()) return std::nullopt;
  std::string op = lower(item[0].get<std::string>());
  if (op == "content-length-range") {
    auto min = read_bound(item[1]);
    auto max = read_bound(item[2]);
    if (!min || !max || *min > *max) return std::nullopt;
    PostPolicyCondition condition;
    condition.kind = PostPolicyCondition::Kind::kContentLengthRange;
    condition.field = "content-length";
    condition.min = *min;
    condition.max = *max;
    return condition;
  }
  if (op != "eq" && op != "starts-with") return std::nullopt;
  if (!item[1].is_string() || !item[2].is_string()) return std::nullopt;
  std::string field = item[1].get<std::string>();
  if (!field.starts_with('$') || field.size() < 2) return std::nullopt;
  return PostPolicyCondition{
      op == "eq" ? PostPolicyCondition::Kind::kEq : PostPolicyCondition::Kind::kStartsWith,
      lower(std::string_view(field).substr(1)), item[2].get<std::string>()};
}

// The condition as S3 quotes it in "Policy Condition failed: ...".
std::string describe(const PostPolicyCondition& condition) {
  Json text = Json::array({condition.kind == PostPolicyCondition::Kind::kEq ? "eq" : "starts-with",
                           "$" + condition.field, condition.value});
  std::string out = "[";
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i) out += ", ";
    out += text[i].dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  return out + "]";
}

const std::string* find_field(const PostFields& fields, std::string_view name) {
  for (const auto& [field, value] : fields) {
    if (field == name) return &value;
  }
  return nullptr;
}

}  // namespace

std::optional<std::pair<std::uint64_t, std::uint64_t>> PostPolicy::length_range() const {
  std::optional<std::pair<std::uint64_t, std::uint64_t>> range;
  for (const PostPolicyCondition& condition : conditions) {
    if (condition.kind == PostPolicyCondition::Kind::kContentLengthRange) {
      range.emplace(condition.min, condition.max);
    }
  }
  return range;
}

std::optional<PostPolicy> parse_post_policy(std::string_view json, std::string* error) {
  Json document = Json::parse(json, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    *error = "Invalid Policy: Invalid JSON.";
    return std::nullopt;
  }
  PostPolicy policy;
  auto expiration = document.find("expiration");
  if (expiration == document.end()) {
    *error = "Invalid Policy: Policy missing expiration.";
    return std::nullopt;
  }
  std::optional<std::int64_t> expires =
      expiration->is_string() ? parse_expiration(expiration->get<std::string>()) : std::nullopt;
  if (!expires) {
    *error = "Invalid Policy: Invalid 'expiration' value: '" +
             (expiration->is_string() ? expiration->get<std::string>() : expiration->dump()) + "'";
    return std::nullopt;
  }
  policy.expiration_ms = *expires;
  auto conditions = document.find("conditions");
  if (conditions == document.end()) {
    *error = "Invalid Policy: Policy missing conditions.";
    return std::nullopt;
  }
  if (!conditions->is_array()) {
    *error = "Invalid Policy: Invalid 'conditions' value: must be a List.";
    return std::nullopt;
  }
  for (const Json& item : *conditions) {
    auto condition = read_condition(item);
    if (!condition) {
      *error = "Invalid Policy: Invalid Condition: " +
               item.dump(-1, ' ', false, Json::error_handler_t::replace);
      return std::nullopt;
    }
    policy.conditions.push_back(std::move(*condition));
  }
  return policy;
}

bool is_exempt_post_field(std::string_view lower_name) {
  return lower_name == "x-amz-signature" || lower_name == "file" || lower_name == "policy" ||
         lower_name == "awsaccesskeyid" || lower_name == "signature" ||
         lower_name.starts_with("x-ignore-");
}

std::string check_post_policy(const PostPolicy& policy, const PostFields& fields,
                              std::string_view bucket, std::int64_t now_ms) {
  if (policy.expiration_ms <= now_ms) return "Invalid according to Policy: Policy expired.";
  for (const PostPolicyCondition& condition : policy.conditions) {
    if (condition.kind == PostPolicyCondition::Kind::kContentLengthRange) continue;
    // A field the form lacks is empty: only an empty prefix takes it.
    std::string_view value;
    if (condition.field == "bucket") {
      value = bucket;
    } else if (const std::string* field = find_field(fields, condition.field)) {
      value = *field;
    }
    bool holds = condition.kind == PostPolicyCondition::Kind::kEq
                     ? value == condition.value
                     : value.starts_with(condition.value);
    if (!holds)
      return "Invalid according to Policy: Policy Condition failed: " + describe(condition);
  }
  std::string extra;
  for (const auto& [name, value] : fields) {
    if (is_exempt_post_field(name) || name == "bucket") continue;
    bool named = false;
    for (const PostPolicyCondition& condition : policy.conditions) {
      named = named || condition.field == name;
    }
    if (named) continue;
    if (!extra.empty()) extra += ", ";
    extra += name;
  }
  if (!extra.empty()) return "Invalid according to Policy: Extra input fields: " + extra;
  return {};
}

}  // namespace offcloud::s3

#include "emulator/auth/iam_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <set>

#include <nlohmann/json.hpp>

namespace offcloud {
namespace {

using json = nlohmann::json;

constexpr std::string_view kVersion2012 = "2012-10-17";
constexpr std::string_view kVersion2008 = "2008-10-17";
constexpr std::string_view kSyntaxError = "Syntax errors in policy.";

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// ---- Condition operators --------------------------------------------------

enum class OperatorKind {
  kString,
  kStringIgnoreCase,
  kStringLike,
  kNumeric,
  kDate,
  kBool,
  kBinary,
  kIp,
  kArn,
  kNull
};
enum class Comparison { kEquals, kLess, kLessOrEqual, kGreater, kGreaterOrEqual };

struct OperatorSpec {
  std::string_view name;
  OperatorKind kind;
  Comparison comparison;
  bool negated;  // true when the key matches none of the values
};

constexpr OperatorSpec kOperators[] = {
    {"StringEquals", OperatorKind::kString, Comparison::kEquals, false},
    {"StringNotEquals", OperatorKind::kString, Comparison::kEquals, true},
    {"StringEqualsIgnoreCase", OperatorKind::kStringIgnoreCase, Comparison::kEquals, false},
    {"StringNotEqualsIgnoreCase", OperatorKind::kStringIgnoreCase, Comparison::kEquals, true},
    {"StringLike", OperatorKind::kStringLike, Comparison::kEquals, false},
    {"StringNotLike", OperatorKind::kStringLike, Comparison::kEquals, true},
    {"NumericEquals", OperatorKind::kNumeric, Comparison::kEquals, false},
    {"NumericNotEquals", OperatorKind::kNumeric, Comparison::kEquals, true},
    {"NumericLessThan", OperatorKind::kNumeric, Comparison::kLess, false},
    {"NumericLessThanEquals", OperatorKind::kNumeric, Comparison::kLessOrEqual, false},
    {"NumericGreaterThan", OperatorKind::kNumeric, Comparison::kGreater, false},
    {"NumericGreaterThanEquals", OperatorKind::kNumeric, Comparison::kGreaterOrEqual, false},
    {"DateEquals", OperatorKind::kDate, Comparison::kEquals, false},
    {"DateNotEquals", OperatorKind::kDate, Comparison::kEquals, true},
    {"DateLessThan", OperatorKind::kDate, Comparison::kLess, false},
    {"DateLessThanEquals", OperatorKind::kDate, Comparison::kLessOrEqual, false},
    {"DateGreaterThan", OperatorKind::kDate, Comparison::kGreater, false},
    {"DateGreaterThanEquals", OperatorKind::kDate, Comparison::kGreaterOrEqual, false},
    {"Bool", OperatorKind::kBool, Comparison::kEquals, false},
    {"BinaryEquals", OperatorKind::kBinary, Comparison::kEquals, false},
    {"IpAddress", OperatorKind::kIp, Comparison::kEquals, false},
    {"NotIpAddress", OperatorKind::kIp, Comparison::kEquals, true},
    {"ArnEquals", OperatorKind::kArn, Comparison::kEquals, false},
    {"ArnLike", OperatorKind::kArn, Comparison::kEquals, false},
    {"ArnNotEquals", OperatorKind::kArn, Comparison::kEquals, true},
    {"ArnNotLike", OperatorKind::kArn, Comparison::kEquals, true},
    {"Null", OperatorKind::kNull, Comparison::kEquals, false},
};

const OperatorSpec* find_operator(std::string_view name) {
  for (const OperatorSpec& spec : kOperators) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool compare(double a, double b, Comparison comparison) {
  switch (comparison) {
    case Comparison::kEquals:
      return a == b;
    case Comparison::kLess:
      return a < b;
    case Comparison::kLessOrEqual:
      return a <= b;
    case Comparison::kGreater:
      return a > b;
    case Comparison::kGreaterOrEqual:
      return a >= b;
  }
  return false;
}

std::optional<double> parse_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string copy(text);
  char* end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

// Reads `digits` decimal digits at text[*at].
std::optional<int> read_digits(std::string_view text, std::size_t* at, int digits) {
  if (*at + digits > text.size()) return std::nullopt;
  int value = 0;
  for (int i = 0; i < digits; ++i) {
    char c = text[*at + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  *at += digits;
  return value;
}

// Seconds since the epoch, from epoch seconds or ISO 8601 ("2026-01-02",
// "2026-01-02T03:04:05Z", "...05.123+09:00"), the forms IAM takes.
std::optional<double> parse_date(std::string_view text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    return parse_number(text);
  }
  std::size_t at = 0;
  auto year = read_digits(text, &at, 4);
  if (!year || at >= text.size() || text[at++] != '-') return std::nullopt;
  auto month = read_digits(text, &at, 2);
  if (!month || at >= text.size() || text[at++] != '-') return std::nullopt;
  auto day = read_digits(text, &at, 2);
  if (!day || *month < 1 || *month > 12 || *day < 1 || *day > 31) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  double fraction = 0;
  long offset_s = 0;
  if (at < text.size()) {
    if (text[at] != 'T' && text[at] != 't') return std::nullopt;
    ++at;
    auto hour = read_digits(text, &at, 2);
    if (!hour || at >= text.size() || text[at++] != ':') return std::nullopt;
    auto minute = read_digits(text, &at, 2);
    if (!minute) return std::nullopt;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    if (at < text.size() && text[at] == ':') {
      ++at;
      auto second = read_digits(text, &at, 2);
      if (!second) return std::nullopt;
      tm.tm_sec = *second;
      if (at < text.size() && text[at] == '.') {
        std::size_t start = at++;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
        fraction = parse_number("0" + std::string(text.substr(start, at - start))).value_or(0);
      }
    }
    if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
      ++at;
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
      int sign = text[at++] == '+' ? 1 : -1;
      auto hours = read_digits(text, &at, 2);
      if (!hours) return std::nullopt;
      if (at < text.size() && text[at] == ':') ++at;
      auto minutes = read_digits(text, &at, 2);
      if (!minutes) return std::nullopt;
      offset_s = sign * (*hours * 3600L + *minutes * 60L);
    }
    if (at != text.size()) return std::nullopt;
  }
  return static_cast<double>(timegm(&tm) - offset_s) + fraction;
}

struct IpNetwork {
  int family = 0;  // AF_INET or AF_INET6
  unsigned char bytes[16] = {};
  int prefix = 0;
};

std::optional<IpNetwork> parse_ip(std::string_view text, bool allow_prefix) {
  IpNetwork network;
  std::string address(text);
  int prefix = -1;
  if (std::size_t slash = address.find('/'); slash != std::string::npos) {
    if (!allow_prefix) return std::nullopt;
    auto number = parse_number(std::string_view(address).substr(slash + 1));
    if (!number || *number < 0 || *number != std::floor(*number)) return std::nullopt;
    prefix = static_cast<int>(*number);
    address.resize(slash);
  }
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  if (inet_pton(AF_INET, address.c_str(), network.bytes) == 1) {
    network.family = AF_INET;
    network.prefix = prefix < 0 ? 32 : prefix;
    if (network.prefix > 32) return std::nullopt;
  } else if (inet_pton(AF_INET6, address.c_str(), network.bytes) == 1) {
    network.family = AF_INET6;
    network.prefix = prefix < 0 ? 128 : prefix;
    if (network.prefix > 128) return std::nullopt;
  } else {
    return std::nullopt;
  }
  return network;
}

bool ip_in_network(std::string_view address_text, std::string_view network_text) {
  auto network = parse_ip(network_text, true);
  auto address = parse_ip(address_text, false);
  if (!network || !address || network->family != address->family) return false;
  int bits = network->prefix;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    unsigned mask = bits >= 8 ? 0xffu : (0xffu << (8 - bits)) & 0xffu;
    if ((network->bytes[i] & mask) != (address->bytes[i] & mask)) return false;
  }
  return true;
}

// ---- Policy variables -----------------------------------------------------

// Replaces ${key} (and ${key, 'default'}) by the request's value, ${*},
// ${?} and ${$} by those characters. nullopt when a key has no single
// value: the element then matches nothing, as in IAM.
std::optional<std::string> substitute(std::string_view text, const ConditionContext& context) {
  if (text.find("${") == std::string_view::npos) return std::string(text);
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t open = text.find("${", at);
    if (open == std::string_view::npos) break;
    std::size_t close = text.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(text.substr(at, open - at));
    std::string_view inside = text.substr(open + 2, close - open - 2);
    std::optional<std::string> fallback;
    if (std::size_t comma = inside.find(','); comma != std::string_view::npos) {
      std::string_view rest = inside.substr(comma + 1);
      rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));
      while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
      if (rest.size() >= 2 && rest.front() == '\'' && rest.back() == '\'') {
        fallback = std::string(rest.substr(1, rest.size() - 2));
      }
      inside = inside.substr(0, comma);
    }
    while (!inside.empty() && inside.back() == ' ') inside.remove_suffix(1);
    while (!inside.empty() && inside.front() == ' ') inside.remove_prefix(1);
    if (inside == "*" || inside == "?" || inside == "$") {
      out.append(inside);
    } else if (const auto* values = context.find(inside); values && values->size() == 1) {
      out.append(values->front());
    } else if (fallback) {
      out.append(*fallback);
    } else {
      return std::nullopt;
    }
    at = close + 1;
  }
  out.append(text.substr(at));
  return out;
}

std::optional<std::string> resolve(std::string_view text, const PolicyDocument& document,
                                   const ConditionContext& context) {
  if (document.version != kVersion2012) return std::string(text);
  return substitute(text, context);
}

// ---- Evaluation -----------------------------------------------------------

bool value_matches(const OperatorSpec& spec, std::string_view policy_value,
                   std::string_view request_value) {
  switch (spec.kind) {
    case OperatorKind::kString:
      return policy_value == request_value;
    case OperatorKind::kStringIgnoreCase:
      return iequal(policy_value, request_value);
    case OperatorKind::kStringLike:
      return wildcard_match(policy_value, request_value, false);
    case OperatorKind::kNumeric: {
      auto a = parse_number(request_value), b = parse_number(policy_value);
      return a && b && compare(*a, *b, spec.comparison);
    }
    case OperatorKind::kDate: {
      auto a = parse_date(request_value), b = parse_date(policy_value);
      return a && b && compare(*a, *b, spec.comparison);
    }
    case OperatorKind::kBool:
      return iequal(policy_value, request_value);
    case OperatorKind::kBinary:
      return policy_value == request_value;
    case OperatorKind::kIp:
      return ip_in_network(request_value, policy_value);
    case OperatorKind::kArn:
      return arn_match(policy_value, request_value);
    case OperatorKind::kNull:
      break;
  }
  return false;
}

bool condition_holds(const PolicyCondition& condition, const PolicyDocument& document,
                     const ConditionContext& context) {
  const OperatorSpec& spec = *find_operator(condition.op);
  const std::vector<std::string>* request_values = context.find(condition.key);
  bool present = request_values && !request_values->empty();
  if (spec.kind == OperatorKind::kNull) {
    // {"Null": {"key": "true"}}: the key is absent.
    return std::any_of(condition.values.begin(), condition.values.end(), [&](const std::string& v) {
      return iequal(v, "true") ? !present : present;
    });
  }
  if (!present) {
    if (condition.if_exists) return true;
    if (condition.qualifier == PolicyCondition::SetQualifier::kForAllValues) return true;
    if (condition.qualifier == PolicyCondition::SetQualifier::kForAnyValue) return false;
    // A missing key matches no value: true only for the negated operators.
    return spec.negated;
  }
  std::vector<std::string> policy_values;
  for (const std::string& value : condition.values) {
    if (auto resolved = resolve(value, document, context)) policy_values.push_back(*resolved);
  }
  auto one_holds = [&](const std::string& request_value) {
    bool any = std::any_of(policy_values.begin(), policy_values.end(), [&](const std::string& p) {
      return value_matches(spec, p, request_value);
    });
    return spec.negated ? !any : any;
  };
  if (condition.qualifier == PolicyCondition::SetQualifier::kForAllValues) {
    return std::all_of(request_values->begin(), request_values->end(), one_holds);
  }
  return std::any_of(request_values->begin(), request_values->end(), one_holds);
}

// Whether the statement names the action and the resource (its conditions
// aside).
bool statement_covers(const PolicyStatement& statement, const PolicyDocument& document,
                      std::string_view action, std::string_view resource,
                      const ConditionContext& context) {
  bool action_listed = std::any_of(
      statement.actions.begin(), statement.actions.end(),
      [&](const std::string& pattern) { return wildcard_match(pattern, action, true); });
  if (action_listed == statement.not_action) return false;
  bool resource_listed = std::any_of(statement.resources.begin(), statement.resources.end(),
                                     [&](const std::string& pattern) {
                                       auto resolved = resolve(pattern, document, context);
                                       return resolved && arn_match(*resolved, resource);
                                     });
  return resource_listed != statement.not_resource;
}

bool conditions_hold(const PolicyStatement& statement, const PolicyDocument& document,
                     const ConditionContext& context) {
  return std::all_of(
      statement.conditions.begin(), statement.conditions.end(),
      [&](const PolicyCondition& c) { return condition_holds(c, document, context); });
}

bool statement_applies(const PolicyStatement& statement, const PolicyDocument& document,
                       std::string_view action, std::string_view resource,
                       const ConditionContext& context) {
  return statement_covers(statement, document, action, resource, context) &&
         conditions_hold(statement, document, context);
}

// ---- Statement positions --------------------------------------------------

// Just enough of JSON to find where values start and end, in text that
// parse_policy() has already accepted.
class SpanScanner {
 public:
  explicit SpanScanner(std::string_view text) : text_(text) {}

  std::vector<StatementSpan> statements() {
    std::vector<StatementSpan> spans;
    skip_space();
    if (!peek('{')) return spans;
    ++at_;
    for (;;) {
      skip_space();
      if (peek('}') || at_ >= text_.size()) break;
      std::string key = string_value();
      skip_space();
      if (peek(':')) ++at_;
      skip_space();
      if (key == "Statement") {
        spans.clear();  // a repeated key: the last one counts, as for the parser
        if (peek('[')) {
          ++at_;
          for (;;) {
            skip_space();
            if (peek(']') || at_ >= text_.size()) break;
            spans.push_back(span_of_value());
            skip_space();
            if (peek(',')) ++at_;
          }
          if (peek(']')) ++at_;
        } else {
          spans.push_back(span_of_value());
        }
      } else {
        skip_value();
      }
      skip_space();
      if (peek(',')) ++at_;
    }
    return spans;
  }

 private:
  bool peek(char c) const { return at_ < text_.size() && text_[at_] == c; }

  void skip_space() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
      ++at_;
    }
  }

  // The raw text of a string (escapes kept: keys compared here have none).
  std::string string_value() {
    std::string out;
    if (!peek('"')) return out;
    ++at_;
    while (at_ < text_.size() && text_[at_] != '"') {
      if (text_[at_] == '\\' && at_ + 1 < text_.size()) out += text_[at_++];
      out += text_[at_++];
    }
    ++at_;
    return out;
  }

  void skip_value() {
    if (peek('"')) {
      string_value();
      return;
    }
    if (peek('{') || peek('[')) {
      int depth = 0;
      while (at_ < text_.size()) {
        char c = text_[at_];
        if (c == '"') {
          string_value();
          continue;
        }
        ++at_;
        if (c == '{' || c == '[') ++depth;
        if ((c == '}' || c == ']') && --depth == 0) return;
      }
      return;
    }
    while (at_ < text_.size() && text_[at_] != ',' && text_[at_] != '}' && text_[at_] != ']' &&
           text_[at_] != ' ' && text_[at_] != '\t' && text_[at_] != '\n' && text_[at_] != '\r') {
      ++at_;
    }
  }

  StatementSpan span_of_value() {
    std::size_t start = at_;
    skip_value();
    return {position(start), position(at_)};
  }

  // Lines and columns from 1; a column counts characters (UTF-8 sequences),
  // not bytes.
  TextPosition position(std::size_t offset) const {
    TextPosition out{1, 1};
    for (std::size_t i = 0; i < offset && i < text_.size(); ++i) {
      auto c = static_cast<unsigned char>(text_[i]);
      if (c == '\n') {
        ++out.line;
        out.column = 1;
      } else if ((c & 0xC0) != 0x80) {
        ++out.column;
      }
    }
    return out;
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

// ---- Parsing --------------------------------------------------------------

struct ParseError {
  std::string message;
};

std::vector<std::string> string_list(const json& value) {
  std::vector<std::string> out;
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
    return out;
  }
  if (!value.is_array() || value.empty()) throw ParseError{std::string(kSyntaxError)};
  for (const json& item : value) {
    if (!item.is_string()) throw ParseError{std::string(kSyntaxError)};
    out.push_back(item.get<std::string>());
  }
  return out;
}

void check_action(const std::string& action) {
  if (action == "*") return;
  std::size_t colon = action.find(':');
  bool vendor_ok = colon != std::string::npos && colon > 0 && colon + 1 < action.size();
  for (std::size_t i = 0; vendor_ok && i < colon; ++i) {
    char c = action[i];
    vendor_ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '*' || c == '?';
  }
  if (!vendor_ok) {
    throw ParseError{"Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."};
  }
  if (action.find(' ') != std::string::npos) {
    throw ParseError{"Action " + action + " contains whitespace."};
  }
}

void check_resource(const std::string& resource) {
  if (resource == "*") return;
  if (!resource.starts_with("arn:") || std::count(resource.begin(), resource.end(), ':') < 5) {
    throw ParseError{"Resource " + resource + " must be in ARN format or \"*\"."};
  }
}

std::vector<PolicyCondition> parse_conditions(const json& block) {
  if (!block.is_object()) throw ParseError{std::string(kSyntaxError)};
  std::vector<PolicyCondition> out;
  for (const auto& [raw_operator, keys] : block.items()) {
    PolicyCondition base;
    std::string_view op = raw_operator;
    if (op.starts_with("ForAnyValue:")) {
      base.qualifier = PolicyCondition::SetQualifier::kForAnyValue;
      op.remove_prefix(std::strlen("ForAnyValue:"));
    } else if (op.starts_with("ForAllValues:")) {
      base.qualifier = PolicyCondition::SetQualifier::kForAllValues;
      op.remove_prefix(std::strlen("ForAllValues:"));
    }
    if (op.ends_with("IfExists") && op != "IfExists") {
      base.if_exists = true;
      op.remove_suffix(std::strlen("IfExists"));
    }
    const OperatorSpec* spec = find_operator(op);
    if (!spec || (spec->kind == OperatorKind::kNull && base.if_exists)) {
      throw ParseError{"Invalid Condition type : " + raw_operator + "."};
    }
    base.op = std::string(op);
    if (!keys.is_object() || keys.empty()) throw ParseError{std::string(kSyntaxError)};
    for (const auto& [key, values] : keys.items()) {
      PolicyCondition condition = base;
      condition.key = key;
      auto add = [&](const json& value) {
        if (value.is_string()) {
          condition.values.push_back(value.get<std::string>());
        } else if (value.is_boolean() || value.is_number()) {
          condition.values.push_back(value.dump());
        } else {
          throw ParseError{std::string(kSyntaxError)};
        }
      };
      if (values.is_array()) {
        for (const json& value : values) add(value);
      } else {
        add(values);
      }
      out.push_back(std::move(condition));
    }
  }
  return out;
}

PolicyStatement parse_statement(const json& element) {
  if (!element.is_object()) throw ParseError{std::string(kSyntaxError)};
  static const std::set<std::string_view> kKnown = {"Sid",       "Effect",    "Action",
                                                    "NotAction", "Resource",  "NotResource",
                                                    "Condition", "Principal", "NotPrincipal"};
  for (const auto& [key, value] : element.items()) {
    if (!kKnown.count(key)) throw ParseError{std::string(kSyntaxError)};
  }
  if (element.contains("Principal") || element.contains("NotPrincipal")) {
    throw ParseError{"Policy document should not specify a principal."};
  }
  PolicyStatement statement;
  if (element.contains("Sid")) {
    if (!element["Sid"].is_string()) throw ParseError{std::string(kSyntaxError)};
    statement.sid = element["Sid"].get<std::string>();
    for (char c : statement.sid) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
        throw ParseError{
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the "
            "regular expression [0-9A-Za-z]*"};
      }
    }
  }
  const json* effect = element.contains("Effect") ? &element["Effect"] : nullptr;
  if (!effect || !effect->is_string() || (*effect != "Allow" && *effect != "Deny")) {
    throw ParseError{"Policy statement must contain a valid Effect."};
  }
  statement.allow = *effect == "Allow";

  bool has_action = element.contains("Action"), has_not_action = element.contains("NotAction");
  if (has_action && has_not_action) throw ParseError{std::string(kSyntaxError)};
  if (!has_action && !has_not_action) throw ParseError{"Policy statement must contain actions."};
  statement.not_action = has_not_action;
  statement.actions = string_list(element[has_action ? "Action" : "NotAction"]);
  for (const std::string& action : statement.actions) check_action(action);

  bool has_resource = element.contains("Resource");
  bool has_not_resource = element.contains("NotResource");
  if (has_resource && has_not_resource) throw ParseError{std::string(kSyntaxError)};
  if (!has_resource && !has_not_resource) {
    throw ParseError{"Policy statement must contain resources."};
  }
  statement.not_resource = has_not_resource;
  statement.resources = string_list(element[has_resource ? "Resource" : "NotResource"]);
  for (const std::string& resource : statement.resources) check_resource(resource);

  if (element.contains("Condition")) statement.conditions = parse_conditions(element["Condition"]);
  return statement;
}

}  // namespace

void ConditionContext::fill() const {
  if (!fill_) return;
  auto fill = std::move(fill_);
  fill_ = nullptr;
  fill(const_cast<ConditionContext*>(this));
}

void ConditionContext::set(std::string_view key, std::string value) {
  fill();
  values_[lowered(key)] = {std::move(value)};
}

void ConditionContext::add(std::string_view key, std::string value) {
  fill();
  values_[lowered(key)].push_back(std::move(value));
}

const std::vector<std::string>* ConditionContext::find(std::string_view key) const {
  fill();
  auto it = values_.find(lowered(key));
  return it == values_.end() ? nullptr : &it->second;
}

bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case) {
  // Greedy with backtracking to the last '*': linear in practice.
  std::size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  auto same = [&](char a, char b) { return ignore_case ? lower(a) == lower(b) : a == b; };
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || same(pattern[p], text[t]))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool arn_match(std::string_view pattern, std::string_view arn) {
  if (pattern == "*") return true;
  // arn:partition:service:region:account:resource; the resource keeps its colons.
  auto split = [](std::string_view text, std::vector<std::string_view>* parts) {
    for (int i = 0; i < 5; ++i) {
      std::size_t colon = text.find(':');
      if (colon == std::string_view::npos) return false;
      parts->push_back(text.substr(0, colon));
      text.remove_prefix(colon + 1);
    }
    parts->push_back(text);
    return true;
  };
  std::vector<std::string_view> pattern_parts, arn_parts;
  if (!split(pattern, &pattern_parts) || !split(arn, &arn_parts)) {
    return wildcard_match(pattern, arn, false);
  }
  for (int i = 0; i < 6; ++i) {
    if (!wildcard_match(pattern_parts[i], arn_parts[i], false)) return false;
  }
  return true;
}

std::optional<PolicyDocument> parse_policy(std::string_view text, std::string* error) {
  json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  try {
    if (!root.is_object()) throw ParseError{std::string(kSyntaxError)};
    PolicyDocument document;
    for (const auto& [key, value] : root.items()) {
      if (key != "Version" && key != "Id" && key != "Statement") {
        throw ParseError{std::string(kSyntaxError)};
      }
    }
    if (root.contains("Version")) {
      const json& version = root["Version"];
      if (!version.is_string() || (version != kVersion2012 && version != kVersion2008)) {
        throw ParseError{"The policy must contain a valid version string"};
      }
      document.version = version.get<std::string>();
    }
    if (!root.contains("Statement")) throw ParseError{std::string(kSyntaxError)};
    const json& statements = root["Statement"];
    if (statements.is_array()) {
      if (statements.empty()) throw ParseError{std::string(kSyntaxError)};
      for (const json& statement : statements) {
        document.statements.push_back(parse_statement(statement));
      }
    } else {
      document.statements.push_back(parse_statement(statements));
    }
    std::set<std::string> sids;
    for (const PolicyStatement& statement : document.statements) {
      if (!statement.sid.empty() && !sids.insert(statement.sid).second) {
        throw ParseError{"Statement IDs (SID) in a single policy must be unique."};
      }
    }
    return document;
  } catch (const ParseError& e) {
    if (error) *error = e.message;
    return std::nullopt;
  }
}

Decision evaluate(const std::vector<const PolicyDocument*>& policies, std::string_view action,
                  std::string_view resource, const ConditionContext& context) {
  bool allowed = false;
  for (const PolicyDocument* document : policies) {
    for (const PolicyStatement& statement : document->statements) {
      if (!statement_applies(statement, *document, action, resource, context)) continue;
      if (!statement.allow) return Decision::kExplicitDeny;
      allowed = true;
    }
  }
  return allowed ? Decision::kAllow : Decision::kImplicitDeny;
}

Explanation explain(const std::vector<const PolicyDocument*>& policies, std::string_view action,
                    std::string_view resource, const ConditionContext& context) {
  Explanation out;
  std::vector<MatchedStatement> allows, denies;
  std::set<std::string> missing_seen;
  for (std::size_t p = 0; p < policies.size(); ++p) {
    const PolicyDocument& document = *policies[p];
    for (std::size_t s = 0; s < document.statements.size(); ++s) {
      const PolicyStatement& statement = document.statements[s];
      if (!statement_covers(statement, document, action, resource, context)) continue;
      for (const PolicyCondition& condition : statement.conditions) {
        const std::vector<std::string>* values = context.find(condition.key);
        if ((!values || values->empty()) && missing_seen.insert(lowered(condition.key)).second) {
          out.missing_context_keys.push_back(condition.key);
        }
      }
      if (!conditions_hold(statement, document, context)) continue;
      (statement.allow ? allows : denies).push_back({p, s});
    }
  }
  if (!denies.empty()) {
    out.decision = Decision::kExplicitDeny;
    out.matched = std::move(denies);
  } else if (!allows.empty()) {
    out.decision = Decision::kAllow;
    out.matched = std::move(allows);
  }
  return out;
}

std::vector<StatementSpan> statement_spans(std::string_view text) {
  if (!parse_policy(text, nullptr)) return {};
  return SpanScanner(text).statements();
}

}  // namespace offcloud

#include "rules/sql_functions.h"

#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <regex>
#include <unordered_map>

#include "rules/sql_json.h"
#include "rules/sql_parser.h"
#include "rules/sql_time.h"
#include "storage/digest.h"

namespace offcloud {
namespace {

using Args = const SqlValue*;
using Env = const SqlCallEnvironment&;

std::optional<std::string> string_arg(const SqlValue& value) {
  return to_string(value);
}

// Byte offsets of each UTF-8 character, plus the end, so functions count
// characters as AWS does rather than bytes.
std::vector<std::size_t> character_offsets(std::string_view text) {
  std::vector<std::size_t> offsets;
  offsets.reserve(text.size() + 1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) offsets.push_back(i);
  }
  offsets.push_back(text.size());
  return offsets;
}

// Math ----------------------------------------------------------------------

SqlValue decimal_result(double value) {
  if (!std::isfinite(value)) return SqlValue();  // imaginary or infinite: Undefined
  return SqlValue::decimal(value);
}

template <double (*F)(double)>
SqlValue unary_math(Args args, std::size_t, Env) {
  std::optional<double> x = to_decimal(args[0]);
  if (!x) return SqlValue();
  return decimal_result(F(*x));
}

double log10_of(double x) {
  return std::log10(x);
}
double ln_of(double x) {
  return std::log(x);
}

SqlValue fn_abs(Args args, std::size_t, Env) {
  if (args[0].is_int() && args[0].as_int() != INT64_MIN) {
    return SqlValue::integer(std::llabs(args[0].as_int()));
  }
  std::optional<double> x = to_decimal(args[0]);
  if (!x) return SqlValue();
  return SqlValue::decimal(std::fabs(*x));
}

SqlValue fn_atan2(Args args, std::size_t, Env) {
  std::optional<double> y = to_decimal(args[0]), x = to_decimal(args[1]);
  if (!y || !x) return SqlValue();
  return decimal_result(std::atan2(*y, *x));
}

SqlValue fn_power(Args args, std::size_t, Env) {
  std::optional<double> base = to_decimal(args[0]), exponent = to_decimal(args[1]);
  if (!base || !exponent) return SqlValue();
  return decimal_result(std::pow(*base, *exponent));
}

SqlValue integer_result(double value) {
  if (!std::isfinite(value) || std::fabs(value) >= 9.2e18) return SqlValue();
  return SqlValue::integer(static_cast<std::int64_t>(value));
}

template <double (*F)(double)>
SqlValue to_integer_math(Args args, std::size_t, Env) {
  if (args[0].is_int()) return args[0];
  std::optional<double> x = to_decimal(args[0]);
  if (!x) return SqlValue();
  return integer_result(F(*x));
}

double ceil_of(double x) {
  return std::ceil(x);
}
double floor_of(double x) {
  return std::floor(x);
}
double round_of(double x) {
  return std::round(x);
}  // halves away from zero

SqlValue fn_sign(Args args, std::size_t, Env) {
  std::optional<double> x = to_decimal(args[0]);
  if (!x) return SqlValue();
  return SqlValue::integer(*x > 0 ? 1 : *x < 0 ? -1 : 0);
}

SqlValue fn_mod(Args args, std::size_t, Env) {
  if (args[0].is_int() && args[1].is_int()) {
    if (args[1].as_int() == 0) return SqlValue();
    if (args[1].as_int() == -1) return SqlValue::integer(0);
    return SqlValue::integer(args[0].as_int() % args[1].as_int());
  }
  std::optional<double> a = to_decimal(args[0]), b = to_decimal(args[1]);
  if (!a || !b || *b == 0) return SqlValue();
  return decimal_result(std::fmod(*a, *b));
}

SqlValue fn_nanvl(Args args, std::size_t, Env) {
  if (args[0].is_decimal() && std::isnan(args[0].as_decimal())) return args[1];
  if (args[0].is_undefined()) return args[1];
  return args[0];
}

SqlValue fn_rand(Args, std::size_t, Env env) {
  if (env.context.random) return SqlValue::decimal(env.context.random());
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return SqlValue::decimal(std::uniform_real_distribution<double>(0.0, 1.0)(generator));
}

// trunc(x, places): toward zero at `places` digits after the point; AWS
// sets places below 0 to 0 and above 34 to 34.
SqlValue fn_trunc(Args args, std::size_t, Env) {
  std::optional<double> x = to_decimal(args[0]);
  std::optional<std::int64_t> places = to_int(args[1]);
  if (!x || !places) return SqlValue();
  places = std::clamp<std::int64_t>(*places, 0, 34);
  if (args[0].is_int()) return args[0];
  double scale = std::pow(10.0, static_cast<double>(*places));
  double result = std::trunc(*x * scale) / scale;
  if (*places <= 0) return integer_result(result);
  return decimal_result(result);
}

// Bitwise -------------------------------------------------------------------

template <std::int64_t (*F)(std::int64_t, std::int64_t)>
SqlValue bitwise(Args args, std::size_t, Env) {
  std::optional<std::int64_t> a = to_int(args[0]), b = to_int(args[1]);
  if (!a || !b || args[0].is_boolean() || args[1].is_boolean()) return SqlValue();
  return SqlValue::integer(F(*a, *b));
}
std::int64_t bit_and(std::int64_t a, std::int64_t b) {
  return a & b;
}
std::int64_t bit_or(std::int64_t a, std::int64_t b) {
  return a | b;
}
std::int64_t bit_xor(std::int64_t a, std::int64_t b) {
  return a ^ b;
}

SqlValue fn_bitnot(Args args, std::size_t, Env) {
  std::optional<std::int64_t> a = to_int(args[0]);
  if (!a || args[0].is_boolean()) return SqlValue();
  return SqlValue::integer(~*a);
}

// Strings -------------------------------------------------------------------

void append_utf8(std::uint32_t code, std::string* out) {
  if (code < 0x80) {
    out->push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code >> 6)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else if (code < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (code >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (code >> 18)));
    out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
  }
}

SqlValue fn_chr(Args args, std::size_t, Env) {
  std::optional<std::int64_t> code = to_int(args[0]);
  if (!code || *code < 0 || *code > 0x10FFFF || (*code >= 0xD800 && *code <= 0xDFFF)) {
    return SqlValue();
  }
  std::string text;
  append_utf8(static_cast<std::uint32_t>(*code), &text);
  return SqlValue::string(std::move(text));
}

// concat(): strings join; if any argument is an array, the result is one
// array of the arguments, arrays spliced in.
SqlValue fn_concat(Args args, std::size_t count, Env) {
  if (count == 0) return SqlValue();
  if (count == 1) return args[0];
  bool any_array = std::any_of(args, args + count, [](const SqlValue& v) { return v.is_array(); });
  if (any_array) {
    SqlValue::Array elements;
    for (std::size_t i = 0; i < count; ++i) {
      if (args[i].is_undefined()) return SqlValue();
      if (args[i].is_array()) {
        const SqlValue::Array& inner = args[i].as_array();
        elements.insert(elements.end(), inner.begin(), inner.end());
      } else {
        elements.push_back(args[i]);
      }
    }
    return SqlValue::array(std::move(elements));
  }
  std::string text;
  for (std::size_t i = 0; i < count; ++i) {
    std::optional<std::string> part = string_arg(args[i]);
    if (!part) return SqlValue();
    text += *part;
  }
  return SqlValue::string(std::move(text));
}

SqlValue fn_startswith(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]), prefix = string_arg(args[1]);
  if (!text || !prefix) return SqlValue();
  return SqlValue::boolean(text->starts_with(*prefix));
}

SqlValue fn_endswith(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]), suffix = string_arg(args[1]);
  if (!text || !suffix) return SqlValue();
  return SqlValue::boolean(text->ends_with(*suffix));
}

SqlValue fn_indexof(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]), needle = string_arg(args[1]);
  if (!text || !needle) return SqlValue();
  std::size_t at = text->find(*needle);
  if (at == std::string::npos) return SqlValue::integer(-1);
  std::vector<std::size_t> offsets = character_offsets(*text);
  auto found = std::lower_bound(offsets.begin(), offsets.end(), at);
  return SqlValue::integer(found - offsets.begin());
}

SqlValue fn_length(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]);
  if (!text) return SqlValue();
  return SqlValue::integer(static_cast<std::int64_t>(character_offsets(*text).size() - 1));
}

SqlValue fn_numbytes(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]);
  if (!text) return SqlValue();
  return SqlValue::integer(static_cast<std::int64_t>(text->size()));
}

template <char (*F)(char)>
SqlValue map_ascii(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]);
  if (!text) return SqlValue();
  std::transform(text->begin(), text->end(), text->begin(), F);
  return SqlValue::string(std::move(*text));
}
char lower_ascii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}
char upper_ascii(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

template <bool kLeft>
SqlValue pad(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]);
  std::optional<std::int64_t> spaces = to_int(args[1]);
  if (!text || !spaces || args[1].is_boolean() || *spaces > 1000000) return SqlValue();
  if (*spaces <= 0) return SqlValue::string(std::move(*text));
  std::string padding(static_cast<std::size_t>(*spaces), ' ');
  return SqlValue::string(kLeft ? padding + *text : *text + padding);
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

template <bool kLeft, bool kRight>
SqlValue trim(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]);
  if (!text) return SqlValue();
  std::size_t begin = 0, end = text->size();
  if (kLeft) {
    while (begin < end && is_space((*text)[begin])) ++begin;
  }
  if (kRight) {
    while (end > begin && is_space((*text)[end - 1])) --end;
  }
  return SqlValue::string(text->substr(begin, end - begin));
}

SqlValue fn_replace(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]), from = string_arg(args[1]),
                             to = string_arg(args[2]);
  if (!text || !from || !to) return SqlValue();
  if (from->empty()) return SqlValue::string(std::move(*text));
  std::string result;
  std::size_t at = 0;
  while (true) {
    std::size_t found = text->find(*from, at);
    if (found == std::string::npos) break;
    result.append(*text, at, found - at);
    result += *to;
    at = found + from->size();
  }
  result.append(*text, at);
  return SqlValue::string(std::move(result));
}

// substring(s, start[, end]): characters [start, end), both clamped to the
// string; fractional positions truncate.
// Positions beyond the Int range clamp like any other out-of-range index.
std::optional<std::int64_t> clamped_position(const SqlValue& value) {
  if (value.is_boolean()) return std::nullopt;
  std::optional<double> position = to_decimal(value);
  if (!position || std::isnan(*position)) return std::nullopt;
  if (*position <= -9.0e18) return std::numeric_limits<std::int64_t>::min();
  if (*position >= 9.0e18) return std::numeric_limits<std::int64_t>::max();
  return to_int(value);
}

SqlValue fn_substring(Args args, std::size_t count, Env) {
  std::optional<std::string> text = string_arg(args[0]);
  std::optional<std::int64_t> start = clamped_position(args[1]);
  if (!text || !start) return SqlValue();
  std::vector<std::size_t> offsets = character_offsets(*text);
  auto length = static_cast<std::int64_t>(offsets.size() - 1);
  std::int64_t end = length;
  if (count == 3) {
    std::optional<std::int64_t> given = clamped_position(args[2]);
    if (!given) return SqlValue();
    end = *given;
  }
  std::int64_t from = std::clamp<std::int64_t>(*start, 0, length);
  std::int64_t to = std::clamp<std::int64_t>(end, 0, length);
  if (to <= from) return SqlValue::string("");
  return SqlValue::string(text->substr(offsets[from], offsets[to] - offsets[from]));
}

// Compiling a regex costs far more than matching one, and rules use the same
// few literal patterns for every message.
const std::regex* compiled_regex(const std::string& pattern) {
  thread_local std::unordered_map<std::string, std::optional<std::regex>> cache;
  auto found = cache.find(pattern);
  if (found == cache.end()) {
    if (cache.size() >= 256) cache.clear();
    std::optional<std::regex> regex;
    try {
      regex.emplace(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
    }
    found = cache.emplace(pattern, std::move(regex)).first;
  }
  return found->second ? &*found->second : nullptr;
}

SqlValue fn_regexp_matches(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]), pattern = string_arg(args[1]);
  if (!text || !pattern) return SqlValue();
  const std::regex* regex = compiled_regex(*pattern);
  if (regex == nullptr) return SqlValue();
  return SqlValue::boolean(std::regex_search(*text, *regex));
}

SqlValue fn_regexp_replace(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]), pattern = string_arg(args[1]),
                             replacement = string_arg(args[2]);
  if (!text || !pattern || !replacement) return SqlValue();
  const std::regex* regex = compiled_regex(*pattern);
  if (regex == nullptr) return SqlValue();
  return SqlValue::string(std::regex_replace(*text, *regex, *replacement));
}

SqlValue fn_regexp_substr(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]), pattern = string_arg(args[1]);
  if (!text || !pattern) return SqlValue();
  const std::regex* regex = compiled_regex(*pattern);
  if (regex == nullptr) return SqlValue();
  std::smatch match;
  if (!std::regex_search(*text, match, *regex)) return SqlValue::string("");
  return SqlValue::string(match.str(0));
}

// Types and JSON --------------------------------------------------------------

SqlValue fn_cast(Args args, std::size_t, Env env) {
  const SqlValue& value = args[0];
  if (!args[1].is_string()) return SqlValue();
  std::string type = args[1].as_string();
  std::transform(type.begin(), type.end(), type.begin(), lower_ascii);
  // The Functions page lists Decimal, Bool and Boolean "additionally, for SQL
  // version 2016-03-23": 2015-10-08 knows no such type.
  if (env.version == SqlVersion::k2015_10_08 &&
      (type == "decimal" || type == "bool" || type == "boolean")) {
    return SqlValue();
  }
  if (type == "int" || type == "integer") {
    if (value.is_boolean()) return SqlValue::integer(value.as_boolean() ? 1 : 0);
    std::optional<std::int64_t> result = to_int(value);
    return result ? SqlValue::integer(*result) : SqlValue();
  }
  if (type == "decimal" || type == "double") {
    if (value.is_boolean()) return SqlValue::decimal(value.as_boolean() ? 1.0 : 0.0);
    std::optional<double> result = to_decimal(value);
    return result ? SqlValue::decimal(*result) : SqlValue();
  }
  if (type == "boolean" || type == "bool") {
    std::optional<bool> result = to_boolean(value);
    return result ? SqlValue::boolean(*result) : SqlValue();
  }
  if (type == "string" || type == "varchar" || type == "nvarchar" || type == "text" ||
      type == "ntext") {
    std::optional<std::string> result = to_string(value, env.version == SqlVersion::k2016_03_23);
    return result ? SqlValue::string(std::move(*result)) : SqlValue();
  }
  return SqlValue();
}

SqlValue fn_get(Args args, std::size_t, Env) {
  if (args[0].is_object()) {
    std::optional<std::string> key = string_arg(args[1]);
    if (!key) return SqlValue();
    const SqlValue* found = args[0].find(*key);
    return found != nullptr ? *found : SqlValue();
  }
  if (args[0].is_array()) {
    std::optional<std::int64_t> index = to_int(args[1]);
    const SqlValue::Array& elements = args[0].as_array();
    if (!index || args[1].is_boolean() || *index < 0 ||
        static_cast<std::size_t>(*index) >= elements.size()) {
      return SqlValue();
    }
    return elements[static_cast<std::size_t>(*index)];
  }
  if (args[0].is_string()) {
    // "The character at the 0-based index of the string".
    std::optional<std::int64_t> index = to_int(args[1]);
    std::vector<std::size_t> offsets = character_offsets(args[0].as_string());
    if (!index || args[1].is_boolean() || *index < 0 ||
        static_cast<std::size_t>(*index) + 1 >= offsets.size()) {
      return SqlValue();
    }
    auto at = static_cast<std::size_t>(*index);
    return SqlValue::string(args[0].as_string().substr(offsets[at], offsets[at + 1] - offsets[at]));
  }
  return SqlValue();
}

SqlValue fn_get_or_default(Args args, std::size_t, Env) {
  if (args[0].is_undefined() || args[0].is_null()) return args[1];
  return args[0];
}

template <bool (*F)(const SqlValue&)>
SqlValue type_test(Args args, std::size_t, Env) {
  return SqlValue::boolean(F(args[0]));
}
bool test_null(const SqlValue& v) {
  return v.is_null();
}
bool test_undefined(const SqlValue& v) {
  return v.is_undefined();
}
bool test_boolean(const SqlValue& v) {
  return v.is_boolean();
}
bool test_number(const SqlValue& v) {
  return v.is_number();
}
bool test_string(const SqlValue& v) {
  return v.is_string();
}
bool test_array(const SqlValue& v) {
  return v.is_array();
}
bool test_object(const SqlValue& v) {
  return v.is_object();
}

SqlValue fn_is_empty(Args args, std::size_t, Env) {
  const SqlValue& v = args[0];
  if (v.is_undefined()) return SqlValue();
  if (v.is_string()) return SqlValue::boolean(v.as_string().empty());
  if (v.is_array()) return SqlValue::boolean(v.as_array().empty());
  if (v.is_object()) return SqlValue::boolean(v.as_object().empty());
  return SqlValue::boolean(false);
}

// transform("enrichArray", attributes, array): each object of the array
// with the attributes' members added.
SqlValue fn_transform(Args args, std::size_t, Env) {
  if (!args[0].is_string() || args[0].as_string() != "enrichArray") return SqlValue();
  if (!args[1].is_object() || !args[2].is_array()) return SqlValue();
  SqlValue::Array result;
  result.reserve(args[2].as_array().size());
  for (const SqlValue& element : args[2].as_array()) {
    if (!element.is_object()) {
      result.push_back(element);
      continue;
    }
    SqlValue::Object members = element.as_object();
    for (const SqlValue::Member& attribute : args[1].as_object()) {
      auto same = std::find_if(members.begin(), members.end(), [&](const SqlValue::Member& m) {
        return m.first == attribute.first;
      });
      if (same != members.end()) {
        same->second = attribute.second;
      } else {
        members.push_back(attribute);
      }
    }
    result.push_back(SqlValue::object(std::move(members)));
  }
  return SqlValue::array(std::move(result));
}

// Encoding and hashes -----------------------------------------------------------

SqlValue fn_encode(Args args, std::size_t, Env) {
  if (!args[1].is_string() || args[1].as_string() != "base64") return SqlValue();
  std::optional<std::string> bytes = string_arg(args[0]);
  if (!bytes) return SqlValue();
  return SqlValue::string(base64_encode(*bytes));
}

// "If the decoded string is a JSON document, an addressable object is
// returned. Otherwise, the decoded string is returned as a string. The
// function returns NULL if the string cannot be decoded."
SqlValue fn_decode(Args args, std::size_t, Env env) {
  if (!args[1].is_string() || args[1].as_string() != "base64" || !args[0].is_string()) {
    return SqlValue();
  }
  std::string bytes;
  if (!base64_decode(args[0].as_string(), &bytes)) return SqlValue::null();
  // Any JSON document comes back as its value, a bare number too: the WHERE
  // clause page decodes the payload 80 and compares it, and outputs, as 80.
  std::optional<SqlValue> document = parse_json(bytes, env.version == SqlVersion::k2016_03_23);
  if (document) return std::move(*document);
  return SqlValue::string(std::move(bytes));
}

template <const EVP_MD* (*Algorithm)()>
SqlValue digest(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]);
  if (!text) return SqlValue();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text->data(), text->size(), out, &size, Algorithm(), nullptr) != 1) {
    return SqlValue();
  }
  return SqlValue::string(hex(out, size));
}

// Time ------------------------------------------------------------------------

std::int64_t now_ms(Env env) {
  if (env.context.now_ms) return env.context.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SqlValue fn_timestamp(Args, std::size_t, Env env) {
  return SqlValue::integer(now_ms(env));
}

// parse_time(pattern, epoch_ms[, zone]): the time formatted with a Joda-Time
// pattern.
SqlValue fn_parse_time(Args args, std::size_t count, Env) {
  std::optional<std::string> pattern = string_arg(args[0]);
  std::optional<std::int64_t> epoch_ms = to_int(args[1]);
  if (!pattern || !epoch_ms || args[1].is_boolean()) return SqlValue();
  std::string zone = "UTC";
  if (count == 3) {
    std::optional<std::string> given = string_arg(args[2]);
    if (!given) return SqlValue();
    zone = *given;
  }
  std::optional<std::string> text = format_joda_time(*pattern, *epoch_ms, zone);
  return text ? SqlValue::string(std::move(*text)) : SqlValue();
}

// time_to_epoch(text, pattern): the reverse of parse_time, in epoch ms.
SqlValue fn_time_to_epoch(Args args, std::size_t, Env) {
  std::optional<std::string> text = string_arg(args[0]), pattern = string_arg(args[1]);
  if (!text || !pattern) return SqlValue();
  std::optional<std::int64_t> epoch_ms = parse_joda_time(*pattern, *text);
  return epoch_ms ? SqlValue::integer(*epoch_ms) : SqlValue();
}

// Context -------------------------------------------------------------------------

const Message* message_of(Env env) {
  return env.context.message;
}

SqlValue fn_accountid(Args, std::size_t, Env env) {
  return SqlValue::string(env.context.account_id);
}

SqlValue fn_clientid(Args, std::size_t, Env env) {
  const Message* message = message_of(env);
  if (message == nullptr || message->client_id.empty()) return SqlValue();
  return SqlValue::string(message->client_id);
}

SqlValue fn_principal(Args, std::size_t, Env env) {
  const Message* message = message_of(env);
  if (message == nullptr || message->principal.empty()) return SqlValue();
  return SqlValue::string(message->principal);
}

SqlValue fn_sourceip(Args, std::size_t, Env env) {
  const Message* message = message_of(env);
  if (message == nullptr || message->source_ip.empty()) return SqlValue();
  return SqlValue::string(message->source_ip);
}

// topic(): the whole topic; topic(n): its n-th level, counting from 1.
SqlValue fn_topic(Args args, std::size_t count, Env env) {
  const Message* message = message_of(env);
  if (message == nullptr) return SqlValue();
  if (count == 0) return SqlValue::string(message->topic);
  std::optional<std::int64_t> level = to_int(args[0]);
  if (!level || args[0].is_boolean() || *level < 1) return SqlValue();
  std::string_view rest = message->topic;
  for (std::int64_t i = 1;; ++i) {
    std::size_t slash = rest.find('/');
    if (i == *level) return SqlValue::string(std::string(rest.substr(0, slash)));
    if (slash == std::string_view::npos) return SqlValue();
    rest.remove_prefix(slash + 1);
  }
}

std::string random_uuid() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uint64_t high = generator(), low = generator();
  high = (high & ~0xF000ULL) | 0x4000ULL;                // version 4
  low = (low & ~(0xC000ULL << 48)) | (0x8000ULL << 48);  // RFC 4122 variant
  unsigned char bytes[16];
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<unsigned char>(high >> (56 - 8 * i));
    bytes[8 + i] = static_cast<unsigned char>(low >> (56 - 8 * i));
  }
  std::string text = hex(bytes, 16);
  return text.substr(0, 8) + "-" + text.substr(8, 4) + "-" + text.substr(12, 4) + "-" +
         text.substr(16, 4) + "-" + text.substr(20);
}

SqlValue fn_newuuid(Args, std::size_t, Env env) {
  return SqlValue::string(env.context.new_uuid ? env.context.new_uuid() : random_uuid());
}

SqlValue fn_sql_version(Args, std::size_t, Env env) {
  return SqlValue::string(sql_version_name(env.version));
}

// get_user_properties(key): the values of an MQTT 5 user property, as an
// array since a key may repeat.
SqlValue fn_get_user_properties(Args args, std::size_t, Env env) {
  const Message* message = message_of(env);
  if (message == nullptr || !message->user_properties || !args[0].is_string()) return SqlValue();
  std::optional<SqlValue> properties = parse_json(*message->user_properties, true);
  if (!properties || !properties->is_array()) return SqlValue();
  SqlValue::Array values;
  for (const SqlValue& entry : properties->as_array()) {
    if (const SqlValue* value = entry.find(args[0].as_string())) values.push_back(*value);
  }
  if (values.empty()) return SqlValue();
  return SqlValue::array(std::move(values));
}

constexpr SqlFunctionSpec kFunctions[] = {
    // math
    {"abs", 1, 1, fn_abs},
    {"acos", 1, 1, unary_math<std::acos>},
    {"asin", 1, 1, unary_math<std::asin>},
    {"atan", 1, 1, unary_math<std::atan>},
    {"atan2", 2, 2, fn_atan2},
    {"ceil", 1, 1, to_integer_math<ceil_of>},
    {"cos", 1, 1, unary_math<std::cos>},
    {"cosh", 1, 1, unary_math<std::cosh>},
    {"exp", 1, 1, unary_math<std::exp>},
    {"floor", 1, 1, to_integer_math<floor_of>},
    {"ln", 1, 1, unary_math<ln_of>},
    {"log", 1, 1, unary_math<log10_of>},
    {"mod", 2, 2, fn_mod},
    {"nanvl", 2, 2, fn_nanvl},
    {"power", 2, 2, fn_power},
    {"rand", 0, 0, fn_rand},
    {"remainder", 2, 2, fn_mod},
    {"round", 1, 1, to_integer_math<round_of>},
    {"sign", 1, 1, fn_sign},
    {"sin", 1, 1, unary_math<std::sin>},
    {"sinh", 1, 1, unary_math<std::sinh>},
    {"sqrt", 1, 1, unary_math<std::sqrt>},
    {"tan", 1, 1, unary_math<std::tan>},
    {"tanh", 1, 1, unary_math<std::tanh>},
    {"trunc", 2, 2, fn_trunc},
    // bitwise
    {"bitand", 2, 2, bitwise<bit_and>},
    {"bitor", 2, 2, bitwise<bit_or>},
    {"bitxor", 2, 2, bitwise<bit_xor>},
    {"bitnot", 1, 1, fn_bitnot},
    // strings
    {"chr", 1, 1, fn_chr},
    {"concat", 0, -1, fn_concat},
    {"endswith", 2, 2, fn_endswith},
    {"indexof", 2, 2, fn_indexof},
    {"length", 1, 1, fn_length},
    {"lower", 1, 1, map_ascii<lower_ascii>},
    {"lpad", 2, 2, pad<true>},
    {"ltrim", 1, 1, trim<true, false>},
    {"numbytes", 1, 1, fn_numbytes},
    {"regexp_matches", 2, 2, fn_regexp_matches},
    {"regexp_replace", 3, 3, fn_regexp_replace},
    {"regexp_substr", 2, 2, fn_regexp_substr},
    {"replace", 3, 3, fn_replace},
    {"rpad", 2, 2, pad<false>},
    {"rtrim", 1, 1, trim<false, true>},
    {"startswith", 2, 2, fn_startswith},
    {"substring", 2, 3, fn_substring},
    {"trim", 1, 1, trim<true, true>},
    {"upper", 1, 1, map_ascii<upper_ascii>},
    // types and JSON
    {"cast", 2, 2, fn_cast},
    {"get", 2, 2, fn_get},
    {"get_or_default", 2, 2, fn_get_or_default},
    {"isArray", 1, 1, type_test<test_array>},
    {"isBoolean", 1, 1, type_test<test_boolean>},
    {"isEmpty", 1, 1, fn_is_empty},
    {"isNull", 1, 1, type_test<test_null>},
    {"isNumber", 1, 1, type_test<test_number>},
    {"isObject", 1, 1, type_test<test_object>},
    {"isString", 1, 1, type_test<test_string>},
    {"isUndefined", 1, 1, type_test<test_undefined>},
    {"transform", 3, 3, fn_transform},
    // encoding and hashes
    {"decode", 2, 2, fn_decode},
    {"encode", 2, 2, fn_encode, /*star_is_raw_payload=*/true, /*since_2016_03_23=*/true},
    {"md5", 1, 1, digest<EVP_md5>},
    {"sha1", 1, 1, digest<EVP_sha1>},
    {"sha224", 1, 1, digest<EVP_sha224>},
    {"sha256", 1, 1, digest<EVP_sha256>},
    {"sha384", 1, 1, digest<EVP_sha384>},
    {"sha512", 1, 1, digest<EVP_sha512>},
    // time
    {"parse_time", 2, 3, fn_parse_time},
    {"time_to_epoch", 2, 2, fn_time_to_epoch},
    {"timestamp", 0, 0, fn_timestamp},
    // context
    {"accountid", 0, 0, fn_accountid},
    {"clientid", 0, 0, fn_clientid},
    {"get_user_properties", 1, 1, fn_get_user_properties},
    {"newuuid", 0, 0, fn_newuuid},
    {"principal", 0, 0, fn_principal},
    {"sourceip", 0, 0, fn_sourceip},
    {"sql_version", 0, 0, fn_sql_version},
    {"topic", 0, 1, fn_topic},
    {"traceid", 0, 0, fn_newuuid},
};

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return lower_ascii(x) == lower_ascii(y); });
}

}  // namespace

const SqlFunctionSpec* find_sql_function(std::string_view name) {
  for (const SqlFunctionSpec& spec : kFunctions) {
    if (equals_ignoring_case(spec.name, name)) return &spec;
  }
  return nullptr;
}

bool is_aws_service_function(std::string_view name) {
  static constexpr std::string_view kServiceFunctions[] = {
      "aws_lambda",
      "get_dynamodb",
      "get_thing_shadow",
      "get_secret",
      "machinelearning_predict",
      "get_registry_data",
  };
  for (std::string_view service : kServiceFunctions) {
    if (equals_ignoring_case(service, name)) return true;
  }
  return false;
}

}  // namespace offcloud

#include "rules/sql_json.h"

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

namespace offcloud {
namespace {

// Builds SqlValues straight from nlohmann's SAX events, without the
// intermediate nlohmann::json tree.
class ValueBuilder {
 public:
  explicit ValueBuilder(bool whole_decimals_as_int) : whole_as_int_(whole_decimals_as_int) {}

  bool null() { return add(SqlValue::null()); }
  bool boolean(bool value) { return add(SqlValue::boolean(value)); }
  bool number_integer(std::int64_t value) { return add(SqlValue::integer(value)); }
  bool number_unsigned(std::uint64_t value) {
    if (value > static_cast<std::uint64_t>(INT64_MAX)) {
      return add(SqlValue::decimal(static_cast<double>(value)));
    }
    return add(SqlValue::integer(static_cast<std::int64_t>(value)));
  }
  bool number_float(double value, const std::string& /*text*/) {
    if (whole_as_int_ && value == std::trunc(value) && std::fabs(value) < 9.2e18) {
      return add(SqlValue::integer(static_cast<std::int64_t>(value)));
    }
    return add(SqlValue::decimal(value));
  }
  bool string(std::string& value) { return add(SqlValue::string(std::move(value))); }
  bool binary(nlohmann::json::binary_t& /*value*/) { return false; }
  bool start_object(std::size_t /*size*/) { return open(true); }
  bool key(std::string& name) {
    frames_.back().key = std::move(name);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t /*size*/) { return open(false); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

  std::optional<SqlValue> result() { return std::move(result_); }

 private:
  struct Frame {
    bool is_object;
    SqlValue::Array elements;
    SqlValue::Object members;
    std::string key;
  };

  bool open(bool is_object) {
    if (frames_.size() >= static_cast<std::size_t>(kMaxJsonDepth)) return false;
    frames_.push_back(Frame{is_object, {}, {}, {}});
    return true;
  }
  bool close() {
    Frame frame = std::move(frames_.back());
    frames_.pop_back();
    return add(frame.is_object ? SqlValue::object(std::move(frame.members))
                               : SqlValue::array(std::move(frame.elements)));
  }
  bool add(SqlValue value) {
    if (frames_.empty()) {
      result_ = std::move(value);
      return true;
    }
    Frame& frame = frames_.back();
    if (!frame.is_object) {
      frame.elements.push_back(std::move(value));
      return true;
    }
    for (SqlValue::Member& member : frame.members) {
      if (member.first == frame.key) {
        member.second = std::move(value);
        return true;
      }
    }
    frame.members.emplace_back(std::move(frame.key), std::move(value));
    return true;
  }

  bool whole_as_int_;
  std::vector<Frame> frames_;
  std::optional<SqlValue> result_;
};

void append_quoted(std::string_view text, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (byte < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[byte >> 4]);
          out->push_back(kHex[byte & 0xf]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

std::optional<SqlValue> parse_json(std::string_view text, bool whole_decimals_as_int) {
  ValueBuilder builder(whole_decimals_as_int);
  if (!nlohmann::json::sax_parse(text.begin(), text.end(), &builder)) return std::nullopt;
  return builder.result();
}

void append_json(const SqlValue& value, bool whole_decimals_as_int, std::string* out) {
  switch (value.type()) {
    case SqlValue::Type::kUndefined:
      return;
    case SqlValue::Type::kNull:
      out->append("null");
      return;
    case SqlValue::Type::kBoolean:
      out->append(value.as_boolean() ? "true" : "false");
      return;
    case SqlValue::Type::kInt:
      out->append(std::to_string(value.as_int()));
      return;
    case SqlValue::Type::kDecimal:
      append_decimal(value.as_decimal(), whole_decimals_as_int, out);
      return;
    case SqlValue::Type::kString:
      append_quoted(value.as_string(), out);
      return;
    case SqlValue::Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const SqlValue& element : value.as_array()) {
        if (element.is_undefined()) continue;
        if (!first) out->push_back(',');
        first = false;
        append_json(element, whole_decimals_as_int, out);
      }
      out->push_back(']');
      return;
    }
    case SqlValue::Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const SqlValue::Member& member : value.as_object()) {
        if (member.second.is_undefined()) continue;
        if (!first) out->push_back(',');
        first = false;
        append_quoted(member.first, out);
        out->push_back(':');
        append_json(member.second, whole_decimals_as_int, out);
      }
      out->push_back('}');
      return;
    }
  }
}

std::string to_json(const SqlValue& value, bool whole_decimals_as_int) {
  std::string out;
  append_json(value, whole_decimals_as_int, &out);
  return out;
}

}  // namespace offcloud

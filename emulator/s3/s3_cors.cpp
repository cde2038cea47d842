#include "emulator/s3/s3_cors.h"

#include <algorithm>
#include <charconv>

#include "emulator/util/xml.h"

namespace offcloud::s3 {
namespace {

constexpr std::string_view kMethods[] = {"GET", "PUT", "POST", "DELETE", "HEAD"};

// S3's wildcard: one '*' standing for any run of characters.
bool matches(std::string_view pattern, std::string_view text, bool ignore_case) {
  auto same = [&](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (!ignore_case) return a == b;
    return std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
      return std::tolower(static_cast<unsigned char>(x)) ==
             std::tolower(static_cast<unsigned char>(y));
    });
  };
  std::size_t star = pattern.find('*');
  if (star == std::string_view::npos) return same(pattern, text);
  std::string_view head = pattern.substr(0, star), tail = pattern.substr(star + 1);
  return text.size() >= head.size() + tail.size() && same(head, text.substr(0, head.size())) &&
         same(tail, text.substr(text.size() - tail.size()));
}

bool more_than_one_star(std::string_view text) {
  std::size_t star = text.find('*');
  return star != std::string_view::npos && text.find('*', star + 1) != std::string_view::npos;
}

}  // namespace

std::optional<S3Invalid> parse_cors(std::string_view body, std::vector<CorsRule>* rules) {
  rules->clear();
  const S3Invalid malformed{ErrorCode::kMalformedXML, {}};
  auto document = parse_xml(body);
  if (!document || document->name != "CORSConfiguration") return malformed;
  for (const XmlElement& element : document->children) {
    if (element.name != "CORSRule") return malformed;
    CorsRule rule;
    for (const XmlElement& field : element.children) {
      const std::string& name = field.name;
      if (name == "ID") {
        rule.id = field.text;
      } else if (name == "AllowedMethod") {
        rule.allowed_methods.push_back(field.text);
      } else if (name == "AllowedOrigin") {
        rule.allowed_origins.push_back(field.text);
      } else if (name == "AllowedHeader") {
        rule.allowed_headers.push_back(field.text);
      } else if (name == "ExposeHeader") {
        rule.expose_headers.push_back(field.text);
      } else if (name == "MaxAgeSeconds" && !rule.max_age_seconds) {
        long long seconds = 0;
        const std::string& text = field.text;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
        if (ec != std::errc() || end != text.data() + text.size()) return malformed;
        rule.max_age_seconds = seconds;
      } else {
        return malformed;
      }
    }
    if (rule.allowed_methods.empty() || rule.allowed_origins.empty()) return malformed;
    for (const std::string& method : rule.allowed_methods) {
      if (std::find(std::begin(kMethods), std::end(kMethods), method) == std::end(kMethods)) {
        return S3Invalid{
            ErrorCode::kInvalidRequest,
            "Found unsupported HTTP method in CORS config. Unsupported method is " + method};
      }
    }
    for (const std::string& origin : rule.allowed_origins) {
      if (more_than_one_star(origin)) {
        return S3Invalid{ErrorCode::kInvalidRequest,
                         "AllowedOrigin \"" + origin + "\" can not have more than one wildcard."};
      }
    }
    for (const std::string& header : rule.allowed_headers) {
      if (more_than_one_star(header)) {
        return S3Invalid{ErrorCode::kInvalidRequest,
                         "AllowedHeader \"" + header + "\" can not have more than one wildcard."};
      }
    }
    rules->push_back(std::move(rule));
  }
  if (rules->empty()) return malformed;
  if (rules->size() > kMaxCorsRules) {
    return S3Invalid{ErrorCode::kInvalidRequest,
                     "The number of CORS rules should not exceed allowed limit of 100 rules."};
  }
  return std::nullopt;
}

std::string cors_xml(const std::vector<CorsRule>& rules) {
  XmlWriter xml("CORSConfiguration", "http://s3.amazonaws.com/doc/2006-03-01/");
  for (const CorsRule& rule : rules) {
    xml.open("CORSRule");
    if (!rule.id.empty()) xml.element("ID", rule.id);
    for (const std::string& header : rule.allowed_headers) xml.element("AllowedHeader", header);
    for (const std::string& method : rule.allowed_methods) xml.element("AllowedMethod", method);
    for (const std::string& origin : rule.allowed_origins) xml.element("AllowedOrigin", origin);
    for (const std::string& header : rule.expose_headers) xml.element("ExposeHeader", header);
    if (rule.max_age_seconds) xml.element("MaxAgeSeconds", std::to_string(*rule.max_age_seconds));
    xml.close();
  }
  return xml.finish();
}

const CorsRule* match_cors(const std::vector<CorsRule>& rules, std::string_view origin,
                           std::string_view method,
                           const std::vector<std::string>& request_headers) {
  for (const CorsRule& rule : rules) {
    auto allows = [](const std::vector<std::string>& patterns, std::string_view text,
                     bool ignore_case) {
      return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
        return matches(pattern, text, ignore_case);
      });
    };
    if (std::find(rule.allowed_methods.begin(), rule.allowed_methods.end(), method) ==
        rule.allowed_methods.end()) {
      continue;
    }
    if (!allows(rule.allowed_origins, origin, false)) continue;
    // Header names are case-insensitive.
    bool headers_allowed = std::all_of(
        request_headers.begin(), request_headers.end(),
        [&](const std::string& header) { return allows(rule.allowed_headers, header, true); });
    if (headers_allowed) return &rule;
  }
  return nullptr;
}

std::vector<std::string> split_header_list(std::string_view list) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    std::string_view item = list.substr(start, comma - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) names.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return names;
}

}  // namespace offcloud::s3

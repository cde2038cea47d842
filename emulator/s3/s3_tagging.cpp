#include "emulator/s3/s3_tagging.h"

#include <set>

#include "emulator/http/uri.h"
#include "emulator/util/xml.h"
#include "rules/topic_filter.h"  // is_valid_utf8

namespace offcloud::s3 {
namespace {

constexpr std::size_t kMaxKeyChars = 128;
constexpr std::size_t kMaxValueChars = 256;

// Characters, not bytes: S3 counts a tag's length in Unicode code points.
std::size_t code_points(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

// Letters, digits and white space in any script, and + - = . _ : / @, as
// S3 documents; outside ASCII every character passes, as letters do.
bool allowed_text(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) continue;
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view(" +-=._:/@").find(c) == std::string_view::npos) return false;
  }
  return true;
}

S3Invalid invalid_tag(std::string message, const std::string& key, const std::string* value) {
  S3Invalid invalid{ErrorCode::kInvalidTag, std::move(message), {{"TagKey", key}}};
  if (value) invalid.details.emplace_back("TagValue", *value);
  return invalid;
}

S3Invalid malformed() {
  return {ErrorCode::kMalformedXML, {}};
}

}  // namespace

std::optional<S3Invalid> validate_tags(const HeaderList& tags, TagTarget target) {
  if (target == TagTarget::kObject && tags.size() > kMaxObjectTags) {
    return S3Invalid{ErrorCode::kBadRequest, "Object tags cannot be greater than 10"};
  }
  if (target == TagTarget::kBucket && tags.size() > kMaxBucketTags) {
    return S3Invalid{ErrorCode::kInvalidTag, "Bucket tag count cannot be greater than 50"};
  }
  std::set<std::string_view> seen;
  for (const auto& [key, value] : tags) {
    if (!is_valid_utf8(key) || !is_valid_utf8(value)) {
      return invalid_tag("The TagKey you have provided is invalid", key, nullptr);
    }
    if (code_points(key) > kMaxKeyChars) {
      return invalid_tag("The TagKey you have provided is too long, max 128", key, nullptr);
    }
    if (key.empty() || !allowed_text(key)) {
      return invalid_tag("The TagKey you have provided is invalid", key, nullptr);
    }
    if (code_points(value) > kMaxValueChars) {
      return invalid_tag("The TagValue you have provided is too long, max 256", key, &value);
    }
    if (!allowed_text(value)) {
      return invalid_tag("The TagValue you have provided is invalid", key, &value);
    }
    if (key.starts_with("aws:")) {
      return invalid_tag("Your TagKey cannot be prefixed with aws:", key, nullptr);
    }
    if (!seen.insert(key).second) {
      return S3Invalid{ErrorCode::kInvalidTag,
                       "Cannot provide multiple Tags with the same key",
                       {{"TagKey", key}}};
    }
  }
  return std::nullopt;
}

std::optional<S3Invalid> parse_tagging(std::string_view body, TagTarget target, HeaderList* tags) {
  tags->clear();
  auto document = parse_xml(body);
  if (!document || document->name != "Tagging") return malformed();
  const XmlElement* tag_set = document->child("TagSet");
  if (!tag_set || document->children.size() != 1) return malformed();
  for (const XmlElement& tag : tag_set->children) {
    if (tag.name != "Tag") return malformed();
    const XmlElement* key = tag.child("Key");
    const XmlElement* value = tag.child("Value");
    // Both are required by S3's schema, and nothing else may be there.
    if (!key || !value || tag.children.size() != 2) return malformed();
    tags->emplace_back(key->text, value->text);
  }
  return validate_tags(*tags, target);
}

std::optional<S3Invalid> parse_tagging_header(std::string_view header, HeaderList* tags) {
  tags->clear();
  static const S3Invalid kBadHeader{
      ErrorCode::kInvalidArgument,
      "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters "
      "without tag name duplicates.",
      {{"ArgumentName", "x-amz-tagging"}, {"ArgumentValue", std::string(header)}}};
  std::size_t start = 0;
  while (start < header.size()) {
    std::size_t amp = header.find('&', start);
    std::string_view pair = header.substr(start, amp - start);
    start = amp == std::string_view::npos ? header.size() : amp + 1;
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    // A form-encoded query: '+' is a space.
    auto decode = [](std::string_view text) {
      std::string spaced(text);
      for (char& c : spaced) c = c == '+' ? ' ' : c;
      return percent_decode(spaced);
    };
    auto key = decode(pair.substr(0, eq));
    auto value = decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!key || !value) return kBadHeader;
    for (const auto& existing : *tags) {
      if (existing.first == *key) return kBadHeader;
    }
    tags->emplace_back(std::move(*key), std::move(*value));
  }
  return validate_tags(*tags, TagTarget::kObject);
}

std::string tagging_xml(const HeaderList& tags) {
  XmlWriter xml("Tagging", "http://s3.amazonaws.com/doc/2006-03-01/");
  xml.open("TagSet");
  for (const auto& [key, value] : tags) {
    xml.open("Tag").element("Key", key).element("Value", value).close();
  }
  return xml.finish();
}

}  // namespace offcloud::s3

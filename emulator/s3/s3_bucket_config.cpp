#include "emulator/s3/s3_bucket_config.h"

#include <charconv>
#include <ctime>
#include <set>

#include "emulator/util/xml.h"

namespace offcloud::s3 {
namespace {

constexpr std::string_view kXmlns = "http://s3.amazonaws.com/doc/2006-03-01/";
constexpr std::size_t kMaxLifecycleRules = 1000;
constexpr std::size_t kMaxRuleIdChars = 255;

S3Invalid malformed() {
  return {ErrorCode::kMalformedXML, {}};
}

std::optional<long long> integer(const XmlElement* element) {
  if (!element) return std::nullopt;
  long long value = 0;
  const std::string& text = element->text;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// "true" / "false" as XML Schema writes booleans; nullopt for anything else.
std::optional<bool> boolean(const XmlElement* element) {
  if (!element) return std::nullopt;
  if (element->text == "true" || element->text == "TRUE") return true;
  if (element->text == "false" || element->text == "FALSE") return false;
  return std::nullopt;
}

// An ISO 8601 date, "2030-01-01" or "2030-01-01T00:00:00[.000]Z";
// *midnight says whether it falls at 00:00:00 UTC.
bool parse_date(std::string_view text, bool* midnight) {
  std::string copy(text);
  std::tm tm{};
  const char* end = strptime(copy.c_str(), "%Y-%m-%d", &tm);
  if (!end) return false;
  std::string_view rest(end);
  if (rest.empty()) {
    *midnight = true;
    return true;
  }
  end = strptime(end, "T%H:%M:%S", &tm);
  if (!end) return false;
  rest = end;
  if (rest.starts_with('.')) {
    rest.remove_prefix(1);
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (rest.front() != '0') return *midnight = false, true;
      rest.remove_prefix(1);
    }
  }
  if (rest != "Z" && rest != "+00:00" && !rest.empty()) return false;
  *midnight = tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0;
  return true;
}

std::optional<S3Invalid> check_filter(const XmlElement& filter, bool* has_tags) {
  // Exactly one predicate, or none (the whole bucket).
  if (filter.children.size() > 1) return malformed();
  if (filter.children.empty()) return std::nullopt;
  const XmlElement& predicate = filter.children.front();
  auto check_tag = [&](const XmlElement& tag) -> std::optional<S3Invalid> {
    const XmlElement* key = tag.child("Key");
    if (!key || key->text.empty()) return malformed();
    *has_tags = true;
    return std::nullopt;
  };
  auto check_size = [](const XmlElement& size) -> std::optional<S3Invalid> {
    auto value = integer(&size);
    if (!value) return malformed();
    if (*value < 0) {
      return S3Invalid{ErrorCode::kInvalidRequest,
                       "'" + size.name + "' should be between 1 and 1099511627776000."};
    }
    return std::nullopt;
  };
  if (predicate.name == "Prefix") return std::nullopt;
  if (predicate.name == "Tag") return check_tag(predicate);
  if (predicate.name == "ObjectSizeGreaterThan" || predicate.name == "ObjectSizeLessThan") {
    return check_size(predicate);
  }
  if (predicate.name != "And") return malformed();
  std::set<std::string> keys;
  std::size_t predicates = 0;
  for (const XmlElement& part : predicate.children) {
    ++predicates;
    if (part.name == "Prefix") continue;
    if (part.name == "Tag") {
      if (auto bad = check_tag(part)) return bad;
      if (!keys.insert(part.child("Key")->text).second) {
        return S3Invalid{ErrorCode::kInvalidRequest, "Duplicate Tag Keys are not allowed."};
      }
    } else if (part.name == "ObjectSizeGreaterThan" || part.name == "ObjectSizeLessThan") {
      if (auto bad = check_size(part)) return bad;
    } else {
      return malformed();
    }
  }
  // And joins two predicates at least.
  if (predicates < 2) return malformed();
  return std::nullopt;
}

std::optional<S3Invalid> check_positive(const XmlElement* element, std::string_view field,
                                        std::string_view action) {
  auto value = integer(element);
  if (!value) return malformed();
  if (*value <= 0) {
    return S3Invalid{ErrorCode::kInvalidArgument, "'" + std::string(field) + "' for " +
                                                      std::string(action) +
                                                      " action must be a positive integer"};
  }
  return std::nullopt;
}

std::optional<S3Invalid> check_rule(const XmlElement& rule, bool* v1, bool* v2,
                                    std::set<std::string>* ids) {
  const XmlElement* id = rule.child("ID");
  if (id) {
    std::size_t chars = 0;
    for (char c : id->text) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    if (chars > kMaxRuleIdChars) {
      return S3Invalid{ErrorCode::kInvalidArgument,
                       "ID length should not exceed allowed limit of 255"};
    }
    if (!ids->insert(id->text).second) {
      return S3Invalid{ErrorCode::kInvalidArgument,
                       "Rule ID must be unique. Found same ID for more than one rule"};
    }
  }
  const XmlElement* status = rule.child("Status");
  if (!status || (status->text != "Enabled" && status->text != "Disabled")) return malformed();

  const XmlElement* filter = rule.child("Filter");
  const XmlElement* prefix = rule.child("Prefix");
  if (!filter && !prefix) return malformed();
  if (filter && prefix) return malformed();
  if (prefix && *v2) {
    return S3Invalid{ErrorCode::kInvalidRequest,
                     "Base level prefix cannot be used in Lifecycle V2, prefixes are only "
                     "supported in the Filter."};
  }
  if (filter && *v1) {
    return S3Invalid{ErrorCode::kInvalidRequest,
                     "Filter element can only be used in Lifecycle V2."};
  }
  (prefix ? *v1 : *v2) = true;
  bool has_tags = false;
  if (filter) {
    if (auto bad = check_filter(*filter, &has_tags)) return bad;
  }

  static const std::set<std::string_view> kKnown = {"ID",
                                                    "Status",
                                                    "Filter",
                                                    "Prefix",
                                                    "Expiration",
                                                    "Transition",
                                                    "NoncurrentVersionTransition",
                                                    "NoncurrentVersionExpiration",
                                                    "AbortIncompleteMultipartUpload"};
  bool any_action = false;
  for (const XmlElement& child : rule.children) {
    if (!kKnown.count(child.name)) return malformed();
    any_action = any_action || (child.name != "ID" && child.name != "Status" &&
                                child.name != "Filter" && child.name != "Prefix");
  }
  if (!any_action) {
    return S3Invalid{ErrorCode::kInvalidRequest,
                     "At least one action needs to be specified in a rule"};
  }

  if (const XmlElement* expiration = rule.child("Expiration")) {
    const XmlElement* days = expiration->child("Days");
    const XmlElement* date = expiration->child("Date");
    const XmlElement* marker = expiration->child("ExpiredObjectDeleteMarker");
    if ((days != nullptr) + (date != nullptr) + (marker != nullptr) != 1) return malformed();
    if (days) {
      if (auto bad = check_positive(days, "Days", "Expiration")) return bad;
    }
    if (date) {
      bool midnight = false;
      if (!parse_date(date->text, &midnight)) return malformed();
      if (!midnight) {
        return S3Invalid{ErrorCode::kInvalidArgument, "'Date' must be at midnight GMT"};
      }
    }
    if (marker && !boolean(marker)) return malformed();
  }
  if (const XmlElement* noncurrent = rule.child("NoncurrentVersionExpiration")) {
    if (auto bad = check_positive(noncurrent->child("NoncurrentDays"), "NoncurrentDays",
                                  "NoncurrentVersionExpiration")) {
      return bad;
    }
    if (const XmlElement* newer = noncurrent->child("NewerNoncurrentVersions")) {
      if (!integer(newer)) return malformed();
      if (*v1) {
        return S3Invalid{ErrorCode::kInvalidRequest,
                         "NewerNoncurrentVersions element can only be used in Lifecycle V2."};
      }
    }
  }
  if (const XmlElement* abort = rule.child("AbortIncompleteMultipartUpload")) {
    if (auto bad = check_positive(abort->child("DaysAfterInitiation"), "DaysAfterInitiation",
                                  "AbortIncompleteMultipartUpload")) {
      return bad;
    }
    if (has_tags) {
      return S3Invalid{ErrorCode::kInvalidRequest,
                       "AbortIncompleteMultipartUpload cannot be specified with Tags."};
    }
  }
  // The classes lifecycle can move objects to (TransitionStorageClass).
  auto transition_class = [](const XmlElement* storage_class) {
    static const std::set<std::string_view> kClasses = {"GLACIER",      "STANDARD_IA",
                                                        "ONEZONE_IA",   "INTELLIGENT_TIERING",
                                                        "DEEP_ARCHIVE", "GLACIER_IR"};
    return storage_class && kClasses.count(storage_class->text) > 0;
  };
  for (const XmlElement* transition : rule.children_named("NoncurrentVersionTransition")) {
    auto days = integer(transition->child("NoncurrentDays"));
    if (!days || *days < 0 || !transition_class(transition->child("StorageClass"))) {
      return malformed();
    }
  }
  for (const XmlElement* transition : rule.children_named("Transition")) {
    const XmlElement* days = transition->child("Days");
    const XmlElement* date = transition->child("Date");
    if ((days != nullptr) == (date != nullptr) ||
        !transition_class(transition->child("StorageClass"))) {
      return malformed();
    }
    if (days && (!integer(days) || *integer(days) < 0)) return malformed();
    bool midnight = false;
    if (date && !parse_date(date->text, &midnight)) return malformed();
    if (date && !midnight) {
      return S3Invalid{ErrorCode::kInvalidArgument, "'Date' must be at midnight GMT"};
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<S3Invalid> validate_lifecycle(std::string_view body) {
  auto document = parse_xml(body);
  if (!document || document->name != "LifecycleConfiguration") return malformed();
  if (document->children.empty()) return malformed();
  if (document->children.size() > kMaxLifecycleRules) {
    return S3Invalid{ErrorCode::kInvalidRequest,
                     "The number of lifecycle rules must not exceed the allowed limit of 1000 "
                     "rules."};
  }
  bool v1 = false, v2 = false;
  std::set<std::string> ids;
  for (const XmlElement& rule : document->children) {
    if (rule.name != "Rule") return malformed();
    if (auto bad = check_rule(rule, &v1, &v2, &ids)) return bad;
  }
  return std::nullopt;
}

std::optional<S3Invalid> parse_encryption(std::string_view body, BucketEncryption* out) {
  auto document = parse_xml(body);
  if (!document || document->name != "ServerSideEncryptionConfiguration") return malformed();
  auto rules = document->children_named("Rule");
  if (rules.size() != 1 || document->children.size() != 1) return malformed();
  const XmlElement* rule = rules.front();
  const XmlElement* apply = rule->child("ApplyServerSideEncryptionByDefault");
  BucketEncryption encryption;
  if (const XmlElement* bucket_key = rule->child("BucketKeyEnabled")) {
    auto enabled = boolean(bucket_key);
    if (!enabled) return malformed();
    encryption.bucket_key_enabled = *enabled;
  }
  if (!apply) return malformed();
  const XmlElement* algorithm = apply->child("SSEAlgorithm");
  if (!algorithm) return malformed();
  encryption.algorithm = algorithm->text;
  if (encryption.algorithm != "AES256" && encryption.algorithm != "aws:kms" &&
      encryption.algorithm != "aws:kms:dsse") {
    return malformed();
  }
  if (const XmlElement* key = apply->child("KMSMasterKeyID")) {
    if (encryption.algorithm == "AES256") {
      return S3Invalid{ErrorCode::kInvalidArgument,
                       "a KMSMasterKeyID is not applicable if the default sse algorithm is not "
                       "aws:kms or aws:kms:dsse",
                       {{"ArgumentName", "ApplyServerSideEncryptionByDefault"}}};
    }
    encryption.kms_key_id = key->text;
  }
  *out = std::move(encryption);
  return std::nullopt;
}

std::string encryption_xml(const BucketEncryption& encryption) {
  XmlWriter xml("ServerSideEncryptionConfiguration", kXmlns);
  xml.open("Rule").open("ApplyServerSideEncryptionByDefault");
  xml.element("SSEAlgorithm", encryption.algorithm);
  if (!encryption.kms_key_id.empty()) xml.element("KMSMasterKeyID", encryption.kms_key_id);
  xml.close().element("BucketKeyEnabled", encryption.bucket_key_enabled ? "true" : "false");
  return xml.finish();
}

bool valid_ownership(std::string_view ownership) {
  return ownership == "BucketOwnerEnforced" || ownership == "BucketOwnerPreferred" ||
         ownership == "ObjectWriter";
}

std::optional<S3Invalid> parse_ownership(std::string_view body, std::string* ownership) {
  auto document = parse_xml(body);
  if (!document || document->name != "OwnershipControls") return malformed();
  auto rules = document->children_named("Rule");
  if (rules.size() != 1 || document->children.size() != 1) return malformed();
  const XmlElement* value = rules.front()->child("ObjectOwnership");
  if (!value || !valid_ownership(value->text)) return malformed();
  *ownership = value->text;
  return std::nullopt;
}

std::string ownership_xml(std::string_view ownership) {
  XmlWriter xml("OwnershipControls", kXmlns);
  xml.open("Rule").element("ObjectOwnership", ownership);
  return xml.finish();
}

std::optional<S3Invalid> parse_public_access_block(std::string_view body, PublicAccessBlock* out) {
  auto document = parse_xml(body);
  if (!document || document->name != "PublicAccessBlockConfiguration") return malformed();
  PublicAccessBlock block;
  for (const XmlElement& setting : document->children) {
    auto value = boolean(&setting);
    if (!value) return malformed();
    if (setting.name == "BlockPublicAcls") {
      block.block_public_acls = *value;
    } else if (setting.name == "IgnorePublicAcls") {
      block.ignore_public_acls = *value;
    } else if (setting.name == "BlockPublicPolicy") {
      block.block_public_policy = *value;
    } else if (setting.name == "RestrictPublicBuckets") {
      block.restrict_public_buckets = *value;
    } else {
      return malformed();
    }
  }
  *out = block;
  return std::nullopt;
}

std::string public_access_block_xml(const PublicAccessBlock& block) {
  auto text = [](bool value) { return value ? "true" : "false"; };
  XmlWriter xml("PublicAccessBlockConfiguration", kXmlns);
  xml.element("BlockPublicAcls", text(block.block_public_acls))
      .element("IgnorePublicAcls", text(block.ignore_public_acls))
      .element("BlockPublicPolicy", text(block.block_public_policy))
      .element("RestrictPublicBuckets", text(block.restrict_public_buckets));
  return xml.finish();
}

}  // namespace offcloud::s3

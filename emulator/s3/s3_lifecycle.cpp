#include "emulator/s3/s3_lifecycle.h"

#include <charconv>
#include <ctime>

#include "emulator/s3/s3_common.h"
#include "emulator/util/xml.h"

namespace offcloud::s3 {
namespace {

std::optional<std::int64_t> integer(const XmlElement* element) {
  if (!element) return std::nullopt;
  std::int64_t value = 0;
  const std::string& text = element->text;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The day of an ISO 8601 date, which validate_lifecycle required to be
// at midnight UTC: "2030-01-01" or "2030-01-01T00:00:00.000Z".
std::optional<std::int64_t> midnight_ms(const XmlElement* element) {
  if (!element) return std::nullopt;
  std::tm tm{};
  std::string text = element->text.substr(0, 10);
  const char* end = strptime(text.c_str(), "%Y-%m-%d", &tm);
  if (!end || *end) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

LifecycleWhen when_of(const XmlElement& action) {
  return {integer(action.child("Days")), midnight_ms(action.child("Date"))};
}

void add_predicate(const XmlElement& predicate, LifecycleFilter* filter) {
  if (predicate.name == "Prefix") {
    filter->prefix = predicate.text;
  } else if (predicate.name == "Tag") {
    const XmlElement* key = predicate.child("Key");
    const XmlElement* value = predicate.child("Value");
    if (key) filter->tags.emplace_back(key->text, value ? value->text : "");
  } else if (predicate.name == "ObjectSizeGreaterThan") {
    if (auto size = integer(&predicate)) filter->size_greater_than = *size;
  } else if (predicate.name == "ObjectSizeLessThan") {
    if (auto size = integer(&predicate)) filter->size_less_than = *size;
  } else if (predicate.name == "And") {
    for (const XmlElement& part : predicate.children) add_predicate(part, filter);
  }
}

LifecycleNoncurrent noncurrent_of(const XmlElement& action) {
  LifecycleNoncurrent noncurrent;
  noncurrent.days = integer(action.child("NoncurrentDays")).value_or(0);
  noncurrent.newer_noncurrent_versions =
      integer(action.child("NewerNoncurrentVersions")).value_or(0);
  if (const XmlElement* storage_class = action.child("StorageClass")) {
    noncurrent.storage_class = storage_class->text;
  }
  return noncurrent;
}

LifecycleRule rule_of(const XmlElement& element) {
  LifecycleRule rule;
  if (const XmlElement* id = element.child("ID")) rule.id = id->text;
  const XmlElement* status = element.child("Status");
  rule.enabled = status && status->text == "Enabled";
  if (const XmlElement* prefix = element.child("Prefix")) rule.filter.prefix = prefix->text;
  if (const XmlElement* filter = element.child("Filter")) {
    for (const XmlElement& predicate : filter->children) add_predicate(predicate, &rule.filter);
  }
  if (const XmlElement* expiration = element.child("Expiration")) {
    LifecycleWhen when = when_of(*expiration);
    if (when.days || when.date_ms) rule.expiration = when;
    const XmlElement* marker = expiration->child("ExpiredObjectDeleteMarker");
    rule.expired_object_delete_marker =
        marker && (marker->text == "true" || marker->text == "TRUE");
  }
  if (const XmlElement* noncurrent = element.child("NoncurrentVersionExpiration")) {
    rule.noncurrent_expiration = noncurrent_of(*noncurrent);
  }
  if (const XmlElement* abort = element.child("AbortIncompleteMultipartUpload")) {
    rule.abort_upload_days = integer(abort->child("DaysAfterInitiation"));
  }
  for (const XmlElement* transition : element.children_named("Transition")) {
    const XmlElement* storage_class = transition->child("StorageClass");
    rule.transitions.push_back(
        {when_of(*transition), storage_class ? storage_class->text : std::string()});
  }
  for (const XmlElement* transition : element.children_named("NoncurrentVersionTransition")) {
    rule.noncurrent_transitions.push_back(noncurrent_of(*transition));
  }
  return rule;
}

}  // namespace

std::vector<LifecycleRule> parse_lifecycle_rules(std::string_view document) {
  std::vector<LifecycleRule> rules;
  auto parsed = parse_xml(document);
  if (!parsed) return rules;
  for (const XmlElement* rule : parsed->children_named("Rule")) rules.push_back(rule_of(*rule));
  return rules;
}

void add_expiration_header(const std::vector<LifecycleRule>& rules, const ObjectInfo& object,
                           const LifecycleClock& clock, HttpResponse* response) {
  if (rules.empty()) return;
  auto expiry = lifecycle_expiry(rules, object, clock);
  if (!expiry) return;
  response->headers.add("x-amz-expiration", "expiry-date=\"" + http_date(expiry->due_ms) +
                                                "\", rule-id=\"" + expiry->rule_id + "\"");
}

void add_restore_header(const ObjectInfo& object, std::int64_t now_ms, HttpResponse* response) {
  if (object.restore_ongoing()) {
    response->headers.add("x-amz-restore", "ongoing-request=\"true\"");
  } else if (object.restored(now_ms)) {
    response->headers.add("x-amz-restore", "ongoing-request=\"false\", expiry-date=\"" +
                                               http_date(object.restore_expiry_ms) + "\"");
  }
}

std::optional<HttpResponse> refuse_archived(const S3Call& call, const ObjectInfo& object,
                                            std::int64_t now_ms, bool copy_source) {
  if (!is_archived_storage_class(object.storage_class) || object.restored(now_ms)) {
    return std::nullopt;
  }
  if (copy_source) {
    return error(call, ErrorCode::kInvalidObjectState,
                 "The source object of the COPY action is not in the active tier and is only "
                 "stored in Amazon S3 Glacier.");
  }
  return error(call, ErrorCode::kInvalidObjectState, "", {{"StorageClass", object.storage_class}});
}

}  // namespace offcloud::s3

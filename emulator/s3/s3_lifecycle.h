// A bucket's lifecycle configuration as the sweep and the S3 handlers use
// it: the stored <LifecycleConfiguration> (checked by validate_lifecycle
// when it was put) parsed into storage's protocol-free rules, and the
// headers lifecycle and archiving add to object responses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "emulator/http/http_types.h"
#include "emulator/s3/s3_service.h"
#include "storage/lifecycle.h"
#include "storage/object_store.h"

namespace offcloud::s3 {

// The object store's name for the lifecycle configuration.
inline constexpr const char* kLifecycleConfig = "lifecycle";

// The rules of a stored configuration, in document order (both shapes: a
// Filter, or the old rule-level Prefix). A document that does not parse
// (none ever is stored) gives no rules.
std::vector<LifecycleRule> parse_lifecycle_rules(std::string_view document);

// x-amz-expiration on PUT, GET and HEAD when an Expiration rule applies to
// the current object: expiry-date="<HTTP date>", rule-id="<ID>".
void add_expiration_header(const std::vector<LifecycleRule>& rules, const ObjectInfo& object,
                           const LifecycleClock& clock, HttpResponse* response);

// x-amz-restore on GET and HEAD of an archived object RestoreObject was
// asked for: ongoing-request="true" while it runs, then
// ongoing-request="false", expiry-date="<HTTP date>" until the copy expires.
void add_restore_header(const ObjectInfo& object, std::int64_t now_ms, HttpResponse* response);

// 403 InvalidObjectState for reading the bytes of an archived object
// (GLACIER, DEEP_ARCHIVE) that has no restored copy now; `copy_source`
// when it is the source of CopyObject or UploadPartCopy.
std::optional<HttpResponse> refuse_archived(const S3Call& call, const ObjectInfo& object,
                                            std::int64_t now_ms, bool copy_source = false);

}  // namespace offcloud::s3

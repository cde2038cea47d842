// S3 Object Lock's documents and headers, as the API reference gives them,
// free of HTTP so they can be tested and fuzzed alone: the bucket's
// ObjectLockConfiguration (and how it is stored), a version's Retention and
// LegalHold documents, and the x-amz-object-lock-* headers of a write. The
// rules that enforce a lock are the store's (storage/object_lock.h); the
// operations are in s3_object_lock_handlers.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "emulator/http/http_types.h"
#include "emulator/s3/s3_invalid.h"
#include "storage/object_lock.h"
#include "storage/object_store.h"

namespace offcloud::s3 {

// The store's bucket_config kind that holds a bucket's configuration.
inline constexpr const char* kObjectLockConfig = "object-lock";
// S3's words when a lock refuses a delete or a retention change.
inline constexpr const char* kObjectLockedMessage =
    "Access Denied because object protected by object lock.";

// A bucket's Object Lock configuration: enabled (a bucket has one only
// once enabled), with or without a default retention.
struct LockConfiguration {
  std::string mode;  // "" no default retention; GOVERNANCE or COMPLIANCE
  std::int64_t days = 0;
  std::int64_t years = 0;  // one of days and years, when mode is set
};

// PutObjectLockConfiguration's body: MalformedXML for a document that does
// not fit the schema (ObjectLockEnabled other than Enabled, a mode outside
// the two, Days and Years both or neither), InvalidArgument for a period
// that is not positive or beyond 100 years.
std::optional<S3Invalid> parse_lock_configuration(std::string_view body, LockConfiguration* config);
// GetObjectLockConfiguration's answer.
std::string lock_configuration_xml(const LockConfiguration& config);
// How a configuration is kept in the store (bucket_config "object-lock"),
// and read back; nullopt for a document that is not one.
std::string encode_lock_configuration(const LockConfiguration& config);
std::optional<LockConfiguration> decode_lock_configuration(std::string_view stored);

// The bucket's configuration; nullopt while Object Lock is not enabled.
std::optional<LockConfiguration> bucket_lock_configuration(ObjectStore& store,
                                                           const std::string& bucket);

// When a default retention that applies from `now_ms` ends: Days are days
// of 24 hours, Years calendar years (UTC).
std::int64_t default_retain_until(const LockConfiguration& config, std::int64_t now_ms);

// PutObjectRetention's body: `mode` "" with no RetainUntilDate removes the
// retention. MalformedXML for a mode outside the two or one of the pair
// alone; InvalidArgument for a date that is not in the future.
std::optional<S3Invalid> parse_retention(std::string_view body, std::int64_t now_ms,
                                         std::string* mode, std::int64_t* until_ms);
// PutObjectLegalHold's body: Status ON or OFF, else MalformedXML.
std::optional<S3Invalid> parse_legal_hold(std::string_view body, std::string* status);

// The x-amz-object-lock-mode, -retain-until-date and -legal-hold headers
// of PutObject, CopyObject or CreateMultipartUpload, into *lock (left as
// it is when none is given). InvalidArgument as S3 words it for a mode
// without a date (or the reverse), an unknown mode, a date that is not ISO
// 8601 or not in the future, a legal hold other than ON or OFF.
bool has_lock_headers(const Headers& headers);
std::optional<S3Invalid> read_lock_headers(const Headers& headers, std::int64_t now_ms,
                                           ObjectLock* lock);

// An ISO 8601 date and time ("2030-01-01T00:00:00Z", with fractions of a
// second or a ±hh:mm offset) as milliseconds since the epoch.
std::optional<std::int64_t> parse_iso8601(std::string_view text);

}  // namespace offcloud::s3

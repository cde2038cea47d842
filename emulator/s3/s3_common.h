// Helpers the S3 handler files share: errors in S3's shape, S3's time
// formats, header conventions. Internal to the S3 front-end.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "emulator/api/api_errors.h"
#include "emulator/http/uri.h"
#include "emulator/s3/s3_service.h"
#include "emulator/util/xml.h"

namespace offcloud::s3 {

// An account's canonical user id (64 hex digits, as S3 shows owners) and
// display name. Account 000000000000 keeps the id offcloud always gave it.
std::string canonical_user_id(std::string_view account_id);
std::string owner_display_name(std::string_view account_id);
// <element><ID>...</ID><DisplayName>...</DisplayName></element>
void write_owner(XmlWriter& xml, std::string_view account_id, std::string_view element = "Owner");
// Who owns `object` of the call's bucket: the bucket's owner, or the
// account that wrote it into a bucket with ACLs enabled.
std::string object_owner(const S3Call& call, const ObjectInfo& object);
inline constexpr std::string_view kXmlns = "http://s3.amazonaws.com/doc/2006-03-01/";
inline constexpr std::size_t kMaxKeyBytes = 1024;
// S3's limit for one PUT, one part and one POST upload: 5 GiB.
inline constexpr std::uint64_t kMaxObjectBytes = 5ull << 30;

HttpResponse error(const S3Call& call, ErrorCode code, std::string message = {},
                   std::vector<std::pair<std::string, std::string>> details = {});
HttpResponse no_such_bucket(const S3Call& call);
HttpResponse access_denied(const S3Call& call);
HttpResponse xml_response(std::string body, int status = 200);

// "2026-11-27T07:00:00.000Z", as listings show times.
std::string iso8601(std::int64_t epoch_ms);
// "Fri, 27 Nov 2026 07:00:00 GMT", as HTTP headers show them.
std::string http_date(std::int64_t epoch_ms);
// Parses the three HTTP date forms; nullopt when none fits.
std::optional<std::int64_t> parse_http_date(std::string_view text);

std::string quoted_etag(const ObjectInfo& info);
const std::string* param(const S3Call& call, std::string_view name);
bool has_param(const S3Call& call, std::string_view name);

// What a PUT (or a REPLACE copy, or CreateMultipartUpload) says about an
// object besides its bytes: content type, stored headers, x-amz-meta-*.
void read_object_attributes(const HttpRequest& request, ObjectInfo* info);

// max-keys (or another such parameter): 1000 when absent, at most 1000;
// nullopt when not a non-negative integer.
std::optional<int> parse_max_keys(const S3Call& call, std::string_view name);

// encoding-type of the list operations: *url is whether keys and the other
// key-like elements go out URL-encoded ("url", S3's only method); the
// InvalidArgument answer for any other value.
std::optional<HttpResponse> read_encoding_type(const S3Call& call, bool* url);

// Empty when `name` is a valid bucket name, else why not.
std::string validate_bucket_name(std::string_view name);

}  // namespace offcloud::s3

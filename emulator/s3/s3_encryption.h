// Server-side encryption as objects carry it: the x-amz-server-side-
// encryption* headers stored with an object (with its other stored headers)
// and given back on PUT, GET, HEAD, CopyObject and multipart completion.
// offcloud keeps bytes as they came; the headers say what AWS would have
// done with them.
#pragma once

#include "emulator/http/http_types.h"
#include "storage/object_store.h"

namespace offcloud::s3 {

inline constexpr std::string_view kSseHeader = "x-amz-server-side-encryption";
inline constexpr std::string_view kSseKeyHeader = "x-amz-server-side-encryption-aws-kms-key-id";
inline constexpr std::string_view kSseBucketKeyHeader =
    "x-amz-server-side-encryption-bucket-key-enabled";

// Adds the object's encryption headers that `response` does not have yet
// (an SSE-C object's: its algorithm and key MD5, s3_customer_key.h);
// an object stored without any (before offcloud kept them, or written by
// Firehose) is SSE-S3, as every object on AWS now is.
void add_encryption_headers(const ObjectInfo& info, HttpResponse* response);

}  // namespace offcloud::s3

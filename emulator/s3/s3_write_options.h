// What a write (PutObject, CopyObject, CreateMultipartUpload,
// CompleteMultipartUpload) asks of the stored object besides its bytes and
// headers: a storage class, an ACL, a condition on what the key holds.
#pragma once

#include <optional>

#include "emulator/s3/s3_service.h"
#include "storage/object_store.h"

namespace offcloud::s3 {

// The storage classes S3 takes in x-amz-storage-class.
bool is_storage_class(std::string_view name);

// Fills info->storage_class (STANDARD when the header is absent) and
// info->acl (x-amz-acl, x-amz-grant-*); an error response when either is
// refused.
std::optional<HttpResponse> read_write_options(const S3Call& call, ObjectInfo* info);

// If-Match and If-None-Match of a PutObject or CompleteMultipartUpload;
// If-None-Match takes only "*" (anything else is NotImplemented, as on AWS).
std::optional<HttpResponse> read_write_condition(const S3Call& call, WriteCondition* condition);

// The answer to a write the store refused for its condition: 412
// PreconditionFailed, 404 NoSuchKey (If-Match on nothing) or 409
// ConditionalRequestConflict.
HttpResponse condition_failed(const S3Call& call, ObjectStore::Status status);

}  // namespace offcloud::s3

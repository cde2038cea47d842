// SSE-C on the wire: the x-amz-server-side-encryption-customer-{algorithm,
// key,key-MD5} headers (and their x-amz-copy-source- twins for a copy's
// source), checked as S3 checks them, and the object's key checked against
// what the store recorded of it (storage/customer_key.h).
//
// AWS refuses SSE-C over plain HTTP; offcloud is usually reached over
// plain HTTP on the loopback, so it accepts SSE-C on either (as LocalStack
// and moto do).
#pragma once

#include <optional>

#include "emulator/s3/s3_service.h"
#include "storage/customer_key.h"
#include "storage/object_store.h"

namespace offcloud::s3 {

// The customer key a request presents, if any.
struct CustomerKeyRequest {
  std::optional<CustomerKey> key;
  std::string key_md5;  // base64, as sent (or computed when the client sent none)
  bool present() const { return key.has_value(); }
  // A new record of this key (fresh salt), for an object or upload.
  CustomerKeyRecord record() const { return CustomerKeyRecord::for_key(*key, key_md5); }
};

// Reads the SSE-C headers (the x-amz-copy-source- ones for `copy_source`)
// into *out; S3's refusal when they are incomplete or wrong. A write's
// SSE-C beside x-amz-server-side-encryption is refused too.
std::optional<HttpResponse> read_customer_key(const S3Call& call, bool copy_source,
                                              CustomerKeyRequest* out);

// Whether `given` opens `object`: 400 InvalidRequest when an SSE-C object
// gets no key or another object gets one, 403 AccessDenied for a wrong key.
std::optional<HttpResponse> check_customer_key(const S3Call& call, const ObjectInfo& object,
                                               const CustomerKeyRequest& given);

// UploadPart and UploadPartCopy: `given` must be the key the upload was
// created with (none when it had none); 400 InvalidRequest otherwise.
std::optional<HttpResponse> check_upload_key(const S3Call& call, const UploadInfo& upload,
                                             const CustomerKeyRequest& given);

// Lets `reader` decrypt `object` (an SSE-C object opened with `given`, which
// check_customer_key accepted); nothing for other objects.
void decrypt_with(const ObjectInfo& object, const CustomerKeyRequest& given, BlobReader& reader);

// The response headers of an SSE-C object, upload or part: the algorithm
// and the key's MD5 (base64).
void add_customer_key_headers(std::string_view key_md5, HttpResponse* response);

}  // namespace offcloud::s3

// Amazon S3 (rest-xml, signing name s3) on the local object store. Routing
// of an S3 request to its operation is here; the operations themselves are
// in s3_bucket_handlers.cpp and s3_object_handlers.cpp, by API family.
#pragma once

#include <string>

#include "emulator/api/service.h"
#include "storage/object_store.h"

namespace offcloud {

// The bucket and key a request names, path-style (/bucket/key) or
// virtual-hosted (bucket.localhost, bucket.s3.<anything>).
struct S3Target {
  std::string bucket;
  std::string key;
  bool has_key = false;  // "/bucket/" has an empty key but is a bucket request
};

struct S3Call {
  HttpRequest& http;
  RequestContext& context;
  S3Target target;
};

// The object an x-amz-copy-source header names, opened for reading.
struct CopySource {
  std::string bucket;
  ObjectInfo info;
  std::unique_ptr<BlobReader> reader;  // null: refused
  HttpResponse refusal;
};

class S3Service : public Service {
 public:
  explicit S3Service(ObjectStore& store) : store_(store) {}

  std::string_view name() const override { return "s3"; }
  Protocol protocol() const override { return Protocol::kRestXml; }
  std::vector<IamRequest> iam_requests(const HttpRequest& request, const QueryParams& query,
                                       const RequestContext& context) const override;
  bool streams_body(const HttpRequest& head, const QueryParams& query) const override;
  BodyPlan open_body(HttpRequest& head, RequestContext& context) override;
  void handle(HttpRequest& request, RequestContext& context, Reply reply) override;

 private:
  HttpResponse dispatch(S3Call& call);
  // AccessDenied when `bucket` exists and another account owns it: a
  // bucket name is global, its bucket is its owner's alone (the grants that
  // would share it, bucket policies and ACLs, are not emulated yet).
  std::optional<HttpResponse> refuse_other_accounts(const S3Call& call, const std::string& bucket);
  HttpResponse dispatch_object(S3Call& call);
  CopySource open_copy_source(S3Call& call);

  // s3_bucket_handlers.cpp
  HttpResponse list_buckets(S3Call& call);
  HttpResponse create_bucket(S3Call& call);
  HttpResponse head_bucket(S3Call& call);
  HttpResponse delete_bucket(S3Call& call);
  HttpResponse get_bucket_location(S3Call& call);
  HttpResponse get_bucket_versioning(S3Call& call);
  HttpResponse get_acl(S3Call& call);
  HttpResponse list_objects(S3Call& call, bool v2);
  HttpResponse list_object_versions(S3Call& call);

  // s3_object_handlers.cpp
  HttpResponse put_object(S3Call& call);
  HttpResponse get_object(S3Call& call, bool head);
  HttpResponse delete_object(S3Call& call);
  HttpResponse delete_objects(S3Call& call);
  HttpResponse copy_object(S3Call& call);

  // s3_multipart_handlers.cpp
  BodyPlan open_part_body(S3Call& call);
  HttpResponse create_multipart_upload(S3Call& call);
  HttpResponse upload_part(S3Call& call);
  HttpResponse upload_part_copy(S3Call& call);
  HttpResponse complete_multipart_upload(S3Call& call);
  HttpResponse abort_multipart_upload(S3Call& call);
  HttpResponse list_parts(S3Call& call);
  HttpResponse list_multipart_uploads(S3Call& call);

  ObjectStore& store_;
};

}  // namespace offcloud

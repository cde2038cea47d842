// Amazon S3 (rest-xml, signing name s3) on the local object store. Routing
// of an S3 request to its operation is here; the operations themselves are
// in s3_bucket_handlers.cpp and s3_object_handlers.cpp, by API family.
#pragma once

#include <string>

#include "emulator/api/service.h"
#include "emulator/s3/s3_access.h"
#include "emulator/s3/s3_bucket_state.h"
#include "storage/lifecycle.h"
#include "storage/object_store.h"

namespace offcloud {

namespace s3 {
struct CustomerKeyRequest;  // s3_customer_key.h
}  // namespace s3

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
  // The target bucket as a request reads it (BucketState); null when there is no
  // such bucket (or no bucket named).
  std::shared_ptr<const s3::BucketState> bucket_state = nullptr;
  // The request's reply, for a handler that answers later from another
  // thread (PutObject: ObjectStore::put_object_later); it then sets
  // `answered_later`, and what it returns is dropped.
  const Reply* reply = nullptr;
  bool answered_later = false;
};

// The object version a request names (?versionId=, else the current one),
// or S3's answer when it names none.
struct ObjectLookup {
  std::optional<ObjectInfo> object;  // nullopt: refused
  HttpResponse refusal;
  std::optional<std::string> version_id;  // as the request named it ("" the null version)
};

// The object an x-amz-copy-source header names, opened for reading.
struct CopySource {
  std::string bucket;
  std::optional<std::string> version_id;  // ?versionId= of the header
  bool versioned_bucket = false;          // x-amz-copy-source-version-id is due
  ObjectInfo info;
  std::unique_ptr<BlobReader> reader;  // null: refused
  HttpResponse refusal;
  // The source's SSE-C key (x-amz-copy-source-server-side-encryption-
  // customer-*), checked; `reader` decrypts with it.
  std::shared_ptr<const s3::CustomerKeyRequest> customer_key;
};

class S3Service : public Service {
 public:
  // `lifecycle_clock`: the length of a lifecycle day (x-amz-expiration,
  // RestoreObject's Days); `restore_delay_ms`: how long a restore takes
  // (the lifecycle sweep's interval: the sweep completes it).
  explicit S3Service(ObjectStore& store, LifecycleClock lifecycle_clock = {},
                     std::int64_t restore_delay_ms = 0)
      : store_(store),
        bucket_states_(store),
        lifecycle_clock_(lifecycle_clock),
        restore_delay_ms_(restore_delay_ms) {}

  std::string_view name() const override { return "s3"; }
  Protocol protocol() const override { return Protocol::kRestXml; }
  std::vector<IamRequest> iam_requests(const HttpRequest& request, const QueryParams& query,
                                       const RequestContext& context) const override;
  bool streams_body(const HttpRequest& head, const QueryParams& query) const override;
  BodyPlan open_body(HttpRequest& head, RequestContext& context) override;
  void handle(HttpRequest& request, RequestContext& context, Reply reply) override;
  // Waits for the PUTs still committing, whose answers use this service.
  void shutdown() override { store_.finish_commits(); }
  // The CORS headers of the bucket's rules (add_cors_headers), on every
  // answer but a preflight's, errors and refusals included.
  void decorate(const HttpRequest& request, HttpResponse* response) override;
  // Any request: what an anonymous caller may do is the buckets' policies'
  // and ACLs' to say (authorize_access), a CORS preflight the CORS rules'.
  bool serves_anonymously(const HttpRequest& request, const QueryParams& query) const override;
  // s3_authorization.cpp: bucket policies and ACLs.
  bool has_resource_policies() const override { return true; }
  std::optional<ApiError> authorize_access(const HttpRequest& request, RequestContext& context,
                                           const std::vector<IamRequest>& asks,
                                           const std::vector<Decision>& identity,
                                           const ConditionContext& conditions) const override;
  void add_condition_keys(const HttpRequest& request, const QueryParams& query,
                          ConditionContext* conditions) const override;

 private:
  HttpResponse dispatch(S3Call& call);
  // s3_authorization.cpp: one ask's verdict, and who the caller is to the
  // resource's owner.
  s3::AccessVerdict decide_access(const Principal& principal, const IamRequest& ask,
                                  Decision identity, const ConditionContext& conditions,
                                  s3::CallerKind* kind) const;
  HttpResponse dispatch_object(S3Call& call);
  CopySource open_copy_source(S3Call& call);

  // s3_bucket_handlers.cpp
  HttpResponse list_buckets(S3Call& call);
  HttpResponse create_bucket(S3Call& call);
  HttpResponse head_bucket(S3Call& call);
  HttpResponse delete_bucket(S3Call& call);
  HttpResponse get_bucket_location(S3Call& call);
  HttpResponse get_acl(S3Call& call);
  HttpResponse put_acl(S3Call& call);  // PutBucketAcl and PutObjectAcl
  HttpResponse list_objects(S3Call& call, bool v2);

  // s3_object_handlers.cpp
  HttpResponse put_object(S3Call& call);
  // PutObject's answer once the store has committed (or refused) it.
  HttpResponse put_object_answer(const S3Call& call, const ObjectInfo& info, BlobWriter& blob,
                                 ObjectStore::Status status, const ObjectInfo& committed);
  // `attempt`: how often the object changed under this request already.
  HttpResponse get_object(S3Call& call, bool head, int attempt = 0);
  HttpResponse delete_object(S3Call& call);
  HttpResponse delete_objects(S3Call& call);
  HttpResponse copy_object(S3Call& call);

  // s3_post_object.cpp: browser-based uploads (POST Object), whose form
  // carries the credentials, checked by PostObjectReader as the form arrives.
  friend class PostObjectReader;
  BodyPlan open_post_body(S3Call& call);
  HttpResponse post_object(S3Call& call);

  // s3_versioning_handlers.cpp
  HttpResponse put_bucket_versioning(S3Call& call);
  HttpResponse get_bucket_versioning(S3Call& call);
  HttpResponse list_object_versions(S3Call& call);
  // The version of call.target a request names: ?versionId= (malformed:
  // InvalidArgument; unknown: NoSuchVersion; a delete marker: 405
  // MethodNotAllowed) or the current one (none, or a delete marker:
  // NoSuchKey, the latter with x-amz-delete-marker).
  ObjectLookup find_object(S3Call& call);

  // s3_object_lock_handlers.cpp: Object Lock.
  HttpResponse put_object_lock_configuration(S3Call& call);
  HttpResponse get_object_lock_configuration(S3Call& call);
  HttpResponse put_object_retention(S3Call& call);
  HttpResponse get_object_retention(S3Call& call);
  HttpResponse put_object_legal_hold(S3Call& call);
  HttpResponse get_object_legal_hold(S3Call& call);
  // The version a retention or legal hold request names (find_object), in
  // a bucket with Object Lock (InvalidRequest otherwise).
  ObjectLookup find_locked_version(S3Call& call);
  HttpResponse lock_update_failed(S3Call& call, ObjectStore::LockStatus status);
  // CreateBucket with x-amz-bucket-object-lock-enabled: versioning enabled
  // and Object Lock without a default retention.
  void enable_object_lock(const std::string& bucket);
  // A write's lock (PutObject, CopyObject, CreateMultipartUpload): the
  // x-amz-object-lock-* headers, else the bucket's default retention, into
  // info->lock; InvalidRequest for lock headers on a bucket without lock.
  std::optional<HttpResponse> apply_object_lock(S3Call& call, ObjectInfo* info);
  // x-amz-object-lock-* on GET and HEAD, to a caller who may read them.
  void add_lock_headers(S3Call& call, const ObjectInfo& info, HttpResponse* response);
  // x-amz-bypass-governance-retention: true from a caller who holds
  // s3:BypassGovernanceRetention on the bucket's `key`.
  bool bypasses_governance(S3Call& call, const std::string& key);
  // Whether the caller may do `action` on the bucket's `key`, decided as
  // authorize_access decides a request (identity policies, bucket policy,
  // ACLs), for the permissions S3 checks only when they matter.
  bool caller_may(S3Call& call, std::string_view action, const std::string& key);

  // s3_object_attributes.cpp
  HttpResponse get_object_attributes(S3Call& call);

  // s3_multipart_handlers.cpp
  BodyPlan open_part_body(S3Call& call);
  HttpResponse create_multipart_upload(S3Call& call);
  HttpResponse upload_part(S3Call& call);
  HttpResponse upload_part_copy(S3Call& call);
  HttpResponse complete_multipart_upload(S3Call& call);
  HttpResponse abort_multipart_upload(S3Call& call);
  HttpResponse list_parts(S3Call& call);
  HttpResponse list_multipart_uploads(S3Call& call);

  // s3_subresources.cpp: the configuration subresources (?tagging, ?cors,
  // ?policy, ...), one table for dispatch() and iam_requests().
  struct SubresourceRoute {
    std::string_view subresource;
    std::string_view method;
    bool on_object;
    std::string_view operation;
    std::string_view action;  // IAM's, without "s3:"
    HttpResponse (S3Service::*handler)(S3Call&);
  };
  // Null when the request is no such operation (a multipart upload's
  // uploadId wins over any subresource).
  static const SubresourceRoute* find_subresource_route(const HttpRequest& request,
                                                        const QueryParams& query, bool on_object);

  // s3_tagging_handlers.cpp
  HttpResponse put_object_tagging(S3Call& call);
  HttpResponse get_object_tagging(S3Call& call);
  HttpResponse delete_object_tagging(S3Call& call);
  HttpResponse replace_object_tags(S3Call& call, const HeaderList& tags, HttpResponse response);
  HttpResponse put_bucket_tagging(S3Call& call);
  HttpResponse get_bucket_tagging(S3Call& call);
  HttpResponse delete_bucket_tagging(S3Call& call);
  // x-amz-tagging into info->tags; S3's refusal when it is not a valid set.
  std::optional<HttpResponse> read_tagging_header(S3Call& call, ObjectInfo* info);
  // CopyObject's x-amz-tagging-directive: COPY (the default) keeps the
  // source's tags, already in *info; REPLACE takes x-amz-tagging's, or none.
  std::optional<HttpResponse> copy_tags(S3Call& call, ObjectInfo* info);

  // s3_cors_handlers.cpp
  HttpResponse put_bucket_cors(S3Call& call);
  HttpResponse get_bucket_cors(S3Call& call);
  HttpResponse delete_bucket_cors(S3Call& call);
  HttpResponse preflight(S3Call& call);
  // Access-Control-* on an actual request to `bucket` with an Origin a rule allows.
  void add_cors_headers(const HttpRequest& request, const std::string& bucket,
                        HttpResponse* response);

  // s3_bucket_config_handlers.cpp
  HttpResponse get_bucket_config(S3Call& call, const char* kind, ErrorCode missing);
  HttpResponse delete_bucket_config(S3Call& call, const char* kind);
  HttpResponse put_bucket_policy(S3Call& call);
  HttpResponse get_bucket_policy(S3Call& call);
  HttpResponse delete_bucket_policy(S3Call& call);
  HttpResponse get_bucket_policy_status(S3Call& call);
  HttpResponse put_bucket_lifecycle(S3Call& call);
  HttpResponse get_bucket_lifecycle(S3Call& call);
  HttpResponse delete_bucket_lifecycle(S3Call& call);
  HttpResponse put_bucket_encryption(S3Call& call);
  HttpResponse get_bucket_encryption(S3Call& call);
  HttpResponse delete_bucket_encryption(S3Call& call);
  HttpResponse put_ownership_controls(S3Call& call);
  HttpResponse get_ownership_controls(S3Call& call);
  HttpResponse delete_ownership_controls(S3Call& call);
  HttpResponse put_public_access_block(S3Call& call);
  HttpResponse get_public_access_block(S3Call& call);
  HttpResponse delete_public_access_block(S3Call& call);
  // CreateBucket: x-amz-object-ownership checked, then the configurations
  // AWS gives every new bucket stored.
  std::optional<HttpResponse> check_object_ownership_header(S3Call& call);
  // Whether the bucket's settings let a request set `acl` (the store's
  // encoding; "" is the default ACL): BucketOwnerEnforced, every new
  // bucket's default, takes only the owner's full control, and
  // BlockPublicAcls no grant to AllUsers or AuthenticatedUsers. CreateBucket
  // passes the ownership it asks for.
  std::optional<HttpResponse> refuse_acl(const S3Call& call, const std::string& bucket,
                                         const std::string& acl,
                                         const std::string* creating_with_ownership = nullptr);
  void store_default_bucket_configs(S3Call& call);

  // s3_encryption.cpp: the request's SSE headers, else the bucket's default
  // encryption, else SSE-S3, into info->headers (replacing a copy source's);
  // with a `customer` key (SSE-C), its record into info->customer_key instead.
  std::optional<HttpResponse> apply_encryption(S3Call& call, ObjectInfo* info,
                                               const s3::CustomerKeyRequest* customer = nullptr);

  // s3_restore_handlers.cpp
  HttpResponse restore_object(S3Call& call);

  ObjectStore& store_;
  s3::BucketStateCache bucket_states_;
  LifecycleClock lifecycle_clock_;
  std::int64_t restore_delay_ms_;
};

}  // namespace offcloud

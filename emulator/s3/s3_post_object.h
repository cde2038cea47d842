// S3's browser-based uploads (POST Object): a multipart/form-data POST to a
// bucket whose fields carry the key, the object's attributes, and a policy
// signed with an access key (SigV4, or SigV2's HMAC-SHA1). The request has
// no Authorization header: the router admits it as anonymous, and this
// reader authenticates the form once the fields before the file are read,
// checks the policy, authorizes s3:PutObject for the key's owner as a signed
// PutObject would be, then streams the file into a blob. Fields after the
// file are ignored, as S3 ignores them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "emulator/s3/s3_customer_key.h"
#include "emulator/s3/s3_form_data.h"
#include "emulator/s3/s3_post_policy.h"
#include "emulator/s3/s3_service.h"
#include "storage/object_store.h"

namespace offcloud {

// Whether `head` is a browser POST upload: POST to a bucket (not an object,
// not ?delete) with a multipart/form-data body.
bool is_post_object(const HttpRequest& head, const QueryParams& query, const S3Target& target);

class PostObjectReader : public BodyReader, private s3::FormDataParser::Handler {
 public:
  // The form fields before the file may hold this much, names and values.
  static constexpr std::size_t kMaxFieldBytes = 1 << 20;

  // `context` must outlive the body (the router's admission holds both).
  PostObjectReader(S3Service& service, const S3Call& call, std::string_view boundary);

  std::optional<HttpResponse> consume(std::string_view bytes) override;
  std::optional<HttpResponse> finish() override;

  // Once the body is whole: what post_object() stores and answers.
  const std::string& key() const { return key_; }
  ObjectInfo& info() { return info_; }
  BlobWriter& blob() { return *blob_; }
  // A form field by its name (any case); null when absent.
  const std::string* field(std::string_view name) const;

 private:
  bool on_part(const s3::FormPart& part) override;
  bool on_data(std::string_view bytes) override;
  bool on_part_end() override;

  // At the file field: every check that needs only the fields, and the
  // object's attributes; the refusal when one fails.
  std::optional<HttpResponse> admit();
  std::optional<HttpResponse> authenticate();
  std::optional<HttpResponse> authorize();
  std::optional<HttpResponse> read_object_options();
  // The fields as headers, for the helpers PutObject shares (Content-Type,
  // x-amz-meta-*, acl as x-amz-acl, x-amz-server-side-encryption, ...).
  void build_form_request();
  S3Call form_call() { return S3Call{form_request_, *context_, target_, bucket_state_}; }
  bool stop(HttpResponse refusal);
  HttpResponse fail(ErrorCode code, std::string message = {},
                    std::vector<std::pair<std::string, std::string>> details = {});

  S3Service& service_;
  RequestContext* context_;
  S3Target target_;
  // The bucket's owner and access settings, as the request's head found
  // them: what PutObject's helpers read for ownership, ACLs and defaults.
  std::shared_ptr<const s3::BucketState> bucket_state_;
  HttpRequest form_request_;  // the head's path and address, the form's fields as headers
  s3::FormDataParser parser_;

  s3::PostFields fields_;  // names lower-case, in order
  std::size_t field_bytes_ = 0;
  std::optional<std::size_t> open_field_;  // the field whose value is arriving
  bool in_file_ = false;
  bool file_seen_ = false;
  bool file_done_ = false;
  std::string filename_;
  std::string key_;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> length_range_;
  std::uint64_t size_ = 0;
  ObjectInfo info_;
  s3::CustomerKeyRequest customer_key_;  // SSE-C form fields: the file is encrypted with it
  std::unique_ptr<BlobWriter> blob_;
  std::optional<HttpResponse> refusal_;
};

}  // namespace offcloud

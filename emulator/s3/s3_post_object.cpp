#include "emulator/s3/s3_post_object.h"

#include <cctype>

#include "emulator/auth/authorizer.h"    // request_conditions
#include "emulator/auth/signature_v2.h"  // s3_virtual_host_bucket
#include "emulator/auth/signature_v4.h"
#include "emulator/auth/sigv4_verifier.h"  // parse_amz_date
#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_encryption.h"
#include "emulator/s3/s3_tagging.h"
#include "emulator/s3/s3_write_options.h"
#include "emulator/util/log.h"
#include "emulator/util/xml.h"
#include "rules/topic_filter.h"  // is_valid_utf8
#include "storage/digest.h"

namespace offcloud {
namespace {

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The fields S3 stores with the object, as the headers PutObject takes.
bool is_object_header_field(std::string_view name) {
  for (std::string_view header :
       {"content-type", "cache-control", "content-disposition", "content-encoding",
        "content-language", "expires", "x-amz-storage-class"}) {
    if (name == header) return true;
  }
  return name.starts_with("x-amz-meta-") || name.starts_with("x-amz-server-side-encryption");
}

std::string missing_field_message(std::string_view name) {
  return "Bucket POST must contain a field named '" + std::string(name) +
         "'.  If it is specified, please check the order of the fields.";
}

}  // namespace

bool is_post_object(const HttpRequest& head, const QueryParams& query, const S3Target& target) {
  if (head.method != "POST" || target.bucket.empty() || target.has_key) return false;
  if (find_param(query, "delete")) return false;
  std::string_view type = head.headers.get("content-type");
  return type.size() >= 19 && iequals(type.substr(0, 19), "multipart/form-data");
}

PostObjectReader::PostObjectReader(S3Service& service, const S3Call& call,
                                   std::string_view boundary)
    : service_(service),
      context_(&call.context),
      target_(call.target),
      bucket_state_(call.bucket_state ? call.bucket_state
                                      : service.bucket_states_.get(call.target.bucket)),
      parser_(boundary, *this) {
  form_request_.method = "POST";
  form_request_.path = call.http.path;
  form_request_.target = call.http.target;
  form_request_.remote_address = call.http.remote_address;
  form_request_.secure = call.http.secure;
  if (const std::string* host = call.http.headers.find("host")) {
    form_request_.headers.add("host", *host);
  }
}

const std::string* PostObjectReader::field(std::string_view name) const {
  for (const auto& [field, value] : fields_) {
    if (iequals(field, name)) return &value;
  }
  return nullptr;
}

HttpResponse PostObjectReader::fail(ErrorCode code, std::string message,
                                    std::vector<std::pair<std::string, std::string>> details) {
  return s3::error(form_call(), code, std::move(message), std::move(details));
}

bool PostObjectReader::stop(HttpResponse refusal) {
  refusal_ = std::move(refusal);
  return false;
}

std::optional<HttpResponse> PostObjectReader::consume(std::string_view bytes) {
  switch (parser_.feed(bytes)) {
    case s3::FormDataParser::Status::kOk:
      return std::nullopt;
    case s3::FormDataParser::Status::kStopped:
      return std::move(refusal_);
    case s3::FormDataParser::Status::kMalformed:
      break;
  }
  return fail(ErrorCode::kMalformedPOSTRequest);
}

std::optional<HttpResponse> PostObjectReader::finish() {
  if (parser_.finish() != s3::FormDataParser::Status::kOk) {
    return fail(ErrorCode::kMalformedPOSTRequest);
  }
  if (!file_done_) {
    return fail(ErrorCode::kIncorrectNumberOfFilesInPostRequest, "",
                {{"ArgumentName", "file"}, {"ArgumentValue", "0"}});
  }
  if (length_range_ && size_ < length_range_->first) {
    return fail(ErrorCode::kEntityTooSmall, "",
                {{"ProposedSize", std::to_string(size_)},
                 {"MinSizeAllowed", std::to_string(length_range_->first)}});
  }
  return std::nullopt;
}

bool PostObjectReader::on_part(const s3::FormPart& part) {
  if (file_seen_) return true;  // S3 ignores what follows the file
  std::string name = s3::lower(part.name);
  if (name == "file") {
    file_seen_ = true;
    in_file_ = true;
    filename_ = part.filename.value_or("");
    if (auto refusal = admit()) return stop(std::move(*refusal));
    return true;
  }
  for (const auto& [existing, value] : fields_) {
    // Which of two values the policy checked would be a guess.
    if (existing == name) {
      return stop(fail(ErrorCode::kInvalidArgument,
                       "The form field " + part.name + " may appear only once.",
                       {{"ArgumentName", part.name}}));
    }
  }
  field_bytes_ += name.size();
  if (field_bytes_ > kMaxFieldBytes)
    return stop(fail(ErrorCode::kMaxPostPreDataLengthExceededError));
  fields_.emplace_back(std::move(name), std::string());
  open_field_ = fields_.size() - 1;
  return true;
}

bool PostObjectReader::on_data(std::string_view bytes) {
  if (in_file_) {
    size_ += bytes.size();
    std::uint64_t limit = s3::kMaxObjectBytes;
    if (length_range_) limit = std::min(limit, length_range_->second);
    if (size_ > limit) {
      HttpResponse refusal = fail(
          ErrorCode::kEntityTooLarge, "",
          {{"ProposedSize", std::to_string(size_)}, {"MaxSizeAllowed", std::to_string(limit)}});
      refusal.status = 400;  // S3's status for it; offcloud's HTTP limit says 413
      return stop(std::move(refusal));
    }
    try {
      blob_->write(bytes);
    } catch (const std::exception& e) {
      log(LogLevel::kError, std::string("POST upload failed: ") + e.what());
      return stop(fail(ErrorCode::kInternalError));
    }
    return true;
  }
  if (!open_field_) return true;  // after the file
  field_bytes_ += bytes.size();
  if (field_bytes_ > kMaxFieldBytes)
    return stop(fail(ErrorCode::kMaxPostPreDataLengthExceededError));
  fields_[*open_field_].second.append(bytes);
  return true;
}

bool PostObjectReader::on_part_end() {
  open_field_.reset();
  if (!in_file_) return true;
  in_file_ = false;
  file_done_ = true;
  try {
    blob_->close();
  } catch (const std::exception& e) {
    log(LogLevel::kError, std::string("POST upload failed: ") + e.what());
    return stop(fail(ErrorCode::kInternalError));
  }
  return true;
}

std::optional<HttpResponse> PostObjectReader::admit() {
  const std::string* key = field("key");
  if (!key) {
    return fail(ErrorCode::kInvalidArgument, missing_field_message("key"),
                {{"ArgumentName", "key"}, {"ArgumentValue", ""}});
  }
  key_ = replace_all(*key, "${filename}", filename_);
  for (auto& [name, value] : fields_) {
    if (name == "key") value = key_;  // the policy sees the key S3 will use
  }
  if (auto refusal = authenticate()) return refusal;
  if (!service_.store_.bucket(target_.bucket)) return fail(ErrorCode::kNoSuchBucket);
  if (key_.empty()) {
    return fail(ErrorCode::kInvalidArgument, "User key must have a length greater than 0.",
                {{"ArgumentName", "key"}, {"ArgumentValue", ""}});
  }
  if (key_.size() > s3::kMaxKeyBytes) return fail(ErrorCode::kKeyTooLongError);
  if (!is_valid_utf8(key_)) return fail(ErrorCode::kInvalidArgument, "Object keys must be UTF-8.");
  build_form_request();
  if (auto refusal = authorize()) return refusal;
  if (auto refusal = read_object_options()) return refusal;
  try {
    blob_ = service_.store_.new_blob();
  } catch (const std::exception& e) {
    log(LogLevel::kError, std::string("cannot create a blob: ") + e.what());
    return fail(ErrorCode::kInternalError);
  }
  if (customer_key_.present()) {
    blob_->encrypt(*customer_key_.key, false);
    info_.customer_key.ivs = {blob_->iv()};
  }
  return std::nullopt;
}

std::optional<HttpResponse> PostObjectReader::authenticate() {
  const std::string* policy = field("policy");
  const std::string* algorithm = field("x-amz-algorithm");
  const std::string* v2_key = field("AWSAccessKeyId");
  if (!policy) {
    if (algorithm || v2_key || field("x-amz-signature") || field("signature")) {
      return fail(ErrorCode::kInvalidArgument, missing_field_message("policy"),
                  {{"ArgumentName", "policy"}, {"ArgumentValue", ""}});
    }
    return std::nullopt;  // anonymous: the bucket's policy and ACL decide
  }
  auto missing = [&](std::string_view name) {
    return fail(ErrorCode::kInvalidArgument, missing_field_message(name),
                {{"ArgumentName", std::string(name)}, {"ArgumentValue", ""}});
  };
  std::string access_key_id, expected, given, region;
  std::optional<Credential> credential;
  if (algorithm) {
    if (*algorithm != kSigV4Algorithm) {
      return fail(ErrorCode::kInvalidArgument, "Only AWS4-HMAC-SHA256 is supported.",
                  {{"ArgumentName", "x-amz-algorithm"}, {"ArgumentValue", *algorithm}});
    }
    const std::string* scope = field("x-amz-credential");
    const std::string* date = field("x-amz-date");
    const std::string* signature = field("x-amz-signature");
    if (!scope) return missing("x-amz-credential");
    if (!date) return missing("x-amz-date");
    if (!signature) return missing("x-amz-signature");
    // AKID/yyyymmdd/region/s3/aws4_request
    std::vector<std::string> parts;
    for (std::size_t start = 0;;) {
      std::size_t slash = scope->find('/', start);
      parts.push_back(scope->substr(start, slash - start));
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    if (parts.size() != 5 || parts[0].empty() || parts[1].size() != 8 || parts[2].empty() ||
        parts[3] != "s3" || parts[4] != "aws4_request") {
      return fail(ErrorCode::kInvalidArgument, "Invalid x-amz-credential: " + *scope,
                  {{"ArgumentName", "x-amz-credential"}, {"ArgumentValue", *scope}});
    }
    if (!parse_amz_date(*date)) {
      return fail(ErrorCode::kInvalidArgument, "Invalid x-amz-date: " + *date,
                  {{"ArgumentName", "x-amz-date"}, {"ArgumentValue", *date}});
    }
    access_key_id = parts[0];
    region = parts[2];
    credential = context_->identity_checks
                     ? context_->identity_checks->find_credential(access_key_id)
                     : std::nullopt;
    if (credential) {
      expected = compute_signature(
          derive_signing_key(credential->secret_access_key, parts[1], region, "s3"), *policy);
    }
    given = s3::lower(*signature);
  } else {
    const std::string* signature = field("signature");
    if (!v2_key) return missing("AWSAccessKeyId");
    if (!signature) return missing("signature");
    access_key_id = *v2_key;
    credential = context_->identity_checks
                     ? context_->identity_checks->find_credential(access_key_id)
                     : std::nullopt;
    if (credential) expected = base64_encode(hmac_sha1(credential->secret_access_key, *policy));
    given = *signature;
  }
  if (!credential || !credential->active) {
    return fail(ErrorCode::kInvalidAccessKeyId, "", {{"AWSAccessKeyId", access_key_id}});
  }
  if (credential->session_token && !credential->principal.is_root) {
    const std::string* token = field("x-amz-security-token");
    if (!token || !constant_time_equals(*token, *credential->session_token)) {
      return fail(ErrorCode::kInvalidAccessKeyId,
                  "The provided token is malformed or otherwise invalid.");
    }
  }
  if (!constant_time_equals(expected, given)) {
    return fail(ErrorCode::kSignatureDoesNotMatch, "",
                {{"AWSAccessKeyId", access_key_id}, {"StringToSign", *policy}});
  }
  context_->principal = credential->principal;
  context_->region = region;

  // Signed, so the document is the signer's; now what it says.
  std::string document;
  if (!base64_decode(*policy, &document)) {
    return fail(ErrorCode::kInvalidPolicyDocument, "Invalid Policy: Invalid 'policy' encoding.");
  }
  std::string why;
  std::optional<s3::PostPolicy> parsed = s3::parse_post_policy(document, &why);
  if (!parsed) return fail(ErrorCode::kInvalidPolicyDocument, why);
  std::string violation = s3::check_post_policy(*parsed, fields_, target_.bucket, now_ms());
  if (!violation.empty()) return fail(ErrorCode::kAccessDenied, violation);
  length_range_ = parsed->length_range();
  return std::nullopt;
}

void PostObjectReader::build_form_request() {
  for (const auto& [name, value] : fields_) {
    if (is_object_header_field(name)) form_request_.headers.add(name, value);
    if (name == "acl") form_request_.headers.add("x-amz-acl", value);
  }
}

std::optional<HttpResponse> PostObjectReader::authorize() {
  std::string object_arn = "arn:aws:s3:::" + target_.bucket + "/" + key_;
  std::vector<IamRequest> asks{{"s3:PutObject", object_arn}};
  if (field("x-amz-tagging")) asks.push_back({"s3:PutObjectTagging", object_arn});
  const Principal& principal = context_->principal;
  ConditionContext conditions = request_conditions(
      principal, form_request_.remote_address, context_->region, now_ms(), form_request_.secure);
  service_.add_condition_keys(form_request_, context_->query, &conditions);
  std::vector<Decision> identity(asks.size(), Decision::kImplicitDeny);
  if (!principal.is_anonymous() && context_->identity_checks) {
    identity = context_->identity_checks->identity_decisions(principal, asks, conditions);
  }
  std::optional<ApiError> refusal =
      service_.authorize_access(form_request_, *context_, asks, identity, conditions);
  context_->operation = "PostObject";  // the log names the operation, not the refused action
  if (!refusal) return std::nullopt;
  return fail(refusal->code, refusal->message, refusal->details);
}

std::optional<HttpResponse> PostObjectReader::read_object_options() {
  S3Call call = form_call();
  info_.key = key_;
  s3::read_object_attributes(form_request_, &info_);
  if (auto refused = s3::read_write_options(call, &info_)) return refused;
  if (auto refused = service_.refuse_acl(call, target_.bucket, info_.acl)) return refused;
  if (const std::string* tagging = field("x-amz-tagging")) {
    // A <Tagging> document here, where PutObject's header is a query string.
    if (auto invalid = s3::parse_tagging(*tagging, s3::TagTarget::kObject, &info_.tags)) {
      return fail(invalid->code, invalid->message, invalid->details);
    }
  }
  // SSE-C form fields, as PutObject's headers.
  if (auto refused = s3::read_customer_key(call, false, &customer_key_)) return refused;
  if (auto refused = service_.apply_encryption(call, &info_, &customer_key_)) return refused;
  // The bucket's default retention, which AWS applies to every object
  // however it arrives (POST Object has no lock fields of its own).
  return service_.apply_object_lock(call, &info_);
}

BodyPlan S3Service::open_post_body(S3Call& call) {
  call.context.operation = "PostObject";
  auto refuse = [](HttpResponse response) {
    return BodyPlan{nullptr, std::make_shared<HttpResponse>(std::move(response))};
  };
  std::optional<std::string> boundary =
      s3::form_data_boundary(call.http.headers.get("content-type"));
  if (!boundary) {
    return refuse(s3::error(call, ErrorCode::kMalformedPOSTRequest,
                            "The Content-Type multipart/form-data needs a boundary."));
  }
  return {std::make_shared<PostObjectReader>(*this, call, *boundary), nullptr};
}

HttpResponse S3Service::post_object(S3Call& call) {
  auto* form = dynamic_cast<PostObjectReader*>(call.http.body_reader.get());
  if (!form) return s3::error(call, ErrorCode::kInternalError);
  call.target.key = form->key();
  call.target.has_key = true;
  ObjectInfo& info = form->info();
  BlobWriter& blob = form->blob();
  if (store_.put_object(call.target.bucket, info, blob) == ObjectStore::Status::kNoSuchBucket) {
    return s3::no_such_bucket(call);
  }
  std::string etag = "\"" + blob.md5_hex() + "\"";
  std::string host(call.http.headers.get("host"));
  std::string location =
      std::string(call.http.secure ? "https://" : "http://") + host + "/" +
      (s3_virtual_host_bucket(host).empty() ? uri_encode(call.target.bucket, false) + "/"
                                            : std::string()) +
      uri_encode(call.target.key, true);
  HttpResponse response;
  response.headers.add("ETag", etag);
  response.headers.add("Location", location);
  s3::add_encryption_headers(info, &response);

  // A redirect S3 can follow wins; one it cannot is ignored.
  const std::string* redirect = form->field("success_action_redirect");
  if (!redirect) redirect = form->field("redirect");
  if (redirect && (redirect->starts_with("http://") || redirect->starts_with("https://"))) {
    std::string target = *redirect;
    target += target.find('?') == std::string::npos ? '?' : '&';
    target += "bucket=" + uri_encode(call.target.bucket, false) +
              "&key=" + uri_encode(call.target.key, false) + "&etag=" + uri_encode(etag, false);
    HttpResponse redirected;
    redirected.status = 303;
    redirected.headers.add("Location", target);
    redirected.headers.add("ETag", etag);
    return redirected;
  }
  const std::string* status = form->field("success_action_status");
  if (status && *status == "200") return response;
  if (status && *status == "201") {
    XmlWriter xml("PostResponse");
    xml.element("Location", location)
        .element("Bucket", call.target.bucket)
        .element("Key", call.target.key)
        .element("ETag", etag);
    HttpResponse created = s3::xml_response(xml.finish(), 201);
    for (const auto& [name, value] : response.headers) created.headers.add(name, value);
    return created;
  }
  response.status = 204;
  return response;
}

}  // namespace offcloud

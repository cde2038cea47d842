// S3 Object Lock: PutObjectLockConfiguration, GetObjectLockConfiguration,
// PutObjectRetention, GetObjectRetention, PutObjectLegalHold,
// GetObjectLegalHold; the lock a write asks for (x-amz-object-lock-*, else
// the bucket's default retention) and the headers GET and HEAD give back;
// and x-amz-bypass-governance-retention, which needs the caller to hold
// s3:BypassGovernanceRetention, decided as any other S3 permission. The
// lock itself lives on each version's row, enforced by the store
// (storage/object_lock.h).
#include "emulator/auth/authorizer.h"  // request_conditions
#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_object_lock.h"
#include "emulator/s3/s3_service.h"
#include "emulator/s3/s3_versioning.h"
#include "emulator/util/log.h"  // now_ms

namespace offcloud {
namespace s3 {

std::optional<LockConfiguration> bucket_lock_configuration(ObjectStore& store,
                                                           const std::string& bucket) {
  std::optional<std::string> stored = store.bucket_config(bucket, kObjectLockConfig);
  if (!stored) return std::nullopt;
  return decode_lock_configuration(*stored);
}

}  // namespace s3

namespace {

using namespace s3;

constexpr const char* kMissingLock = "Bucket is missing Object Lock Configuration";

HttpResponse missing_lock(const S3Call& call) {
  return error(call, ErrorCode::kInvalidRequest, kMissingLock);
}

HttpResponse invalid(const S3Call& call, const S3Invalid& why) {
  return error(call, why.code, why.message, why.details);
}

}  // namespace

bool S3Service::caller_may(S3Call& call, std::string_view action, const std::string& key) {
  std::vector<IamRequest> asks{
      {std::string(action), "arn:aws:s3:::" + call.target.bucket + "/" + key}};
  const Principal& principal = call.context.principal;
  ConditionContext conditions = request_conditions(principal, call.http.remote_address,
                                                   call.context.region, now_ms(), call.http.secure);
  add_condition_keys(call.http, call.context.query, &conditions);
  std::vector<Decision> identity(asks.size(), Decision::kImplicitDeny);
  if (!principal.is_anonymous()) {
    identity = call.context.identity_checks
                   ? call.context.identity_checks->identity_decisions(principal, asks, conditions)
                   : std::vector<Decision>(asks.size(), Decision::kAllow);
  }
  std::string operation = call.context.operation;  // a refusal would rename it
  bool allowed = !authorize_access(call.http, call.context, asks, identity, conditions);
  call.context.operation = std::move(operation);
  return allowed;
}

bool S3Service::bypasses_governance(S3Call& call, const std::string& key) {
  return iequals(call.http.headers.get("x-amz-bypass-governance-retention"), "true") &&
         caller_may(call, "s3:BypassGovernanceRetention", key);
}

std::optional<HttpResponse> S3Service::apply_object_lock(S3Call& call, ObjectInfo* info) {
  info->lock = {};
  const BucketState* bucket = call.bucket_state.get();
  if (!bucket || !bucket->lock) {
    if (!has_lock_headers(call.http.headers)) return std::nullopt;
    if (!bucket) return no_such_bucket(call);
    return missing_lock(call);
  }
  const LockConfiguration& config = *bucket->lock;
  std::int64_t now = now_ms();
  if (auto why = read_lock_headers(call.http.headers, now, &info->lock)) return invalid(call, *why);
  if (info->lock.mode.empty() && !config.mode.empty()) {
    info->lock.mode = config.mode;
    info->lock.until_ms = default_retain_until(config, now);
  }
  return std::nullopt;
}

void S3Service::add_lock_headers(S3Call& call, const ObjectInfo& info, HttpResponse* response) {
  // Only to a caller who may read them, as AWS gives them.
  if (!info.lock.mode.empty() && caller_may(call, "s3:GetObjectRetention", info.key)) {
    response->headers.add("x-amz-object-lock-mode", info.lock.mode);
    response->headers.add("x-amz-object-lock-retain-until-date", iso8601(info.lock.until_ms));
  }
  if (!info.lock.legal_hold.empty() && caller_may(call, "s3:GetObjectLegalHold", info.key)) {
    response->headers.add("x-amz-object-lock-legal-hold", info.lock.legal_hold);
  }
}

void S3Service::enable_object_lock(const std::string& bucket) {
  // Object Lock needs versioning, which can then never be suspended.
  store_.set_bucket_versioning(bucket, Versioning::kEnabled);
  store_.put_bucket_config(bucket, kObjectLockConfig, encode_lock_configuration({}));
}

HttpResponse S3Service::put_object_lock_configuration(S3Call& call) {
  std::optional<BucketInfo> bucket = store_.bucket(call.target.bucket);
  if (!bucket) return no_such_bucket(call);
  LockConfiguration config;
  if (auto why = parse_lock_configuration(call.http.body, &config)) return invalid(call, *why);
  // A bucket without lock may have it now, as AWS allows since 2023, once
  // its versioning is enabled.
  if (!bucket_lock_configuration(store_, bucket->name) &&
      bucket->versioning != Versioning::kEnabled) {
    return error(call, ErrorCode::kInvalidBucketState,
                 "Versioning must be 'Enabled' on the bucket to apply a Object Lock "
                 "configuration");
  }
  if (!store_.put_bucket_config(bucket->name, kObjectLockConfig,
                                encode_lock_configuration(config))) {
    return no_such_bucket(call);
  }
  return {};
}

HttpResponse S3Service::get_object_lock_configuration(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  std::optional<LockConfiguration> config = bucket_lock_configuration(store_, call.target.bucket);
  if (!config) {
    return error(call, ErrorCode::kObjectLockConfigurationNotFoundError, "",
                 {{"BucketName", call.target.bucket}});
  }
  return xml_response(lock_configuration_xml(*config));
}

// The version a retention or legal hold request is about, in a bucket with
// Object Lock; `refusal` set otherwise.
ObjectLookup S3Service::find_locked_version(S3Call& call) {
  ObjectLookup lookup;
  if (!store_.bucket(call.target.bucket)) {
    lookup.refusal = no_such_bucket(call);
  } else if (!bucket_lock_configuration(store_, call.target.bucket)) {
    lookup.refusal = missing_lock(call);
  } else {
    lookup = find_object(call);
  }
  return lookup;
}

HttpResponse S3Service::lock_update_failed(S3Call& call, ObjectStore::LockStatus status) {
  if (status == ObjectStore::LockStatus::kLocked) {
    return error(call, ErrorCode::kAccessDenied, kObjectLockedMessage);
  }
  // Gone since it was looked up: say how.
  ObjectLookup again = find_object(call);
  return again.object ? error(call, ErrorCode::kNoSuchKey) : std::move(again.refusal);
}

HttpResponse S3Service::put_object_retention(S3Call& call) {
  ObjectLookup found = find_locked_version(call);
  if (!found.object) return std::move(found.refusal);
  std::string mode;
  std::int64_t until_ms = 0;
  if (auto why = parse_retention(call.http.body, now_ms(), &mode, &until_ms)) {
    return invalid(call, *why);
  }
  ObjectStore::LockStatus status =
      store_.set_object_retention(call.target.bucket, call.target.key, found.object->version_id,
                                  mode, until_ms, bypasses_governance(call, call.target.key));
  if (status != ObjectStore::LockStatus::kOk) return lock_update_failed(call, status);
  return {};
}

HttpResponse S3Service::get_object_retention(S3Call& call) {
  ObjectLookup found = find_locked_version(call);
  if (!found.object) return std::move(found.refusal);
  const ObjectLock& lock = found.object->lock;
  if (lock.mode.empty()) return error(call, ErrorCode::kNoSuchObjectLockConfiguration);
  XmlWriter xml("Retention", kXmlns);
  xml.element("Mode", lock.mode).element("RetainUntilDate", iso8601(lock.until_ms));
  return xml_response(xml.finish());
}

HttpResponse S3Service::put_object_legal_hold(S3Call& call) {
  ObjectLookup found = find_locked_version(call);
  if (!found.object) return std::move(found.refusal);
  std::string status;
  if (auto why = parse_legal_hold(call.http.body, &status)) return invalid(call, *why);
  ObjectStore::LockStatus updated = store_.set_object_legal_hold(
      call.target.bucket, call.target.key, found.object->version_id, status);
  if (updated != ObjectStore::LockStatus::kOk) return lock_update_failed(call, updated);
  return {};
}

HttpResponse S3Service::get_object_legal_hold(S3Call& call) {
  ObjectLookup found = find_locked_version(call);
  if (!found.object) return std::move(found.refusal);
  const ObjectLock& lock = found.object->lock;
  if (lock.legal_hold.empty()) return error(call, ErrorCode::kNoSuchObjectLockConfiguration);
  XmlWriter xml("LegalHold", kXmlns);
  xml.element("Status", lock.legal_hold);
  return xml_response(xml.finish());
}

}  // namespace offcloud

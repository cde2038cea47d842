// Whether a request may do what it asks of S3, once the router has
// authenticated it and evaluated the caller's identity policies: the
// bucket's policy and ACLs, from the in-memory BucketStateCache, weighed
// by s3_access's combine_access(). Also the condition keys S3 adds to every
// request.
#include "emulator/auth/authorizer.h"  // denial_message
#include "emulator/s3/s3_access.h"
#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_service.h"
#include "emulator/s3/s3_tagging.h"

namespace offcloud {
namespace {

using namespace s3;

struct ResourceName {
  std::string bucket;
  std::string key;
  bool has_key = false;
};

// "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key"; nullopt for no bucket.
std::optional<ResourceName> parse_resource(std::string_view arn) {
  constexpr std::string_view kPrefix = "arn:aws:s3:::";
  if (!arn.starts_with(kPrefix)) return std::nullopt;
  arn.remove_prefix(kPrefix.size());
  std::size_t slash = arn.find('/');
  ResourceName name{std::string(arn.substr(0, slash)), {}, slash != std::string_view::npos};
  if (name.has_key) name.key = std::string(arn.substr(slash + 1));
  if (name.bucket.empty() || name.bucket == "*") return std::nullopt;
  return name;
}

AccessVerdict identity_only(Decision identity) {
  if (identity == Decision::kAllow) return AccessVerdict::kAllow;
  return identity == Decision::kExplicitDeny ? AccessVerdict::kIdentityExplicitDeny
                                             : AccessVerdict::kNoIdentityAllow;
}

// AWS's words: the caller's own account's refusals name the identity-based
// policy; the bucket owner's name the resource-based one to the owner's own
// users and say only "Access Denied" to anyone else.
std::string refusal_message(const Principal& principal, CallerKind kind, AccessVerdict verdict,
                            const IamRequest& ask) {
  if (kind == CallerKind::kAnonymous) return "Access Denied";
  bool explicit_deny = verdict == AccessVerdict::kIdentityExplicitDeny;
  if (explicit_deny || verdict == AccessVerdict::kNoIdentityAllow) {
    return denial_message(
        principal,
        {.action = ask.action, .resource = ask.resource, .explicit_deny = explicit_deny});
  }
  if (kind == CallerKind::kOtherAccount) return "Access Denied";
  std::string message = "User: " + principal.arn + " is not authorized to perform: " + ask.action +
                        " on resource: " + ask.resource;
  if (verdict == AccessVerdict::kResourceExplicitDeny) {
    return message + " with an explicit deny in a resource-based policy";
  }
  return message + " because no resource-based policy allows the " + ask.action + " action";
}

}  // namespace

AccessVerdict S3Service::decide_access(const Principal& principal, const IamRequest& ask,
                                       Decision identity, const ConditionContext& conditions,
                                       CallerKind* kind) const {
  bool anonymous = principal.is_anonymous();
  *kind = anonymous ? CallerKind::kAnonymous : CallerKind::kOtherAccount;
  std::optional<ResourceName> target = parse_resource(ask.resource);
  // What no bucket owner grants (ListAllMyBuckets, CreateBucket): the
  // caller's own account decides; an anonymous caller gets nothing.
  if (!target || ask.action == "s3:CreateBucket") {
    return anonymous ? AccessVerdict::kNoResourceAllow : identity_only(identity);
  }
  std::shared_ptr<const BucketState> access = bucket_states_.get(target->bucket);
  // No such bucket: the handler says so (NoSuchBucket) to whoever may ask.
  if (!access) return anonymous ? AccessVerdict::kAllow : identity_only(identity);

  const std::string& account = principal.account_id;
  std::string owner = access->info.owner;
  const AclPermission* permission =
      access->acls_enabled() ? acl_permission_for(ask.action) : nullptr;
  bool outsider = anonymous || account != owner;
  // The object itself, only when its ACL or tags may decide.
  std::optional<ObjectInfo> object;
  if (target->has_key && ((permission && permission->on_object && outsider) ||
                          (access->policy && access->policy->reads_object_tags))) {
    object = store_.head_object(target->bucket, target->key);
  }
  std::optional<Acl> object_acl;
  if (object && permission && permission->on_object) {
    object_acl = decode_acl(object->acl, access->owner_canonical_id);
    // An object another account wrote is that account's: its ACL grants,
    // and the bucket policy can only deny.
    if (!object_acl->owner_account.empty()) owner = object_acl->owner_account;
  }
  if (!anonymous) {
    if (account == owner) {
      *kind = principal.is_root ? CallerKind::kOwnerRoot : CallerKind::kOwnerUser;
    }
    outsider = account != owner;
  }
  // The owner's root can always mend a policy that locked the account out,
  // as on AWS.
  if (*kind == CallerKind::kOwnerRoot &&
      (ask.action == "s3:GetBucketPolicy" || ask.action == "s3:PutBucketPolicy" ||
       ask.action == "s3:DeleteBucketPolicy")) {
    return AccessVerdict::kAllow;
  }
  // The common case: the owner's request on a bucket without a policy.
  if (!access->policy && !outsider) {
    return combine_access({*kind, identity, Decision::kImplicitDeny, false});
  }

  AccessInputs inputs{*kind, identity, Decision::kImplicitDeny, false};
  if (access->policy) {
    const ConditionContext* context = &conditions;
    ConditionContext with_keys;
    if (!ask.conditions.empty() || object) {
      with_keys = conditions;
      for (const auto& [key, value] : ask.conditions) with_keys.set(key, value);
      if (object) {
        for (const auto& [key, value] : object->tags)
          with_keys.set("s3:ExistingObjectTag/" + key, value);
      }
      context = &with_keys;
    }
    PolicyCaller caller{anonymous,         account,
                        principal.arn,     anonymous ? std::string() : canonical_user_id(account),
                        principal.is_root, account != access->info.owner};
    inputs.policy =
        evaluate_bucket_policy(*access->policy, caller, ask.action, ask.resource, *context);
    if (inputs.policy == Decision::kAllow && owner != access->info.owner) {
      inputs.policy = Decision::kImplicitDeny;  // not the bucket owner's object to grant
    }
  }
  // RestrictPublicBuckets: a bucket whose policy is public serves no one
  // outside its owner's account.
  bool restricted = access->block.restrict_public_buckets && access->policy &&
                    access->policy->is_public && outsider;
  if (restricted && inputs.policy == Decision::kAllow) inputs.policy = Decision::kImplicitDeny;
  if (permission && outsider && !restricted) {
    std::string caller_id = anonymous ? std::string() : canonical_user_id(account);
    AclCaller caller{anonymous, caller_id};
    bool ignore_public = access->block.ignore_public_acls;
    if (!permission->on_object) {
      inputs.acl_allows = acl_grants(access->acl, permission->permission, caller, ignore_public);
    } else if (object_acl) {
      inputs.acl_allows = acl_grants(*object_acl, permission->permission, caller, ignore_public);
    }
  }
  return combine_access(inputs);
}

std::optional<ApiError> S3Service::authorize_access(const HttpRequest& /*request*/,
                                                    RequestContext& context,
                                                    const std::vector<IamRequest>& asks,
                                                    const std::vector<Decision>& identity,
                                                    const ConditionContext& conditions) const {
  for (std::size_t i = 0; i < asks.size(); ++i) {
    CallerKind kind = CallerKind::kAnonymous;
    AccessVerdict verdict =
        decide_access(context.principal, asks[i], identity[i], conditions, &kind);
    if (verdict == AccessVerdict::kAllow) continue;
    // The log line names the refused operation.
    context.operation = asks[i].action.substr(asks[i].action.find(':') + 1);
    return ApiError{ErrorCode::kAccessDenied,
                    refusal_message(context.principal, kind, verdict, asks[i])};
  }
  return std::nullopt;
}

void S3Service::add_condition_keys(const HttpRequest& request, const QueryParams& query,
                                   ConditionContext* conditions) const {
  // How the request was authenticated: s3:authType and s3:signatureversion.
  if (const std::string* authorization = request.headers.find("authorization")) {
    conditions->set("s3:authType", "REST-HEADER");
    conditions->set("s3:signatureversion",
                    authorization->starts_with("AWS4-") ? "AWS4-HMAC-SHA256" : "AWS");
  } else if (find_param(query, "X-Amz-Algorithm")) {
    conditions->set("s3:authType", "REST-QUERY-STRING");
    conditions->set("s3:signatureversion", "AWS4-HMAC-SHA256");
  } else if (find_param(query, "Signature")) {
    conditions->set("s3:authType", "REST-QUERY-STRING");
    conditions->set("s3:signatureversion", "AWS");
  }
  // Headers S3 gives policies as s3:<header name>.
  for (std::string_view name :
       {"x-amz-acl", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-server-side-encryption-customer-algorithm", "x-amz-content-sha256",
        "x-amz-storage-class", "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-grant-read",
        "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp",
        "x-amz-grant-full-control"}) {
    if (const std::string* value = request.headers.find(name)) {
      conditions->set("s3:" + std::string(name), *value);
    }
  }
  if (const std::string* tagging = request.headers.find("x-amz-tagging")) {
    HeaderList tags;
    if (!parse_tagging_header(*tagging, &tags)) {
      for (const auto& [key, value] : tags) {
        conditions->set("s3:RequestObjectTag/" + key, value);
        conditions->add("s3:RequestObjectTagKeys", key);
      }
    }
  }
}

}  // namespace offcloud

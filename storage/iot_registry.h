// AWS IoT's registry, kept in SQLite so that devices' identities survive a
// restart: things and their attributes, certificates and their status, IoT
// policies and their versions, which policies are attached to which
// certificates, and which certificates to which things. Everything lives in
// an account and a region, as on AWS (the same name in two regions is two
// things). Knows no protocol: the IoT API (emulator/iot) checks names and
// documents and words the answers; this keeps the rows and the rules that
// must hold across rows (a policy in use is not deleted, ...), each call
// atomic on its own. Safe to call from any thread: the MQTT broker reads
// certificates and policies here for every connection it authenticates.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "storage/database.h"

namespace offcloud {

struct IotThing {
  std::string account_id;
  std::string region;
  std::string name;
  std::string id;  // a UUID, given at creation
  std::string arn;
  std::map<std::string, std::string> attributes;
  std::int64_t version = 1;  // 1 at creation, one more on each update
  std::int64_t created_ms = 0;
};

// Which things ListThings wants; an unset field does not filter.
struct IotThingFilter {
  std::optional<std::string> attribute_name;
  std::optional<std::string> attribute_value;  // with attribute_name only
  bool value_prefix = false;                   // attribute_value is a prefix
};

struct IotThingUpdate {
  std::optional<std::int64_t> expected_version;
  // nullopt: the attributes stay. Otherwise they replace the thing's, or
  // with `merge` are added to them; either way an empty value removes its
  // attribute rather than storing it.
  std::optional<std::map<std::string, std::string>> attributes;
  bool merge = false;
  std::size_t max_attributes = 0;  // 0: no limit
};

struct IotCertificate {
  std::string account_id;
  std::string region;
  std::string id;  // SHA-256 of the DER, lower-case hex
  std::string arn;
  std::string pem;
  std::string status;             // ACTIVE, INACTIVE, REVOKED, ...
  std::string ca_certificate_id;  // empty: registered without a CA
  std::string mode;               // DEFAULT or SNI_ONLY
  std::int64_t created_ms = 0;
  std::int64_t modified_ms = 0;
  std::int64_t not_before_ms = 0;
  std::int64_t not_after_ms = 0;
  std::int64_t customer_version = 1;  // one more on each status change
};

// Where a page of certificates starts (that one included), in the order asked.
struct IotCertificateCursor {
  std::int64_t created_ms = 0;
  std::string id;
};

struct IotPolicy {
  std::string account_id;
  std::string region;
  std::string name;
  std::string arn;
  std::string document;  // of the default version
  std::int64_t default_version = 1;
  std::int64_t created_ms = 0;
  std::int64_t modified_ms = 0;  // changed with the default version
};

struct IotPolicyVersion {
  std::int64_t version = 0;
  std::string document;
  bool is_default = false;
  std::int64_t created_ms = 0;
};

// What find_certificate returns for the MQTT broker.
struct RegisteredCertificate {
  std::string account_id, region, id, arn, status;
};

class IotRegistry {
 public:
  explicit IotRegistry(const std::string& db_path);

  // -- things ---------------------------------------------------------------
  // nullopt when stored; the thing of that name, untouched, when one exists.
  std::optional<IotThing> insert_thing(const IotThing& thing);
  std::optional<IotThing> thing(const std::string& account_id, const std::string& region,
                                const std::string& name);
  // By name from `from` (included), at most `limit`.
  std::vector<IotThing> things(const std::string& account_id, const std::string& region,
                               const IotThingFilter& filter, const std::string& from, int limit);
  enum class ThingChange { kDone, kNotFound, kVersionConflict, kTooManyAttributes, kHasPrincipals };
  // kDone, kNotFound, kVersionConflict or kTooManyAttributes; the version
  // goes up by one.
  ThingChange update_thing(const std::string& account_id, const std::string& region,
                           const std::string& name, const IotThingUpdate& update);
  // kDone, kNotFound, kVersionConflict or kHasPrincipals (a thing with
  // principals attached stays).
  ThingChange delete_thing(const std::string& account_id, const std::string& region,
                           const std::string& name, std::optional<std::int64_t> expected_version);

  // -- certificates ---------------------------------------------------------
  // False, storing nothing, when the account and region hold that id.
  bool insert_certificate(const IotCertificate& certificate);
  std::optional<IotCertificate> certificate(const std::string& account_id,
                                            const std::string& region, const std::string& id);
  // By creation time (then id), oldest or newest first, from `from`
  // (included) when given, at most `limit`.
  std::vector<IotCertificate> certificates(const std::string& account_id, const std::string& region,
                                           bool ascending,
                                           const std::optional<IotCertificateCursor>& from,
                                           int limit);
  enum class CertificateChange { kDone, kNotFound, kRevoked, kActive, kHasThings, kHasPolicies };
  // kDone, kNotFound or kRevoked (a revoked certificate keeps that status).
  // The same status again changes nothing.
  CertificateChange set_certificate_status(const std::string& account_id, const std::string& region,
                                           const std::string& id, const std::string& status,
                                           std::int64_t now_ms);
  // kDone, kNotFound, kActive (status ACTIVE), kHasThings, or kHasPolicies
  // unless `force`, which detaches them.
  CertificateChange delete_certificate(const std::string& account_id, const std::string& region,
                                       const std::string& id, bool force);
  // Every registration of certificate `id` (one per account and region
  // holding it).
  std::vector<RegisteredCertificate> find_certificate(const std::string& id);

  // -- policies -------------------------------------------------------------
  // Stores the policy with `document` as its version 1, the default. False,
  // storing nothing, when the account and region hold a policy of that name.
  bool insert_policy(const IotPolicy& policy);
  std::optional<IotPolicy> policy(const std::string& account_id, const std::string& region,
                                  const std::string& name);
  // By name from `from` (included), or down from it when not `ascending`.
  // An empty `from` starts at the first in that order.
  std::vector<IotPolicy> policies(const std::string& account_id, const std::string& region,
                                  bool ascending, const std::string& from, int limit);
  enum class PolicyChange {
    kDone,
    kNotFound,         // no such policy
    kVersionNotFound,  // the policy exists, that version does not
    kAttached,         // attached to a target
    kHasVersions,      // versions besides the default exist
    kIsDefault,        // the default version cannot be deleted
    kLimit,            // too many versions, or too many policies on the target
    kTargetNotFound,   // no certificate has that ARN
  };
  // kDone (its version number in *created), kNotFound or kLimit (the policy
  // has `max_versions` already).
  PolicyChange add_policy_version(const std::string& account_id, const std::string& region,
                                  const std::string& name, const std::string& document,
                                  bool set_default, int max_versions, std::int64_t now_ms,
                                  IotPolicyVersion* created);
  std::optional<IotPolicyVersion> policy_version(const std::string& account_id,
                                                 const std::string& region, const std::string& name,
                                                 std::int64_t version);
  // Newest first; nullopt when there is no such policy.
  std::optional<std::vector<IotPolicyVersion>> policy_versions(const std::string& account_id,
                                                               const std::string& region,
                                                               const std::string& name);
  // kDone, kNotFound or kVersionNotFound.
  PolicyChange set_default_policy_version(const std::string& account_id, const std::string& region,
                                          const std::string& name, std::int64_t version,
                                          std::int64_t now_ms);
  // kDone, kNotFound, kVersionNotFound or kIsDefault.
  PolicyChange delete_policy_version(const std::string& account_id, const std::string& region,
                                     const std::string& name, std::int64_t version);
  // kDone, kNotFound, kAttached or kHasVersions.
  PolicyChange delete_policy(const std::string& account_id, const std::string& region,
                             const std::string& name);

  // -- policy attachments (targets are certificate ARNs) --------------------
  // kDone (also when already attached), kNotFound, kTargetNotFound, or
  // kLimit when the target has `max_per_target` policies already.
  PolicyChange attach_policy(const std::string& account_id, const std::string& region,
                             const std::string& name, const std::string& target_arn,
                             int max_per_target);
  // Whether it was attached.
  bool detach_policy(const std::string& account_id, const std::string& region,
                     const std::string& name, const std::string& target_arn);
  // The policies attached to `target_arn` (default documents included), by
  // name from `from` (included), at most `limit`.
  std::vector<IotPolicy> attached_policies(const std::string& account_id, const std::string& region,
                                           const std::string& target_arn, const std::string& from,
                                           int limit);
  // The targets of policy `name`, in order from `from` (included), at most
  // `limit`; nullopt when there is no such policy.
  std::optional<std::vector<std::string>> policy_targets(const std::string& account_id,
                                                         const std::string& region,
                                                         const std::string& name,
                                                         const std::string& from, int limit);
  // The policy documents (default versions) of the IoT policies attached to
  // `target_arn` (a certificate ARN) in the account and region.
  std::vector<std::string> attached_policy_documents(const std::string& account_id,
                                                     const std::string& region,
                                                     const std::string& target_arn);

  // -- thing principals (certificate ARNs) ----------------------------------
  enum class PrincipalChange { kDone, kThingNotFound, kPrincipalNotFound, kExclusive };
  // kDone (also when already attached), kThingNotFound, kPrincipalNotFound,
  // or kExclusive: `exclusive` and the principal is attached to another
  // thing, or the principal is attached to another thing exclusively.
  PrincipalChange attach_thing_principal(const std::string& account_id, const std::string& region,
                                         const std::string& thing, const std::string& principal_arn,
                                         bool exclusive);
  // kDone (also when it was not attached) or kThingNotFound.
  PrincipalChange detach_thing_principal(const std::string& account_id, const std::string& region,
                                         const std::string& thing,
                                         const std::string& principal_arn);
  // The principals of `thing` in order; nullopt when there is no such thing.
  std::optional<std::vector<std::string>> thing_principals(const std::string& account_id,
                                                           const std::string& region,
                                                           const std::string& thing);
  // The names of the things `principal_arn` is attached to.
  std::vector<std::string> principal_things(const std::string& account_id,
                                            const std::string& region,
                                            const std::string& principal_arn);
  // Whether the account and region hold a certificate with that ARN.
  bool has_certificate_arn(const std::string& account_id, const std::string& region,
                           const std::string& arn);

  // Bumped by every change to the registry (policies, attachments and
  // certificate status among them), so callers can cache what they read.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  std::map<std::string, std::string> thing_attributes(const std::string& account_id,
                                                      const std::string& region,
                                                      const std::string& name);
  void put_thing_attributes(const IotThing& thing);
  bool certificate_arn_exists(const std::string& account_id, const std::string& region,
                              const std::string& arn);
  void changed() { generation_.fetch_add(1, std::memory_order_acq_rel); }

  std::mutex mutex_;
  Database db_;
  std::atomic<std::uint64_t> generation_{1};
};

}  // namespace offcloud

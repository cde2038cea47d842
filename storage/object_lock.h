// S3 Object Lock on one object version, free of any protocol: what the
// version carries (a retention and a legal hold) and the rules that decide
// whether it may be deleted for good or have its retention changed, as AWS
// documents them ("How S3 Object Lock works"). The object store applies
// them under the lock its deletes and updates commit under; the lifecycle
// sweep and the S3 front end ask the same functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace offcloud {

inline constexpr std::string_view kLockGovernance = "GOVERNANCE";
inline constexpr std::string_view kLockCompliance = "COMPLIANCE";

struct ObjectLock {
  // The retention: "" none, else GOVERNANCE or COMPLIANCE until until_ms.
  std::string mode;
  std::int64_t until_ms = 0;
  // The legal hold: "" never set, "ON" or "OFF".
  std::string legal_hold;

  bool empty() const { return mode.empty() && legal_hold.empty(); }
  // A retention protects only until its date.
  bool retained(std::int64_t now_ms) const { return !mode.empty() && until_ms > now_ms; }
  bool held() const { return legal_hold == "ON"; }
};

// Whether a version may be removed for good (DELETE or DeleteObjects with
// its version id, a lifecycle expiration): never under a legal hold or an
// unexpired COMPLIANCE retention; under an unexpired GOVERNANCE retention
// only when the caller bypasses governance (x-amz-bypass-governance-retention
// with the s3:BypassGovernanceRetention permission). A delete marker made
// on top of a locked version is not a removal: it is always allowed.
bool may_delete_version(const ObjectLock& lock, std::int64_t now_ms, bool bypass_governance);

// Whether PutObjectRetention may replace the version's retention with
// `mode` until `until_ms` ("" removes it). Extending a retention in the
// same mode is always allowed; shortening it, changing its mode or
// removing it is allowed for GOVERNANCE only with the bypass, never for
// COMPLIANCE. An expired retention (or none) protects nothing.
bool may_change_retention(const ObjectLock& lock, std::string_view mode, std::int64_t until_ms,
                          std::int64_t now_ms, bool bypass_governance);

}  // namespace offcloud

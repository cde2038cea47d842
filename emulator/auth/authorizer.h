// Decides whether an authenticated request may do what it asks, as IAM
// does for identity-based policies: the root key may do anything; a user
// what its attached and inline policies allow, an explicit Deny winning.
//
// It mirrors the IamStore in memory, each user's policies parsed and each
// access key in the CredentialStore, so authorizing a request never touches
// SQLite. Whoever changes a user's keys or policies in the store calls
// refresh_user().
#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "emulator/auth/credential_store.h"
#include "emulator/auth/iam_policy.h"
#include "emulator/auth/iam_request.h"
#include "storage/iam_store.h"

namespace offcloud {

struct Denial {
  std::string action;
  std::string resource;
  bool explicit_deny = false;
  // For an explicit deny, once Authorizer::name_deny() ran: the statement
  // that denied (the first, when several did), for the console's Activity;
  // AWS's message names neither.
  // The policy is its ARN, or an inline policy's name; the statement its
  // Sid, and its place in the policy from 1.
  std::string deny_policy = {};
  bool deny_policy_inline = false;
  std::string deny_sid = {};
  std::size_t deny_statement = 0;
};

// The ARN of a user of `account_id` at `path` ("/" or "/division/").
std::string iam_user_arn(std::string_view account_id, std::string_view path,
                         std::string_view user_name);

// The condition keys every request carries: aws:SourceIp (from "ip:port"),
// aws:CurrentTime, aws:EpochTime, aws:SecureTransport (`secure`: the request
// came over TLS), aws:username, aws:userid, aws:PrincipalArn,
// aws:RequestedRegion...
ConditionContext request_conditions(const Principal& principal, std::string_view remote_address,
                                    std::string_view region, long long now_ms, bool secure = false);

// AWS's words for a refusal: "User: <arn> is not authorized to perform:
// <action> on resource: <resource> because no identity-based policy allows
// the <action> action".
std::string denial_message(const Principal& principal, const Denial& denial);

class Authorizer {
 public:
  Authorizer(IamStore& store, CredentialStore& credentials);

  // Mirrors every user of every account; at start-up.
  void load();
  // Re-reads one user's keys and policies, or forgets the user once deleted.
  void refresh_user(std::string_view account_id, std::string_view user_name);

  // The first of `requests` the principal may not do; nullopt when it may do
  // them all.
  std::optional<Denial> authorize(const Principal& principal,
                                  const std::vector<IamRequest>& requests,
                                  const ConditionContext& conditions) const;
  // Fills in which statement made `denial` (one authorize() gave for the
  // same requests and conditions) when it is an explicit deny. Slower: every
  // statement is looked at, so only a refusal being recorded asks.
  void name_deny(const Principal& principal, const std::vector<IamRequest>& requests,
                 const ConditionContext& conditions, Denial* denial) const;
  // What the principal's identity policies decide for each of `requests`,
  // in order (a root: kAllow), for a service that weighs resource-based
  // policies too.
  std::vector<Decision> decide(const Principal& principal, const std::vector<IamRequest>& requests,
                               const ConditionContext& conditions) const;

 private:
  struct UserPolicy {
    std::string name;  // the ARN of an attached policy, an inline one's name
    bool is_inline = false;
    PolicyDocument document;
  };
  using Policies = std::vector<UserPolicy>;
  std::shared_ptr<const Policies> policies_of(const Principal& principal) const;
  static std::vector<const PolicyDocument*> documents_of(const Policies& policies);
  std::shared_ptr<const Policies> read_policies(std::string_view account_id,
                                                std::string_view user_name);

  IamStore& store_;
  CredentialStore& credentials_;
  mutable std::shared_mutex mutex_;
  // "<account id>/<lower-case user name>" -> the user's parsed policies.
  std::unordered_map<std::string, std::shared_ptr<const Policies>> users_;
};

}  // namespace offcloud

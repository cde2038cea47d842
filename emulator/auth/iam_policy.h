// IAM identity-based policy documents: parsed and checked as IAM checks them
// (what CreatePolicy and PutUserPolicy refuse as MalformedPolicyDocument),
// and evaluated as IAM evaluates them: an explicit Deny in any statement
// wins, else any Allow, else the default deny. Pure code: no HTTP, no
// storage, no clock (the request time is a condition key like any other).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace offcloud {

// What a request carries for each condition key (aws:SourceIp, aws:username,
// s3:prefix, ...). Keys compare without case, as IAM's do; a key may carry
// several values (ForAnyValue / ForAllValues read them all).
class ConditionContext {
 public:
  ConditionContext() = default;
  // Keys worked out only when first needed: `fill` runs at the first set(),
  // add() or find(). Most requests meet no policy with a condition (a root's
  // on its own bucket), so they never pay for the keys.
  explicit ConditionContext(std::function<void(ConditionContext*)> fill) : fill_(std::move(fill)) {}

  // Replaces whatever `key` had.
  void set(std::string_view key, std::string value);
  void add(std::string_view key, std::string value);
  // nullptr when the request does not carry `key`.
  const std::vector<std::string>* find(std::string_view key) const;

 private:
  void fill() const;

  mutable std::function<void(ConditionContext*)> fill_;
  mutable std::map<std::string, std::vector<std::string>, std::less<>> values_;  // lower-case keys
};

// One key tested by one operator, e.g. "StringLike": {"s3:prefix": ["home/*"]}.
struct PolicyCondition {
  enum class SetQualifier { kNone, kForAnyValue, kForAllValues };
  std::string op;          // without qualifier or IfExists: "StringLike", "NotIpAddress", ...
  bool if_exists = false;  // ...IfExists: true when the key is absent
  SetQualifier qualifier = SetQualifier::kNone;
  std::string key;
  std::vector<std::string> values;  // numbers and booleans as their JSON text
};

struct PolicyStatement {
  std::string sid;
  bool allow = true;
  bool not_action = false;  // the statement covers every action but `actions`
  std::vector<std::string> actions;
  bool not_resource = false;
  std::vector<std::string> resources;
  std::vector<PolicyCondition> conditions;  // all must hold
};

struct PolicyDocument {
  // "2012-10-17", or "2008-10-17" when absent: the old version has no
  // policy variables, so "${aws:username}" is literal text there.
  std::string version = "2008-10-17";
  std::vector<PolicyStatement> statements;
};

// nullopt, with IAM's MalformedPolicyDocument message in *error, when `text`
// is not a valid identity-based policy.
std::optional<PolicyDocument> parse_policy(std::string_view text, std::string* error);

enum class Decision { kAllow, kExplicitDeny, kImplicitDeny };

// Whether `policies` together allow `action` (e.g. "iot:Publish") on
// `resource` (an ARN, or "*" for actions without one).
Decision evaluate(const std::vector<const PolicyDocument*>& policies, std::string_view action,
                  std::string_view resource, const ConditionContext& context);

// Why evaluate() decided as it did, for IAM's policy simulator.
struct MatchedStatement {
  std::size_t policy = 0;     // index into the policies evaluated
  std::size_t statement = 0;  // index into that policy's statements
};

struct Explanation {
  Decision decision = Decision::kImplicitDeny;
  // The statements that decided: every Deny that applied when one did (the
  // Allows then do not count), else every Allow that applied; none for an
  // implicit deny.
  std::vector<MatchedStatement> matched;
  // Condition keys tested by statements that name this action and resource
  // but absent from the context, as the policy spells them, each once.
  std::vector<std::string> missing_context_keys;
};

// The decision evaluate() makes, with the statements that made it. Slower:
// every statement is looked at; evaluate() stays the hot path.
Explanation explain(const std::vector<const PolicyDocument*>& policies, std::string_view action,
                    std::string_view resource, const ConditionContext& context);

// A place in a policy's text: the line and the column (in characters),
// both from 1.
struct TextPosition {
  int line = 0;
  int column = 0;
};

// Where each statement of `text` lies, in the order parse_policy() gives
// them, as IAM's simulator reports them: from its '{' to just after its '}'.
// Empty when `text` is not a policy parse_policy() accepts.
struct StatementSpan {
  TextPosition start;
  TextPosition end;
};
std::vector<StatementSpan> statement_spans(std::string_view text);

// IAM's wildcards: '*' any run of characters, '?' any one.
bool wildcard_match(std::string_view pattern, std::string_view text, bool ignore_case);
// An ARN pattern against an ARN, component by component as IAM does, so a
// '*' in the region never swallows the account: "arn:aws:iot:*:*:topic/a/*".
bool arn_match(std::string_view pattern, std::string_view arn);

}  // namespace offcloud

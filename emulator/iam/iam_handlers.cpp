#include "emulator/iam/iam_handlers.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "emulator/auth/aws_managed_policies.h"
#include "emulator/iam/iam_ids.h"
#include "emulator/iam/query_protocol.h"
#include "emulator/util/log.h"

namespace offcloud {
namespace {

constexpr std::string_view kXmlns = "https://iam.amazonaws.com/doc/2010-05-08/";
constexpr int kDefaultMaxItems = 100;

// An operation's refusal, in IAM's words; handle() shapes it.
struct IamError {
  ErrorCode code;
  std::string message;
};

std::string iam_date(std::int64_t epoch_ms) {
  return iso8601_ms(epoch_ms).substr(0, 19) + "Z";
}

std::string policy_arn(std::string_view account_id, std::string_view path, std::string_view name) {
  return "arn:aws:iam::" + std::string(account_id) + ":policy" + std::string(path) +
         std::string(name);
}

// The name at the end of a policy ARN.
std::string policy_name_of(std::string_view arn) {
  return std::string(arn.substr(arn.rfind('/') + 1));
}

std::size_t chars_without_whitespace(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](unsigned char c) { return !std::isspace(c); }));
}

IamError validation_error(std::string_view value, std::string_view member,
                          std::string_view constraint) {
  return {ErrorCode::kValidationError, "1 validation error detected: Value '" + std::string(value) +
                                           "' at '" + std::string(member) +
                                           "' failed to satisfy constraint: Member must " +
                                           std::string(constraint)};
}

// [\w+=,.@-]+ of `min`..`max` characters: user and policy names.
void check_name(std::string_view value, std::string_view member, std::size_t max) {
  if (value.empty() || value.size() > max) {
    throw validation_error(value, member, "have length between 1 and " + std::to_string(max));
  }
  for (char c : value) {
    bool word = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (!word && std::string_view("+=,.@-").find(c) == std::string_view::npos) {
      throw validation_error(value, member, "satisfy regular expression pattern: [\\w+=,.@-]+");
    }
  }
}

// "/" or "/a/b/": IAM's paths.
void check_path(std::string_view value, std::string_view member) {
  bool ok = !value.empty() && value.size() <= 512 && value.front() == '/' && value.back() == '/';
  for (char c : value) ok = ok && c >= 0x21 && c <= 0x7e;
  if (!ok) {
    throw validation_error(value, member,
                           "satisfy regular expression pattern: "
                           "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
  }
}

void write_user(XmlWriter& xml, const IamUser& user) {
  xml.element("Path", user.path)
      .element("UserName", user.name)
      .element("UserId", user.user_id)
      .element("Arn", iam_user_arn(user.account_id, user.path, user.name))
      .element("CreateDate", iam_date(user.created_ms));
}

struct PolicyView {
  std::string arn, name, policy_id, path, description, document;
  std::int64_t created_ms = 0, updated_ms = 0;
  int attachments = 0;
};

void write_policy(XmlWriter& xml, const PolicyView& policy) {
  xml.element("PolicyName", policy.name)
      .element("DefaultVersionId", "v1")
      .element("PolicyId", policy.policy_id)
      .element("Path", policy.path)
      .element("Arn", policy.arn)
      .element("AttachmentCount", std::to_string(policy.attachments))
      .element("PermissionsBoundaryUsageCount", "0")
      .element("IsAttachable", "true");
  if (!policy.description.empty()) xml.element("Description", policy.description);
  xml.element("CreateDate", iam_date(policy.created_ms))
      .element("UpdateDate", iam_date(policy.updated_ms));
}

// A policy the simulator evaluates, as it names it in MatchedStatements.
struct SimulationPolicy {
  std::string id;    // the policy's name, or "PolicyInputList.<n>"
  std::string type;  // "user" (inline), "user-managed", "aws-managed", "none" (an input)
  PolicyDocument document;
  std::vector<StatementSpan> spans;  // each statement's place in the text
};

struct SimulationResult {
  std::string action;
  std::string resource;
  bool resource_listed = false;  // from ResourceArns, not the default "*"
  Explanation explanation;
};

std::string_view decision_name(Decision decision) {
  switch (decision) {
    case Decision::kAllow:
      return "allowed";
    case Decision::kExplicitDeny:
      return "explicitDeny";
    case Decision::kImplicitDeny:
      break;
  }
  return "implicitDeny";
}

void write_position(XmlWriter& xml, std::string_view name, const TextPosition& position) {
  xml.open(name)
      .element("Line", std::to_string(position.line))
      .element("Column", std::to_string(position.column))
      .close();
}

void write_explanation(XmlWriter& xml, const std::vector<SimulationPolicy>& policies,
                       const Explanation& explanation, bool with_missing) {
  xml.open("MatchedStatements");
  for (const MatchedStatement& matched : explanation.matched) {
    const SimulationPolicy& policy = policies[matched.policy];
    xml.open("member")
        .element("SourcePolicyId", policy.id)
        .element("SourcePolicyType", policy.type);
    if (matched.statement < policy.spans.size()) {
      write_position(xml, "StartPosition", policy.spans[matched.statement].start);
      write_position(xml, "EndPosition", policy.spans[matched.statement].end);
    }
    xml.close();
  }
  xml.close();
  xml.open("MissingContextValues");
  if (with_missing) {
    for (const std::string& key : explanation.missing_context_keys) xml.element("member", key);
  }
  xml.close();
}

void write_simulation_result(XmlWriter& xml, const std::vector<SimulationPolicy>& policies,
                             const SimulationResult& result) {
  std::string_view decision = decision_name(result.explanation.decision);
  xml.open("member")
      .element("EvalActionName", result.action)
      .element("EvalResourceName", result.resource)
      .element("EvalDecision", decision);
  // With ResourceArns, AWS gives the missing context keys per resource.
  write_explanation(xml, policies, result.explanation, !result.resource_listed);
  if (result.resource_listed) {
    xml.open("ResourceSpecificResults")
        .open("member")
        .element("EvalResourceName", result.resource)
        .element("EvalResourceDecision", decision);
    write_explanation(xml, policies, result.explanation, true);
    xml.close().close();
  }
  xml.close();
}

// One request's parameters and answer.
class IamCall {
 public:
  IamCall(QueryParams params, RequestContext& context)
      : params_(std::move(params)), context_(context) {}

  const std::string* optional(std::string_view name) const { return find_param(params_, name); }
  const std::string& required(std::string_view name) const {
    const std::string* value = optional(name);
    if (!value) {
      std::string member(name);
      member[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(member[0])));
      throw IamError{ErrorCode::kValidationError,
                     "1 validation error detected: Value null at '" + member +
                         "' failed to satisfy constraint: Member must not be null"};
    }
    return *value;
  }
  // A list's members, as the query protocol sends them: Name.member.1, ...
  std::vector<std::string> list(std::string_view name) const {
    std::vector<std::string> out;
    for (int i = 1;; ++i) {
      const std::string* value = optional(std::string(name) + ".member." + std::to_string(i));
      if (!value) return out;
      out.push_back(*value);
    }
  }
  const RequestContext& context() const { return context_; }

  HttpResponse respond(const std::function<void(XmlWriter&)>& write_result = nullptr) const {
    return query_response(context_.operation, kXmlns, context_.request_id, write_result);
  }

  // The slice of `items` that MaxItems and Marker (an offset, opaque to
  // clients) select, each written by `write` as a <member>, with
  // IsTruncated and the next Marker after the list.
  template <typename T>
  std::function<void(XmlWriter&)> page(const std::vector<T>& items, std::string_view list,
                                       std::function<void(XmlWriter&, const T&)> write) const {
    int max_items = kDefaultMaxItems;
    if (const std::string* text = optional("MaxItems")) {
      max_items = std::atoi(text->c_str());
      if (max_items < 1 || max_items > 1000) {
        throw validation_error(*text, "maxItems", "have value between 1 and 1000");
      }
    }
    std::size_t from = 0;
    if (const std::string* marker = optional("Marker")) {
      from = std::strtoull(marker->c_str(), nullptr, 10);
      if (from > items.size()) throw IamError{ErrorCode::kValidationError, "Invalid Marker."};
    }
    std::size_t to = std::min(items.size(), from + static_cast<std::size_t>(max_items));
    return [&items, list = std::string(list), write, from, to](XmlWriter& xml) {
      xml.open(list);
      for (std::size_t i = from; i < to; ++i) write(xml, items[i]);
      xml.close();
      xml.element("IsTruncated", to < items.size() ? "true" : "false");
      if (to < items.size()) xml.element("Marker", std::to_string(to));
    };
  }

 private:
  QueryParams params_;
  RequestContext& context_;
};

class IamOperations {
 public:
  IamOperations(IamStore& store, Authorizer& authorizer, IamCall& call)
      : store_(store), authorizer_(authorizer), call_(call) {}

  using Operation = HttpResponse (IamOperations::*)();
  static const std::map<std::string, Operation, std::less<>>& table() {
    static const std::map<std::string, Operation, std::less<>> kTable = {
        {"CreateUser", &IamOperations::create_user},
        {"GetUser", &IamOperations::get_user},
        {"ListUsers", &IamOperations::list_users},
        {"DeleteUser", &IamOperations::delete_user},
        {"CreateAccessKey", &IamOperations::create_access_key},
        {"ListAccessKeys", &IamOperations::list_access_keys},
        {"DeleteAccessKey", &IamOperations::delete_access_key},
        {"UpdateAccessKey", &IamOperations::update_access_key},
        {"CreatePolicy", &IamOperations::create_policy},
        {"GetPolicy", &IamOperations::get_policy},
        {"GetPolicyVersion", &IamOperations::get_policy_version},
        {"ListPolicies", &IamOperations::list_policies},
        {"DeletePolicy", &IamOperations::delete_policy},
        {"AttachUserPolicy", &IamOperations::attach_user_policy},
        {"DetachUserPolicy", &IamOperations::detach_user_policy},
        {"ListAttachedUserPolicies", &IamOperations::list_attached_user_policies},
        {"PutUserPolicy", &IamOperations::put_user_policy},
        {"GetUserPolicy", &IamOperations::get_user_policy},
        {"DeleteUserPolicy", &IamOperations::delete_user_policy},
        {"ListUserPolicies", &IamOperations::list_user_policies},
        {"SimulatePrincipalPolicy", &IamOperations::simulate_principal_policy},
        {"SimulateCustomPolicy", &IamOperations::simulate_custom_policy},
    };
    return kTable;
  }

 private:
  // IAM is global within the caller's account, and sees nothing beyond it.
  const std::string& account() const { return call_.context().principal.account_id; }

  // A customer managed policy of the caller's account (another account's
  // ARN names nothing the caller can see).
  std::optional<IamManagedPolicy> own_policy(const std::string& arn) {
    std::optional<IamManagedPolicy> policy = store_.policy(arn);
    if (policy && policy->account_id != account()) return std::nullopt;
    return policy;
  }

  // The user a request names, or, without UserName, the caller.
  IamUser existing_user(bool name_required) {
    const std::string* name = call_.optional("UserName");
    if (!name && name_required) call_.required("UserName");
    const Principal& caller = call_.context().principal;
    if (!name && caller.is_root) {
      throw IamError{ErrorCode::kValidationError,
                     "Must specify userName when calling with non-User credentials"};
    }
    std::string user_name = name ? *name : caller.user_name;
    check_name(user_name, "userName", 128);
    std::optional<IamUser> user = store_.user(account(), user_name);
    if (!user) {
      throw IamError{ErrorCode::kNoSuchEntity,
                     "The user with name " + user_name + " cannot be found."};
    }
    return *user;
  }

  PolicyView existing_policy(const std::string& arn) {
    if (const AwsManagedPolicy* managed = find_aws_managed_policy(arn)) {
      PolicyView view{arn, std::string(managed->name),        std::string(managed->policy_id),
                      "/", std::string(managed->description), std::string(managed->document)};
      view.created_ms = view.updated_ms = 1423159200000;  // 2015-02-06, as AWS lists them
      view.attachments = store_.attachment_count(account(), arn);
      return view;
    }
    std::optional<IamManagedPolicy> policy = own_policy(arn);
    if (!policy) throw IamError{ErrorCode::kNoSuchEntity, "Policy " + arn + " was not found."};
    PolicyView view{policy->arn,         policy->name,     policy->policy_id,  policy->path,
                    policy->description, policy->document, policy->created_ms, policy->updated_ms};
    view.attachments = store_.attachment_count(account(), arn);
    return view;
  }

  // Checks a document as IAM does before storing it.
  void check_document(const std::string& document) {
    std::string error;
    if (!parse_policy(document, &error)) {
      throw IamError{ErrorCode::kMalformedPolicyDocument, error};
    }
  }

  HttpResponse create_user() {
    const std::string& name = call_.required("UserName");
    check_name(name, "userName", 64);
    IamUser user;
    user.account_id = account();
    user.name = name;
    if (const std::string* path = call_.optional("Path")) {
      check_path(*path, "path");
      user.path = *path;
    }
    user.user_id = new_user_id();
    user.created_ms = now_ms();
    if (!store_.create_user(user)) {
      throw IamError{ErrorCode::kEntityAlreadyExists,
                     "User with name " + name + " already exists."};
    }
    authorizer_.refresh_user(account(), user.name);
    return call_.respond([&](XmlWriter& xml) {
      xml.open("User");
      write_user(xml, user);
      xml.close();
    });
  }

  HttpResponse get_user() {
    const Principal& caller = call_.context().principal;
    if (!call_.optional("UserName") && caller.is_root) {
      // The account's root user, as AWS describes it.
      return call_.respond([&](XmlWriter& xml) {
        xml.open("User")
            .element("UserId", caller.account_id)
            .element("Arn", caller.arn)
            .element("CreateDate", iam_date(0))
            .close();
      });
    }
    IamUser user = existing_user(false);
    return call_.respond([&](XmlWriter& xml) {
      xml.open("User");
      write_user(xml, user);
      xml.close();
    });
  }

  HttpResponse list_users() {
    std::vector<IamUser> users = store_.users(account());
    if (const std::string* prefix = call_.optional("PathPrefix")) {
      std::erase_if(users, [&](const IamUser& user) { return !user.path.starts_with(*prefix); });
    }
    return call_.respond(
        call_.page<IamUser>(users, "Users", [](XmlWriter& xml, const IamUser& user) {
          xml.open("member");
          write_user(xml, user);
          xml.close();
        }));
  }

  HttpResponse delete_user() {
    IamUser user = existing_user(true);
    if (!store_.access_keys(account(), user.name).empty()) {
      throw IamError{ErrorCode::kDeleteConflict,
                     "Cannot delete entity, must delete access keys first."};
    }
    if (!store_.attached_user_policies(account(), user.name).empty()) {
      throw IamError{ErrorCode::kDeleteConflict,
                     "Cannot delete entity, must detach all policies first."};
    }
    if (!store_.user_policies(account(), user.name).empty()) {
      throw IamError{ErrorCode::kDeleteConflict,
                     "Cannot delete entity, must delete policies first."};
    }
    store_.delete_user(account(), user.name);
    authorizer_.refresh_user(account(), user.name);
    return call_.respond();
  }

  HttpResponse create_access_key() {
    IamUser user = existing_user(false);
    if (store_.access_keys(account(), user.name).size() >= IamService::kMaxAccessKeysPerUser) {
      throw IamError{ErrorCode::kLimitExceeded,
                     "Cannot exceed quota for AccessKeysPerUser: " +
                         std::to_string(IamService::kMaxAccessKeysPerUser)};
    }
    IamAccessKey key{account(), new_access_key_id(), user.name, new_secret_access_key(), true,
                     now_ms()};
    store_.put_access_key(key);
    authorizer_.refresh_user(account(), user.name);
    return call_.respond([&](XmlWriter& xml) {
      xml.open("AccessKey")
          .element("UserName", key.user_name)
          .element("AccessKeyId", key.access_key_id)
          .element("Status", "Active")
          .element("SecretAccessKey", key.secret_access_key)
          .element("CreateDate", iam_date(key.created_ms))
          .close();
    });
  }

  HttpResponse list_access_keys() {
    std::vector<IamAccessKey> keys;
    if (call_.optional("UserName") || !call_.context().principal.is_root) {
      keys = store_.access_keys(account(), existing_user(false).name);
    }
    return call_.respond(call_.page<IamAccessKey>(
        keys, "AccessKeyMetadata", [](XmlWriter& xml, const IamAccessKey& key) {
          xml.open("member")
              .element("UserName", key.user_name)
              .element("AccessKeyId", key.access_key_id)
              .element("Status", key.active ? "Active" : "Inactive")
              .element("CreateDate", iam_date(key.created_ms))
              .close();
        }));
  }

  // The key a request names, which must be the user's.
  IamAccessKey existing_key(const IamUser& user) {
    const std::string& id = call_.required("AccessKeyId");
    std::optional<IamAccessKey> key = store_.access_key(id);
    if (!key || key->account_id != account() || !iequals(key->user_name, user.name)) {
      throw IamError{ErrorCode::kNoSuchEntity,
                     "The Access Key with id " + id + " cannot be found."};
    }
    return *key;
  }

  HttpResponse delete_access_key() {
    IamUser user = existing_user(false);
    IamAccessKey key = existing_key(user);
    store_.delete_access_key(key.access_key_id);
    authorizer_.refresh_user(account(), user.name);
    return call_.respond();
  }

  HttpResponse update_access_key() {
    IamUser user = existing_user(false);
    const std::string& status = call_.required("Status");
    if (status != "Active" && status != "Inactive") {
      throw validation_error(status, "status",
                             "satisfy enum value set: [Active, Inactive, Expired]");
    }
    IamAccessKey key = existing_key(user);
    store_.set_access_key_active(key.access_key_id, status == "Active");
    authorizer_.refresh_user(account(), user.name);
    return call_.respond();
  }

  HttpResponse create_policy() {
    const std::string& name = call_.required("PolicyName");
    check_name(name, "policyName", 128);
    std::string path = "/";
    if (const std::string* given = call_.optional("Path")) {
      check_path(*given, "path");
      path = *given;
    }
    const std::string& document = call_.required("PolicyDocument");
    check_document(document);
    if (chars_without_whitespace(document) > IamService::kMaxManagedPolicyChars) {
      throw IamError{ErrorCode::kLimitExceeded,
                     "Cannot exceed quota for PolicySize: " +
                         std::to_string(IamService::kMaxManagedPolicyChars)};
    }
    IamManagedPolicy policy;
    policy.account_id = account();
    policy.arn = policy_arn(account(), path, name);
    policy.name = name;
    policy.policy_id = new_policy_id();
    policy.path = path;
    if (const std::string* description = call_.optional("Description")) {
      policy.description = *description;
    }
    policy.document = document;
    policy.created_ms = policy.updated_ms = now_ms();
    if (!store_.create_policy(policy)) {
      throw IamError{
          ErrorCode::kEntityAlreadyExists,
          "A policy called " + name + " already exists. Duplicate names are not allowed."};
    }
    PolicyView view = existing_policy(policy.arn);
    return call_.respond([&](XmlWriter& xml) {
      xml.open("Policy");
      write_policy(xml, view);
      xml.close();
    });
  }

  HttpResponse get_policy() {
    PolicyView view = existing_policy(call_.required("PolicyArn"));
    return call_.respond([&](XmlWriter& xml) {
      xml.open("Policy");
      write_policy(xml, view);
      xml.close();
    });
  }

  HttpResponse get_policy_version() {
    const std::string& arn = call_.required("PolicyArn");
    const std::string& version = call_.required("VersionId");
    PolicyView view = existing_policy(arn);
    if (version != "v1") {
      throw IamError{ErrorCode::kNoSuchEntity, "Policy " + arn + " version " + version +
                                                   " does not exist or is not attachable."};
    }
    return call_.respond([&](XmlWriter& xml) {
      // AWS hands documents back URL-encoded; SDKs decode them.
      xml.open("PolicyVersion")
          .element("Document", uri_encode(view.document, false))
          .element("VersionId", "v1")
          .element("IsDefaultVersion", "true")
          .element("CreateDate", iam_date(view.created_ms))
          .close();
    });
  }

  HttpResponse list_policies() {
    std::string scope = "All";
    if (const std::string* given = call_.optional("Scope")) scope = *given;
    if (scope != "All" && scope != "AWS" && scope != "Local") {
      throw validation_error(scope, "scope", "satisfy enum value set: [All, AWS, Local]");
    }
    std::vector<PolicyView> views;
    if (scope != "Local") {
      for (const AwsManagedPolicy& managed : aws_managed_policies()) {
        views.push_back(
            existing_policy(std::string(kAwsManagedPolicyPrefix) + std::string(managed.name)));
      }
    }
    if (scope != "AWS") {
      for (const IamManagedPolicy& policy : store_.policies(account())) {
        views.push_back(existing_policy(policy.arn));
      }
    }
    const std::string* only_attached = call_.optional("OnlyAttached");
    const std::string* prefix = call_.optional("PathPrefix");
    std::erase_if(views, [&](const PolicyView& view) {
      return (only_attached && *only_attached == "true" && view.attachments == 0) ||
             (prefix && !view.path.starts_with(*prefix));
    });
    return call_.respond(
        call_.page<PolicyView>(views, "Policies", [](XmlWriter& xml, const PolicyView& view) {
          xml.open("member");
          write_policy(xml, view);
          xml.close();
        }));
  }

  HttpResponse delete_policy() {
    const std::string& arn = call_.required("PolicyArn");
    if (find_aws_managed_policy(arn)) {
      throw IamError{ErrorCode::kInvalidInput, "Cannot delete the AWS managed policy " + arn + "."};
    }
    PolicyView view = existing_policy(arn);
    if (view.attachments > 0) {
      throw IamError{ErrorCode::kDeleteConflict, "Cannot delete a policy attached to entities."};
    }
    store_.delete_policy(arn);
    return call_.respond();
  }

  HttpResponse attach_user_policy() {
    IamUser user = existing_user(true);
    const std::string& arn = call_.required("PolicyArn");
    if (!find_aws_managed_policy(arn) && !own_policy(arn)) {
      throw IamError{ErrorCode::kNoSuchEntity,
                     "Policy " + arn + " does not exist or is not attachable."};
    }
    std::vector<std::string> attached = store_.attached_user_policies(account(), user.name);
    bool already = std::find(attached.begin(), attached.end(), arn) != attached.end();
    if (!already && attached.size() >= IamService::kMaxAttachedPoliciesPerUser) {
      throw IamError{ErrorCode::kLimitExceeded,
                     "Cannot exceed quota for PoliciesPerUser: " +
                         std::to_string(IamService::kMaxAttachedPoliciesPerUser)};
    }
    store_.attach_user_policy(account(), user.name, arn);
    authorizer_.refresh_user(account(), user.name);
    return call_.respond();
  }

  HttpResponse detach_user_policy() {
    IamUser user = existing_user(true);
    const std::string& arn = call_.required("PolicyArn");
    if (!store_.detach_user_policy(account(), user.name, arn)) {
      throw IamError{ErrorCode::kNoSuchEntity, "Policy " + arn + " was not found."};
    }
    authorizer_.refresh_user(account(), user.name);
    return call_.respond();
  }

  HttpResponse list_attached_user_policies() {
    IamUser user = existing_user(true);
    std::vector<std::string> arns = store_.attached_user_policies(account(), user.name);
    return call_.respond(call_.page<std::string>(arns, "AttachedPolicies",
                                                 [](XmlWriter& xml, const std::string& arn) {
                                                   xml.open("member")
                                                       .element("PolicyName", policy_name_of(arn))
                                                       .element("PolicyArn", arn)
                                                       .close();
                                                 }));
  }

  HttpResponse put_user_policy() {
    IamUser user = existing_user(true);
    const std::string& name = call_.required("PolicyName");
    check_name(name, "policyName", 128);
    const std::string& document = call_.required("PolicyDocument");
    check_document(document);
    std::size_t total = chars_without_whitespace(document);
    for (const IamInlinePolicy& other : store_.user_policies(account(), user.name)) {
      if (!iequals(other.name, name)) total += chars_without_whitespace(other.document);
    }
    if (total > IamService::kMaxUserInlinePolicyChars) {
      throw IamError{ErrorCode::kLimitExceeded,
                     "Maximum policy size of " +
                         std::to_string(IamService::kMaxUserInlinePolicyChars) +
                         " bytes exceeded for user " + user.name};
    }
    store_.put_user_policy(account(), user.name, name, document);
    authorizer_.refresh_user(account(), user.name);
    return call_.respond();
  }

  IamInlinePolicy existing_user_policy(const IamUser& user) {
    const std::string& name = call_.required("PolicyName");
    std::optional<IamInlinePolicy> policy = store_.user_policy(account(), user.name, name);
    if (!policy) {
      throw IamError{ErrorCode::kNoSuchEntity,
                     "The user policy with name " + name + " cannot be found."};
    }
    return *policy;
  }

  HttpResponse get_user_policy() {
    IamUser user = existing_user(true);
    IamInlinePolicy policy = existing_user_policy(user);
    return call_.respond([&](XmlWriter& xml) {
      xml.element("UserName", user.name)
          .element("PolicyName", policy.name)
          .element("PolicyDocument", uri_encode(policy.document, false));
    });
  }

  HttpResponse delete_user_policy() {
    IamUser user = existing_user(true);
    IamInlinePolicy policy = existing_user_policy(user);
    store_.delete_user_policy(account(), user.name, policy.name);
    authorizer_.refresh_user(account(), user.name);
    return call_.respond();
  }

  HttpResponse list_user_policies() {
    IamUser user = existing_user(true);
    std::vector<std::string> names;
    for (const IamInlinePolicy& policy : store_.user_policies(account(), user.name)) {
      names.push_back(policy.name);
    }
    return call_.respond(call_.page<std::string>(
        names, "PolicyNames",
        [](XmlWriter& xml, const std::string& name) { xml.element("member", name); }));
  }

  // ---- The policy simulator ----------------------------------------------

  static void add_policy(std::vector<SimulationPolicy>& policies, std::string id, std::string type,
                         std::string_view text) {
    std::string error;
    std::optional<PolicyDocument> document = parse_policy(text, &error);
    if (!document) {
      // Stored documents were checked when written (see Authorizer).
      log(LogLevel::kWarn, "simulation ignores policy " + id + ": " + error);
      return;
    }
    policies.push_back(
        {std::move(id), std::move(type), std::move(*document), statement_spans(text)});
  }

  // PolicyInputList's documents, which must be valid policies.
  void add_input_policies(std::vector<SimulationPolicy>& policies) {
    std::vector<std::string> texts = call_.list("PolicyInputList");
    for (std::size_t i = 0; i < texts.size(); ++i) {
      std::string error;
      if (!parse_policy(texts[i], &error)) {
        throw IamError{ErrorCode::kInvalidInput, "PolicyInputList." + std::to_string(i + 1) +
                                                     " is not a valid policy: " + error};
      }
      add_policy(policies, "PolicyInputList." + std::to_string(i + 1), "none", texts[i]);
    }
  }

  // ContextEntries over `context`: a key given there replaces what the
  // simulator knows of it.
  void add_context_entries(ConditionContext& context) {
    static const std::set<std::string_view> kTypes = {
        "string", "stringList", "numeric", "numericList", "boolean", "booleanList",
        "ip",     "ipList",     "binary",  "binaryList",  "date",    "dateList"};
    std::set<std::string> given;
    for (int i = 1;; ++i) {
      std::string prefix = "ContextEntries.member." + std::to_string(i);
      const std::string* name = call_.optional(prefix + ".ContextKeyName");
      const std::string* type = call_.optional(prefix + ".ContextKeyType");
      std::vector<std::string> values = call_.list(prefix + ".ContextKeyValues");
      if (!name && !type && values.empty()) return;
      if (!name || name->size() < 5 || name->size() > 256) {
        throw validation_error(name ? *name : "null",
                               "contextEntries." + std::to_string(i) + ".member.contextKeyName",
                               "have length between 5 and 256");
      }
      if (type && !kTypes.count(*type)) {
        throw validation_error(*type,
                               "contextEntries." + std::to_string(i) + ".member.contextKeyType",
                               "satisfy enum value set: [string, stringList, numeric, "
                               "numericList, boolean, booleanList, ip, ipList, binary, "
                               "binaryList, date, dateList]");
      }
      if (type && !type->ends_with("List") && values.size() > 1) {
        throw IamError{ErrorCode::kInvalidInput, "Context key " + *name + " of type " + *type +
                                                     " takes one value, not " +
                                                     std::to_string(values.size()) + "."};
      }
      std::string lower_name = *name;
      for (char& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      bool first = given.insert(lower_name).second;
      for (std::size_t v = 0; v < values.size(); ++v) {
        if (first && v == 0) {
          context.set(*name, values[v]);
        } else {
          context.add(*name, values[v]);
        }
      }
    }
  }

  // Every action of ActionNames on every resource of ResourceArns ("*"
  // without), answered a page at a time.
  HttpResponse simulate(const std::vector<SimulationPolicy>& policies,
                        const ConditionContext& context) {
    std::vector<std::string> actions = call_.list("ActionNames");
    if (actions.empty()) call_.required("ActionNames");
    for (const std::string& action : actions) {
      if (action.size() < 3 || action.size() > 128) {
        throw validation_error(action, "actionNames", "have length between 3 and 128");
      }
    }
    std::vector<std::string> resources = call_.list("ResourceArns");
    bool listed = !resources.empty();
    if (!listed) resources.push_back("*");
    std::vector<const PolicyDocument*> documents;
    for (const SimulationPolicy& policy : policies) documents.push_back(&policy.document);
    std::vector<SimulationResult> results;
    for (const std::string& action : actions) {
      for (const std::string& resource : resources) {
        results.push_back(
            {action, resource, listed, explain(documents, action, resource, context)});
      }
    }
    return call_.respond(call_.page<SimulationResult>(
        results, "EvaluationResults", [&policies](XmlWriter& xml, const SimulationResult& result) {
          write_simulation_result(xml, policies, result);
        }));
  }

  HttpResponse simulate_principal_policy() {
    const std::string& arn = call_.required("PolicySourceArn");
    // arn:aws:iam::<account>:user<path><name>
    constexpr std::string_view kPrefix = "arn:aws:iam::";
    std::string_view rest = arn;
    std::size_t colon = rest.find(':', kPrefix.size());
    if (!rest.starts_with(kPrefix) || colon == std::string_view::npos) {
      throw IamError{ErrorCode::kInvalidInput, "Invalid ARN " + arn + "."};
    }
    std::string_view arn_account = rest.substr(kPrefix.size(), colon - kPrefix.size());
    std::string_view resource = rest.substr(colon + 1);
    if (resource == "root") {
      throw IamError{ErrorCode::kInvalidInput,
                     "Invalid principal " + arn +
                         ": the simulator takes a user, group or role; the root user may do "
                         "anything."};
    }
    std::size_t slash = resource.find('/');
    std::size_t last = resource.rfind('/');
    if (slash == std::string_view::npos || last + 1 == resource.size()) {
      throw IamError{ErrorCode::kInvalidInput, "Invalid ARN " + arn + "."};
    }
    std::string_view kind = resource.substr(0, slash);
    std::string name(resource.substr(last + 1));
    std::string_view path = resource.substr(slash, last + 1 - slash);
    if (kind != "user" && kind != "group" && kind != "role") {
      throw IamError{ErrorCode::kInvalidInput,
                     "Invalid ARN " + arn + ": the simulator takes a user, group or role."};
    }
    std::optional<IamUser> user;
    if (kind == "user" && arn_account == account()) user = store_.user(account(), name);
    if (!user || user->path != path) {
      // offcloud has no groups and no roles yet.
      throw IamError{ErrorCode::kNoSuchEntity,
                     "The " + std::string(kind) + " with name " + name + " cannot be found."};
    }
    std::vector<SimulationPolicy> policies;
    for (const std::string& policy_arn : store_.attached_user_policies(account(), user->name)) {
      if (const AwsManagedPolicy* managed = find_aws_managed_policy(policy_arn)) {
        add_policy(policies, std::string(managed->name), "aws-managed", managed->document);
      } else if (auto policy = store_.policy(policy_arn)) {
        add_policy(policies, policy->name, "user-managed", policy->document);
      }
    }
    for (const IamInlinePolicy& inline_policy : store_.user_policies(account(), user->name)) {
      add_policy(policies, inline_policy.name, "user", inline_policy.document);
    }
    add_input_policies(policies);
    // What the simulator knows of the user; ContextEntries may say otherwise.
    ConditionContext context;
    context.set("aws:username", user->name);
    context.set("aws:userid", user->user_id);
    context.set("aws:PrincipalArn", iam_user_arn(account(), user->path, user->name));
    context.set("aws:PrincipalAccount", account());
    context.set("aws:PrincipalType", "User");
    add_context_entries(context);
    return simulate(policies, context);
  }

  HttpResponse simulate_custom_policy() {
    std::vector<SimulationPolicy> policies;
    if (call_.list("PolicyInputList").empty()) call_.required("PolicyInputList");
    add_input_policies(policies);
    ConditionContext context;
    add_context_entries(context);
    return simulate(policies, context);
  }

  IamStore& store_;
  Authorizer& authorizer_;
  IamCall& call_;
};

}  // namespace

std::vector<IamRequest> IamService::iam_requests(const HttpRequest& request,
                                                 const QueryParams& query,
                                                 const RequestContext& context) const {
  auto params = query_protocol_params(request, query);
  const std::string* action = params ? find_param(*params, "Action") : nullptr;
  if (!action || !IamOperations::table().count(*action)) return {};
  auto param = [&](std::string_view name) { return find_param(*params, name); };
  IamRequest ask{"iam:" + *action, "*"};
  std::string_view operation = *action;
  if (operation == "CreatePolicy") {
    const std::string* name = param("PolicyName");
    const std::string* path = param("Path");
    ask.resource = policy_arn(context.principal.account_id, path ? *path : "/", name ? *name : "");
  } else if (operation == "GetPolicy" || operation == "GetPolicyVersion" ||
             operation == "DeletePolicy") {
    if (const std::string* arn = param("PolicyArn")) ask.resource = *arn;
  } else if (operation == "SimulatePrincipalPolicy") {
    if (const std::string* arn = param("PolicySourceArn")) ask.resource = *arn;
  } else if (operation != "ListUsers" && operation != "ListPolicies" &&
             operation != "SimulateCustomPolicy") {
    // Every other operation acts on a user: the named one, or the caller.
    const std::string* name = param("UserName");
    std::string user_name = name ? *name : context.principal.user_name;
    std::string path = "/";
    if (operation == "CreateUser") {
      if (const std::string* given = param("Path")) path = *given;
    } else if (auto user = store_.user(context.principal.account_id, user_name)) {
      path = user->path;
    }
    if (!user_name.empty()) {
      ask.resource = iam_user_arn(context.principal.account_id, path, user_name);
    }
    if (const std::string* arn = param("PolicyArn")) ask.conditions = {{"iam:PolicyARN", *arn}};
  }
  return {std::move(ask)};
}

void IamService::handle(HttpRequest& request, RequestContext& context, Reply reply) {
  auto fail = [&](ErrorCode code, std::string message) {
    reply(error_response(Protocol::kQuery, {code, std::move(message)}, context.request_id));
  };
  auto params = query_protocol_params(request, context.query);
  if (!params) return fail(ErrorCode::kMalformedHttpRequest, "The form body is malformed.");
  const std::string* action = find_param(*params, "Action");
  if (!action) return fail(ErrorCode::kMissingAction, "Missing Action");
  context.operation = *action;
  auto it = IamOperations::table().find(*action);
  if (it == IamOperations::table().end()) {
    return fail(ErrorCode::kInvalidAction, "Could not find operation " + *action +
                                               " for version 2010-05-08 in offcloud's IAM.");
  }
  IamCall call(std::move(*params), context);
  IamOperations operations(store_, authorizer_, call);
  HttpResponse response;
  try {
    std::lock_guard lock(changes_);
    response = (operations.*(it->second))();
  } catch (const IamError& e) {
    return fail(e.code, e.message);
  }
  reply(std::move(response));
}

}  // namespace offcloud

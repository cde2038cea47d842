#include "emulator/mqtt/mqtt_broker.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "emulator/mqtt/mqtt_session_state.h"
#include "emulator/util/log.h"
#include "storage/digest.h"
#include "storage/iot_registry.h"

namespace offcloud {

MqttBroker::MqttBroker(MessageBus& bus, RetainedStore& retained, const CredentialStore& credentials,
                       Options options)
    : bus_(bus), retained_(retained), credentials_(credentials), options_(std::move(options)) {
  if (options_.sessions) restore_sessions();
}

void MqttBroker::restore_sessions() {
  std::int64_t now = now_ms();
  std::size_t restored = 0;
  for (const StoredMqttSession& stored : options_.sessions->load()) {
    const MqttSessionKey& key = stored.record.key;
    // One a connection held when offcloud stopped short expires from now.
    std::int64_t left_ms = stored.record.expires_at_ms ? *stored.record.expires_at_ms - now
                                                       : stored.record.expiry_s * 1000;
    AccountRegion scope{key.account_id, key.region};
    auto state = std::make_shared<MqttSessionState>(*this, scope, key.client_id);
    if (left_ms <= 0) {
      options_.sessions->erase_session(key);
      continue;
    }
    if (!state->restore(stored, std::chrono::milliseconds(left_ms))) {
      log(LogLevel::kWarn, "mqtt: the stored session of client " + key.client_id +
                               " does not decode; it is dropped");
      options_.sessions->erase_session(key);
      continue;
    }
    sessions_[{scope, key.client_id}] = std::move(state);
    ++restored;
  }
  if (restored > 0) {
    log(LogLevel::kInfo, "mqtt: " + std::to_string(restored) + " persistent session(s) restored");
  }
}

std::string MqttBroker::credential_of(const Principal& principal) const {
  nlohmann::json credential;
  if (!principal.certificate_id.empty()) {
    credential["certificate_id"] = principal.certificate_id;
    credential["context_keys"] = principal.context_keys;
  } else {
    credential["access_key_id"] = principal.access_key_id;
  }
  return credential.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<Principal> MqttBroker::principal_of(const std::string& credential,
                                                  const AccountRegion& scope) const {
  auto parsed = nlohmann::json::parse(credential, nullptr, false);
  if (!parsed.is_object()) return std::nullopt;
  if (auto key = parsed.find("access_key_id"); key != parsed.end() && key->is_string()) {
    std::optional<Credential> found = credentials_.find(key->get<std::string>());
    if (!found || !found->active || found->principal.account_id != scope.account_id) {
      return std::nullopt;
    }
    return found->principal;
  }
  auto id = parsed.find("certificate_id");
  if (id == parsed.end() || !id->is_string() || !options_.registry) return std::nullopt;
  for (const RegisteredCertificate& registered :
       options_.registry->find_certificate(id->get<std::string>())) {
    if (registered.status != "ACTIVE" || registered.account_id != scope.account_id ||
        registered.region != scope.region) {
      continue;
    }
    // As authenticate(CertificateFacts) makes it, the policy variables kept.
    Principal principal;
    principal.arn = registered.arn;
    principal.account_id = registered.account_id;
    principal.user_id = registered.id;
    principal.certificate_id = registered.id;
    auto context = parsed.find("context_keys");
    if (context != parsed.end() && context->is_array()) {
      for (const auto& pair : *context) {
        if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string()) {
          principal.context_keys.emplace_back(pair[0].get<std::string>(),
                                              pair[1].get<std::string>());
        }
      }
    }
    return principal;
  }
  return std::nullopt;
}

MqttBroker::~MqttBroker() {
  // Session states leave the bus and their shared groups as they go: before
  // those maps do.
  std::map<Key, std::shared_ptr<MqttSessionState>> sessions;
  {
    std::lock_guard lock(mutex_);
    sessions.swap(sessions_);
  }
  sessions.clear();
}

std::optional<Principal> MqttBroker::authenticate(
    const std::optional<std::string>& username, const std::optional<std::string>& password) const {
  if (!username || !password) return std::nullopt;
  std::optional<Credential> credential = credentials_.find(*username);
  if (!credential || !credential->active ||
      !constant_time_equals(credential->secret_access_key, *password)) {
    return std::nullopt;
  }
  return credential->principal;
}

std::optional<std::pair<Principal, std::string>> MqttBroker::authenticate(
    const CertificateFacts& certificate) const {
  if (!options_.registry) return std::nullopt;
  for (const RegisteredCertificate& registered :
       options_.registry->find_certificate(certificate.id)) {
    if (registered.status != "ACTIVE") continue;
    Principal principal;
    principal.arn = registered.arn;
    principal.account_id = registered.account_id;
    principal.user_id = registered.id;
    principal.certificate_id = registered.id;
    // AWS IoT's certificate policy variables.
    for (const auto& [field, value] : certificate.subject_fields) {
      principal.context_keys.emplace_back("iot:Certificate.Subject." + field, value);
    }
    for (const auto& [field, value] : certificate.issuer_fields) {
      principal.context_keys.emplace_back("iot:Certificate.Issuer." + field, value);
    }
    return std::make_pair(std::move(principal), registered.region);
  }
  return std::nullopt;
}

std::shared_ptr<const MqttBroker::CertificatePolicies> MqttBroker::certificate_policies(
    const Principal& principal, const AccountRegion& scope) const {
  std::uint64_t generation = options_.registry->generation();
  Key key{scope, principal.arn};
  {
    std::lock_guard lock(policies_mutex_);
    auto it = policies_.find(key);
    if (it != policies_.end() && it->second->generation == generation) return it->second;
  }
  // Read outside the lock; a change meanwhile bumps the generation again,
  // so the next check reads anew.
  auto read = std::make_shared<CertificatePolicies>();
  read->generation = generation;
  for (const RegisteredCertificate& registered :
       options_.registry->find_certificate(principal.certificate_id)) {
    read->active =
        read->active || (registered.account_id == scope.account_id &&
                         registered.region == scope.region && registered.status == "ACTIVE");
  }
  for (const std::string& text : options_.registry->attached_policy_documents(
           scope.account_id, scope.region, principal.arn)) {
    std::string error;
    if (auto document = parse_policy(text, &error)) read->policies.push_back(std::move(*document));
  }
  read->things = options_.registry->principal_things(scope.account_id, scope.region, principal.arn);
  std::lock_guard lock(policies_mutex_);
  if (policies_.size() > 10000) policies_.clear();  // certificates come and go
  policies_[key] = read;
  return read;
}

// AWS IoT's evaluation for X.509 clients: the IoT policies attached to the
// certificate, with the connection's policy variables.
Decision MqttBroker::certificate_decision(const Principal& principal, const std::string& action,
                                          const std::string& resource, const std::string& client_id,
                                          const AccountRegion& scope,
                                          const std::string& source_ip) const {
  if (!options_.registry) return Decision::kImplicitDeny;
  std::shared_ptr<const CertificatePolicies> read = certificate_policies(principal, scope);
  // A certificate made INACTIVE, revoked or deleted since CONNECT may do
  // nothing more (AWS also ends its connections).
  if (!read->active) return Decision::kImplicitDeny;
  ConditionContext conditions = request_conditions(principal, source_ip + ":0", scope.region,
                                                   now_ms(), !principal.certificate_id.empty());
  conditions.set("iot:ClientId", client_id);
  for (const auto& [key, value] : principal.context_keys) conditions.set(key, value);
  // The thing is the one named by the client id, when the certificate is
  // attached to it.
  bool attached =
      std::find(read->things.begin(), read->things.end(), client_id) != read->things.end();
  if (attached) conditions.set("iot:Connection.Thing.ThingName", client_id);
  conditions.set("iot:Connection.Thing.IsAttached", attached ? "true" : "false");
  std::vector<const PolicyDocument*> documents;
  for (const PolicyDocument& document : read->policies) documents.push_back(&document);
  return evaluate(documents, action, resource, conditions);
}

std::optional<Denial> MqttBroker::refusal(const Principal& principal, const std::string& action,
                                          const std::string& resource, const std::string& client_id,
                                          const AccountRegion& scope,
                                          const std::string& source_ip) const {
  if (!principal.certificate_id.empty()) {
    // IoT policies decide even with IAM off: a device with none attached
    // can do nothing on AWS, which is the first thing a class learns.
    Decision decision =
        certificate_decision(principal, action, resource, client_id, scope, source_ip);
    if (decision == Decision::kAllow) return std::nullopt;
    return Denial{.action = action,
                  .resource = resource,
                  .explicit_deny = decision == Decision::kExplicitDeny};
  }
  if (principal.is_root || options_.authorizer == nullptr) return std::nullopt;
  return options_.authorizer->authorize(principal, {{action, resource}},
                                        iam_conditions(principal, client_id, scope, source_ip));
}

ConditionContext MqttBroker::iam_conditions(const Principal& principal,
                                            const std::string& client_id,
                                            const AccountRegion& scope,
                                            const std::string& source_ip) const {
  ConditionContext conditions = request_conditions(principal, source_ip + ":0", scope.region,
                                                   now_ms(), !principal.certificate_id.empty());
  conditions.set("iot:ClientId", client_id);
  return conditions;
}

void MqttBroker::name_deny(const Principal& principal, const std::string& client_id,
                           const AccountRegion& scope, const std::string& source_ip,
                           Denial* denial) const {
  // A certificate's IoT policies are not named (yet): IAM users' are.
  if (!principal.certificate_id.empty() || options_.authorizer == nullptr) return;
  options_.authorizer->name_deny(principal, {{denial->action, denial->resource}},
                                 iam_conditions(principal, client_id, scope, source_ip), denial);
}

std::shared_ptr<MqttSessionState> MqttBroker::attach(const AccountRegion& scope,
                                                     const std::string& client_id, bool clean_start,
                                                     bool* present,
                                                     std::shared_ptr<MqttSession>* displaced) {
  // Declared before the lock, so destroyed (leaving the bus) after it.
  std::vector<std::shared_ptr<MqttSessionState>> gone;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  // Persistent sessions nobody came back for go, at most once a minute.
  if (now - last_sweep_ > std::chrono::seconds(60)) {
    last_sweep_ = now;
    sweep_locked(now, &gone);
  }
  auto& slot = sessions_[{scope, client_id}];
  if (slot && slot->expired(now)) gone.push_back(std::move(slot));
  *present = slot != nullptr && !clean_start;
  if (slot) *displaced = slot->session();
  if (!*present) {
    if (slot) gone.push_back(std::move(slot));
    slot = std::make_shared<MqttSessionState>(*this, scope, client_id);
  }
  // Until the new connection attaches, the one leaving cannot end the state.
  slot->claim();
  // What was let go of leaves the store before the new state writes to it.
  for (const auto& state : gone) state->retire();
  return slot;
}

void MqttBroker::release(const std::shared_ptr<MqttSessionState>& state, const MqttSession* session,
                         std::chrono::seconds expiry) {
  std::shared_ptr<MqttSessionState> gone;
  std::lock_guard lock(mutex_);
  if (!state->detach(session, expiry) || expiry.count() > 0) return;
  auto it = sessions_.find({state->scope(), state->client_id()});
  if (it != sessions_.end() && it->second == state) {
    gone = std::move(it->second);
    sessions_.erase(it);
  }
}

void MqttBroker::sweep_locked(std::chrono::steady_clock::time_point now,
                              std::vector<std::shared_ptr<MqttSessionState>>* gone) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second->expired(now)) {
      it->second->retire();
      gone->push_back(std::move(it->second));
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
}

void MqttBroker::join_shared(const AccountRegion& scope, const std::string& filter,
                             const std::string& client_id) {
  std::lock_guard lock(shared_mutex_);
  shared_[{scope, filter}].insert(client_id);
}

void MqttBroker::leave_shared(const AccountRegion& scope, const std::string& filter,
                              const std::string& client_id) {
  std::lock_guard lock(shared_mutex_);
  auto it = shared_.find({scope, filter});
  if (it == shared_.end()) return;
  if (auto member = it->second.find(client_id); member != it->second.end()) {
    it->second.erase(member);  // one membership, not every one of that id
  }
  if (it->second.empty()) shared_.erase(it);
}

std::vector<std::string> MqttBroker::shared_members(const AccountRegion& scope,
                                                    const std::string& filter) const {
  std::lock_guard lock(shared_mutex_);
  auto it = shared_.find({scope, filter});
  if (it == shared_.end()) return {};
  std::vector<std::string> members;
  for (const std::string& member : it->second) {
    if (members.empty() || members.back() != member) members.push_back(member);
  }
  return members;
}

void MqttBroker::close_all() {
  std::vector<std::shared_ptr<MqttSessionState>> states;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, state] : sessions_) states.push_back(state);
  }
  for (const auto& state : states) {
    if (auto session = state->session()) session->end(mqtt::Reason::kServerShuttingDown);
  }
}

void MqttBroker::expire_sessions() {
  auto now = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<MqttSessionState>> expired;  // leave the bus outside the lock
  std::lock_guard lock(mutex_);
  last_sweep_ = now;
  sweep_locked(now, &expired);
}

std::shared_ptr<MqttSessionState> MqttBroker::find_state(const AccountRegion& scope,
                                                         const std::string& client_id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find({scope, client_id});
  return it == sessions_.end() ? nullptr : it->second;
}

}  // namespace offcloud

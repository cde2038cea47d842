#include "emulator/mqtt/mqtt_broker.h"

#include "emulator/mqtt/mqtt_session_state.h"
#include "emulator/util/log.h"
#include "storage/digest.h"

namespace offcloud {

MqttBroker::MqttBroker(MessageBus& bus, RetainedStore& retained, const CredentialStore& credentials,
                       Options options)
    : bus_(bus), retained_(retained), credentials_(credentials), options_(std::move(options)) {}

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

bool MqttBroker::allowed(const Principal& principal, const std::string& action,
                         const std::string& resource, const std::string& client_id,
                         const AccountRegion& scope, const std::string& source_ip) const {
  if (principal.is_root || options_.authorizer == nullptr) return true;
  ConditionContext conditions =
      request_conditions(principal, source_ip + ":0", scope.region, now_ms());
  conditions.set("iot:ClientId", client_id);
  return !options_.authorizer->authorize(principal, {{action, resource}}, conditions);
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

}  // namespace offcloud

#include "rules/message_bus.h"

#include "rules/flow_counters.h"

namespace offcloud {

MessageBus::SubscriptionId MessageBus::subscribe(AccountRegion scope, TopicFilter filter,
                                                 Subscriber subscriber) {
  return add(std::move(scope), std::move(filter), std::move(subscriber));
}

MessageBus::SubscriptionId MessageBus::subscribe_all_scopes(TopicFilter filter,
                                                            Subscriber subscriber) {
  return add(std::nullopt, std::move(filter), std::move(subscriber));
}

MessageBus::SubscriptionId MessageBus::add(std::optional<AccountRegion> scope, TopicFilter filter,
                                           Subscriber subscriber) {
  std::lock_guard lock(mutex_);
  auto next = std::make_shared<SubscriptionList>(*subscriptions_);
  SubscriptionId id = next_id_++;
  next->push_back(std::make_shared<const Subscription>(
      Subscription{id, std::move(scope), std::move(filter), std::move(subscriber)}));
  subscriptions_ = std::move(next);
  return id;
}

void MessageBus::unsubscribe(SubscriptionId id) {
  std::lock_guard lock(mutex_);
  auto next = std::make_shared<SubscriptionList>();
  for (const auto& subscription : *subscriptions_) {
    if (subscription->id != id) next->push_back(subscription);
  }
  subscriptions_ = std::move(next);
}

void MessageBus::publish(const Message& message) const {
  std::shared_ptr<const SubscriptionList> snapshot;
  {
    std::lock_guard lock(mutex_);
    snapshot = subscriptions_;
    ++published_;
  }
  if (FlowCounters* counters = counters_.load(std::memory_order_acquire)) {
    counters->count_message(message.scope, message.topic, message.payload.size());
  }
  for (const auto& subscription : *snapshot) {
    if (subscription->scope && *subscription->scope != message.scope) continue;
    if (subscription->filter.matches(message.topic)) subscription->subscriber(message);
  }
}

std::uint64_t MessageBus::published_count() const {
  std::lock_guard lock(mutex_);
  return published_;
}

}  // namespace offcloud

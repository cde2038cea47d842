// The AWS IoT control plane (botocore "iot", signing name iot, rest-json):
// the topic rule operations (Create, Get, List, Replace, Delete, Enable,
// Disable) and DescribeEndpoint here; things, certificates and IoT policies
// in IotRegistryHandlers (iot_registry_handlers.h), which takes every other
// path. Rules are stored in the RuleStore and run by the RulesEngine; on
// construction every stored rule is compiled and handed to the engine, so
// rules survive restarts.
#pragma once

#include <mutex>

#include "emulator/api/service.h"
#include "emulator/auth/local_ca.h"
#include "emulator/iot/iot_registry_handlers.h"
#include "rules/rules_engine.h"
#include "storage/iot_registry.h"
#include "storage/rule_store.h"

namespace offcloud {

class IotService : public Service {
 public:
  IotService(RuleStore& store, RulesEngine& engine, IotRegistry& registry, const LocalCa& ca);

  std::string_view name() const override { return "iot"; }
  Protocol protocol() const override { return Protocol::kRestJson; }
  std::vector<IamRequest> iam_requests(const HttpRequest& request, const QueryParams& query,
                                       const RequestContext& context) const override;
  void handle(HttpRequest& request, RequestContext& context, Reply reply) override;

 private:
  HttpResponse create_topic_rule(const std::string& name, HttpRequest& request,
                                 RequestContext& context);
  HttpResponse get_topic_rule(const std::string& name, RequestContext& context);
  HttpResponse list_topic_rules(RequestContext& context);
  HttpResponse replace_topic_rule(const std::string& name, HttpRequest& request,
                                  RequestContext& context);
  HttpResponse delete_topic_rule(const std::string& name, RequestContext& context);
  HttpResponse set_topic_rule_enabled(const std::string& name, bool enabled,
                                      RequestContext& context);
  HttpResponse describe_endpoint(const HttpRequest& request, RequestContext& context);

  // Compiles a payload for `name`: the rule, or the error response.
  std::variant<std::shared_ptr<const CompiledTopicRule>, HttpResponse> compile(
      const std::string& name, const std::string& payload, bool* disabled, RequestContext& context);

  RuleStore& store_;
  RulesEngine& engine_;
  IotRegistryHandlers registry_;
  // Serializes changes, so the store and the engine change in the same
  // order and always agree.
  std::mutex changes_;
};

}  // namespace offcloud

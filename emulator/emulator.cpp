#include "emulator/emulator.h"

#include <algorithm>
#include <filesystem>
#include <thread>

#include "emulator/activity/activity_log.h"
#include "emulator/activity/activity_reasons.h"
#include "emulator/activity/activity_service.h"
#include "emulator/activity/live_feed.h"
#include "emulator/auth/authorizer.h"
#include "emulator/auth/credential_store.h"
#include "emulator/auth/local_ca.h"
#include "emulator/auth/sigv4_verifier.h"
#include "emulator/firehose/delivery_streams.h"
#include "emulator/firehose/firehose_buffer_view.h"
#include "emulator/firehose/firehose_handlers.h"
#include "emulator/http/http_server.h"
#include "emulator/iam/iam_handlers.h"
#include "emulator/iam/sts_handlers.h"
#include "emulator/iam_config.h"
#include "emulator/iot/iot_handlers.h"
#include "emulator/iot/iotdata_handlers.h"
#include "emulator/mqtt/mqtt_broker.h"
#include "emulator/mqtt/mqtt_server.h"
#include "emulator/mqtt/mqtt_websocket.h"
#include "emulator/router.h"
#include "emulator/s3/s3_lifecycle.h"
#include "emulator/s3/s3_service.h"
#include "emulator/util/log.h"
#include "rules/flow_count_keeper.h"
#include "rules/flow_counters.h"
#include "rules/message_bus.h"
#include "rules/rules_engine.h"
#include "storage/firehose_buffer.h"
#include "storage/iam_store.h"
#include "storage/iot_registry.h"
#include "storage/lifecycle_sweep.h"
#include "storage/object_store.h"
#include "storage/retained_store.h"
#include "storage/rule_store.h"

namespace offcloud {
namespace {

namespace fs = std::filesystem;

std::string database_path(const Config& config) {
  fs::create_directories(config.data_dir);
  return (fs::path(config.data_dir) / "offcloud.db").string();
}

RulesEngineOptions rules_options(ActivityLog& activity, FlowCounters& counters) {
  RulesEngineOptions options;
  options.counters = &counters;
  options.log_warning = [](std::string_view text) { log(LogLevel::kWarn, text); };
  options.report_failure = [&activity](const RuleFailure& failure) {
    activity.record(rule_failure_entry(failure));
  };
  return options;
}

// The lifecycle sweep's day and interval: hourly with AWS's days, else
// twice per shortened day (at most every 30 s), unless the config says.
LifecycleSweep::Options lifecycle_options(const Config& config) {
  LifecycleSweep::Options options;
  options.clock.day_ms = static_cast<std::int64_t>(config.lifecycle_day_s * 1000);
  double sweep_s = config.lifecycle_sweep_s.value_or(
      options.clock.real_days() ? 3600.0 : std::min(config.lifecycle_day_s, 60.0) / 2);
  options.interval = std::chrono::milliseconds(static_cast<long long>(sweep_s * 1000));
  options.report_error = [](std::string_view text) {
    log(LogLevel::kWarn, "lifecycle sweep: " + std::string(text));
  };
  return options;
}

// Refusals on the MQTT ports (and /mqtt's WebSocket) go to Activity beside
// HTTP requests, credited as a refused signature is: a key the client named
// counts as its owner's, so a student sees their device refused.
std::function<void(const MqttRefusal&)> report_mqtt_refusals(ActivityLog& activity,
                                                             const CredentialStore& credentials) {
  return [&activity, &credentials](const MqttRefusal& refusal) {
    ActivityEntry entry;
    entry.account_id = refusal.principal.account_id;
    entry.caller_arn = refusal.principal.arn;
    entry.access_key_id = refusal.principal.access_key_id;
    entry.source = refusal.source;
    entry.service = "mqtt";
    entry.operation = refusal.operation;
    entry.resource = refusal.resource;
    entry.error_code = refusal.code;
    if (refusal.denial) {
      note_denial(&entry, *refusal.denial);
    } else {  // not authenticated: the entry is the named key's owner's, if any
      note_mqtt_refusal(&entry, refusal.code, refusal.client_id, refusal.principal.access_key_id,
                        refusal.principal.certificate_id, credentials);
    }
    activity.record(std::move(entry));
  };
}

HttpServer::Options server_options(const Config& config) {
  HttpServer::Options options;
  options.host = config.host;
  options.port = static_cast<std::uint16_t>(config.port);
  options.threads =
      config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  options.idle_timeout =
      std::chrono::milliseconds(static_cast<long long>(config.idle_timeout_s * 1000));
  options.max_header_bytes = config.max_header_bytes;
  options.max_body_bytes = config.max_body_bytes;
  return options;
}

}  // namespace

// Members are constructed in this order and destroyed in reverse: each part
// after what it uses, the router (and its services) after the stores, the
// server last, so it stops first.
struct Emulator::Parts {
  explicit Parts(const Config& config)
      : database(database_path(config)),
        flow_counts(counters, database, [](std::string_view text) { log(LogLevel::kWarn, text); }),
        iam_store(database),
        authorizer(iam_store, credentials),
        verifier(credentials),
        retained(database),
        objects((fs::path(config.data_dir) / "s3").string()),
        firehose_buffer(database, config.fsync),
        delivery_streams(firehose_buffer, objects, {config.firehose_max_interval_s, &counters}),
        lifecycle(
            objects,
            [this](const std::string& bucket) {
              auto document = objects.bucket_config(bucket, s3::kLifecycleConfig);
              return document ? s3::parse_lifecycle_rules(*document) : std::vector<LifecycleRule>();
            },
            lifecycle_options(config)),
        rule_store(database),
        iot_registry(database),
        local_ca((fs::path(config.data_dir) / "ca").string(), config.hostnames),
        rules(bus, objects, rules_options(activity, counters)),
        mqtt_sessions(database, config.fsync),
        mqtt_broker(bus, retained, credentials,
                    MqttBroker::Options{config.region, config.iam_enforce ? &authorizer : nullptr,
                                        &iot_registry, &mqtt_sessions,
                                        report_mqtt_refusals(activity, credentials)}),
        live(activity, &counters,
             [this](const AccountRegion& scope,
                    const std::function<bool(std::string_view)>& visible) {
               return buffer_views_json(delivery_streams, scope, visible);
             }),
        router(credentials, verifier, config.iam_enforce ? &authorizer : nullptr),
        options(server_options(config)) {
    credentials.set_accounts_from_keys(config.accounts_from_keys);
    for (const AccountConfig& account : config.accounts) {
      if (account.root_key) {
        credentials.add_account_root(account.id, account.root_key->access_key_id,
                                     account.root_key->secret_access_key);
      }
    }
    apply_iam_config(config, iam_store);
    authorizer.load();
    rules.set_firehose_sink(&delivery_streams);
    bus.set_counters(&counters);
    router.add(std::make_unique<IotDataService>(bus, retained));
    router.add(std::make_unique<S3Service>(
        objects, lifecycle_options(config).clock,
        static_cast<std::int64_t>(lifecycle_options(config).interval.count())));
    router.add(std::make_unique<IotService>(rule_store, rules, iot_registry, local_ca));
    router.add(std::make_unique<FirehoseService>(delivery_streams));
    router.add(std::make_unique<IamService>(iam_store, authorizer));
    router.add(std::make_unique<StsService>());
    router.add(std::make_unique<MqttWebSocketService>(mqtt_broker));
    router.set_ca_certificate(local_ca.ca_pem());
    router.set_activity_log(&activity);
    router.add(std::make_unique<ActivityService>(activity, &live));
    if (config.tls_port) {
      options.tls_port = static_cast<std::uint16_t>(*config.tls_port);
      options.tls_certificate_pem = local_ca.server_certificate_pem();
      options.tls_key_pem = local_ca.server_key_pem();
    }
    server = std::make_unique<HttpServer>(options, router);
    if (config.mqtt_port) {
      mqtt_server = std::make_unique<MqttServer>(
          MqttServer::Options{config.host, static_cast<std::uint16_t>(*config.mqtt_port),
                              options.threads},
          mqtt_broker);
    }
    if (config.mqtt_tls_port) {
      mqtt_tls_server = std::make_unique<MqttServer>(
          MqttServer::Options{config.host, static_cast<std::uint16_t>(*config.mqtt_tls_port),
                              options.threads, &local_ca},
          mqtt_broker);
    }
  }

  // The live feed's thread reads the router (which is destroyed first) and
  // the streams: it stops before any member goes, whether run() ran or not.
  ~Parts() { live.stop(); }

  ActivityLog activity;   // first: the rules engine and the router feed it
  FlowCounters counters;  // the bus, the rules engine and the streams count here
  std::string database;
  FlowCountKeeper flow_counts;  // restores the counts before anything counts
  CredentialStore credentials;
  IamStore iam_store;
  Authorizer authorizer;
  SigV4Verifier verifier;
  MessageBus bus;
  RetainedStore retained;
  ObjectStore objects;
  FirehoseBuffer firehose_buffer;
  DeliveryStreams delivery_streams;
  LifecycleSweep lifecycle;
  RuleStore rule_store;
  IotRegistry iot_registry;
  LocalCa local_ca;
  RulesEngine rules;
  MqttSessionStore mqtt_sessions;
  MqttBroker mqtt_broker;
  LiveFeed live;  // the console's live data; stopped with the services
  Router router;
  HttpServer::Options options;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<MqttServer> mqtt_server;
  std::unique_ptr<MqttServer> mqtt_tls_server;
};

Emulator::Emulator(const Config& config) : parts_(std::make_unique<Parts>(config)) {}

Emulator::~Emulator() = default;

std::uint16_t Emulator::port() const {
  return parts_->server->port();
}

unsigned Emulator::threads() const {
  return parts_->options.threads;
}

std::uint16_t Emulator::mqtt_port() const {
  return parts_->mqtt_server ? parts_->mqtt_server->port() : 0;
}

std::uint16_t Emulator::tls_port() const {
  return parts_->server->tls_port();
}

std::uint16_t Emulator::mqtt_tls_port() const {
  return parts_->mqtt_tls_server ? parts_->mqtt_tls_server->port() : 0;
}

void Emulator::run() {
  parts_->lifecycle.start();
  if (parts_->mqtt_server) parts_->mqtt_server->start();
  if (parts_->mqtt_tls_server) parts_->mqtt_tls_server->start();
  parts_->server->run();
  parts_->lifecycle.stop();
  if (parts_->mqtt_server) parts_->mqtt_server->stop();
  if (parts_->mqtt_tls_server) parts_->mqtt_tls_server->stop();
  parts_->live.stop();  // before the services it reads from stop
  parts_->router.shutdown();
  parts_->flow_counts.stop();  // nothing counts any more
}

void Emulator::stop() {
  parts_->server->stop();
}

}  // namespace offcloud

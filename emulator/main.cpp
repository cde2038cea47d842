// offcloud: a local AWS emulator on one port.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "emulator/authorizer.h"
#include "emulator/config.h"
#include "emulator/credential_store.h"
#include "emulator/delivery_streams.h"
#include "emulator/firehose_handlers.h"
#include "emulator/http_server.h"
#include "emulator/iam_config.h"
#include "emulator/iam_handlers.h"
#include "emulator/iot_handlers.h"
#include "emulator/iotdata_handlers.h"
#include "emulator/log.h"
#include "emulator/router.h"
#include "emulator/s3_service.h"
#include "emulator/sigv4_verifier.h"
#include "emulator/sts_handlers.h"
#include "rules/message_bus.h"
#include "rules/rules_engine.h"
#include "storage/firehose_buffer.h"
#include "storage/iam_store.h"
#include "storage/object_store.h"
#include "storage/retained_store.h"
#include "storage/rule_store.h"

namespace {

int serve(const offcloud::Config& config) {
  using namespace offcloud;
  set_log_level(config.log_level);
  std::filesystem::create_directories(config.data_dir);
  std::string database = (std::filesystem::path(config.data_dir) / "offcloud.db").string();

  CredentialStore credentials;
  IamStore iam_store(database);
  apply_iam_config(config, iam_store);
  Authorizer authorizer(iam_store, credentials);
  authorizer.load();
  SigV4Verifier verifier(credentials);
  MessageBus bus;
  RetainedStore retained(database);

  ObjectStore objects((std::filesystem::path(config.data_dir) / "s3").string());
  FirehoseBuffer firehose_buffer(database, config.fsync);
  DeliveryStreams delivery_streams(firehose_buffer, objects, {config.firehose_max_interval_s});
  RuleStore rule_store(database);
  RulesEngineOptions rules_options;
  rules_options.log_warning = [](std::string_view text) { log(LogLevel::kWarn, text); };
  RulesEngine rules(bus, objects, rules_options);
  rules.set_firehose_sink(&delivery_streams);

  // Declared after what its services use, so it is destroyed first.
  Router router(credentials, verifier, config.iam_enforce ? &authorizer : nullptr);
  router.add(std::make_unique<IotDataService>(bus, retained));
  router.add(std::make_unique<S3Service>(objects));
  router.add(std::make_unique<IotService>(rule_store, rules));
  router.add(std::make_unique<FirehoseService>(delivery_streams));
  router.add(std::make_unique<IamService>(iam_store, authorizer));
  router.add(std::make_unique<StsService>());

  HttpServer::Options options;
  options.host = config.host;
  options.port = static_cast<std::uint16_t>(config.port);
  options.threads =
      config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  options.idle_timeout =
      std::chrono::milliseconds(static_cast<long long>(config.idle_timeout_s * 1000));
  options.max_header_bytes = config.max_header_bytes;
  options.max_body_bytes = config.max_body_bytes;
  HttpServer server(options, router);

  std::printf("offcloud listening on http://%s:%u\n", config.host.c_str(), server.port());
  std::fflush(stdout);
  log(LogLevel::kInfo, "data in " + std::filesystem::absolute(config.data_dir).string() + ", " +
                           std::to_string(options.threads) + " threads");
  bool loopback =
      config.host == "localhost" || config.host == "::1" || config.host.starts_with("127.");
  if (!loopback) {
    // The built-in root key is public knowledge: on a shared network anyone
    // could use it.
    log(LogLevel::kWarn, "listening on " + config.host +
                             ", beyond this machine, while the root key test/test is enabled: "
                             "anyone who can reach this port can do anything");
  }
  server.run();
  router.shutdown();
  log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::cout << offcloud::usage();
      return 0;
    }
    if (arg == "--version") {
      std::cout << "offcloud " << OFFCLOUD_VERSION << "\n";
      return 0;
    }
  }
  try {
    offcloud::Config config =
        offcloud::load_config(args, [](const char* name) { return std::getenv(name); });
    return serve(config);
  } catch (const offcloud::ConfigError& e) {
    std::cerr << "offcloud: " << e.what() << "\n\n" << offcloud::usage();
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "offcloud: " << e.what() << "\n";
    return 1;
  }
}

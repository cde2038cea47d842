// offcloud: a local AWS emulator on one port.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "emulator/classroom.h"
#include "emulator/config.h"
#include "emulator/emulator.h"
#include "emulator/util/log.h"

namespace {

int serve(const offcloud::Config& config) {
  using namespace offcloud;
  set_log_level(config.log_level);
  Emulator emulator(config);

  std::printf("offcloud listening on http://%s:%u\n", config.host.c_str(), emulator.port());
  if (emulator.tls_port()) {
    std::printf("offcloud https listening on https://%s:%u\n", config.host.c_str(),
                emulator.tls_port());
  }
  if (emulator.mqtt_port()) {
    std::printf("offcloud mqtt listening on mqtt://%s:%u\n", config.host.c_str(),
                emulator.mqtt_port());
  }
  if (emulator.mqtt_tls_port()) {
    std::printf("offcloud mqtt listening on mqtts://%s:%u\n", config.host.c_str(),
                emulator.mqtt_tls_port());
  }
  std::fflush(stdout);
  log(LogLevel::kInfo, "data in " + std::filesystem::absolute(config.data_dir).string() + ", " +
                           std::to_string(emulator.threads()) + " threads");
  bool loopback =
      config.host == "localhost" || config.host == "::1" || config.host.starts_with("127.");
  if (!loopback) {
    // The built-in root key is public knowledge: on a shared network anyone
    // could use it.
    log(LogLevel::kWarn, "listening on " + config.host +
                             ", beyond this machine, while the root key test/test is enabled: "
                             "anyone who can reach this port can do anything");
  }
  emulator.run();
  log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // A subcommand of its own: it writes files and exits, and has its own
  // --help.
  if (!args.empty() && args[0] == "classroom") {
    return offcloud::run_classroom({args.begin() + 1, args.end()}, std::cout, std::cerr);
  }
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

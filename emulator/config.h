// offcloud's settings. Each has an embedded default and can be set, from
// weakest to strongest, in the JSON config file, by an OFFCLOUD_* environment
// variable, or by a --flag.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "emulator/util/log.h"

namespace offcloud {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AccessKeyConfig {
  std::string access_key_id;
  std::string secret_access_key;
};

// An IAM policy in the config file: an inline policy of a user, or a
// customer managed policy users attach by name.
struct PolicyConfig {
  std::string name;
  std::string document;  // JSON text
};

struct UserConfig {
  std::string name;
  std::vector<AccessKeyConfig> access_keys;
  std::vector<PolicyConfig> policies;          // inline
  std::vector<std::string> attached_policies;  // managed policy names or ARNs
  // Neither "policies" nor "attached_policies" given: the user may do
  // anything (AdministratorAccess), as every key could before IAM.
  bool unrestricted = true;
};

// An account of the config file: its id, its root key and its IAM users and
// policies. The top-level "users" and "policies" are account 000000000000's.
struct AccountConfig {
  std::string id;    // 12 digits
  std::string name;  // a label for people (the classroom sheet's student)
  std::optional<AccessKeyConfig> root_key;
  std::vector<UserConfig> users;
  std::vector<PolicyConfig> policies;
};

struct Config {
  std::string host = "127.0.0.1";
  int port = 4566;  // 0: let the OS choose
  std::string data_dir = "./data";
  std::string config_file;
  LogLevel log_level = LogLevel::kInfo;
  unsigned threads = 0;        // 0: one per core
  double idle_timeout_s = 60;  // also bounds reading one request's header or body
  std::size_t max_header_bytes = 64 * 1024;
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  // Caps every Firehose buffering interval (an offcloud extension for demos
  // and tests); unset: AWS's intervals.
  std::optional<double> firehose_max_interval_s;
  // The length of a lifecycle "day" (an offcloud extension, so that tests
  // of lifecycle rules and restores need not wait days); AWS's 86400 by
  // default. How often the lifecycle sweep runs; unset: hourly with real
  // days, else half a day (at most 30 s).
  double lifecycle_day_s = 86400;
  std::optional<double> lifecycle_sweep_s;
  // fsync every commit, for durability across power loss, not only a
  // killed process.
  bool fsync = false;
  std::vector<UserConfig> users;        // only from the config file
  std::vector<PolicyConfig> policies;   // managed; only from the config file
  std::vector<AccountConfig> accounts;  // besides 000000000000; only from the config file
  // An access key id of 12 digits with the secret "test" is the root of
  // that account (LocalStack's convention), unless the config file gives
  // the account a root key.
  bool accounts_from_keys = true;
  // MQTT on plain TCP (an offcloud extension; AWS has TLS and WebSocket
  // only): off unless set; 0 lets the OS choose.
  std::optional<int> mqtt_port;
  // MQTT over mutual TLS, as AWS IoT Core's port 8883; unset: off.
  std::optional<int> mqtt_tls_port = 8883;
  // HTTPS beside the plain port, serving the same; unset: off.
  std::optional<int> tls_port;
  // Names the TLS server certificate carries besides localhost and
  // 127.0.0.1 (a classroom's host name or address).
  std::vector<std::string> hostnames;
  // The region of connections that sign nothing (plain MQTT): AWS's
  // endpoints are regional, offcloud has one.
  std::string region = "us-east-1";
  // false (--iam off): requests are authenticated but never refused by
  // policy, as LocalStack does.
  bool iam_enforce = true;
};

using GetEnv = std::function<const char*(const char*)>;

// Throws ConfigError with a message fit for the user. `args` excludes argv[0].
Config load_config(const std::vector<std::string>& args, const GetEnv& getenv);

std::string usage();

}  // namespace offcloud

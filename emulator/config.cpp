#include "emulator/config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

namespace offcloud {
namespace {

// An IPv4 or IPv6 address, or a DNS name (letters, digits and hyphens in
// dot-separated labels, not all digits): what a certificate can name.
bool is_hostname_or_address(const std::string& name) {
  unsigned char address[16];
  if (inet_pton(AF_INET, name.c_str(), address) == 1) return true;
  if (inet_pton(AF_INET6, name.c_str(), address) == 1) return true;
  if (name.empty() || name.size() > 253) return false;
  if (name.find_first_not_of("0123456789.") == std::string::npos) return false;  // a bad IPv4
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = std::min(name.find('.', start), name.size());
    std::string_view label(name.data() + start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        label.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
            std::string_view::npos) {
      return false;
    }
    start = dot + 1;
  }
  return true;
}

template <typename T>
T parse_number(const std::string& name, const std::string& text, T min, T max) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    throw ConfigError(name + ": '" + text + "' is not a number from " + std::to_string(min) +
                      " to " + std::to_string(max));
  }
  return value;
}

bool parse_bool(const std::string& name, const std::string& text) {
  if (text != "true" && text != "false") {
    throw ConfigError(name + ": '" + text + "' is not true or false");
  }
  return text == "true";
}

struct Option {
  const char* name;  // flag without "--", and JSON key
  const char* env;
  const char* help;
  std::function<void(Config&, const std::string&)> set;
};

const std::vector<Option>& options() {
  static const std::vector<Option> kOptions = {
      {"host", "OFFCLOUD_HOST", "address to listen on (default 127.0.0.1)",
       [](Config& c, const std::string& v) { c.host = v; }},
      {"port", "OFFCLOUD_PORT", "port to listen on; 0 picks a free one (default 4566)",
       [](Config& c, const std::string& v) { c.port = parse_number("port", v, 0, 65535); }},
      {"data-dir", "OFFCLOUD_DATA_DIR", "where state and objects live (default ./data)",
       [](Config& c, const std::string& v) { c.data_dir = v; }},
      {"config", "OFFCLOUD_CONFIG", "JSON config file",
       [](Config& c, const std::string& v) { c.config_file = v; }},
      {"log-level", "OFFCLOUD_LOG_LEVEL", "debug, info, warn or error (default info)",
       [](Config& c, const std::string& v) {
         auto level = parse_log_level(v);
         if (!level) throw ConfigError("log-level: '" + v + "' is not debug, info, warn or error");
         c.log_level = *level;
       }},
      {"threads", "OFFCLOUD_THREADS", "network threads (default: one per core)",
       [](Config& c, const std::string& v) { c.threads = parse_number("threads", v, 0u, 256u); }},
      {"idle-timeout", "OFFCLOUD_IDLE_TIMEOUT",
       "seconds a connection may stay silent or take to send a request (default 60)",
       [](Config& c, const std::string& v) {
         c.idle_timeout_s = parse_number("idle-timeout", v, 0.001, 86400.0);
       }},
      {"firehose-max-interval", "OFFCLOUD_FIREHOSE_MAX_INTERVAL",
       "cap on every Firehose buffering interval, in seconds (default: none, as AWS)",
       [](Config& c, const std::string& v) {
         c.firehose_max_interval_s = parse_number("firehose-max-interval", v, 0.0, 900.0);
       }},
      {"lifecycle-day-seconds", "OFFCLOUD_LIFECYCLE_DAY_SECONDS",
       "length of an S3 lifecycle day, in seconds, for tests (default 86400, as AWS)",
       [](Config& c, const std::string& v) {
         c.lifecycle_day_s = parse_number("lifecycle-day-seconds", v, 0.1, 86400.0);
       }},
      {"lifecycle-sweep-seconds", "OFFCLOUD_LIFECYCLE_SWEEP_SECONDS",
       "seconds between S3 lifecycle sweeps (default 3600, or half a shortened day up to 30)",
       [](Config& c, const std::string& v) {
         c.lifecycle_sweep_s = parse_number("lifecycle-sweep-seconds", v, 0.05, 86400.0);
       }},
      {"fsync", "OFFCLOUD_FSYNC", "true: fsync each commit, surviving power loss (default false)",
       [](Config& c, const std::string& v) { c.fsync = parse_bool("fsync", v); }},
      {"iam", "OFFCLOUD_IAM",
       "enforce: IAM policies decide every request; off: any known key may do anything "
       "(default enforce)",
       [](Config& c, const std::string& v) {
         if (v != "enforce" && v != "off")
           throw ConfigError("iam: '" + v + "' is not enforce or off");
         c.iam_enforce = v == "enforce";
       }},
      {"accounts-from-keys", "OFFCLOUD_ACCOUNTS_FROM_KEYS",
       "true: a 12-digit access key id with the secret 'test' is the root of that account, "
       "as in LocalStack (default true)",
       [](Config& c, const std::string& v) {
         c.accounts_from_keys = parse_bool("accounts-from-keys", v);
       }},
      {"mqtt-port", "OFFCLOUD_MQTT_PORT",
       "MQTT over plain TCP on this port, user name = access key id, password = secret "
       "(default: off; AWS has no such port)",
       [](Config& c, const std::string& v) {
         c.mqtt_port = parse_number("mqtt-port", v, 0, 65535);
       }},
      {"mqtt-tls-port", "OFFCLOUD_MQTT_TLS_PORT",
       "MQTT over mutual TLS (X.509 client certificates from IoT), as AWS IoT Core's port; "
       "off to close it (default 8883)",
       [](Config& c, const std::string& v) {
         if (v == "off") {
           c.mqtt_tls_port.reset();
         } else {
           c.mqtt_tls_port = parse_number("mqtt-tls-port", v, 0, 65535);
         }
       }},
      {"tls-port", "OFFCLOUD_TLS_PORT",
       "HTTPS on this port too, serving what the main port serves (default: off)",
       [](Config& c, const std::string& v) { c.tls_port = parse_number("tls-port", v, 0, 65535); }},
      {"hostname", "OFFCLOUD_HOSTNAME",
       "a name or address the TLS certificate names besides localhost and 127.0.0.1; "
       "comma-separated for several",
       [](Config& c, const std::string& v) {
         std::size_t at = 0;
         while (at <= v.size()) {
           std::size_t comma = std::min(v.find(',', at), v.size());
           std::string name = v.substr(at, comma - at);
           if (!is_hostname_or_address(name))
             throw ConfigError("hostname: '" + name + "' is not a host name or address");
           c.hostnames.push_back(name);
           at = comma + 1;
         }
       }},
      {"region", "OFFCLOUD_REGION",
       "the region of MQTT connections, which sign no region (default us-east-1)",
       [](Config& c, const std::string& v) {
         if (v.empty() || v.size() > 32 ||
             v.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
           throw ConfigError("region: '" + v + "' is not a region name");
         c.region = v;
       }},
      {"max-header-bytes", "OFFCLOUD_MAX_HEADER_BYTES", "largest request header (default 65536)",
       [](Config& c, const std::string& v) {
         c.max_header_bytes = parse_number<std::size_t>("max-header-bytes", v, 1024, 1 << 24);
       }},
      {"max-body-bytes", "OFFCLOUD_MAX_BODY_BYTES",
       "largest request body held in memory (default 16777216)",
       [](Config& c, const std::string& v) {
         c.max_body_bytes = parse_number<std::size_t>("max-body-bytes", v, 1024, 1ull << 32);
       }},
  };
  return kOptions;
}

const Option* find_option(std::string_view name) {
  for (const Option& option : options()) {
    if (name == option.name) return &option;
  }
  return nullptr;
}

// [{"name": ..., "document": {...} or "..."}]
std::vector<PolicyConfig> parse_policies(const std::string& where, const nlohmann::json& policies) {
  if (!policies.is_array()) throw ConfigError(where + ": must be an array");
  std::vector<PolicyConfig> out;
  for (const auto& policy : policies) {
    if (!policy.is_object() || !policy.contains("name") || !policy["name"].is_string() ||
        !policy.contains("document") ||
        !(policy["document"].is_object() || policy["document"].is_string())) {
      throw ConfigError(where + ": each policy needs a \"name\" string and a \"document\"");
    }
    const auto& document = policy["document"];
    out.push_back({policy["name"].get<std::string>(),
                   document.is_string() ? document.get<std::string>() : document.dump()});
  }
  return out;
}

std::vector<UserConfig> parse_users(const nlohmann::json& users) {
  if (!users.is_array()) throw ConfigError("users: must be an array");
  std::vector<UserConfig> out;
  for (const auto& user : users) {
    if (!user.is_object() || !user.contains("name") || !user["name"].is_string()) {
      throw ConfigError("users: each user needs a \"name\" string");
    }
    UserConfig config;
    config.name = user["name"].get<std::string>();
    for (const auto& key : user.value("access_keys", nlohmann::json::array())) {
      if (!key.is_object() || !key.contains("access_key_id") ||
          !key.contains("secret_access_key") || !key["access_key_id"].is_string() ||
          !key["secret_access_key"].is_string()) {
        throw ConfigError("users: user " + config.name +
                          ": access_keys need \"access_key_id\" and \"secret_access_key\"");
      }
      config.access_keys.push_back(
          {key["access_key_id"].get<std::string>(), key["secret_access_key"].get<std::string>()});
    }
    if (user.contains("policies")) {
      config.policies =
          parse_policies("users: user " + config.name + ": policies", user["policies"]);
      config.unrestricted = false;
    }
    if (user.contains("attached_policies")) {
      const auto& attached = user["attached_policies"];
      if (!attached.is_array()) {
        throw ConfigError("users: user " + config.name + ": attached_policies must be an array");
      }
      for (const auto& name : attached) {
        if (!name.is_string()) {
          throw ConfigError("users: user " + config.name +
                            ": attached_policies holds policy names or ARNs");
        }
        config.attached_policies.push_back(name.get<std::string>());
      }
      config.unrestricted = false;
    }
    out.push_back(std::move(config));
  }
  return out;
}

std::string string_field(const nlohmann::json& object, const char* name, const std::string& where) {
  auto it = object.find(name);
  if (it == object.end()) return "";
  if (!it->is_string()) throw ConfigError(where + ": \"" + name + "\" must be a string");
  return it->get<std::string>();
}

// [{"id": "123456789012", "name": ..., "root_access_key_id": ...,
//   "root_secret_access_key": ..., "users": [...], "policies": [...]}]
std::vector<AccountConfig> parse_accounts(const nlohmann::json& accounts) {
  if (!accounts.is_array()) throw ConfigError("accounts: must be an array");
  std::vector<AccountConfig> out;
  for (const auto& account : accounts) {
    if (!account.is_object()) throw ConfigError("accounts: each account must be an object");
    AccountConfig config;
    config.id = string_field(account, "id", "accounts");
    std::string where = "accounts: account " + config.id;
    if (config.id.size() != 12 || config.id.find_first_not_of("0123456789") != std::string::npos) {
      throw ConfigError("accounts: each account needs an \"id\" of 12 digits, not '" + config.id +
                        "'");
    }
    if (config.id == "000000000000") {
      throw ConfigError(where +
                        ": is the built-in account; its users and policies are the "
                        "top-level \"users\" and \"policies\"");
    }
    for (const AccountConfig& earlier : out) {
      if (earlier.id == config.id) throw ConfigError(where + ": given twice");
    }
    config.name = string_field(account, "name", where);
    std::string key_id = string_field(account, "root_access_key_id", where);
    std::string secret = string_field(account, "root_secret_access_key", where);
    if (key_id.empty() != secret.empty()) {
      throw ConfigError(where +
                        ": \"root_access_key_id\" and \"root_secret_access_key\" "
                        "go together");
    }
    if (!key_id.empty()) {
      bool taken = key_id == "test";
      for (const AccountConfig& earlier : out) {
        taken = taken || (earlier.root_key && earlier.root_key->access_key_id == key_id);
      }
      if (taken) throw ConfigError(where + ": root_access_key_id " + key_id + " is taken");
      config.root_key = AccessKeyConfig{key_id, secret};
    }
    for (const auto& [key, value] : account.items()) {
      if (key == "users") {
        config.users = parse_users(value);
      } else if (key == "policies") {
        config.policies = parse_policies(where + ": policies", value);
      } else if (key != "id" && key != "name" && key != "root_access_key_id" &&
                 key != "root_secret_access_key") {
        throw ConfigError(where + ": unknown setting \"" + key + "\"");
      }
    }
    out.push_back(std::move(config));
  }
  return out;
}

void apply_file(Config& config, const std::string& path) {
  std::ifstream file(path);
  if (!file) throw ConfigError("config: cannot read " + path);
  nlohmann::json document = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) throw ConfigError("config: " + path + " is not a JSON object");
  for (const auto& [key, value] : document.items()) {
    if (key == "users") {
      config.users = parse_users(value);
      continue;
    }
    if (key == "policies") {
      config.policies = parse_policies("policies", value);
      continue;
    }
    if (key == "accounts") {
      config.accounts = parse_accounts(value);
      continue;
    }
    const Option* option = find_option(key);
    if (!option || key == "config") throw ConfigError("config: unknown setting \"" + key + "\"");
    option->set(config, value.is_string() ? value.get<std::string>() : value.dump());
  }
}

}  // namespace

Config load_config(const std::vector<std::string>& args, const GetEnv& getenv) {
  // Flags first, applied last: they win over the file and the environment.
  std::vector<std::pair<const Option*, std::string>> flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("--")) throw ConfigError("unexpected argument '" + args[i] + "'");
    arg.remove_prefix(2);
    std::size_t eq = arg.find('=');
    const Option* option = find_option(arg.substr(0, eq));
    if (!option) throw ConfigError("unknown option '--" + std::string(arg.substr(0, eq)) + "'");
    if (eq != std::string_view::npos) {
      flags.emplace_back(option, std::string(arg.substr(eq + 1)));
    } else if (i + 1 < args.size()) {
      flags.emplace_back(option, args[++i]);
    } else {
      throw ConfigError("option '--" + std::string(option->name) + "' needs a value");
    }
  }

  Config config;
  std::string file;
  if (const char* env = getenv("OFFCLOUD_CONFIG")) file = env;
  for (const auto& [option, value] : flags) {
    if (std::string_view(option->name) == "config") file = value;
  }
  if (!file.empty()) apply_file(config, file);
  for (const Option& option : options()) {
    if (const char* value = getenv(option.env)) option.set(config, value);
  }
  for (const auto& [option, value] : flags) option->set(config, value);
  return config;
}

std::string usage() {
  std::ostringstream out;
  out << "usage: offcloud [--option value]...\n\n"
         "A local AWS emulator: IoT Data, IoT rules, Firehose, S3, IAM on one port.\n\n";
  for (const Option& option : options()) {
    std::string flag = std::string("--") + option.name + " (" + option.env + ")";
    out << "  " << flag << std::string(flag.size() < 44 ? 44 - flag.size() : 1, ' ') << option.help
        << "\n";
  }
  out << "  --help, --version\n";
  return out.str();
}

}  // namespace offcloud

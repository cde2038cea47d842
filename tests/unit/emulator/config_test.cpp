#include "emulator/config.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace offcloud {
namespace {

GetEnv env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(Config, EmbeddedDefaults) {
  Config config = load_config({}, env_of({}));
  EXPECT_EQ(config.host, "127.0.0.1");
  EXPECT_EQ(config.port, 4566);
  EXPECT_EQ(config.data_dir, "./data");
  EXPECT_EQ(config.log_level, LogLevel::kInfo);
}

TEST(Config, LifecycleDayAndSweep) {
  Config defaults = load_config({}, env_of({}));
  EXPECT_EQ(defaults.lifecycle_day_s, 86400);
  EXPECT_FALSE(defaults.lifecycle_sweep_s);
  Config config = load_config({"--lifecycle-day-seconds", "2"},
                              env_of({{"OFFCLOUD_LIFECYCLE_SWEEP_SECONDS", "0.5"}}));
  EXPECT_EQ(config.lifecycle_day_s, 2);
  EXPECT_EQ(config.lifecycle_sweep_s, 0.5);
  EXPECT_THROW(load_config({"--lifecycle-day-seconds", "0"}, env_of({})), ConfigError);
  EXPECT_THROW(load_config({"--lifecycle-day-seconds", "86401"}, env_of({})), ConfigError);
  EXPECT_THROW(load_config({"--lifecycle-sweep-seconds", "soon"}, env_of({})), ConfigError);
}

TEST(Config, FlagsBeatEnvironmentBeatFile) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("offcloud-config-" + std::to_string(::getpid()) + ".json"))
                         .string();
  {
    std::ofstream file(path);
    file << R"({"port": 1000, "host": "0.0.0.0", "data-dir": "/file", "idle-timeout": 5,
               "users": [{"name": "device1", "access_keys": [
                 {"access_key_id": "AKIADEVICE1", "secret_access_key": "devsecret"}]}]})";
  }
  Config config = load_config({"--port", "0", "--log-level=debug", "--config", path},
                              env_of({{"OFFCLOUD_PORT", "2000"}, {"OFFCLOUD_DATA_DIR", "/env"}}));
  EXPECT_EQ(config.port, 0);
  EXPECT_EQ(config.data_dir, "/env");
  EXPECT_EQ(config.host, "0.0.0.0");
  EXPECT_DOUBLE_EQ(config.idle_timeout_s, 5);
  EXPECT_EQ(config.log_level, LogLevel::kDebug);
  ASSERT_EQ(config.users.size(), 1u);
  EXPECT_EQ(config.users[0].access_keys[0].access_key_id, "AKIADEVICE1");
  std::remove(path.c_str());
}

TEST(Config, BadInputIsAClearError) {
  EXPECT_THROW(load_config({"--port", "70000"}, env_of({})), ConfigError);
  EXPECT_THROW(load_config({"--port"}, env_of({})), ConfigError);
  EXPECT_THROW(load_config({"--nonsense", "1"}, env_of({})), ConfigError);
  EXPECT_THROW(load_config({"stray"}, env_of({})), ConfigError);
  EXPECT_THROW(load_config({}, env_of({{"OFFCLOUD_LOG_LEVEL", "loud"}})), ConfigError);
  EXPECT_THROW(load_config({"--config", "/nonexistent/offcloud.json"}, env_of({})), ConfigError);
  try {
    load_config({"--idle-timeout", "soon"}, env_of({}));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("idle-timeout"), std::string::npos);
  }
}

TEST(Config, TlsPortsAndHostnames) {
  Config defaults = load_config({}, env_of({}));
  EXPECT_EQ(defaults.mqtt_tls_port, 8883);  // AWS IoT Core's
  EXPECT_FALSE(defaults.tls_port);
  Config config = load_config(
      {"--mqtt-tls-port", "off", "--tls-port", "0", "--hostname", "class.local,10.0.0.5,::1"},
      env_of({}));
  EXPECT_FALSE(config.mqtt_tls_port);
  EXPECT_EQ(config.tls_port, 0);
  EXPECT_EQ(config.hostnames, (std::vector<std::string>{"class.local", "10.0.0.5", "::1"}));
  // What a certificate could not name is refused at start, not when signing.
  for (const char* bad : {"1234", "10.0.0", "my-host:8443", "-x.local", "a..b", "", "a b"}) {
    EXPECT_THROW(load_config({"--hostname", bad}, env_of({})), ConfigError) << bad;
  }
}

TEST(Config, IamSwitchAndPolicies) {
  EXPECT_TRUE(load_config({}, env_of({})).iam_enforce);
  EXPECT_FALSE(load_config({}, env_of({{"OFFCLOUD_IAM", "off"}})).iam_enforce);
  EXPECT_TRUE(load_config({"--iam", "enforce"}, env_of({{"OFFCLOUD_IAM", "off"}})).iam_enforce);
  EXPECT_THROW(load_config({"--iam", "maybe"}, env_of({})), ConfigError);

  std::string path = (std::filesystem::temp_directory_path() /
                      ("offcloud-config-iam-" + std::to_string(::getpid()) + ".json"))
                         .string();
  auto load_file = [&](const std::string& text) {
    std::ofstream(path) << text;
    return load_config({"--config", path}, env_of({}));
  };
  Config config = load_file(R"({
      "policies": [{"name": "handson", "document": {"Version": "2012-10-17", "Statement": []}}],
      "users": [
        {"name": "student", "attached_policies": ["handson"],
         "policies": [{"name": "own", "document": "{\"Statement\": []}"}]},
        {"name": "legacy"}]})");
  ASSERT_EQ(config.policies.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(config.policies[0].document)["Version"], "2012-10-17");
  ASSERT_EQ(config.users.size(), 2u);
  EXPECT_FALSE(config.users[0].unrestricted);
  EXPECT_EQ(config.users[0].attached_policies, std::vector<std::string>{"handson"});
  EXPECT_EQ(config.users[0].policies[0].document, R"({"Statement": []})");
  EXPECT_TRUE(config.users[1].unrestricted);
  EXPECT_THROW(load_file(R"({"policies": [{"name": "p"}]})"), ConfigError);
  EXPECT_THROW(load_file(R"({"users": [{"name": "u", "attached_policies": "p"}]})"), ConfigError);
  std::remove(path.c_str());
}

TEST(Config, AccountsAndTheirKeys) {
  EXPECT_TRUE(load_config({}, env_of({})).accounts_from_keys);
  EXPECT_FALSE(load_config({"--accounts-from-keys", "false"}, env_of({})).accounts_from_keys);
  EXPECT_FALSE(
      load_config({}, env_of({{"OFFCLOUD_ACCOUNTS_FROM_KEYS", "false"}})).accounts_from_keys);
  EXPECT_THROW(load_config({"--accounts-from-keys", "no"}, env_of({})), ConfigError);

  std::string path = (std::filesystem::temp_directory_path() /
                      ("offcloud-config-accounts-" + std::to_string(::getpid()) + ".json"))
                         .string();
  auto load_file = [&](const std::string& text) {
    std::ofstream(path) << text;
    return load_config({"--config", path}, env_of({}));
  };
  Config config = load_file(R"({"accounts": [
      {"id": "111122223333", "name": "student01", "root_access_key_id": "AKIAROOT",
       "root_secret_access_key": "s", "users": [{"name": "device"}],
       "policies": [{"name": "p", "document": {"Statement": []}}]},
      {"id": "444455556666"}]})");
  ASSERT_EQ(config.accounts.size(), 2u);
  EXPECT_EQ(config.accounts[0].id, "111122223333");
  EXPECT_EQ(config.accounts[0].name, "student01");
  ASSERT_TRUE(config.accounts[0].root_key);
  EXPECT_EQ(config.accounts[0].root_key->access_key_id, "AKIAROOT");
  EXPECT_EQ(config.accounts[0].users[0].name, "device");
  EXPECT_EQ(config.accounts[0].policies[0].name, "p");
  EXPECT_FALSE(config.accounts[1].root_key);
  for (const char* bad : {
           R"({"accounts": {}})",
           R"({"accounts": [{"id": "12345"}]})",
           R"({"accounts": [{"id": "12345678901x"}]})",
           R"({"accounts": [{"id": "000000000000"}]})",
           R"({"accounts": [{"id": "111122223333"}, {"id": "111122223333"}]})",
           R"({"accounts": [{"id": "111122223333", "root_access_key_id": "AKIA"}]})",
           R"({"accounts": [{"id": "111122223333", "colour": "blue"}]})",
           R"({"accounts": [{"id": 111122223333}]})",
           R"({"accounts": [{"id": "111122223333", "root_access_key_id": "test",
                              "root_secret_access_key": "x"}]})",
           R"({"accounts": [{"id": "111122223333", "root_access_key_id": "AKIA1",
                              "root_secret_access_key": "x"},
                             {"id": "444455556666", "root_access_key_id": "AKIA1",
                              "root_secret_access_key": "y"}]})",
       }) {
    EXPECT_THROW(load_file(bad), ConfigError) << bad;
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace offcloud

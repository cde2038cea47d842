// Where a client finds its key, region and endpoint: the same places, in the
// same order, as the aws CLI and the AWS SDKs, so a machine set up for one
// works with the other.
//
// Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
// then the profile's keys in the credentials file (AWS_SHARED_CREDENTIALS_FILE,
// default ~/.aws/credentials), then in the config file (AWS_CONFIG_FILE,
// default ~/.aws/config). The profile is AWS_PROFILE, else "default"; a
// profile named explicitly (a --profile flag) skips the environment's keys.
// Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, else
// us-east-1 (offcloud accepts any region).
// Endpoint: AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_IOT_DATA), then
// AWS_ENDPOINT_URL, then the profile's `endpoint_url`, else offcloud's
// default http://127.0.0.1:4566.
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "client/credentials.h"

namespace offcloud::client {

class ConfigurationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using GetEnv = std::function<const char*(const char*)>;

inline constexpr std::string_view kDefaultEndpoint = "http://127.0.0.1:4566";
inline constexpr std::string_view kDefaultRegion = "us-east-1";

class AwsConfig {
 public:
  // `profile`: named on the command line; empty: AWS_PROFILE or "default".
  explicit AwsConfig(GetEnv getenv, std::string profile = {});

  // Throws ConfigurationError, naming the places it looked, when no key is
  // found or the files are unreadable.
  Credentials credentials() const;
  std::string region() const;
  // `service_env_name`: the service part of AWS_ENDPOINT_URL_<...>, such as
  // "IOT_DATA", "S3", "FIREHOSE".
  std::string endpoint(std::string_view service_env_name) const;
  // Extra certificates to trust for https: AWS_CA_BUNDLE, else the profile's
  // ca_bundle; empty when neither is set.
  std::string ca_bundle() const;

 private:
  using Section = std::map<std::string, std::string>;
  const char* env(const char* name) const;
  std::string file_path(const char* env_name, const char* home_relative) const;
  // The profile's section of the credentials file and of the config file.
  Section credentials_section() const;
  Section config_section() const;

  GetEnv getenv_;
  std::string profile_;
  bool profile_explicit_;
};

// Reads an INI file as the AWS tools do: [section] headers, `key = value`,
// '#' and ';' comments; indented lines (nested settings) are skipped.
// Returns an empty map when the file does not exist.
std::map<std::string, std::map<std::string, std::string>> read_ini_file(const std::string& path);

}  // namespace offcloud::client

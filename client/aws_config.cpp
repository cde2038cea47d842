#include "client/aws_config.h"

#include <fstream>

namespace offcloud::client {
namespace {

std::string trim(std::string_view text) {
  std::size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  std::size_t end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

}  // namespace

std::map<std::string, std::map<std::string, std::string>> read_ini_file(const std::string& path) {
  std::map<std::string, std::map<std::string, std::string>> sections;
  std::ifstream in(path);
  if (!in) return sections;
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == ' ' || line[0] == '\t') continue;
    std::string text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      section = trim(std::string_view(text).substr(1, text.size() - 2));
      sections[section];
      continue;
    }
    std::size_t equals = text.find('=');
    if (equals == std::string::npos || section.empty()) continue;
    sections[section][trim(std::string_view(text).substr(0, equals))] =
        trim(std::string_view(text).substr(equals + 1));
  }
  return sections;
}

AwsConfig::AwsConfig(GetEnv getenv, std::string profile)
    : getenv_(std::move(getenv)),
      profile_(std::move(profile)),
      profile_explicit_(!profile_.empty()) {
  if (profile_.empty()) {
    const char* named = env("AWS_PROFILE");
    if (!named) named = env("AWS_DEFAULT_PROFILE");
    profile_ = named ? named : "default";
  }
}

const char* AwsConfig::env(const char* name) const {
  const char* value = getenv_(name);
  return value && *value ? value : nullptr;
}

std::string AwsConfig::file_path(const char* env_name, const char* home_relative) const {
  if (const char* path = env(env_name)) return path;
  const char* home = env("HOME");
  return home ? std::string(home) + "/" + home_relative : std::string();
}

AwsConfig::Section AwsConfig::credentials_section() const {
  std::string path = file_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
  if (path.empty()) return {};
  auto sections = read_ini_file(path);
  auto it = sections.find(profile_);
  return it == sections.end() ? Section{} : it->second;
}

AwsConfig::Section AwsConfig::config_section() const {
  std::string path = file_path("AWS_CONFIG_FILE", ".aws/config");
  if (path.empty()) return {};
  auto sections = read_ini_file(path);
  // The config file names every profile but the default "profile NAME".
  auto it = sections.find(profile_ == "default" ? profile_ : "profile " + profile_);
  if (it == sections.end() && profile_ == "default") it = sections.find("profile default");
  return it == sections.end() ? Section{} : it->second;
}

Credentials AwsConfig::credentials() const {
  if (!profile_explicit_) {
    const char* key = env("AWS_ACCESS_KEY_ID");
    const char* secret = env("AWS_SECRET_ACCESS_KEY");
    if (key && secret) {
      const char* token = env("AWS_SESSION_TOKEN");
      return {key, secret, token ? token : ""};
    }
  }
  for (const Section& section : {credentials_section(), config_section()}) {
    auto key = section.find("aws_access_key_id");
    auto secret = section.find("aws_secret_access_key");
    if (key != section.end() && secret != section.end()) {
      auto token = section.find("aws_session_token");
      return {key->second, secret->second, token == section.end() ? "" : token->second};
    }
  }
  throw ConfigurationError(
      "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give profile '" +
      profile_ + "' aws_access_key_id and aws_secret_access_key in " +
      file_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"));
}

std::string AwsConfig::region() const {
  if (const char* region = env("AWS_REGION")) return region;
  if (const char* region = env("AWS_DEFAULT_REGION")) return region;
  Section section = config_section();
  auto it = section.find("region");
  return it != section.end() ? it->second : std::string(kDefaultRegion);
}

std::string AwsConfig::endpoint(std::string_view service_env_name) const {
  std::string specific = "AWS_ENDPOINT_URL_" + std::string(service_env_name);
  if (const char* url = env(specific.c_str())) return url;
  if (const char* url = env("AWS_ENDPOINT_URL")) return url;
  Section section = config_section();
  auto it = section.find("endpoint_url");
  return it != section.end() ? it->second : std::string(kDefaultEndpoint);
}

std::string AwsConfig::ca_bundle() const {
  if (const char* path = env("AWS_CA_BUNDLE")) return path;
  Section section = config_section();
  auto it = section.find("ca_bundle");
  return it != section.end() ? it->second : std::string();
}

}  // namespace offcloud::client

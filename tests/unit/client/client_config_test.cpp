// Where the client finds key, region and endpoint (client/aws_config.h),
// endpoint URLs, percent-encoding, and reading AWS error responses.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "client/aws_client.h"
#include "client/aws_config.h"
#include "client/endpoint.h"
#include "client/uri_encoding.h"

namespace offcloud::client {
namespace {

namespace fs = std::filesystem;

class AwsConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("offcloud-client-config-" + std::to_string(getpid()));
    fs::create_directories(dir_ / ".aws");
    env_["HOME"] = dir_.string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / ".aws" / name) << text;
  }

  AwsConfig config(std::string profile = {}) {
    return AwsConfig(
        [this](const char* name) -> const char* {
          auto it = env_.find(name);
          return it == env_.end() ? nullptr : it->second.c_str();
        },
        std::move(profile));
  }

  fs::path dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(AwsConfigTest, EnvironmentKeysComeFirst) {
  write("credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = f\n");
  env_["AWS_ACCESS_KEY_ID"] = "ENVKEY";
  env_["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  env_["AWS_SESSION_TOKEN"] = "env-token";
  Credentials credentials = config().credentials();
  EXPECT_EQ(credentials.access_key_id, "ENVKEY");
  EXPECT_EQ(credentials.secret_access_key, "env-secret");
  EXPECT_EQ(credentials.session_token, "env-token");
  // A profile named on the command line means that profile's key.
  EXPECT_EQ(config("default").credentials().access_key_id, "FILEKEY");
}

TEST_F(AwsConfigTest, ProfilesFromTheCredentialsAndConfigFiles) {
  write("credentials",
        "# students\n[default]\naws_access_key_id=DEFAULTKEY\naws_secret_access_key=d\n"
        "[student1]\n  aws_access_key_id = S1KEY \naws_access_key_id = S1KEY\n"
        "aws_secret_access_key = s1 secret\naws_session_token = s1token\n");
  write("config",
        "[default]\nregion = eu-west-1\n[profile student1]\nregion = ap-northeast-1\n"
        "endpoint_url = http://10.0.0.5:4566\ns3 =\n  addressing_style = path\n"
        "[profile keys-here]\naws_access_key_id = CFGKEY\naws_secret_access_key = c\n");
  EXPECT_EQ(config().credentials().access_key_id, "DEFAULTKEY");
  EXPECT_EQ(config().region(), "eu-west-1");
  env_["AWS_PROFILE"] = "student1";
  Credentials credentials = config().credentials();
  EXPECT_EQ(credentials.access_key_id, "S1KEY");
  EXPECT_EQ(credentials.secret_access_key, "s1 secret");
  EXPECT_EQ(credentials.session_token, "s1token");
  EXPECT_EQ(config().region(), "ap-northeast-1");
  EXPECT_EQ(config().endpoint("IOT_DATA"), "http://10.0.0.5:4566");
  EXPECT_EQ(config("keys-here").credentials().access_key_id, "CFGKEY");
}

TEST_F(AwsConfigTest, FileLocationsFromTheEnvironment) {
  std::ofstream(dir_ / "creds")
      << "[default]\naws_access_key_id=ELSEWHERE\naws_secret_access_key=e\n";
  env_["AWS_SHARED_CREDENTIALS_FILE"] = (dir_ / "creds").string();
  EXPECT_EQ(config().credentials().access_key_id, "ELSEWHERE");
}

TEST_F(AwsConfigTest, MissingCredentialsSayWhereItLooked) {
  try {
    config().credentials();
    FAIL() << "no exception";
  } catch (const ConfigurationError& e) {
    EXPECT_NE(std::string(e.what()).find("AWS_ACCESS_KEY_ID"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(".aws/credentials"), std::string::npos) << e.what();
  }
}

TEST_F(AwsConfigTest, RegionOrder) {
  write("config", "[default]\nregion = eu-west-1\n");
  env_["AWS_DEFAULT_REGION"] = "us-west-2";
  EXPECT_EQ(config().region(), "us-west-2");
  env_["AWS_REGION"] = "ap-northeast-1";
  EXPECT_EQ(config().region(), "ap-northeast-1");
  env_.clear();
  EXPECT_EQ(config().region(), kDefaultRegion);
}

TEST_F(AwsConfigTest, EndpointOrder) {
  EXPECT_EQ(config().endpoint("IOT_DATA"), kDefaultEndpoint);
  env_["AWS_ENDPOINT_URL"] = "http://general:1";
  EXPECT_EQ(config().endpoint("IOT_DATA"), "http://general:1");
  env_["AWS_ENDPOINT_URL_IOT_DATA"] = "http://iot:2";
  EXPECT_EQ(config().endpoint("IOT_DATA"), "http://iot:2");
  EXPECT_EQ(config().endpoint("S3"), "http://general:1");
}

TEST_F(AwsConfigTest, CaBundleFromTheEnvironmentThenTheProfile) {
  EXPECT_EQ(config().ca_bundle(), "");
  write("config", "[default]\nca_bundle = /etc/ssl/classroom.pem\n");
  EXPECT_EQ(config().ca_bundle(), "/etc/ssl/classroom.pem");
  env_["AWS_CA_BUNDLE"] = "/tmp/other.pem";
  EXPECT_EQ(config().ca_bundle(), "/tmp/other.pem");
}

TEST(Endpoint, ParsesWhatUsersWrite) {
  Endpoint local = parse_endpoint("http://127.0.0.1:4566/");
  EXPECT_FALSE(local.tls);
  EXPECT_EQ(local.host, "127.0.0.1");
  EXPECT_EQ(local.port, 4566);
  EXPECT_EQ(local.host_header(), "127.0.0.1:4566");
  Endpoint secure = parse_endpoint("https://iot.example.com");
  EXPECT_TRUE(secure.tls);
  EXPECT_EQ(secure.port, 443);
  EXPECT_EQ(secure.host_header(), "iot.example.com");
  Endpoint v6 = parse_endpoint("http://[::1]:8080");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.host_header(), "[::1]:8080");
  EXPECT_EQ(v6.url(), "http://[::1]:8080");
  for (const char* bad : {"127.0.0.1:4566", "ftp://x", "http://", "http://h:0", "http://h:99999",
                          "http://h:12x", "http://h/path"}) {
    EXPECT_THROW(parse_endpoint(bad), std::invalid_argument) << bad;
  }
}

TEST(UriEncoding, UnreservedStayEverythingElseIsUpperHex) {
  EXPECT_EQ(uri_encode("aZ09-._~ /+=ü", false), "aZ09-._~%20%2F%2B%3D%C3%BC");
  EXPECT_EQ(uri_encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(percent_decode("a%20b%2fc+%zz%4"), "a b/c+%zz%4");
}

Response response(int status, Fields headers, std::string body) {
  Response r;
  r.status = status;
  r.headers = std::move(headers);
  r.body = std::move(body);
  return r;
}

TEST(ServiceErrors, ReadFromEveryProtocol) {
  ServiceError rest_json = parse_service_error(
      response(403, {{"x-amzn-ErrorType", "ForbiddenException:http://internal.amazon.com/"}},
               R"({"message":"no"})"));
  EXPECT_EQ(rest_json.code(), "ForbiddenException");
  EXPECT_EQ(rest_json.message(), "no");
  EXPECT_EQ(rest_json.status(), 403);
  ServiceError json = parse_service_error(response(
      400, {}, R"({"__type":"com.amazonaws#ResourceNotFoundException","message":"gone"})"));
  EXPECT_EQ(json.code(), "ResourceNotFoundException");
  ServiceError xml = parse_service_error(response(
      404, {},
      "<?xml version=\"1.0\"?>\n<Error><Code>NoSuchKey</Code><Message>nope</Message></Error>"));
  EXPECT_EQ(xml.code(), "NoSuchKey");
  EXPECT_EQ(xml.message(), "nope");
  EXPECT_EQ(parse_service_error(response(502, {}, "")).code(), "HTTP 502");
}

TEST(ServiceErrors, WhatIsRetried) {
  EXPECT_TRUE(is_retryable(response(503, {}, "")));
  EXPECT_TRUE(is_retryable(response(429, {}, "")));
  EXPECT_TRUE(is_retryable(response(400, {}, R"({"__type":"ThrottlingException"})")));
  EXPECT_TRUE(is_retryable(response(503, {}, "<Error><Code>SlowDown</Code></Error>")));
  EXPECT_FALSE(is_retryable(response(403, {}, R"({"__type":"InvalidSignatureException"})")));
  EXPECT_FALSE(is_retryable(response(200, {}, "")));
}

}  // namespace
}  // namespace offcloud::client

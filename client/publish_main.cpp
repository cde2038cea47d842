// offcloud-publish: publishes to an AWS IoT topic from a shell or a device
// script, with the key, region and endpoint found where the aws CLI finds
// them (client/aws_config.h).
//
//   offcloud-publish --topic handson/analysisLogData '{"face_id": 0}'
//   offcloud-publish --topic t --file payload.bin
//   producer | offcloud-publish --topic t      # one message per line
//
// Lines from stdin all go over one kept-alive connection. Exit status: 0
// every message was accepted, 1 the service refused one, 2 bad usage, 3 the
// endpoint could not be reached, 4 no credentials or configuration.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "client/aws_config.h"
#include "client/iot_data_client.h"

namespace offcloud::client {
namespace {

constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;
constexpr int kExitConfiguration = 4;

constexpr const char* kUsage =
    "usage: offcloud-publish --topic TOPIC [options] [PAYLOAD]\n"
    "Publishes PAYLOAD, or the file given by --file, or else each line of stdin\n"
    "(empty lines skipped) over one connection, to an AWS IoT topic.\n"
    "  --topic TOPIC      topic to publish to (required)\n"
    "  --qos 0|1          MQTT quality of service (default 0)\n"
    "  --retain           keep the message as the topic's retained message\n"
    "  --file PATH        send the file's bytes as one message\n"
    "  --endpoint URL     default: AWS_ENDPOINT_URL_IOT_DATA, AWS_ENDPOINT_URL,\n"
    "                     the profile's endpoint_url, http://127.0.0.1:4566\n"
    "  --region REGION    default: AWS_REGION, AWS_DEFAULT_REGION, the profile's\n"
    "  --profile NAME     use this profile's key from ~/.aws, not the environment's\n"
    "  --no-verify-ssl    accept any https certificate (AWS_CA_BUNDLE adds trusted ones)\n"
    "Exit status: 0 published, 1 refused by the service, 2 bad usage,\n"
    "3 endpoint unreachable, 4 no credentials.\n";

struct Options {
  std::string topic;
  int qos = 0;
  bool retain = false;
  std::optional<std::string> payload;
  std::optional<std::string> file;
  std::string endpoint;
  std::string region;
  std::string profile;
  bool verify_ssl = true;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Options parse_args(int argc, char** argv) {
  Options options;
  bool have_topic = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "--topic") {
      options.topic = value();
      have_topic = true;
    } else if (arg == "--qos") {
      std::string qos = value();
      if (qos != "0" && qos != "1") throw UsageError("--qos must be 0 or 1");
      options.qos = qos[0] - '0';
    } else if (arg == "--retain") {
      options.retain = true;
    } else if (arg == "--file") {
      options.file = value();
    } else if (arg == "--endpoint" || arg == "--endpoint-url") {
      options.endpoint = value();
    } else if (arg == "--region") {
      options.region = value();
    } else if (arg == "--profile") {
      options.profile = value();
    } else if (arg == "--no-verify-ssl") {
      options.verify_ssl = false;
    } else if (arg.starts_with("--")) {
      throw UsageError("unknown option " + arg);
    } else if (options.payload) {
      throw UsageError("more than one payload argument (quote the JSON)");
    } else {
      options.payload = arg;
    }
  }
  if (!have_topic) throw UsageError("--topic is required");
  if (options.payload && options.file) throw UsageError("give a payload or --file, not both");
  return options;
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// The error in words that point at the fix.
std::string explain(const ServiceError& error, const Credentials& credentials) {
  std::string text =
      error.code() + " (HTTP " + std::to_string(error.status()) + "): " + error.message();
  if (error.code() == "UnrecognizedClientException") {
    text += "\n  the server knows no access key '" + credentials.access_key_id +
            "': check AWS_ACCESS_KEY_ID or the profile";
  } else if (error.code() == "InvalidSignatureException") {
    text += "\n  the secret does not match access key '" + credentials.access_key_id +
            "': check AWS_SECRET_ACCESS_KEY or the profile";
  } else if (error.code() == "ForbiddenException") {
    text += "\n  access key '" + credentials.access_key_id + "' may not publish to this topic";
  }
  return text;
}

int run(int argc, char** argv) {
  Options options;
  try {
    options = parse_args(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "offcloud-publish: " << e.what() << "\n" << kUsage;
    return kExitUsage;
  }
  Credentials credentials;
  Endpoint endpoint;
  std::string region;
  ClientOptions client_options;
  client_options.connection.verify_tls = options.verify_ssl;
  try {
    AwsConfig config(&std::getenv, options.profile);
    credentials = config.credentials();
    region = options.region.empty() ? config.region() : options.region;
    endpoint =
        parse_endpoint(options.endpoint.empty() ? config.endpoint("IOT_DATA") : options.endpoint);
    client_options.connection.ca_file = config.ca_bundle();
  } catch (const std::exception& e) {
    std::cerr << "offcloud-publish: " << e.what() << "\n";
    return kExitConfiguration;
  }

  IotDataClient client(endpoint, credentials, region, client_options);
  long published = 0;
  auto publish = [&](std::string_view payload) {
    client.publish(options.topic, payload, options.qos, options.retain);
    ++published;
  };
  try {
    if (options.payload) {
      publish(*options.payload);
    } else if (options.file) {
      publish(read_whole_file(*options.file));
    } else {
      std::string line;
      while (std::getline(std::cin, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!line.empty()) publish(line);
      }
    }
  } catch (const UsageError& e) {
    std::cerr << "offcloud-publish: " << e.what() << "\n";
    return kExitUsage;
  } catch (const ServiceError& e) {
    std::cerr << "offcloud-publish: " << endpoint.url() << " refused message " << published + 1
              << ": " << explain(e, credentials) << "\n";
    return kExitRefused;
  } catch (const TransportError& e) {
    std::cerr << "offcloud-publish: " << e.what() << " (is offcloud running at " << endpoint.url()
              << "?)\n";
    return kExitUnreachable;
  }
  return 0;
}

}  // namespace
}  // namespace offcloud::client

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // OpenSSL writes to the socket without MSG_NOSIGNAL
  return offcloud::client::run(argc, argv);
}

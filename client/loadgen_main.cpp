// offcloud-loadgen: drives one workload at a fixed concurrency, each thread
// with its own kept-alive connection and no retries (a retry would hide what
// is being measured), for a number of requests or a time, then prints
// requests/s, latency percentiles and how many answers were 2xx.
//
//   offcloud-loadgen --workload iot --concurrency 8 --requests 10000
//   offcloud-loadgen --workload s3-put --size 1048576 --duration 10
//
// The MQTT workloads (client/mqtt_load.h) run many connections on a few
// threads instead, and measure what subscribers receive:
//
//   offcloud-loadgen --workload mqtt-fan-in --endpoint mqtt://127.0.0.1:1883 --qos 1
//   offcloud-loadgen --workload mqtt-connect --endpoint mqtts://127.0.0.1:8883
//       --ca root-CA.pem --cert device.pem.crt --key private.pem.key
//
// Exit status: 0 every request got a 2xx, 1 some did not, 2 bad usage or
// setup failure.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/aws_config.h"
#include "client/firehose_client.h"
#include "client/iot_data_client.h"
#include "client/mqtt_load.h"
#include "client/s3_client.h"
#include "storage/digest.h"

namespace offcloud::client {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: offcloud-loadgen --workload iot|firehose|s3-put|s3-get [options]\n"
    "       offcloud-loadgen --workload mqtt-fan-in|mqtt-fan-out|mqtt-idle|mqtt-connect\n"
    "                        --endpoint mqtt://HOST:PORT | mqtts://HOST:PORT [options]\n"
    "  --concurrency N    threads, each with its own connection (default 4)\n"
    "  --requests N       stop after N requests in all (default 1000)\n"
    "  --duration S       or stop after S seconds\n"
    "  --size BYTES       payload, record or object size (default 256)\n"
    "  --batch N          records per Firehose PutRecordBatch (default 10)\n"
    "  --qos 0|1          IoT publish QoS (default 0)\n"
    "  --topic T          IoT topic (default loadgen/test)\n"
    "  --bucket B         S3 bucket, and Firehose's destination (default offcloud-loadgen)\n"
    "  --stream S         Firehose delivery stream (default offcloud-loadgen)\n"
    "  --no-setup         do not create the bucket, stream or GET object first\n"
    "  --status-only      judge answers by status alone, not FailedPutCount: for a\n"
    "                     baseline server that answers anything with 200\n"
    "  --json             print the results as one JSON object\n"
    "  --no-verify-ssl    accept any https certificate (AWS_CA_BUNDLE adds trusted ones)\n"
    "  --endpoint URL, --region R, --profile P   as the aws CLI finds them by default\n"
    "MQTT (MQTT 3.1.1; over mqtt:// the user name and password are the access key id\n"
    "and secret, if any; over mqtts://, mutual TLS 1.2+, none: the certificate is all):\n"
    "  --ca FILE          mqtts: the CA (PEM) the broker's certificate must chain to;\n"
    "                     its name must match HOST\n"
    "  --cert FILE        mqtts: the client certificate (PEM), every connection's\n"
    "  --key FILE         mqtts: its private key (PEM)\n"
    "  mqtt-fan-in        publishers, each on its own topic, to subscribers of \"#\"\n"
    "  mqtt-fan-out       publishers on one topic to its subscribers\n"
    "  mqtt-idle          --connections that connect, then keep alive for --duration\n"
    "  mqtt-connect       --connections opened at once: connect times (TCP to CONNACK)\n"
    "  --publishers N     (fan-in 100, fan-out 1)\n"
    "  --subscribers N    (fan-in 1, fan-out 100)\n"
    "  --connections N    idle and connect (default 1000)\n"
    "  --messages N       per publisher; without it publishers run --duration (10 s)\n"
    "  --qos 0|1          publish and subscribe QoS\n"
    "  --inflight N       QoS 1 PUBLISHes awaiting PUBACK per publisher (default 10)\n"
    "  --max-lag N        messages per publisher some subscriber has not had yet\n"
    "                     (default 100; 0: unbounded)\n"
    "  --threads N        client threads (default 1)\n"
    "  --keep-alive S     CONNECT's keep-alive (default 60)\n"
    "  --connect-parallelism N   idle: connects outstanding at once (default 256)\n"
    "  --size BYTES       payload (at least 24, its header)\n";

enum class Workload { kIot, kFirehose, kS3Put, kS3Get, kMqtt };

struct Options {
  Workload workload = Workload::kIot;
  std::string workload_name = "iot";
  int concurrency = 4;
  long requests = 1000;
  double duration_s = 0;  // > 0: time-bound instead of count-bound
  std::size_t size = 256;
  int batch = 10;
  int qos = 0;
  std::string topic = "loadgen/test";
  std::string bucket = "offcloud-loadgen";
  std::string stream = "offcloud-loadgen";
  bool setup = true;
  bool status_only = false;
  bool json = false;
  bool verify_ssl = true;
  std::string endpoint, region, profile;
  // MQTT: -1 is the workload's default.
  MqttScenario mqtt_scenario = MqttScenario::kFanIn;
  int publishers = -1, subscribers = -1;
  int connections = 1000;
  long messages = 0;
  int inflight = 10;
  int max_lag = 100;
  int threads = 1;
  int keep_alive_s = 60;
  int connect_parallelism = 256;
  std::string ca_file, cert_file, key_file;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

long parse_number(const std::string& name, const std::string& text, long min) {
  char* end = nullptr;
  long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < min) {
    throw UsageError(name + " needs a whole number >= " + std::to_string(min));
  }
  return value;
}

Options parse_args(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw UsageError(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "--workload") {
      options.workload_name = value();
      static const std::map<std::string, Workload> kWorkloads = {{"iot", Workload::kIot},
                                                                 {"firehose", Workload::kFirehose},
                                                                 {"s3-put", Workload::kS3Put},
                                                                 {"s3-get", Workload::kS3Get}};
      static const std::map<std::string, MqttScenario> kMqtt = {
          {"mqtt-fan-in", MqttScenario::kFanIn},
          {"mqtt-fan-out", MqttScenario::kFanOut},
          {"mqtt-idle", MqttScenario::kIdle},
          {"mqtt-connect", MqttScenario::kConnectStorm}};
      auto it = kWorkloads.find(options.workload_name);
      auto mqtt = kMqtt.find(options.workload_name);
      if (it != kWorkloads.end()) {
        options.workload = it->second;
      } else if (mqtt != kMqtt.end()) {
        options.workload = Workload::kMqtt;
        options.mqtt_scenario = mqtt->second;
      } else {
        throw UsageError("unknown workload " + options.workload_name);
      }
    } else if (arg == "--concurrency") {
      options.concurrency = static_cast<int>(parse_number(arg, value(), 1));
    } else if (arg == "--requests") {
      options.requests = parse_number(arg, value(), 1);
    } else if (arg == "--duration") {
      std::string text = value();
      char* end = nullptr;
      options.duration_s = std::strtod(text.c_str(), &end);
      if (*end != '\0' || !(options.duration_s > 0)) throw UsageError("--duration needs seconds");
    } else if (arg == "--size") {
      options.size = static_cast<std::size_t>(parse_number(arg, value(), 0));
    } else if (arg == "--batch") {
      options.batch = static_cast<int>(parse_number(arg, value(), 1));
      if (options.batch > 500) throw UsageError("--batch is at most 500, as on AWS");
    } else if (arg == "--qos") {
      options.qos = static_cast<int>(parse_number(arg, value(), 0));
      if (options.qos > 1) throw UsageError("--qos must be 0 or 1");
    } else if (arg == "--topic") {
      options.topic = value();
    } else if (arg == "--bucket") {
      options.bucket = value();
    } else if (arg == "--stream") {
      options.stream = value();
    } else if (arg == "--no-setup") {
      options.setup = false;
    } else if (arg == "--status-only") {
      options.status_only = true;
    } else if (arg == "--json") {
      options.json = true;
    } else if (arg == "--endpoint" || arg == "--endpoint-url") {
      options.endpoint = value();
    } else if (arg == "--region") {
      options.region = value();
    } else if (arg == "--profile") {
      options.profile = value();
    } else if (arg == "--no-verify-ssl") {
      options.verify_ssl = false;
    } else if (arg == "--publishers") {
      options.publishers = static_cast<int>(parse_number(arg, value(), 1));
    } else if (arg == "--subscribers") {
      options.subscribers = static_cast<int>(parse_number(arg, value(), 1));
    } else if (arg == "--connections") {
      options.connections = static_cast<int>(parse_number(arg, value(), 1));
    } else if (arg == "--messages") {
      options.messages = parse_number(arg, value(), 1);
    } else if (arg == "--inflight") {
      options.inflight = static_cast<int>(parse_number(arg, value(), 1));
      if (options.inflight > 65535) throw UsageError("--inflight is at most 65535");
    } else if (arg == "--max-lag") {
      options.max_lag = static_cast<int>(parse_number(arg, value(), 0));
    } else if (arg == "--threads") {
      options.threads = static_cast<int>(parse_number(arg, value(), 1));
    } else if (arg == "--keep-alive") {
      options.keep_alive_s = static_cast<int>(parse_number(arg, value(), 0));
      if (options.keep_alive_s > 65535) throw UsageError("--keep-alive is at most 65535");
    } else if (arg == "--ca") {
      options.ca_file = value();
    } else if (arg == "--cert") {
      options.cert_file = value();
    } else if (arg == "--key") {
      options.key_file = value();
    } else if (arg == "--connect-parallelism") {
      options.connect_parallelism = static_cast<int>(parse_number(arg, value(), 0));
    } else {
      throw UsageError("unknown argument " + arg);
    }
  }
  return options;
}

std::string payload_of_size(std::size_t size) {
  const std::string prefix = "{\"loadgen\":\"", suffix = "\"}";
  if (size < prefix.size() + suffix.size()) return std::string(size, 'x');
  return prefix + std::string(size - prefix.size() - suffix.size(), 'x') + suffix;
}

const char* service_of(Workload workload) {
  switch (workload) {
    case Workload::kIot:
      return "iotdata";
    case Workload::kFirehose:
      return "firehose";
    default:
      return "s3";
  }
}

const char* endpoint_env_name(Workload workload) {
  switch (workload) {
    case Workload::kIot:
      return "IOT_DATA";
    case Workload::kFirehose:
      return "FIREHOSE";
    default:
      return "S3";
  }
}

struct Target {
  Endpoint endpoint;
  Credentials credentials;
  std::string region;
  ConnectionOptions connection;
};

// What one thread saw.
struct Tally {
  std::vector<double> latencies_ms;
  long ok = 0;                         // 2xx
  long refused = 0;                    // any other status
  long failed = 0;                     // no response
  long failed_records = 0;             // Firehose FailedPutCount, summed
  std::map<std::string, long> errors;  // code or message -> count
};

class LoadGenerator {
 public:
  LoadGenerator(Options options, Target target)
      : options_(std::move(options)), target_(std::move(target)) {}

  void prepare() {
    if (!options_.setup) return;
    ClientOptions client_options;
    client_options.connection = target_.connection;
    if (options_.workload == Workload::kFirehose) {
      S3Client(target_.endpoint, target_.credentials, target_.region, client_options)
          .create_bucket(options_.bucket);
      FirehoseClient(target_.endpoint, target_.credentials, target_.region, client_options)
          .create_delivery_stream(options_.stream, options_.bucket);
    } else if (options_.workload == Workload::kS3Put || options_.workload == Workload::kS3Get) {
      S3Client s3(target_.endpoint, target_.credentials, target_.region, client_options);
      s3.create_bucket(options_.bucket);
      if (options_.workload == Workload::kS3Get) {
        s3.put_object(options_.bucket, "loadgen/object", std::string(options_.size, 'x'));
      }
    }
  }

  void run() {
    started_ = Clock::now();
    deadline_ = started_ + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(options_.duration_s));
    tallies_.resize(options_.concurrency);
    std::vector<std::thread> workers;
    for (int i = 0; i < options_.concurrency; ++i) {
      workers.emplace_back([this, i] { work(i, &tallies_[i]); });
    }
    std::thread progress;
    if (isatty(STDOUT_FILENO)) progress = std::thread([this] { show_progress(); });
    for (auto& worker : workers) worker.join();
    elapsed_s_ = std::chrono::duration<double>(Clock::now() - started_).count();
    done_ = true;
    if (progress.joinable()) progress.join();
  }

  bool report() const {
    Tally total;
    for (const Tally& tally : tallies_) {
      total.latencies_ms.insert(total.latencies_ms.end(), tally.latencies_ms.begin(),
                                tally.latencies_ms.end());
      total.ok += tally.ok;
      total.refused += tally.refused;
      total.failed += tally.failed;
      total.failed_records += tally.failed_records;
      for (const auto& [error, count] : tally.errors) total.errors[error] += count;
    }
    std::sort(total.latencies_ms.begin(), total.latencies_ms.end());
    auto percentile = [&](double q) {
      if (total.latencies_ms.empty()) return 0.0;
      std::size_t rank = static_cast<std::size_t>(std::ceil(q * total.latencies_ms.size()));
      return total.latencies_ms[std::max<std::size_t>(rank, 1) - 1];
    };
    long requests = total.ok + total.refused + total.failed;
    double rate = elapsed_s_ > 0 ? requests / elapsed_s_ : 0;
    char line[512];
    if (options_.json) {
      std::string errors;
      for (const auto& [error, count] : total.errors) {
        errors += (errors.empty() ? "" : ",") + json_string(error) + ":" + std::to_string(count);
      }
      std::snprintf(line, sizeof line,
                    "{\"workload\":\"%s\",\"concurrency\":%d,\"requests\":%ld,\"seconds\":%.3f,"
                    "\"requests_per_s\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
                    "\"ok_2xx\":%ld,\"non_2xx\":%ld,\"no_response\":%ld,\"failed_records\":%ld,",
                    options_.workload_name.c_str(), options_.concurrency, requests, elapsed_s_,
                    rate, percentile(0.5), percentile(0.9), percentile(0.99), total.ok,
                    total.refused, total.failed, total.failed_records);
      std::cout << line << "\"errors\":{" << errors << "}}\n";
    } else {
      std::snprintf(line, sizeof line,
                    "workload %s, concurrency %d: %ld requests in %.2f s\n"
                    "requests/s: %.1f\n"
                    "latency ms: p50 %.2f  p90 %.2f  p99 %.2f\n"
                    "2xx: %ld  other status: %ld  no response: %ld\n",
                    options_.workload_name.c_str(), options_.concurrency, requests, elapsed_s_,
                    rate, percentile(0.5), percentile(0.9), percentile(0.99), total.ok,
                    total.refused, total.failed);
      std::cout << line;
      if (options_.workload == Workload::kFirehose) {
        std::cout << "records: " << total.ok * options_.batch - total.failed_records
                  << " accepted, " << total.failed_records << " failed (FailedPutCount)\n";
      }
      for (const auto& [error, count] : total.errors)
        std::cout << "  " << count << " x " << error << "\n";
    }
    return total.refused == 0 && total.failed == 0 && total.failed_records == 0;
  }

 private:
  static std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
      out += c;
    }
    return out + "\"";
  }

  bool claim() {
    if (options_.duration_s > 0) return Clock::now() < deadline_;
    return next_.fetch_add(1) < options_.requests;
  }

  Request make_request(int thread, long sequence) const {
    switch (options_.workload) {
      case Workload::kIot:
        return publish_request(options_.topic, payload_, options_.qos, false);
      case Workload::kFirehose:
        return put_record_batch_request(options_.stream, records_);
      case Workload::kS3Put:
        return put_object_request(
            options_.bucket, "loadgen/" + std::to_string(thread) + "/" + std::to_string(sequence),
            object_);
      case Workload::kS3Get:
      case Workload::kMqtt:  // run_mqtt()'s, never here
        break;
    }
    return get_object_request(options_.bucket, "loadgen/object");
  }

  void work(int thread, Tally* tally) {
    ClientOptions client_options;
    client_options.connection = target_.connection;
    client_options.retry.max_attempts = 1;
    AwsClient client(target_.endpoint, target_.credentials, target_.region,
                     service_of(options_.workload), client_options);
    SignOptions sign_options =
        options_.workload == Workload::kS3Put || options_.workload == Workload::kS3Get
            ? s3_sign_options()
            : SignOptions{};
    // Every request of a workload carries the same body, and all but S3 PUT's
    // (a key each) are the same request: built and hashed once, as a replayed
    // request is, so the client's JSON and SHA-256 are not what is measured.
    const Request first = make_request(thread, 0);
    sign_options.payload_hash = sha256_hex(first.body);
    for (long sequence = 0; claim(); ++sequence) {
      Request request =
          options_.workload == Workload::kS3Put ? make_request(thread, sequence) : first;
      auto sent = Clock::now();
      try {
        Response response = client.send(std::move(request), sign_options);
        tally->latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
        if (response.status >= 200 && response.status < 300) {
          ++tally->ok;
          if (options_.workload == Workload::kFirehose && !options_.status_only) {
            int failed = failed_put_count(response);
            tally->failed_records += failed < 0 ? options_.batch : failed;
          }
        } else {
          ++tally->refused;
          ++tally->errors[parse_service_error(response).what()];
        }
      } catch (const TransportError& e) {
        ++tally->failed;
        ++tally->errors[e.what()];
      }
      completed_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void show_progress() {
    while (!done_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
      long count = completed_.load();
      std::fprintf(stdout, "\r%ld requests, %.0f/s, %.1f s   ", count,
                   seconds > 0 ? count / seconds : 0.0, seconds);
      std::fflush(stdout);
    }
    std::fprintf(stdout, "\r%60s\r", "");
    std::fflush(stdout);
  }

  Options options_;
  Target target_;
  std::string payload_ = payload_of_size(options_.size);
  std::string object_ = std::string(options_.size, 'x');
  std::vector<std::string> records_ =
      std::vector<std::string>(options_.batch, payload_of_size(options_.size) + "\n");
  Clock::time_point started_, deadline_;
  std::atomic<long> next_{0};
  std::atomic<long> completed_{0};
  std::atomic<bool> done_{false};
  double elapsed_s_ = 0;
  std::vector<Tally> tallies_;
};

// The MQTT workloads: their own engine (client/mqtt_load.cpp).
int run_mqtt(const Options& options) {
  MqttLoadOptions mqtt;
  try {
    if (options.endpoint.empty())
      throw UsageError("MQTT workloads need --endpoint mqtt://HOST:PORT");
    parse_mqtt_endpoint(options.endpoint, &mqtt);
    if (mqtt.transport == MqttTransport::kTls) {
      if (options.ca_file.empty() || options.cert_file.empty() || options.key_file.empty()) {
        throw UsageError("mqtts:// needs --ca, --cert and --key");
      }
      mqtt.ca_file = options.ca_file;
      mqtt.cert_file = options.cert_file;
      mqtt.key_file = options.key_file;
    } else if (!options.ca_file.empty() || !options.cert_file.empty() ||
               !options.key_file.empty()) {
      throw UsageError("--ca, --cert and --key are for mqtts:// endpoints");
    }
    if (mqtt.transport == MqttTransport::kTcp) {
      try {
        Credentials credentials = AwsConfig(&std::getenv, options.profile).credentials();
        mqtt.username = credentials.access_key_id;
        mqtt.password = credentials.secret_access_key;
      } catch (const ConfigurationError&) {
        // No key anywhere: an anonymous CONNECT (a broker may allow it).
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "offcloud-loadgen: " << e.what() << "\n";
    if (dynamic_cast<const UsageError*>(&e)) std::cerr << kUsage;
    return 2;
  }
  bool fan_in = options.mqtt_scenario == MqttScenario::kFanIn;
  mqtt.scenario = options.mqtt_scenario;
  mqtt.name = options.workload_name;
  mqtt.publishers = options.publishers > 0 ? options.publishers : fan_in ? 100 : 1;
  mqtt.subscribers = options.subscribers > 0 ? options.subscribers : fan_in ? 1 : 100;
  mqtt.connections = options.connections;
  mqtt.qos = options.qos;
  mqtt.size = options.size;
  mqtt.inflight = options.inflight;
  mqtt.max_lag = options.max_lag;
  mqtt.messages = options.messages;
  // Count-bound runs get a minute at most; time-bound ones 10 s by default.
  mqtt.duration_s = options.duration_s > 0 ? options.duration_s : options.messages ? 60 : 10;
  mqtt.threads = options.threads;
  mqtt.keep_alive_s = static_cast<std::uint16_t>(options.keep_alive_s);
  mqtt.connect_parallelism = options.connect_parallelism;
  mqtt.json = options.json;
  return run_mqtt_load(mqtt, std::cout, std::cerr);
}

int run(int argc, char** argv) {
  Options options;
  Target target;
  try {
    options = parse_args(argc, argv);
    if (options.workload == Workload::kMqtt) return run_mqtt(options);
    AwsConfig config(&std::getenv, options.profile);
    target.credentials = config.credentials();
    target.region = options.region.empty() ? config.region() : options.region;
    target.endpoint = parse_endpoint(options.endpoint.empty()
                                         ? config.endpoint(endpoint_env_name(options.workload))
                                         : options.endpoint);
    target.connection.verify_tls = options.verify_ssl;
    target.connection.ca_file = config.ca_bundle();
  } catch (const std::exception& e) {
    std::cerr << "offcloud-loadgen: " << e.what() << "\n";
    if (dynamic_cast<const UsageError*>(&e)) std::cerr << kUsage;
    return 2;
  }
  LoadGenerator generator(options, target);
  try {
    generator.prepare();
  } catch (const std::exception& e) {
    std::cerr << "offcloud-loadgen: setup failed: " << e.what() << "\n";
    return 2;
  }
  generator.run();
  return generator.report() ? 0 : 1;
}

}  // namespace
}  // namespace offcloud::client

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // OpenSSL writes to the socket without MSG_NOSIGNAL
  return offcloud::client::run(argc, argv);
}

// Firehose's JSON API, through the real FirehoseService over DeliveryStreams
// and its durable buffer in a scratch directory. The input is the operation
// name (what follows "Firehose_20150804." in X-Amz-Target), a newline, then
// the JSON body. A stream "fuzz-stream" exists before each input, as the
// fixture made it (inputs that create, update or delete streams are undone),
// so PutRecord and PutRecordBatch reach the buffer. Every answer must come
// (the service may answer from the buffer's thread) and be a 2xx-4xx: a 5xx
// means the service threw on the body.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>

#include "emulator/firehose/firehose_handlers.h"
#include "tests/fuzz/fuzz_support.h"

namespace offcloud {
namespace {

constexpr const char* kStream = "fuzz-stream";

DeliveryStreamConfig fixture_config() {
  DeliveryStreamConfig config;
  config.name = kStream;
  config.arn = "arn:aws:firehose:us-east-1:000000000000:deliverystream/fuzz-stream";
  config.role_arn = "arn:aws:iam::000000000000:role/firehose";
  config.bucket_arn = "arn:aws:s3:::fuzz-bucket";
  config.prefix = "records/";
  return config;
}

class Fixture {
 public:
  Fixture()
      : objects_(fuzz::scratch_dir() + "/s3"),
        buffer_(fuzz::scratch_dir() + "/offcloud.db", false),
        streams_(buffer_, objects_, {}),
        service_(streams_) {
    streams_.create(fixture_config());
  }

  void reset() {
    // Every call is made as the default account's root in us-east-1.
    const AccountRegion scope;
    for (const std::string& name : streams_.names(scope)) {
      auto config = streams_.describe(scope, name);
      if (name != kStream || !config || config->version != 1) streams_.remove(scope, name);
    }
    if (!streams_.describe(scope, kStream)) streams_.create(fixture_config());
  }

  void call(std::string_view operation, std::string_view body) {
    HttpRequest request;
    request.method = "POST";
    request.target = "/";
    split_target(&request);
    request.headers.add("Content-Type", "application/x-amz-json-1.1");
    request.headers.add("X-Amz-Target", "Firehose_20150804." + std::string(operation));
    request.body = std::string(body);
    RequestContext context;
    context.request_id = "fuzz";
    context.principal.is_root = true;
    context.region = "us-east-1";
    std::promise<HttpResponse> answer;
    service_.iam_requests(request, context.query, context);
    service_.handle(request, context, [&](HttpResponse response) { answer.set_value(response); });
    HttpResponse response = answer.get_future().get();
    if (response.status < 200 || response.status >= 500) {
      std::fprintf(stderr, "firehose_fuzzer: %.*s: status %d\n%.2000s\n",
                   static_cast<int>(operation.size()), operation.data(), response.status,
                   response.body.c_str());
      std::abort();
    }
  }

 private:
  ObjectStore objects_;
  FirehoseBuffer buffer_;
  DeliveryStreams streams_;
  FirehoseService service_;
};

}  // namespace
}  // namespace offcloud

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace offcloud;
  static Fixture* fixture = new Fixture();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  fixture->reset();
  fixture->call(input.substr(0, newline), input.substr(newline + 1));
  return 0;
}

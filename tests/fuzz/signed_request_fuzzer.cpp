// Every service past authentication: the fuzzed bytes describe a request
// (service, method, path and query, headers, body), which is signed with
// the root key as an SDK would sign it and sent to offcloud as main() runs
// it. So S3's header parsing (Range, conditions, copy source, metadata,
// checksums, aws-chunked), the REST paths of IoT and the JSON and query
// protocols all see hostile input with a valid signature. Checks as
// http_router does: an answer or a close, never a hang, never a 5xx but
// S3's 501 NotImplemented.
//
// Input, as text:
//   <service> <METHOD> <path>[?<query>]
//   <Name>: <value>          (any number of header lines)
//   <empty line>
//   <body>
// service: s3, iotdata, iot, firehose, iam or sts (the signing name).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "client/sigv4_signer.h"
#include "client/uri_encoding.h"
#include "emulator/util/log.h"
#include "tests/fuzz/fuzz_server.h"

namespace {

using offcloud::client::Request;

bool known_service(std::string_view name) {
  for (std::string_view known : {"s3", "iotdata", "iot", "firehose", "iam", "sts"}) {
    if (name == known) return true;
  }
  return false;
}

// Takes the text up to the next '\n' (a '\r' before it dropped) off `text`.
std::string_view next_line(std::string_view* text) {
  std::size_t end = text->find('\n');
  std::string_view line = text->substr(0, end);
  *text = end == std::string_view::npos ? std::string_view() : text->substr(end + 1);
  if (line.ends_with('\r')) line.remove_suffix(1);
  return line;
}

void parse_query(std::string_view query, Request* request) {
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    std::size_t equals = pair.find('=');
    std::string_view name = pair.substr(0, equals);
    std::string_view value =
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
    request->query.emplace_back(offcloud::client::percent_decode(name),
                                offcloud::client::percent_decode(value));
  }
}

// The headers the fuzzer sets itself; the rest are the input's.
bool reserved(std::string_view name) {
  for (std::string_view own : {"host", "authorization", "x-amz-date", "content-length"}) {
    if (offcloud::client::iequals(name, own)) return true;
  }
  return false;
}

// Signs and sends one request described as in the header comment; returns
// the answer, or nothing if `text` describes no request.
std::optional<std::string> send_described(std::string_view text) {
  using namespace offcloud;
  std::string_view first = next_line(&text);
  std::size_t space1 = first.find(' ');
  std::size_t space2 = first.find(' ', space1 == std::string_view::npos ? space1 : space1 + 1);
  if (space2 == std::string_view::npos) return std::nullopt;
  std::string_view service = first.substr(0, space1);
  if (!known_service(service)) return std::nullopt;

  Request request;
  request.method = std::string(first.substr(space1 + 1, space2 - space1 - 1));
  std::string_view target = first.substr(space2 + 1);
  std::size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (request.method.empty() || !request.path.starts_with('/') ||
      request.method.find_first_of(" \r\n") != std::string::npos ||
      request.path.find_first_of(" \r\n") != std::string::npos) {
    return std::nullopt;
  }
  if (question != std::string_view::npos) parse_query(target.substr(question + 1), &request);

  std::uint16_t port = fuzz::emulator().port();
  request.headers.emplace_back("Host", "127.0.0.1:" + std::to_string(port));
  bool chunked = false;
  for (std::string_view line = next_line(&text); !line.empty(); line = next_line(&text)) {
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (value.starts_with(' ')) value.remove_prefix(1);
    // A bare CR would end the header early on the wire: not a signed request.
    if (reserved(name) || line.find('\r') != std::string_view::npos) continue;
    chunked = chunked || client::iequals(name, "transfer-encoding");
    request.headers.emplace_back(std::string(name), std::string(value));
  }
  request.body = std::string(text);

  client::SignOptions options;
  if (service == "s3") {
    options.content_sha256_header = true;
    // A hash the input names (UNSIGNED-PAYLOAD, STREAMING-...) is signed as
    // given, so the body readers behind those are reached too.
    if (const std::string* given = request.header("x-amz-content-sha256")) {
      options.payload_hash = *given;
    }
  }
  client::SigV4Signer signer({"test", "test", ""}, "us-east-1", std::string(service));
  signer.sign(&request, std::chrono::system_clock::now(), options);

  std::string wire = request.method + " " + request.target() + " HTTP/1.1\r\n";
  for (const auto& [name, value] : request.headers) wire += name + ": " + value + "\r\n";
  // A chunked framing the input asks for is left to the body's bytes.
  if (!chunked) wire += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  wire += "\r\n";
  wire += request.body;
  return fuzz::exchange(reinterpret_cast<const std::uint8_t*>(wire.data()), wire.size());
}

// What the seeds refer to exists from the start, whatever order they run
// in: a bucket with an object, and a delivery stream into it.
void make_fixtures() {
  for (std::string_view setup : {
           "s3 PUT /fz-bucket\n\n",
           "s3 PUT /fz-bucket/a/b.txt\n\nhello world",
           "firehose POST /\nX-Amz-Target: Firehose_20150804.CreateDeliveryStream\n"
           "Content-Type: application/x-amz-json-1.1\n\n"
           R"({"DeliveryStreamName":"fz","ExtendedS3DestinationConfiguration":)"
           R"({"BucketARN":"arn:aws:s3:::fz-bucket",)"
           R"("RoleARN":"arn:aws:iam::000000000000:role/r"}})",
       }) {
    std::optional<std::string> answer = send_described(setup);
    if (!answer || !answer->starts_with("HTTP/1.1 200 ")) {
      offcloud::fuzz::fail("setting up the fixtures", answer.value_or(""));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  offcloud::set_log_level(offcloud::LogLevel::kError);
  make_fixtures();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::optional<std::string> answer =
      send_described(std::string_view(reinterpret_cast<const char*>(data), size));
  if (answer) offcloud::fuzz::check_response(*answer);
  return 0;
}

// aws-chunked body decoding (AwsChunkedDecoder), in all three of S3's modes:
// signed chunks, signed chunks with a signed trailer, unsigned chunks with a
// trailer (and plain unsigned chunks). The first input byte picks the mode and how the body is
// split into pieces, the rest is the body. Signed mode uses the worked example of the S3 API
// Reference (key, date, scope, seed signature), so valid chained signatures in the seeds stay
// valid.
//
// Besides the sanitizers, checks that decoding does not depend on how the
// body arrived: TCP may split it anywhere, so the body fed whole and fed in
// pieces must give the same bytes, trailers and verdict.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "emulator/auth/aws_chunked.h"

namespace offcloud {
namespace {

struct Outcome {
  bool ok = false;
  AwsChunkedDecoder::Failure failure = AwsChunkedDecoder::Failure::kNone;
  std::string data;
  std::uint64_t decoded = 0;
  std::vector<std::pair<std::string, std::string>> trailers;

  bool operator==(const Outcome&) const = default;
};

Outcome decode(std::optional<ChunkSigning> signing, bool trailer, std::string_view body,
               std::size_t piece) {
  Outcome outcome;
  AwsChunkedDecoder decoder(std::move(signing), trailer,
                            [&](std::string_view data) { outcome.data.append(data); });
  bool ok = true;
  for (std::size_t at = 0; at < body.size() && ok; at += piece) {
    ok = decoder.feed(body.substr(at, piece));
  }
  outcome.ok = ok && decoder.finish();
  outcome.failure = decoder.failure();
  outcome.decoded = decoder.decoded_size();
  outcome.trailers = decoder.trailers();
  if (outcome.decoded != outcome.data.size()) std::abort();
  return outcome;
}

}  // namespace
}  // namespace offcloud

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace offcloud;
  if (size == 0) return 0;
  static const ChunkSigning example{
      derive_signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3"),
      "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
      "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"};

  // Bits 0-1: the mode (0 signed, 1 signed with trailer, 2 unsigned with
  // trailer, 3 unsigned); bits 2-7: the piece size for the second decoding.
  std::uint8_t control = data[0];
  int mode = control & 3;
  bool is_signed = mode <= 1;
  bool trailer = mode == 1 || mode == 2;
  std::size_t piece = (control >> 2) + 1;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::optional<ChunkSigning> signing;
  if (is_signed) signing = example;

  Outcome whole = decode(signing, trailer, body, body.size() + 1);
  Outcome pieces = decode(signing, trailer, body, piece);
  if (!(whole == pieces)) {
    std::fprintf(stderr,
                 "aws_chunked_fuzzer: fed whole: ok=%d failure=%d %zu bytes; in pieces of %zu: "
                 "ok=%d failure=%d %zu bytes\n",
                 whole.ok, static_cast<int>(whole.failure), whole.data.size(), piece, pieces.ok,
                 static_cast<int>(pieces.failure), pieces.data.size());
    std::abort();
  }
  return 0;
}

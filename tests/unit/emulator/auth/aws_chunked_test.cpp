// aws-chunked decoding, with the worked example of the Amazon S3 API
// Reference ("Signature Calculations for the Authorization Header:
// Transferring Payload in Multiple Chunks"): 66560 bytes of 'a' in chunks of
// 64 KiB, 1 KiB and 0, with the chained signatures AWS publishes.
#include "emulator/auth/aws_chunked.h"

#include <gtest/gtest.h>

namespace offcloud {
namespace {

ChunkSigning example_signing() {
  return {
      derive_signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3"),
      "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
      "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"};
}

std::string example_body(std::string last_signature =
                             "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9") {
  return "10000;chunk-signature="
         "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n" +
         std::string(65536, 'a') +
         "\r\n400;chunk-signature="
         "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n" +
         std::string(1024, 'a') + "\r\n0;chunk-signature=" + last_signature + "\r\n\r\n";
}

TEST(AwsChunked, DecodesTheS3DocumentationExampleInAnyPieces) {
  for (std::size_t piece : {1u, 7u, 4096u, 1u << 20}) {
    std::string out;
    AwsChunkedDecoder decoder(example_signing(), false, [&](std::string_view d) { out += d; });
    std::string body = example_body();
    bool ok = true;
    for (std::size_t i = 0; i < body.size() && ok; i += piece) {
      ok = decoder.feed(std::string_view(body).substr(i, piece));
    }
    EXPECT_TRUE(ok) << decoder.error();
    EXPECT_TRUE(decoder.finish()) << decoder.error();
    EXPECT_EQ(out, std::string(66560, 'a'));
    EXPECT_EQ(decoder.decoded_size(), 66560u);
  }
}

TEST(AwsChunked, RefusesABadChunkSignature) {
  AwsChunkedDecoder decoder(example_signing(), false, [](std::string_view) {});
  std::string body = example_body(std::string(64, '0'));
  EXPECT_FALSE(decoder.feed(body) && decoder.finish());
  EXPECT_EQ(decoder.failure(), AwsChunkedDecoder::Failure::kBadSignature);
}

TEST(AwsChunked, RefusesTamperedData) {
  AwsChunkedDecoder decoder(example_signing(), false, [](std::string_view) {});
  std::string body = example_body();
  body[200] = 'b';
  EXPECT_FALSE(decoder.feed(body));
  EXPECT_EQ(decoder.failure(), AwsChunkedDecoder::Failure::kBadSignature);
}

TEST(AwsChunked, UnsignedPayloadWithTrailer) {
  std::string out;
  AwsChunkedDecoder decoder(std::nullopt, true, [&](std::string_view d) { out += d; });
  std::string body = "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
  EXPECT_TRUE(decoder.feed(body)) << decoder.error();
  EXPECT_TRUE(decoder.finish()) << decoder.error();
  EXPECT_EQ(out, "hello world");
  ASSERT_EQ(decoder.trailers().size(), 1u);
  EXPECT_EQ(decoder.trailers()[0].first, "x-amz-checksum-crc32");
  EXPECT_EQ(decoder.trailers()[0].second, "DUoRhQ==");
}

TEST(AwsChunked, MalformedFraming) {
  const char* bodies[] = {
      "zz\r\nhello\r\n0\r\n\r\n",  // size not hex
      "5\r\nhelloXX0\r\n\r\n",     // data longer than declared
      "5\nhello\r\n0\r\n\r\n",     // LF without CR
      "5\r\nhel",                  // ends early
      "0\r\n\r\nextra",            // data after the end
  };
  for (const char* body : bodies) {
    AwsChunkedDecoder decoder(std::nullopt, false, [](std::string_view) {});
    EXPECT_FALSE(decoder.feed(body) && decoder.finish()) << body;
    EXPECT_EQ(decoder.failure(), AwsChunkedDecoder::Failure::kMalformed) << body;
  }
}

}  // namespace
}  // namespace offcloud

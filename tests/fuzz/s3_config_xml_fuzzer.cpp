// S3's configuration documents, parsed alone (no server): the input is fed
// to the tag set, x-amz-tagging, CORS, lifecycle, encryption, ownership,
// public access block and bucket policy parsers. Besides not crashing,
// what a parser accepts must survive its writer: a tag set or CORS
// configuration written back parses to the same document.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "emulator/s3/s3_bucket_config.h"
#include "emulator/s3/s3_bucket_policy.h"
#include "emulator/s3/s3_cors.h"
#include "emulator/s3/s3_tagging.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "s3_config_xml_fuzzer: %s\n%.*s\n", what, static_cast<int>(input.size()),
               input.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace offcloud;
  using namespace offcloud::s3;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  for (TagTarget target : {TagTarget::kObject, TagTarget::kBucket}) {
    HeaderList tags;
    if (!parse_tagging(input, target, &tags)) {
      HeaderList again;
      if (parse_tagging(tagging_xml(tags), target, &again) || again != tags) {
        fail("tag set does not survive its writer", input);
      }
    }
  }
  HeaderList header_tags;
  parse_tagging_header(input, &header_tags);

  std::vector<CorsRule> rules;
  if (!parse_cors(input, &rules)) {
    std::string written = cors_xml(rules);
    std::vector<CorsRule> again;
    if (parse_cors(written, &again) || cors_xml(again) != written) {
      fail("CORS configuration does not survive its writer", input);
    }
    match_cors(rules, "https://app.example.com", "GET", {"content-type", "x-amz-date"});
  }

  validate_lifecycle(input);
  BucketEncryption encryption;
  parse_encryption(input, &encryption);
  std::string ownership;
  parse_ownership(input, &ownership);
  PublicAccessBlock block;
  parse_public_access_block(input, &block);
  bool is_public = false;
  validate_bucket_policy(input, "fuzz-bucket", &is_public);
  return 0;
}

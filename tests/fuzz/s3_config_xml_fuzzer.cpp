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
#include "emulator/s3/s3_lifecycle.h"
#include "emulator/s3/s3_object_lock.h"
#include "emulator/s3/s3_tagging.h"
#include "emulator/util/xml.h"

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

  // A configuration S3 accepts parses into one rule per <Rule> for the sweep.
  if (!validate_lifecycle(input)) {
    auto document = parse_xml(input);
    if (!document || parse_lifecycle_rules(input).size() != document->children.size()) {
      fail("accepted lifecycle configuration does not parse into its rules", input);
    }
  }
  BucketEncryption encryption;
  parse_encryption(input, &encryption);
  std::string ownership;
  parse_ownership(input, &ownership);
  PublicAccessBlock block;
  parse_public_access_block(input, &block);
  bool is_public = false;
  validate_bucket_policy(input, "fuzz-bucket", &is_public);

  // Object Lock: a configuration accepted survives its writer and its
  // stored form.
  LockConfiguration lock;
  if (!parse_lock_configuration(input, &lock)) {
    LockConfiguration again;
    auto stored = decode_lock_configuration(encode_lock_configuration(lock));
    if (parse_lock_configuration(lock_configuration_xml(lock), &again) || !stored ||
        again.mode != lock.mode || again.days != lock.days || again.years != lock.years ||
        stored->mode != lock.mode || stored->days != lock.days || stored->years != lock.years) {
      fail("Object Lock configuration does not survive its writer", input);
    }
  }
  decode_lock_configuration(input);
  std::string retention_mode, hold;
  std::int64_t until = 0;
  parse_retention(input, 0, &retention_mode, &until);
  parse_legal_hold(input, &hold);
  parse_iso8601(input);
  return 0;
}

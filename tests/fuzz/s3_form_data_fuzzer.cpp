// S3's browser POST bodies, parsed alone (no server): the input is a
// multipart/form-data body with the boundary "b", fed whole and then in
// pieces of a size its first byte picks. Besides not crashing, the two
// parses must agree (parts, their bytes, and the verdict), since a body
// arrives however TCP cuts it. The input is also read as a POST policy, and
// a policy it holds is checked against the fields the body gave.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "emulator/s3/s3_form_data.h"
#include "emulator/s3/s3_post_policy.h"

namespace {

using offcloud::s3::FormDataParser;
using offcloud::s3::FormPart;

struct Recorder : FormDataParser::Handler {
  std::vector<std::pair<std::string, std::string>> parts;  // name, bytes
  bool on_part(const FormPart& part) override {
    parts.emplace_back(part.name + "/" + part.filename.value_or("-"), std::string());
    return true;
  }
  bool on_data(std::string_view bytes) override {
    parts.back().second.append(bytes);
    return true;
  }
  bool on_part_end() override { return true; }
};

FormDataParser::Status parse(std::string_view body, std::size_t piece, Recorder* recorder) {
  FormDataParser parser("b", *recorder);
  for (std::size_t at = 0; at < body.size(); at += piece) {
    auto status = parser.feed(body.substr(at, piece));
    if (status != FormDataParser::Status::kOk) return status;
  }
  return parser.finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace offcloud::s3;
  if (size == 0) return 0;
  std::size_t piece = 1 + data[0] % 16;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  Recorder whole, split;
  auto whole_status = parse(body, body.size() + 1, &whole);
  auto split_status = parse(body, piece, &split);
  // A malformed body may be found before all its parts are seen, in either.
  if (whole_status != split_status ||
      (whole_status == FormDataParser::Status::kOk && whole.parts != split.parts)) {
    std::fprintf(stderr, "s3_form_data_fuzzer: the parse depends on how the body is cut\n");
    std::abort();
  }

  std::string error;
  if (auto policy = parse_post_policy(body, &error)) {
    PostFields fields;
    for (const auto& [name, value] : whole.parts) fields.emplace_back(name, value);
    check_post_policy(*policy, fields, "fuzz-bucket", 0);
    policy->length_range();
  }
  return 0;
}

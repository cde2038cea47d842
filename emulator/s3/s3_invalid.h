// Why S3 refuses a request document (a tag set, a CORS configuration, a
// lifecycle, ...): the parsers of those documents answer with this, and
// the handlers turn it into S3's <Error>. Kept apart so the parsers stay
// free of HTTP and can be tested and fuzzed alone.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "emulator/api/api_errors.h"

namespace offcloud::s3 {

struct S3Invalid {
  ErrorCode code;
  std::string message;  // empty: the code's default
  std::vector<std::pair<std::string, std::string>> details = {};
};

}  // namespace offcloud::s3

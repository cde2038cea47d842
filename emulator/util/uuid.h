// Random version-4 UUIDs, as AWS spells request ids and Firehose spells the
// last part of its object names.
#pragma once

#include <string>

namespace offcloud {

std::string new_uuid();

}  // namespace offcloud

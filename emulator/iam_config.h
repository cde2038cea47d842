// Brings the config file's IAM users and managed policies into the IamStore
// at start-up, so a class ships one file with every student's key and
// policy, and they show in the IAM API like any other. The file is a seed:
// what it names is created or brought up to date on each start; what was
// made through the API is left alone, and a key the API deactivated stays
// inactive.
#pragma once

#include "emulator/config.h"
#include "storage/iam_store.h"

namespace offcloud {

// Throws ConfigError for a malformed policy document, a name IAM would
// refuse, or an attached policy that does not exist.
void apply_iam_config(const Config& config, IamStore& store);

}  // namespace offcloud

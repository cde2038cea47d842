// Identifiers IAM makes up, in AWS's shapes: a unique-id prefix that says
// what the entity is (AIDA user, ANPA managed policy, AKIA access key) and
// random upper-case base32 after it; secrets are 40 characters of base64.
#pragma once

#include <string>

namespace offcloud {

std::string new_user_id();            // AIDA + 17
std::string new_policy_id();          // ANPA + 17
std::string new_access_key_id();      // AKIA + 16
std::string new_secret_access_key();  // 40

}  // namespace offcloud

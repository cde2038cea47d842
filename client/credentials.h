// An AWS access key, as a client signs with it.
#pragma once

#include <string>

namespace offcloud::client {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: a long-term key
};

}  // namespace offcloud::client

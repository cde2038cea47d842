// Percent-encoding as SigV4 and AWS's REST APIs spell it: everything but the
// unreserved characters A-Z a-z 0-9 - . _ ~ is encoded, as upper-case %XX,
// and a space is %20, never '+'. The client's own copy: it shares nothing with
// the server's canonicalization, so a bug cannot hide on both sides.
#pragma once

#include <string>
#include <string_view>

namespace offcloud::client {

// `keep_slash`: leave '/' as is (paths); otherwise it becomes %2F (query
// values, and a topic name inside a path).
std::string uri_encode(std::string_view text, bool keep_slash);

// Decodes %XX sequences; anything else, '+' included, stays as it is. A '%'
// not followed by two hex digits is kept literally.
std::string percent_decode(std::string_view text);

}  // namespace offcloud::client

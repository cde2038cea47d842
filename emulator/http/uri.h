// Percent-encoding as AWS uses it: RFC 3986 unreserved characters stay, every
// other byte becomes %XX (upper-case hex). SigV4 and the REST services share it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace offcloud {

std::string uri_encode(std::string_view text, bool keep_slash);
// nullopt on a malformed escape. '+' stays '+': AWS query strings encode a
// space as %20.
std::optional<std::string> percent_decode(std::string_view text);

// Removes "." and ".." segments and empty segments ("//"), keeping a trailing
// slash, as SigV4 does for every service but S3.
std::string normalize_path(std::string_view path);

using QueryParams = std::vector<std::pair<std::string, std::string>>;
// Splits a raw query string into decoded name/value pairs, in order. A name
// with no '=' has an empty value. nullopt on a malformed escape.
std::optional<QueryParams> parse_query(std::string_view query);
// The value of the first parameter named `name`, if any.
const std::string* find_param(const QueryParams& params, std::string_view name);

}  // namespace offcloud

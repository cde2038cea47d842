// The web console offcloud serves itself at /_offcloud/console/: static
// files from the binary (console_assets.h). The pages call the AWS APIs,
// signed in the browser, like any SDK; nothing here grants them anything.
#pragma once

#include <string_view>

#include "emulator/http/http_types.h"

namespace offcloud::console {

inline constexpr std::string_view kPrefix = "/_offcloud/console";

// Whether the request's path is the console's (kPrefix, or under it).
bool is_console_path(std::string_view path);

// The file the request names (GET or HEAD; "/_offcloud/console/" is
// index.html), with its Content-Type, ETag and Cache-Control; 304 when
// If-None-Match names its ETag; 301 from "/_offcloud/console" to the
// folder; 404 for anything else, 405 for other methods.
HttpResponse serve(const HttpRequest& request);

// Where a browser opening the server's root goes.
HttpResponse redirect_to_console();

}  // namespace offcloud::console

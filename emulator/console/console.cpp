#include "emulator/console/console.h"

#include <algorithm>
#include <string>

#include "emulator/console/console_assets.h"

namespace offcloud::console {
namespace {

// The pages load only their own files and talk only to this server (the
// AWS APIs and /mqtt): the browser itself refuses anything else.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'";

HttpResponse plain(int status, std::string text) {
  HttpResponse response;
  response.status = status;
  response.headers.add("Content-Type", "text/plain; charset=utf-8");
  response.headers.add("Cache-Control", "no-store");
  response.body = std::move(text);
  return response;
}

const Asset* find_asset(std::string_view path) {
  auto all = assets();
  auto it = std::lower_bound(all.begin(), all.end(), path,
                             [](const Asset& asset, std::string_view p) { return asset.path < p; });
  return it != all.end() && it->path == path ? &*it : nullptr;
}

// Whether an If-None-Match list names `etag` (or is "*").
bool matches(std::string_view if_none_match, std::string_view etag) {
  for (std::size_t at = 0; at < if_none_match.size();) {
    std::size_t comma = std::min(if_none_match.find(',', at), if_none_match.size());
    std::string_view item = if_none_match.substr(at, comma - at);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
    at = comma + 1;
  }
  return false;
}

}  // namespace

bool is_console_path(std::string_view path) {
  return path == kPrefix || (path.starts_with(kPrefix) && path[kPrefix.size()] == '/');
}

HttpResponse serve(const HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse response = plain(405, "The console takes GET and HEAD only.\n");
    response.headers.add("Allow", "GET, HEAD");
    return response;
  }
  std::string_view path = request.path;
  if (path == kPrefix) {
    HttpResponse response;
    response.status = 301;
    response.headers.add("Location", std::string(kPrefix) + "/");
    return response;
  }
  path.remove_prefix(kPrefix.size() + 1);
  // Asset names are plain (no percent-encoding, no dot segments): anything
  // else is simply not found.
  if (path.empty()) path = "index.html";
  const Asset* asset = find_asset(path);
  if (!asset) return plain(404, "No such file in the console.\n");

  HttpResponse response;
  response.headers.add("ETag", std::string(asset->etag));
  // Revalidated on every load (the files keep their names from one offcloud
  // to the next), which costs a 304 and never serves a stale page.
  response.headers.add("Cache-Control", "no-cache");
  response.headers.add("X-Content-Type-Options", "nosniff");
  if (matches(request.headers.get("if-none-match"), asset->etag)) {
    response.status = 304;
    return response;
  }
  response.headers.add("Content-Type", std::string(asset->content_type));
  if (asset->content_type.starts_with("text/html")) {
    response.headers.add("Content-Security-Policy", std::string(kContentSecurityPolicy));
    response.headers.add("Referrer-Policy", "no-referrer");
  }
  response.body.assign(reinterpret_cast<const char*>(asset->data), asset->size);
  return response;
}

HttpResponse redirect_to_console() {
  HttpResponse response;
  response.status = 302;
  response.headers.add("Location", std::string(kPrefix) + "/");
  response.headers.add("Cache-Control", "no-store");
  response.headers.add("Content-Type", "text/plain; charset=utf-8");
  response.body = "The offcloud console is at " + std::string(kPrefix) + "/\n";
  return response;
}

}  // namespace offcloud::console

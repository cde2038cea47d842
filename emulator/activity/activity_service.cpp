#include "emulator/activity/activity_service.h"

#include <charconv>
#include <chrono>

namespace offcloud {
namespace {

using json = nlohmann::json;

HttpResponse json_response(const json& body) {
  HttpResponse response;
  response.headers.add("Content-Type", "application/json");
  response.headers.add("Cache-Control", "no-store");
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

// A decimal number within [min, max], or nullopt.
std::optional<std::uint64_t> parse_number(std::string_view text, std::uint64_t min,
                                          std::uint64_t max) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

json activity_entry_json(const ActivityEntry& entry) {
  json out = {{"seq", entry.seq},
              {"time_ms", entry.time_ms},
              {"account_id", entry.account_id},
              {"caller_arn", entry.caller_arn},
              {"access_key_id", entry.access_key_id},
              {"source", entry.source},
              {"service", entry.service},
              {"operation", entry.operation},
              {"resource", entry.resource},
              {"status", entry.status},
              {"error_code", entry.error_code}};
  if (!entry.reason.is_null()) out["reason"] = entry.reason;
  return out;
}

void ActivityService::handle(HttpRequest& request, RequestContext& context, Reply reply) {
  auto invalid = [&](std::string message) {
    return reply(error_response(Protocol::kRestJson,
                                {ErrorCode::kInvalidRequestException, std::move(message)},
                                context.request_id));
  };
  if (request.path != "/_offcloud/activity") {
    context.operation = "Unknown";
    return reply(error_response(Protocol::kRestJson,
                                {ErrorCode::kResourceNotFoundException,
                                 "offcloud has no endpoint at " + request.path + "."},
                                context.request_id));
  }
  context.operation = "GetActivity";
  if (request.method != "GET") return invalid("GET /_offcloud/activity is the only method here.");
  std::uint64_t after = 0;
  std::uint64_t limit = kDefaultLimit;
  if (const std::string* text = find_param(context.query, "after")) {
    auto value = parse_number(*text, 0, UINT64_MAX);
    if (!value) return invalid("after must be a sequence number (0 or more).");
    after = *value;
  }
  if (const std::string* text = find_param(context.query, "limit")) {
    auto value = parse_number(*text, 1, kMaxLimit);
    if (!value)
      return invalid("limit must be a number from 1 to " + std::to_string(kMaxLimit) + ".");
    limit = *value;
  }
  ActivityLog::Page page = log_.since(after, ActivityViewer::of(context.principal), limit);
  json entries = json::array();
  for (const ActivityEntry& entry : page.entries) entries.push_back(activity_entry_json(entry));
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  reply(json_response({{"entries", std::move(entries)},
                       {"last_seq", page.last_seq},
                       {"missed", page.missed},
                       {"server_time_ms", now}}));
}

}  // namespace offcloud

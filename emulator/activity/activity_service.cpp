#include "emulator/activity/activity_service.h"

#include <charconv>
#include <chrono>

#include "emulator/auth/authorizer.h"
#include "emulator/util/log.h"

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

constexpr std::string_view kActivityPath = "/_offcloud/activity";
constexpr std::string_view kLivePath = "/_offcloud/live";

// What the live feed's URL asks for, or why it cannot be had.
struct LiveAsk {
  bool activity = true;
  bool counters = true;
  bool buffers = false;  // asked for by name only
  std::optional<std::uint64_t> after;
  std::string invalid;
};

LiveAsk parse_live_query(const QueryParams& query) {
  LiveAsk ask;
  if (const std::string* feeds = find_param(query, "feeds")) {
    ask.activity = ask.counters = false;
    std::string_view rest = *feeds;
    while (true) {
      std::size_t comma = std::min(rest.find(','), rest.size());
      std::string_view feed = rest.substr(0, comma);
      if (feed == "activity") {
        ask.activity = true;
      } else if (feed == "counters") {
        ask.counters = true;
      } else if (feed == "buffers") {
        ask.buffers = true;
      } else {
        ask.invalid = "feeds is a comma-separated list of activity, counters and buffers.";
        return ask;
      }
      if (comma == rest.size()) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (const std::string* text = find_param(query, "after")) {
    ask.after = parse_number(*text, 0, UINT64_MAX);
    if (!ask.after) ask.invalid = "after must be a sequence number (0 or more).";
  }
  return ask;
}

// Whether the identity policies of `principal` (not a root) allow `action`
// on `resource` for a request from `address` to `region`.
bool identity_allows(const IdentityChecks& checks, const Principal& principal,
                     const std::string& address, const std::string& region, bool secure,
                     std::string action, std::string resource) {
  ConditionContext conditions = request_conditions(principal, address, region, now_ms(), secure);
  std::vector<Decision> decisions = checks.identity_decisions(
      principal, {IamRequest{std::move(action), std::move(resource)}}, conditions);
  return !decisions.empty() && decisions.front() == Decision::kAllow;
}

// Whether the caller may see the counters of its account's resources in
// `region`: a root may, a user as far as IAM lets it list the rules.
bool may_see_counters(const HttpRequest& head, const RequestContext& context) {
  if (context.principal.is_root || !context.identity_checks) return true;
  return identity_allows(*context.identity_checks, context.principal, head.remote_address,
                         context.region, head.secure, "iot:ListTopicRules", "*");
}

// Which delivery streams' buffers the caller may see: those IAM lets it
// firehose:DescribeDeliveryStream, as GET /_offcloud/firehose/buffer is
// authorized; asked again for each frame (null: a root, or IAM off).
std::function<bool(std::string_view)> stream_visibility(const HttpRequest& head,
                                                        const RequestContext& context) {
  if (context.principal.is_root || !context.identity_checks) return nullptr;
  return [checks = context.identity_checks, principal = context.principal,
          address = head.remote_address, region = context.region,
          secure = head.secure](std::string_view arn) {
    return identity_allows(*checks, principal, address, region, secure,
                           "firehose:DescribeDeliveryStream", std::string(arn));
  };
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
  if (request.path == kLivePath) {
    context.operation = "GetLiveFeed";
    HttpResponse response = error_response(
        Protocol::kRestJson,
        {ErrorCode::kInvalidRequestException,
         std::string(kLivePath) + " takes WebSocket connections (Upgrade: websocket) only.",
         {},
         426},
        context.request_id);
    response.headers.add("Upgrade", "websocket");
    return reply(std::move(response));
  }
  if (request.path != kActivityPath) {
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

namespace offcloud {

std::optional<UpgradePlan> ActivityService::upgrade(HttpRequest& head, RequestContext& context) {
  context.operation = "GetLiveFeed";
  UpgradePlan plan;
  auto refuse = [&](ErrorCode code, std::string message, int status = 0) {
    plan.refusal = error_response(Protocol::kRestJson, {code, std::move(message), {}, status},
                                  context.request_id);
    return plan;
  };
  if (head.path != kLivePath || !live_) {
    return refuse(ErrorCode::kResourceNotFoundException,
                  "offcloud's live feed is served at " + std::string(kLivePath) + ".");
  }
  LiveAsk ask = parse_live_query(context.query);
  if (!ask.invalid.empty()) return refuse(ErrorCode::kInvalidRequestException, ask.invalid);
  if (live_->full()) {
    return refuse(ErrorCode::kLimitExceededException,
                  "Too many live feeds are open; close a console tab and try again.", 429);
  }
  LiveSubscription subscription;
  subscription.viewer = ActivityViewer::of(context.principal);
  subscription.activity = ask.activity;
  subscription.after = ask.after;
  if (ask.counters && may_see_counters(head, context)) {
    subscription.counters = AccountRegion{context.principal.account_id, context.region};
  }
  if (ask.buffers) {
    subscription.buffers = AccountRegion{context.principal.account_id, context.region};
    subscription.may_see_stream = stream_visibility(head, context);
  }
  // The client sends acks and pings only.
  plan.max_message_bytes = 4096;
  // A backstop: the feed's window keeps far less than this queued.
  plan.max_queued_bytes = 8 << 20;
  LiveFeed* live = live_;
  plan.open = [live, subscription](std::weak_ptr<MessageChannel> channel) {
    return live->open(std::move(channel), subscription);
  };
  return plan;
}

}  // namespace offcloud

// offcloud's own endpoints under /_offcloud/ that need a caller: signed
// with SigV4 like any API call (signing name "offcloud", any region), so
// the router authenticates them and refuses an unsigned one as AWS would.
//
//   GET /_offcloud/activity?after=<seq>&limit=<n>
//     The caller's view of the activity log (activity_log.h says whose
//     entries each key sees), the newest `limit` (1-1000, default 500)
//     after `after`: {"entries": [...], "last_seq", "missed",
//     "server_time_ms"}. The console reads the first page here, then
//     follows the live feed.
//
//   GET /_offcloud/live?feeds=activity,counters,buffers&after=<seq>,
//     upgraded to WebSocket (presigned): the live feed (live_feed.h).
//     feeds: which of activity, counters and buffers (default: activity
//     and counters); after: activity after that sequence number (default:
//     from now on). Counters and buffers are the URL's region's in the
//     caller's account: counters for a root key, or a user that may
//     iot:ListTopicRules there; buffers of the streams the key may
//     firehose:DescribeDeliveryStream.
#pragma once

#include "emulator/activity/activity_log.h"
#include "emulator/activity/live_feed.h"
#include "emulator/api/service.h"

namespace offcloud {

class ActivityService : public Service {
 public:
  static constexpr std::size_t kDefaultLimit = 500;
  static constexpr std::size_t kMaxLimit = 1000;

  // `live` may be null: no live feed.
  explicit ActivityService(const ActivityLog& log, LiveFeed* live = nullptr)
      : log_(log), live_(live) {}

  std::string_view name() const override { return "offcloud"; }
  Protocol protocol() const override { return Protocol::kRestJson; }
  // Nothing for IAM to decide: every key may read its own activity, and
  // which entries it sees is the log's rule.
  std::vector<IamRequest> iam_requests(const HttpRequest&, const QueryParams&,
                                       const RequestContext&) const override {
    return {};
  }
  void handle(HttpRequest& request, RequestContext& context, Reply reply) override;
  std::optional<UpgradePlan> upgrade(HttpRequest& head, RequestContext& context) override;
  void shutdown() override {
    if (live_) live_->stop();
  }

 private:
  const ActivityLog& log_;
  LiveFeed* live_;
};

// One entry as the endpoint shows it.
nlohmann::json activity_entry_json(const ActivityEntry& entry);

}  // namespace offcloud

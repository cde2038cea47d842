// GET /_offcloud/firehose/buffer?stream=<name>: the console's view of one
// delivery stream's buffer, an offcloud extension (AWS shows no buffer, and
// DescribeDeliveryStream keeps AWS's shape). Signed for Firehose (signing
// name firehose, the stream's region), scoped to the caller's account and
// region, and authorized as firehose:DescribeDeliveryStream on the stream.
// The body (snake_case, as offcloud's own endpoints are):
//   {"stream", "arn", "records", "bytes", "oldest_arrival_ms" (0: empty),
//    "interval_s", "size_bytes", "next_delivery_ms" (0: nothing due),
//    "failures", "last_error", "server_time_ms",
//    "deliveries": [{"key", "records", "bytes", "time_ms"}, ...] newest first}
// The console's live feed sends the same views, of every stream it may see,
// in its "buffers" frames (emulator/activity/live_feed.h).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "emulator/firehose/delivery_streams.h"

namespace offcloud {

inline constexpr std::string_view kBufferViewPath = "/_offcloud/firehose/buffer";

// One stream's view, without "server_time_ms" (the caller adds the time it answers at).
nlohmann::json buffer_view_json(const DeliveryStreams::BufferView& view, const std::string& stream);

// The views of every stream of `scope` that `visible` accepts by ARN (null:
// all), by name: the live feed's StreamBuffers.
nlohmann::json buffer_views_json(DeliveryStreams& streams, const AccountRegion& scope,
                                 const std::function<bool(std::string_view arn)>& visible);

}  // namespace offcloud

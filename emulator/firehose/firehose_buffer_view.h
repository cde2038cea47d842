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
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "emulator/firehose/delivery_streams.h"

namespace offcloud {

inline constexpr std::string_view kBufferViewPath = "/_offcloud/firehose/buffer";

nlohmann::json buffer_view_json(const DeliveryStreams::BufferView& view, const std::string& stream,
                                const std::string& arn, std::int64_t server_time_ms);

}  // namespace offcloud

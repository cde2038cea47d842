#include "emulator/firehose/firehose_buffer_view.h"

namespace offcloud {

nlohmann::json buffer_view_json(const DeliveryStreams::BufferView& view, const std::string& stream,
                                const std::string& arn, std::int64_t server_time_ms) {
  nlohmann::json deliveries = nlohmann::json::array();
  for (const DeliveryStreams::Delivery& delivery : view.deliveries) {
    deliveries.push_back({{"key", delivery.key},
                          {"records", delivery.records},
                          {"bytes", delivery.bytes},
                          {"time_ms", delivery.time_ms}});
  }
  return {{"stream", stream},
          {"arn", arn},
          {"records", view.buffered.count},
          {"bytes", view.buffered.bytes},
          {"oldest_arrival_ms", view.buffered.oldest_arrival_ms},
          {"interval_s", view.interval_s},
          {"size_bytes", view.size_bytes},
          {"next_delivery_ms", view.next_delivery_ms},
          {"failures", view.failures},
          {"last_error", view.last_error},
          {"server_time_ms", server_time_ms},
          {"deliveries", std::move(deliveries)}};
}

}  // namespace offcloud

#include "emulator/firehose/firehose_buffer_view.h"

namespace offcloud {

nlohmann::json buffer_view_json(const DeliveryStreams::BufferView& view,
                                const std::string& stream) {
  nlohmann::json deliveries = nlohmann::json::array();
  for (const DeliveryStreams::Delivery& delivery : view.deliveries) {
    deliveries.push_back({{"key", delivery.key},
                          {"records", delivery.records},
                          {"bytes", delivery.bytes},
                          {"time_ms", delivery.time_ms}});
  }
  return {{"stream", stream},
          {"arn", view.arn},
          {"records", view.buffered.count},
          {"bytes", view.buffered.bytes},
          {"oldest_arrival_ms", view.buffered.oldest_arrival_ms},
          {"interval_s", view.interval_s},
          {"size_bytes", view.size_bytes},
          {"next_delivery_ms", view.next_delivery_ms},
          {"failures", view.failures},
          {"last_error", view.last_error},
          {"deliveries", std::move(deliveries)}};
}

nlohmann::json buffer_views_json(DeliveryStreams& streams, const AccountRegion& scope,
                                 const std::function<bool(std::string_view arn)>& visible) {
  nlohmann::json views = nlohmann::json::array();
  for (const std::string& name : streams.names(scope)) {
    auto view = streams.buffer_view(scope, name);  // gone meanwhile: left out
    if (view && (!visible || visible(view->arn))) views.push_back(buffer_view_json(*view, name));
  }
  return views;
}

}  // namespace offcloud

// Amazon Data Firehose's API (botocore "firehose", JSON 1.1, X-Amz-Target
// Firehose_20150804.*, signing name firehose) over DeliveryStreams:
// CreateDeliveryStream, DescribeDeliveryStream, ListDeliveryStreams,
// DeleteDeliveryStream, UpdateDestination, PutRecord and PutRecordBatch;
// and offcloud's buffer view (firehose_buffer_view.h).
#pragma once

#include "emulator/api/service.h"
#include "emulator/firehose/delivery_streams.h"

namespace offcloud {

class FirehoseService : public Service {
 public:
  static constexpr std::size_t kMaxRecordBytes = 1000 * 1024;
  static constexpr std::size_t kMaxBatchRecords = 500;
  static constexpr std::size_t kMaxBatchBytes = 4 * 1024 * 1024;

  explicit FirehoseService(DeliveryStreams& streams) : streams_(streams) {}

  std::string_view name() const override { return "firehose"; }
  Protocol protocol() const override { return Protocol::kJson; }
  std::vector<IamRequest> iam_requests(const HttpRequest& request, const QueryParams& query,
                                       const RequestContext& context) const override;
  void handle(HttpRequest& request, RequestContext& context, Reply reply) override;
  void shutdown() override { streams_.flush_and_stop(); }

 private:
  // GET /_offcloud/firehose/buffer (firehose_buffer_view.h).
  HttpResponse buffer_view(const HttpRequest& request, RequestContext& context);

  DeliveryStreams& streams_;
};

}  // namespace offcloud

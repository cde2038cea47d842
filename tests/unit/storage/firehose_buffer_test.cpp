#include "storage/firehose_buffer.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "tests/unit/scratch_dir_test.h"

#include "emulator/firehose/firehose_handlers.h"

namespace offcloud {
namespace {

class FirehoseBufferTest : public ScratchDirTest {};

TEST_F(FirehoseBufferTest, ConcurrentAppendsAllBecomeDurable) {
  {
    FirehoseBuffer buffer(db(), false);
    std::atomic<int> durable{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 8; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; i < 50; ++i) {
          std::string record = std::to_string(t) + ":" + std::to_string(i) + "\n";
          if (buffer.append_and_wait("s", {record, record}, 1000 + i)) ++durable;
        }
      });
    }
    for (auto& writer : writers) writer.join();
    EXPECT_EQ(durable.load(), 400);
  }
  FirehoseBuffer reopened(db(), false);
  BufferStats stats = reopened.stats("s");
  EXPECT_EQ(stats.count, 800u);
  EXPECT_EQ(stats.oldest_arrival_ms, 1000);
}

TEST_F(FirehoseBufferTest, OldestNeverSplitsARecordAndTakesAtLeastOne) {
  FirehoseBuffer buffer(db(), false);
  ASSERT_TRUE(buffer.append_and_wait("s", {std::string(600, 'a'), std::string(600, 'b')}, 1));
  auto first = buffer.oldest("s", 1000);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].data, std::string(600, 'a'));
  EXPECT_EQ(buffer.oldest("s", 10).size(), 1u);  // larger than the limit, still one
  EXPECT_EQ(buffer.oldest("s", 1200).size(), 2u);
}

// A delivery interrupted after its object was written but before its
// records were removed is found again, with the same records and key.
TEST_F(FirehoseBufferTest, InterruptedDeliveryIsRedoneTheSameWay) {
  std::int64_t last = 0;
  {
    FirehoseBuffer buffer(db(), false);
    ASSERT_TRUE(buffer.append_and_wait("s", {"r1\n", "r2\n"}, 1));
    auto records = buffer.oldest("s", 1 << 20);
    last = records.back().seq;
    buffer.begin_delivery("s", {last, "2026/11/27/08/s-1-key"});
    ASSERT_TRUE(buffer.append_and_wait("s", {"r3\n"}, 2));  // arrives meanwhile
  }
  FirehoseBuffer buffer(db(), false);
  auto pending = buffer.pending_delivery("s");
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->key, "2026/11/27/08/s-1-key");
  auto again = buffer.through("s", pending->last_seq);
  ASSERT_EQ(again.size(), 2u);  // not r3
  EXPECT_EQ(again[1].data, "r2\n");
  buffer.finish_delivery("s", last);
  EXPECT_FALSE(buffer.pending_delivery("s"));
  EXPECT_EQ(buffer.stats("s").count, 1u);
}

TEST_F(FirehoseBufferTest, StreamsPersistAndDeleteTakesTheirRecords) {
  {
    FirehoseBuffer buffer(db(), false);
    buffer.save_stream({"a", "{}"});
    buffer.save_stream({"b", "{\"x\":1}"});
    ASSERT_TRUE(buffer.append_and_wait("a", {"1"}, 1));
  }
  FirehoseBuffer buffer(db(), false);
  auto streams = buffer.streams();
  ASSERT_EQ(streams.size(), 2u);
  EXPECT_EQ(streams[1].config, "{\"x\":1}");
  buffer.delete_stream("a");
  EXPECT_EQ(buffer.streams().size(), 1u);
  EXPECT_EQ(buffer.stats("a").count, 0u);
}

// Found by tests/fuzz/firehose_fuzzer: a member read with a default (Limit,
// DeliveryStreamType, CurrentDeliveryStreamVersionId, ...) of another type
// threw out of the service, which the router answered with a 500.
TEST_F(FirehoseBufferTest, ServiceRefusesMistypedMembersAsSerializationErrors) {
  FirehoseBuffer buffer(db(), false);
  ObjectStore objects((dir_ / "s3").string());
  DeliveryStreams streams(buffer, objects, {});
  FirehoseService service(streams);
  auto call = [&](const std::string& operation, const std::string& body) {
    HttpRequest request;
    request.method = "POST";
    request.headers.add("X-Amz-Target", "Firehose_20150804." + operation);
    request.body = body;
    RequestContext context;
    HttpResponse response;
    service.handle(request, context, [&](HttpResponse answer) { response = std::move(answer); });
    return response;
  };
  for (auto [operation, body] : std::initializer_list<std::pair<std::string, std::string>>{
           {"ListDeliveryStreams", R"({"Limit": "x"})"},
           {"ListDeliveryStreams", R"({"ExclusiveStartDeliveryStreamName": 1})"},
           {"CreateDeliveryStream", R"({"DeliveryStreamName": "s", "DeliveryStreamType": 5})"},
           {"UpdateDestination",
            R"({"DeliveryStreamName": "s", "CurrentDeliveryStreamVersionId": 1})"}}) {
    HttpResponse response = call(operation, body);
    EXPECT_EQ(response.status, 400) << operation << " " << body;
    EXPECT_NE(response.body.find("SerializationException"), std::string::npos) << response.body;
  }
  // null is absent, as in AWS's JSON protocol.
  EXPECT_EQ(call("ListDeliveryStreams", R"({"Limit": null})").status, 200);
  streams.flush_and_stop();
}

}  // namespace
}  // namespace offcloud

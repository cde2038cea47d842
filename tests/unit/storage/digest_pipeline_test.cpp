#include "storage/digest_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "storage/checksum.h"
#include "storage/digest.h"

namespace offcloud {
namespace {

TEST(DigestPipelineTest, EveryUpdateSeesEveryChunkInOrder) {
  std::string seen_a, seen_b;
  {
    DigestPipeline pipeline({[&](std::string_view d) { seen_a.append(d); },
                             [&](std::string_view d) { seen_b.append(d); }},
                            /*max_chunks=*/2);
    for (int i = 0; i < 100; ++i) {
      pipeline.push(std::to_string(i) + ",");
    }
    pipeline.finish();
  }
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += std::to_string(i) + ",";
  EXPECT_EQ(seen_a, expected);
  EXPECT_EQ(seen_b, expected);
}

TEST(DigestPipelineTest, PushWaitsForTheSlowestUpdate) {
  std::atomic<int> in_flight_max{0};
  std::atomic<int> pushed{0}, hashed{0};
  DigestPipeline pipeline({[&](std::string_view) {
                            int waiting = pushed.load() - hashed.load();
                            if (waiting > in_flight_max.load()) in_flight_max = waiting;
                            std::this_thread::sleep_for(std::chrono::milliseconds(1));
                            ++hashed;
                          }},
                          /*max_chunks=*/3);
  for (int i = 0; i < 30; ++i) {
    ++pushed;
    pipeline.push("x");
  }
  pipeline.finish();
  EXPECT_EQ(hashed.load(), 30);
  EXPECT_LE(in_flight_max.load(), 4);  // 3 queued, plus the one just pushed
}

TEST(DigestPipelineTest, FinishedChunksComeBackForReuse) {
  DigestPipeline pipeline({[](std::string_view) {}});
  EXPECT_EQ(pipeline.reclaim(), "");
  std::string chunk(1 << 20, 'c');
  const char* memory = chunk.data();
  pipeline.push(std::move(chunk));
  std::string back;
  for (int i = 0; i < 1000 && back.empty(); ++i) {
    back = pipeline.reclaim();
    if (back.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(back.data(), memory);  // the same buffer, not a copy
  EXPECT_EQ(back.size(), 1u << 20);
}

TEST(DigestPipelineTest, DestroyedWithoutFinishStillJoins) {
  int count = 0;
  {
    DigestPipeline pipeline({[&](std::string_view) { ++count; }});
    pipeline.push("a");
  }
  EXPECT_EQ(count, 1);
}

}  // namespace
}  // namespace offcloud

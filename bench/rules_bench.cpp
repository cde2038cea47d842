// Messages/s through the rules engine with 1, 10 and 1000 rules installed:
// each rule is compiled once; every message is matched through the topic
// index and its rule's SQL evaluated, and the output handed to a firehose
// action whose sink only counts. The baseline, measured in the same run, is
// the bus with the engine subscribed and no rules.
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "rules/message_bus.h"
#include "rules/rules_engine.h"
#include "storage/object_store.h"

namespace {

using namespace offcloud;
using Clock = std::chrono::steady_clock;

class CountingSink : public FirehoseSink {
 public:
  bool put_records(const AccountRegion&, const std::string&, std::vector<std::string> records,
                   Done done, std::string*) override {
    count += records.size();
    done(true);
    return true;
  }
  std::uint64_t count = 0;
};

constexpr const char* kRecord =
    R"({"timestamp": "2021-01-10 15:41:43", "face_id": 0, "AgeRange-Low": 22,)"
    R"( "AgeRange-High": 34, "Gender": "Female", "Smile": true, "Calm": 72.5})";

// Publishes for about `seconds`, spreading messages over `topics` topics.
double messages_per_second(MessageBus& bus, int topics, double seconds) {
  std::vector<std::string> names;
  for (int i = 0; i < topics; ++i) names.push_back("device/" + std::to_string(i) + "/data");
  Message message;
  message.payload = kRecord;
  std::uint64_t sent = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    for (int batch = 0; batch < 256; ++batch) {
      message.topic = names[sent % names.size()];
      bus.publish(message);
      ++sent;
    }
  }
  return sent / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::stod(argv[1]) : 2.0;
  auto dir = std::filesystem::temp_directory_path() /
             ("offcloud-rules-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    ObjectStore objects(dir.string());
    MessageBus bus;
    RulesEngine engine(bus, objects);
    CountingSink sink;
    engine.set_firehose_sink(&sink);

    double baseline = messages_per_second(bus, 1000, seconds);
    std::printf("| rules installed | messages/s | ratio to no rules | outputs |\n");
    std::printf("| ---: | ---: | ---: | ---: |\n");
    std::printf("| 0 (baseline) | %.0f | 1.00 | 0 |\n", baseline);
    int installed = 0;
    for (int target : {1, 10, 1000}) {
      for (; installed < target; ++installed) {
        RuleDefinition definition;
        definition.sql =
            "SELECT Gender, get(*, 'AgeRange-Low') AS age, topic() AS t FROM 'device/" +
            std::to_string(installed) + "/+' WHERE Smile = true";
        definition.actions.push_back(FirehoseActionSpec{"bench", std::string("\n"), false});
        auto compiled = engine.compile({}, "rule" + std::to_string(installed), definition);
        engine.put(std::get<0>(compiled), true);
      }
      sink.count = 0;
      double rate = messages_per_second(bus, target, seconds);
      std::printf("| %d | %.0f | %.2f | %llu |\n", target, rate, rate / baseline,
                  static_cast<unsigned long long>(sink.count));
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}

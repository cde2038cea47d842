#include "rules/rules_engine.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "storage/digest.h"

namespace offcloud {
namespace {

constexpr std::int64_t kStartMs = 1610293303000;  // 2021-01-10T15:41:43Z
constexpr char kTraceId[] = "01234567-89ab-4def-8123-456789abcdef";

// Records what the firehose action hands over; commit() plays the buffer's
// writer thread, making the queued batches durable (or failing them).
class RecordingSink : public FirehoseSink {
 public:
  bool put_records(const AccountRegion& scope, const std::string& stream,
                   std::vector<std::string> records, Done done, std::string* error) override {
    scopes.push_back(scope);
    if (stream != "known") {
      *error = "Firehose " + stream + " not found";
      return false;
    }
    batches.push_back(std::move(records));
    pending.push_back(std::move(done));
    return true;
  }
  void commit(bool durable) {
    for (Done& done : pending) done(durable);
    pending.clear();
  }
  std::vector<std::vector<std::string>> batches;
  std::vector<Done> pending;
  std::vector<AccountRegion> scopes;
};

class RulesEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("offcloud-engine-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    objects_ = std::make_unique<ObjectStore>((dir_ / "s3").string());
    RulesEngineOptions options;
    // Each reading of the clock is one millisecond later, so keys made of
    // timestamp() differ per message as they do in real time.
    options.now_ms = [this] { return clock_ms_++; };
    options.new_uuid = [] { return std::string(kTraceId); };
    options.log_warning = [this](std::string_view text) { warnings_.emplace_back(text); };
    engine_ = std::make_unique<RulesEngine>(bus_, *objects_, options);
  }
  void TearDown() override {
    engine_.reset();
    objects_.reset();
    std::filesystem::remove_all(dir_);
  }

  void add_rule(const std::string& name, const RuleDefinition& definition,
                const AccountRegion& scope = {}) {
    auto compiled = engine_->compile(scope, name, definition);
    if (auto* error = std::get_if<RuleCompileError>(&compiled)) {
      FAIL() << name << ": " << error->message;
    }
    engine_->put(std::get<std::shared_ptr<const CompiledTopicRule>>(compiled),
                 !definition.disabled);
  }

  // Every message published on topics matching `filter` from now on.
  std::shared_ptr<std::vector<Message>> capture(const std::string& filter,
                                                const AccountRegion& scope = {}) {
    auto messages = std::make_shared<std::vector<Message>>();
    bus_.subscribe(scope, TopicFilter(filter),
                   [messages](const Message& m) { messages->push_back(m); });
    return messages;
  }

  void publish(const std::string& topic, const std::string& payload,
               const std::string& client_id = "", const AccountRegion& scope = {}) {
    Message message;
    message.scope = scope;
    message.topic = topic;
    message.payload = payload;
    message.client_id = client_id;
    message.timestamp_ms = clock_ms_;
    bus_.publish(message);
  }

  void create_bucket(const std::string& name) {
    ASSERT_EQ(objects_->create_bucket(name, "ap-northeast-1", "000000000000"),
              ObjectStore::Status::kOk);
  }

  // key -> content of every object in `bucket`.
  std::map<std::string, std::string> objects_in(const std::string& bucket) {
    std::map<std::string, std::string> out;
    for (const ObjectInfo& info : objects_->list_objects(bucket, {}).objects) {
      auto opened = objects_->open_object(bucket, info.key, 0, std::nullopt);
      std::string content(opened->second->length(), '\0');
      std::size_t done = 0;
      while (done < content.size()) {
        done += opened->second->read(content.data() + done, content.size() - done);
      }
      out[info.key] = content;
    }
    return out;
  }

  static RuleDefinition rule(std::string sql, std::vector<ActionSpec> actions,
                             std::optional<ActionSpec> error_action = std::nullopt) {
    RuleDefinition definition;
    definition.sql = std::move(sql);
    definition.actions = std::move(actions);
    definition.error_action = std::move(error_action);
    return definition;
  }

  std::filesystem::path dir_;
  std::int64_t clock_ms_ = kStartMs;
  std::vector<std::string> warnings_;
  MessageBus bus_;
  std::unique_ptr<ObjectStore> objects_;
  std::unique_ptr<RulesEngine> engine_;
};

TEST_F(RulesEngineTest, S3ActionWritesOneObjectPerMessage) {
  create_bucket("logs");
  add_rule("toS3", rule("SELECT face_id, topic() AS t FROM 'handson/+' WHERE Smile = true",
                        {S3ActionSpec{"logs", "${topic()}/${timestamp()}.json", ""}}));
  publish("handson/analysisLogData", R"({"face_id": 0, "Smile": true})");
  publish("handson/analysisLogData", R"({"face_id": 1, "Smile": false})");
  publish("handson/other", R"({"face_id": 2, "Smile": true})");
  publish("elsewhere/analysisLogData", R"({"face_id": 3, "Smile": true})");

  auto objects = objects_in("logs");
  ASSERT_EQ(objects.size(), 2u);
  auto it = objects.begin();
  EXPECT_TRUE(it->first.starts_with("handson/analysisLogData/16102933030")) << it->first;
  EXPECT_TRUE(it->first.ends_with(".json"));
  EXPECT_EQ(it->second, R"({"face_id":0,"t":"handson/analysisLogData"})");
  ++it;
  EXPECT_TRUE(it->first.starts_with("handson/other/"));
  EXPECT_EQ(it->second, R"({"face_id":2,"t":"handson/other"})");
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(RulesEngineTest, FailedActionRunsTheErrorActionWithAwsPayload) {
  auto errors = capture("errors/topic");
  add_rule("toMissingBucket",
           rule("SELECT * FROM 'sensors/#'", {S3ActionSpec{"no-such-bucket", "k/${topic(2)}", ""}},
                RepublishActionSpec{"errors/topic", 1}));
  publish("sensors/t1", R"({"temp": 21})", "device-1");

  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].qos, 1);
  auto payload = nlohmann::json::parse((*errors)[0].payload);
  EXPECT_EQ(payload["ruleName"], "toMissingBucket");
  EXPECT_EQ(payload["topic"], "sensors/t1");
  EXPECT_EQ(payload["cloudwatchTraceId"], kTraceId);
  EXPECT_EQ(payload["clientId"], "device-1");
  EXPECT_EQ(payload["base64OriginalPayload"], base64_encode(R"({"temp": 21})"));
  ASSERT_EQ(payload["failures"].size(), 1u);
  EXPECT_EQ(payload["failures"][0]["failedAction"], "S3Action");
  EXPECT_EQ(payload["failures"][0]["failedResource"], "no-such-bucket");
  std::string message = payload["failures"][0]["errorMessage"];
  EXPECT_NE(message.find("NoSuchBucket"), std::string::npos) << message;
  EXPECT_NE(message.find("Key: \"k/t1\""), std::string::npos) << message;
  // The keys come in the order AWS documents them.
  EXPECT_TRUE((*errors)[0].payload.starts_with(R"({"ruleName":"toMissingBucket","topic":)"));
  EXPECT_FALSE(warnings_.empty());
}

TEST_F(RulesEngineTest, OneErrorMessageListsEveryFailedActionAndGoodActionsStillRun) {
  create_bucket("good");
  auto errors = capture("errors/#");
  add_rule("mixed", rule("SELECT * FROM 'in'",
                         {S3ActionSpec{"missing", "a", ""}, S3ActionSpec{"good", "copy", ""},
                          FirehoseActionSpec{"stream", std::nullopt, false}},
                         RepublishActionSpec{"errors/${topic()}", 0}));
  add_rule("other", rule("SELECT * FROM 'in'", {S3ActionSpec{"good", "other", ""}}));
  publish("in", "payload");

  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].topic, "errors/in");  // error action templates see the message
  auto payload = nlohmann::json::parse((*errors)[0].payload);
  ASSERT_EQ(payload["failures"].size(), 2u);
  EXPECT_EQ(payload["failures"][0]["failedAction"], "S3Action");
  EXPECT_EQ(payload["failures"][1]["failedAction"], "FirehoseAction");
  EXPECT_EQ(payload["failures"][1]["failedResource"], "stream");
  auto objects = objects_in("good");
  EXPECT_EQ(objects["copy"], "payload");
  EXPECT_EQ(objects["other"], "payload");

  // The next message is processed as the first was.
  publish("in", "second");
  EXPECT_EQ(errors->size(), 2u);
  EXPECT_EQ(objects_in("good")["copy"], "second");
}

TEST_F(RulesEngineTest, RepublishFeedsAnotherRule) {
  create_bucket("chain");
  auto out = capture("stage/#");
  add_rule("first", rule("SELECT temp * 2 AS doubled FROM 'raw/+'",
                         {RepublishActionSpec{"stage/${topic(2)}", 1}}));
  add_rule("second", rule("SELECT doubled + 1 AS result, topic() AS t FROM 'stage/+'",
                          {S3ActionSpec{"chain", "${topic()}", ""}}));
  publish("raw/dev1", R"({"temp": 10})");

  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].topic, "stage/dev1");
  EXPECT_EQ((*out)[0].payload, R"({"doubled":20})");
  EXPECT_EQ((*out)[0].republish_hops, 1);
  EXPECT_EQ(objects_in("chain")["stage/dev1"], R"({"result":21,"t":"stage/dev1"})");
}

TEST_F(RulesEngineTest, SelfRepublishStopsAfterTheHopLimit) {
  auto loop = capture("loop/t");
  auto errors = capture("errors/loop");
  add_rule("loop", rule("SELECT * FROM 'loop/t'", {RepublishActionSpec{"loop/t", 0}},
                        RepublishActionSpec{"errors/loop", 0}));
  publish("loop/t", "{}");

  // The client's publish and one republish per allowed hop, then it stops.
  ASSERT_EQ(loop->size(), static_cast<std::size_t>(1 + kMaxRepublishHops));
  // Delivery is synchronous, so the deepest republish arrives first.
  EXPECT_EQ(loop->front().republish_hops, kMaxRepublishHops);
  EXPECT_EQ(loop->back().republish_hops, 0);
  ASSERT_EQ(errors->size(), 1u);
  auto payload = nlohmann::json::parse((*errors)[0].payload);
  EXPECT_EQ(payload["failures"][0]["failedAction"], "RepublishAction");
  EXPECT_NE(std::string(payload["failures"][0]["errorMessage"]).find("republish loop"),
            std::string::npos);

  // An error action that loops into its own rule is bounded as well.
  add_rule("loopy_errors", rule("SELECT * FROM 'e/t'", {S3ActionSpec{"missing", "k", ""}},
                                RepublishActionSpec{"e/t", 0}));
  auto e = capture("e/t");
  publish("e/t", "{}");
  // The error action may take one hop more than actions, to report the stop.
  EXPECT_EQ(e->size(), static_cast<std::size_t>(2 + kMaxRepublishHops));
}

TEST_F(RulesEngineTest, RepublishToReservedTopicsAndInvalidTopics) {
  auto shadow = capture("$aws/things/lamp/shadow/update");
  auto errors = capture("errors");
  add_rule("toShadow", rule("SELECT state FROM 'lamp/set'",
                            {RepublishActionSpec{"$$aws/things/lamp/shadow/update", 0},
                             RepublishActionSpec{"bad/${missing}/+", 0}},
                            RepublishActionSpec{"errors", 0}));
  publish("lamp/set", R"({"state": {"desired": {"on": true}}})");
  ASSERT_EQ(shadow->size(), 1u);
  EXPECT_EQ((*shadow)[0].payload, R"({"state":{"desired":{"on":true}}})");
  ASSERT_EQ(errors->size(), 1u);
  auto payload = nlohmann::json::parse((*errors)[0].payload);
  EXPECT_EQ(payload["failures"][0]["failedResource"], "bad//+");
}

TEST_F(RulesEngineTest, BasicIngestGoesToTheNamedRuleOnly) {
  create_bucket("ingest");
  add_rule("ingestRule", rule("SELECT topic() AS t, topic(1) AS first FROM 'Buildings/#'",
                              {S3ActionSpec{"ingest", "ingestRule", ""}}));
  add_rule("listener",
           rule("SELECT * FROM 'Buildings/#'", {S3ActionSpec{"ingest", "listener", ""}}));
  add_rule("wildcard", rule("SELECT * FROM '#'", {S3ActionSpec{"ingest", "wildcard", ""}}));
  publish("$aws/rules/ingestRule/Buildings/Building5/Floor2", "{}");
  auto objects = objects_in("ingest");
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects["ingestRule"], R"({"t":"Buildings/Building5/Floor2","first":"Buildings"})");

  // The rule's FROM filter does not gate basic ingest; unknown rules drop it.
  publish("$aws/rules/ingestRule/elsewhere", "{}");
  EXPECT_EQ(objects_in("ingest")["ingestRule"], R"({"t":"elsewhere","first":"elsewhere"})");
  publish("$aws/rules/noSuchRule/Buildings/x", "{}");
  EXPECT_EQ(objects_in("ingest").size(), 1u);
}

TEST_F(RulesEngineTest, DisabledReplacedAndRemovedRules) {
  create_bucket("b");
  RuleDefinition definition = rule("SELECT * FROM 't'", {S3ActionSpec{"b", "one", ""}});
  definition.disabled = true;
  add_rule("r", definition);
  publish("t", "1");
  EXPECT_TRUE(objects_in("b").empty());

  engine_->set_enabled({}, "r", true);
  publish("t", "2");
  EXPECT_EQ(objects_in("b")["one"], "2");

  add_rule("r", rule("SELECT * FROM 't'", {S3ActionSpec{"b", "two", ""}}));  // replace
  publish("t", "3");
  EXPECT_EQ(objects_in("b")["one"], "2");
  EXPECT_EQ(objects_in("b")["two"], "3");

  engine_->set_enabled({}, "r", false);
  publish("t", "4");
  engine_->set_enabled({}, "r", true);
  engine_->remove({}, "r");
  publish("t", "5");
  EXPECT_EQ(objects_in("b")["two"], "3");
  EXPECT_EQ(engine_->find({}, "r"), nullptr);
}

TEST_F(RulesEngineTest, FirehoseRecordsWithSeparatorsAndBatchMode) {
  auto errors = capture("errors");
  add_rule("single", rule("SELECT a FROM 'fh/single'",
                          {FirehoseActionSpec{"known", std::string("\n"), false}},
                          RepublishActionSpec{"errors", 0}));
  add_rule("batch", rule("SELECT VALUE items FROM 'fh/batch'",
                         {FirehoseActionSpec{"known", std::string(","), true}}));
  add_rule("missing",
           rule("SELECT * FROM 'fh/missing'", {FirehoseActionSpec{"unknown", std::nullopt, false}},
                RepublishActionSpec{"errors", 0}));

  // No sink yet: the stream does not exist, as for AWS without the stream.
  publish("fh/single", R"({"a": 1})");
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_NE((*errors)[0].payload.find("not found"), std::string::npos);

  RecordingSink sink;
  engine_->set_firehose_sink(&sink);
  publish("fh/single", R"({"a": 1})");
  publish("fh/batch", R"({"items": [{"x": 1}, 2.5, "s"]})");
  publish("fh/missing", "raw bytes");
  engine_->set_firehose_sink(nullptr);

  ASSERT_EQ(sink.batches.size(), 2u);
  EXPECT_EQ(sink.batches[0], (std::vector<std::string>{"{\"a\":1}\n"}));
  EXPECT_EQ(sink.batches[1], (std::vector<std::string>{"{\"x\":1},", "2.5,", "\"s\","}));
  ASSERT_EQ(errors->size(), 2u);
  EXPECT_NE((*errors)[1].payload.find("Firehose unknown not found"), std::string::npos);
}

// A publisher is answered only once the Firehose records its message caused
// are durable, and told when they could not be written.
TEST_F(RulesEngineTest, PublishReceiptWaitsForFirehoseCommits) {
  add_rule("a", rule("SELECT * FROM 'fh/t'", {FirehoseActionSpec{"known", std::nullopt, false}}));
  add_rule("b", rule("SELECT * FROM 'fh/t'", {RepublishActionSpec{"fh/copy", 0}}));
  add_rule("c",
           rule("SELECT * FROM 'fh/copy'", {FirehoseActionSpec{"known", std::nullopt, false}}));
  RecordingSink sink;
  engine_->set_firehose_sink(&sink);
  for (bool durable : {true, false}) {
    std::optional<bool> answer;
    Message message;
    message.topic = "fh/t";
    message.payload = "x";
    message.receipt = std::make_shared<PublishReceipt>([&](bool written) { answer = written; });
    bus_.publish(message);
    message.receipt.reset();
    // Two writes pending: the rule's own and the republished copy's.
    EXPECT_EQ(sink.pending.size(), 2u);
    EXPECT_FALSE(answer.has_value());
    sink.pending[0](true);
    sink.pending.erase(sink.pending.begin());
    EXPECT_FALSE(answer.has_value());
    sink.commit(durable);
    EXPECT_EQ(answer, durable);
  }
  // Nothing to wait for: answered at once.
  std::optional<bool> answer;
  Message message;
  message.topic = "elsewhere";
  message.receipt = std::make_shared<PublishReceipt>([&](bool written) { answer = written; });
  bus_.publish(message);
  message.receipt.reset();
  EXPECT_EQ(answer, true);
  engine_->set_firehose_sink(nullptr);
}

TEST_F(RulesEngineTest, CompileErrorsSayWhatFailed) {
  auto bad_sql = engine_->compile({}, "r", rule("SELECT * FROM", {}));
  ASSERT_TRUE(std::holds_alternative<RuleCompileError>(bad_sql));
  EXPECT_EQ(std::get<RuleCompileError>(bad_sql).kind, RuleCompileError::Kind::kSql);

  auto bad_template =
      engine_->compile({}, "r", rule("SELECT * FROM 'a'", {S3ActionSpec{"b", "${topic(}", ""}}));
  ASSERT_TRUE(std::holds_alternative<RuleCompileError>(bad_template));
  EXPECT_EQ(std::get<RuleCompileError>(bad_template).kind, RuleCompileError::Kind::kTemplate);
  EXPECT_NE(std::get<RuleCompileError>(bad_template).message.find("s3.key"), std::string::npos);

  auto offline = engine_->compile({}, "r", rule("SELECT aws_lambda('arn', *) FROM 'a'", {}));
  ASSERT_TRUE(std::holds_alternative<RuleCompileError>(offline));
  EXPECT_NE(std::get<RuleCompileError>(offline).message.find("not supported offline"),
            std::string::npos);
}

TEST_F(RulesEngineTest, TemplatesSeeSetVariables) {
  create_bucket("vars");
  add_rule("vars", rule("SET @room = upper(room) SELECT temp FROM 'v'",
                        {S3ActionSpec{"vars", "${@room}/${temp}", ""}},
                        RepublishActionSpec{"never/${@room}", 0}));
  publish("v", R"({"room": "kitchen", "temp": 20})");
  EXPECT_EQ(objects_in("vars")["KITCHEN/20"], R"({"temp":20})");
}

TEST_F(RulesEngineTest, ARuleSeesOnlyItsOwnAccountAndRegion) {
  const AccountRegion tokyo{"111122223333", "ap-northeast-1"};
  const AccountRegion virginia{"111122223333", "us-east-1"};
  const AccountRegion other{"444455556666", "ap-northeast-1"};
  add_rule("same", rule("SELECT * FROM 'in'", {RepublishActionSpec{"out/tokyo", 0}}), tokyo);
  add_rule("same", rule("SELECT * FROM 'in'", {RepublishActionSpec{"out/virginia", 0}}), virginia);
  auto tokyo_out = capture("out/#", tokyo);
  auto virginia_out = capture("out/#", virginia);
  auto other_out = capture("out/#", other);

  publish("in", "a", "", tokyo);
  ASSERT_EQ(tokyo_out->size(), 1u);
  EXPECT_EQ((*tokyo_out)[0].topic, "out/tokyo");
  EXPECT_EQ((*tokyo_out)[0].scope, tokyo) << "a republish stays in its rule's scope";
  EXPECT_TRUE(virginia_out->empty());
  publish("in", "b", "", other);
  publish("in", "c");  // the default account
  EXPECT_EQ(tokyo_out->size(), 1u);
  EXPECT_TRUE(virginia_out->empty());
  EXPECT_TRUE(other_out->empty());
  publish("in", "d", "", virginia);
  ASSERT_EQ(virginia_out->size(), 1u);
  EXPECT_EQ((*virginia_out)[0].topic, "out/virginia");
  EXPECT_TRUE(engine_->find(tokyo, "same"));
  EXPECT_FALSE(engine_->find(other, "same"));
  engine_->remove(tokyo, "same");
  EXPECT_TRUE(engine_->find(virginia, "same")) << "removing one scope's rule keeps the other's";
}

TEST_F(RulesEngineTest, ActionsActInTheRulesAccount) {
  const AccountRegion student{"111122223333", "ap-northeast-1"};
  create_bucket("teachers");  // owned by 000000000000
  auto errors = capture("errors", student);
  RuleDefinition definition = rule(
      "SELECT * FROM 'in'",
      {S3ActionSpec{"teachers", "k", ""}, FirehoseActionSpec{"known", std::string("\n"), false}},
      RepublishActionSpec{"errors", 0});
  add_rule("r", definition, student);
  RecordingSink sink;
  engine_->set_firehose_sink(&sink);
  publish("in", "x", "", student);
  engine_->set_firehose_sink(nullptr);
  EXPECT_TRUE(objects_in("teachers").empty()) << "another account's bucket";
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_NE((*errors)[0].payload.find("AccessDenied"), std::string::npos) << (*errors)[0].payload;
  ASSERT_EQ(sink.scopes.size(), 1u);
  EXPECT_EQ(sink.scopes[0], student) << "the stream is looked up in the rule's account and region";
}

}  // namespace
}  // namespace offcloud

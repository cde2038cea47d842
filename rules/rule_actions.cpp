#include "rules/rule_actions.h"

#include <chrono>

#include "rules/sql_json.h"
#include "rules/topic_filter.h"
#include "rules/topic_rule.h"

namespace offcloud {
namespace {

constexpr std::size_t kMaxS3KeyBytes = 1024;
// PutRecordBatch's limit, which AWS applies to batchMode outputs.
constexpr std::size_t kMaxFirehoseBatch = 500;

std::int64_t now_ms(const EvaluationContext& context) {
  if (context.now_ms) return context.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string arrived_on(const ActionInput& input) {
  return input.context.message ? input.context.message->topic : std::string();
}

class RepublishAction : public RuleAction {
 public:
  RepublishAction(CompiledTemplate topic, int qos, MessageBus& bus)
      : topic_(std::move(topic)), qos_(qos), bus_(bus) {}

  const char* name() const override { return "RepublishAction"; }

  std::optional<ActionFailure> run(const ActionInput& input) const override {
    std::string topic = topic_.expand(input.context, input.variables);
    // "$$aws/..." is how a rule names the reserved topic "$aws/...".
    if (topic.starts_with("$$")) topic.erase(0, 1);
    auto failure = [&](std::string why) {
      return ActionFailure{name(), topic,
                           "Failed to republish to topic " + topic + ". " + why +
                               " Message arrived on: " + arrived_on(input)};
    };
    if (std::string why = validate_publish_topic(topic); !why.empty()) return failure(why);
    int hops = input.context.message ? input.context.message->republish_hops : 0;
    if (hops >= kMaxRepublishHops + (input.error_action ? 1 : 0)) {
      return failure("The message was already republished " + std::to_string(hops) +
                     " times by rules; offcloud stops it here to end a republish loop.");
    }
    Message message;
    if (input.context.message) message.scope = input.context.message->scope;
    message.topic = std::move(topic);
    message.payload = input.payload;
    message.qos = qos_;
    message.timestamp_ms = now_ms(input.context);
    message.republish_hops = hops + 1;
    if (input.context.message) message.receipt = input.context.message->receipt;
    bus_.publish(message);
    return std::nullopt;
  }

 private:
  CompiledTemplate topic_;
  int qos_;
  MessageBus& bus_;
};

class S3Action : public RuleAction {
 public:
  S3Action(std::string bucket, CompiledTemplate key, ObjectStore& objects)
      : bucket_(std::move(bucket)), key_(std::move(key)), objects_(objects) {}

  const char* name() const override { return "S3Action"; }

  std::optional<ActionFailure> run(const ActionInput& input) const override {
    std::string key = key_.expand(input.context, input.variables);
    auto failure = [&](std::string why) {
      return ActionFailure{name(), bucket_,
                           "Failed to put S3 object. " + why +
                               " Message arrived on: " + arrived_on(input) +
                               ", Action: s3, Bucket: " + bucket_ + ", Key: \"" + key + "\""};
    };
    if (key.empty()) return failure("The key template expanded to an empty key.");
    if (key.size() > kMaxS3KeyBytes) return failure("Your key is too long (KeyTooLongError).");
    auto no_such_bucket = [&] {
      return failure(
          "The error received was The specified bucket does not exist (Error Code: "
          "NoSuchBucket).");
    };
    std::optional<BucketInfo> bucket = objects_.bucket(bucket_);
    if (!bucket) return no_such_bucket();
    // Another account's bucket: its owner has granted nothing (bucket
    // policies are not emulated), so S3 refuses the rule's role.
    if (bucket->owner != input.context.account_id) {
      return failure("The error received was Access Denied (Error Code: AccessDenied).");
    }
    std::unique_ptr<BlobWriter> blob = objects_.new_blob();
    blob->write(input.payload);
    blob->close();
    ObjectInfo info;
    info.key = std::move(key);
    info.content_type = "application/octet-stream";
    info.last_modified_ms = now_ms(input.context);
    if (objects_.put_object(bucket_, std::move(info), *blob) ==
        ObjectStore::Status::kNoSuchBucket) {
      return no_such_bucket();
    }
    return std::nullopt;
  }

 private:
  std::string bucket_;
  CompiledTemplate key_;
  ObjectStore& objects_;
};

class FirehoseAction : public RuleAction {
 public:
  FirehoseAction(FirehoseActionSpec spec, SqlVersion version, std::atomic<FirehoseSink*>& sink)
      : spec_(std::move(spec)), version_(version), sink_(sink) {}

  const char* name() const override { return "FirehoseAction"; }

  std::optional<ActionFailure> run(const ActionInput& input) const override {
    auto failure = [&](std::string why) {
      return ActionFailure{name(), spec_.stream,
                           "Failed to send records to Firehose. " + why + " Message arrived on: " +
                               arrived_on(input) + ", Action: firehose, Stream: " + spec_.stream};
    };
    std::vector<std::string> records;
    if (!make_records(input.payload, &records)) {
      return failure("The batch has more than " + std::to_string(kMaxFirehoseBatch) + " records.");
    }
    if (records.empty()) return std::nullopt;
    FirehoseSink* sink = sink_.load();
    if (sink == nullptr) {
      return failure("The error received was Firehose " + spec_.stream +
                     " not found under account " + input.context.account_id +
                     ". (Error Code: ResourceNotFoundException)");
    }
    std::string error;
    std::shared_ptr<PublishReceipt> receipt;
    if (input.context.message) receipt = input.context.message->receipt;
    auto done = [receipt = std::move(receipt)](bool durable) {
      if (!durable && receipt) receipt->fail();
    };
    AccountRegion scope;
    if (input.context.message) scope = input.context.message->scope;
    if (!sink->put_records(scope, spec_.stream, std::move(records), std::move(done), &error)) {
      return failure("The error received was " + error);
    }
    return std::nullopt;
  }

 private:
  // False when a batch is too large.
  bool make_records(const std::string& payload, std::vector<std::string>* records) const {
    const std::string separator = spec_.separator.value_or("");
    bool whole_as_int = version_ == SqlVersion::k2016_03_23;
    if (spec_.batch_mode) {
      std::optional<SqlValue> parsed = parse_json(payload, whole_as_int);
      if (parsed && parsed->is_array()) {
        if (parsed->as_array().size() > kMaxFirehoseBatch) return false;
        for (const SqlValue& element : parsed->as_array()) {
          std::string record;
          append_json(element, whole_as_int, &record);
          records->push_back(record + separator);
        }
        return true;
      }
    }
    records->push_back(payload + separator);
    return true;
  }

  FirehoseActionSpec spec_;
  SqlVersion version_;
  std::atomic<FirehoseSink*>& sink_;
};

// The template, or its parse error with `field` named.
std::variant<CompiledTemplate, SqlParseError> compile_field(
    std::string_view field, const std::string& text, SqlVersion version,
    const std::vector<std::string>& variable_names) {
  auto compiled = compile_template(text, version, variable_names);
  if (auto* error = std::get_if<SqlParseError>(&compiled)) {
    error->message = std::string(field) + ": " + error->message;
  }
  return compiled;
}

}  // namespace

std::variant<std::unique_ptr<RuleAction>, SqlParseError> compile_action(
    const ActionSpec& spec, SqlVersion version, const std::vector<std::string>& variable_names,
    ActionTargets& targets) {
  if (const auto* republish = std::get_if<RepublishActionSpec>(&spec)) {
    auto topic = compile_field("republish.topic", republish->topic, version, variable_names);
    if (auto* error = std::get_if<SqlParseError>(&topic)) return *error;
    return std::make_unique<RepublishAction>(std::get<CompiledTemplate>(std::move(topic)),
                                             republish->qos, *targets.bus);
  }
  if (const auto* s3 = std::get_if<S3ActionSpec>(&spec)) {
    auto key = compile_field("s3.key", s3->key, version, variable_names);
    if (auto* error = std::get_if<SqlParseError>(&key)) return *error;
    return std::make_unique<S3Action>(s3->bucket, std::get<CompiledTemplate>(std::move(key)),
                                      *targets.objects);
  }
  return std::make_unique<FirehoseAction>(std::get<FirehoseActionSpec>(spec), version,
                                          targets.firehose);
}

}  // namespace offcloud

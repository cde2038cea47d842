#include "emulator/firehose/firehose_handlers.h"

#include <algorithm>
#include <chrono>
#include <random>

#include <nlohmann/json.hpp>

#include "emulator/firehose/firehose_buffer_view.h"
#include "emulator/util/log.h"

namespace offcloud {
namespace {

using json = nlohmann::json;
constexpr std::string_view kTargetPrefix = "Firehose_20150804.";
constexpr std::string_view kDestinationId = "destinationId-000000000001";

HttpResponse ok(const json& body) {
  HttpResponse response;
  response.headers.add("Content-Type", "application/x-amz-json-1.1");
  response.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return response;
}

HttpResponse fail(const RequestContext& context, ErrorCode code, std::string message) {
  // Firehose's errors carry no status of their own in its model: all 400.
  ApiError error{code, std::move(message)};
  error.status = error_info(code).status >= 500 ? 0 : 400;
  return error_response(Protocol::kJson, error, context.request_id);
}

std::string record_id() {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::string id(224, '\0');  // AWS's record ids are this long
  // Ten characters from each 64 random bits.
  for (std::size_t i = 0; i < id.size();) {
    for (std::uint64_t bits = random(), n = 0; n < 10 && i < id.size(); ++n, bits >>= 6) {
      id[i++] = kAlphabet[bits % 64];
    }
  }
  return id;
}

bool valid_stream_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '.' || c == '-';
    if (!allowed) return false;
  }
  return true;
}

// What is wrong with a request. A constraint of the API model (a length, a
// range, an enum) is refused by AWS's request validation with
// ValidationException in its own words; semantic errors are
// InvalidArgumentException.
struct Invalid {
  ErrorCode code = ErrorCode::kInvalidArgumentException;
  std::string message;
  bool empty() const { return message.empty(); }
};

Invalid semantic(std::string message) {
  return {ErrorCode::kInvalidArgumentException, message};
}

Invalid constraint(const std::string& path, const std::string& value, const std::string& rule) {
  return {ErrorCode::kValidationException, "1 validation error detected: Value '" + value +
                                               "' at '" + path +
                                               "' failed to satisfy constraint: " + rule};
}

// Reads an S3 destination (create or update) into `config`.
Invalid read_destination(const json& destination, bool update, DeliveryStreamConfig* config) {
  if (!destination.is_object()) return semantic("The destination configuration must be an object.");
  for (auto [field, out] :
       {std::pair{"RoleARN", &config->role_arn}, std::pair{"BucketARN", &config->bucket_arn},
        std::pair{"Prefix", &config->prefix},
        std::pair{"ErrorOutputPrefix", &config->error_output_prefix},
        std::pair{"CompressionFormat", &config->compression}}) {
    if (!destination.contains(field)) continue;
    if (!destination[field].is_string()) return semantic(std::string(field) + " must be a string.");
    *out = destination[field].get<std::string>();
  }
  if (!update && (config->role_arn.empty() || config->bucket_arn.empty())) {
    return semantic("RoleARN and BucketARN are required.");
  }
  if (config->bucket().empty()) {
    return semantic("BucketARN must be an S3 bucket ARN (arn:aws:s3:::bucket), not '" +
                    config->bucket_arn + "'.");
  }
  if (destination.contains("BufferingHints")) {
    const json& hints = destination["BufferingHints"];
    if (!hints.is_object()) return semantic("BufferingHints must be an object.");
    for (auto [field, out] : {std::pair{"SizeInMBs", &config->size_mb},
                              std::pair{"IntervalInSeconds", &config->interval_s}}) {
      if (!hints.contains(field)) continue;
      if (!hints[field].is_number_integer()) {
        return semantic(std::string(field) + " must be an integer.");
      }
      *out = hints[field].get<int>();
    }
  }
  std::string where = update ? "extendedS3DestinationUpdate" : "extendedS3DestinationConfiguration";
  if (config->size_mb < 1 || config->size_mb > 128) {
    return constraint(where + ".bufferingHints.sizeInMBs", std::to_string(config->size_mb),
                      "Member must have value between 1 and 128");
  }
  if (config->interval_s < 0 || config->interval_s > 900) {
    return constraint(where + ".bufferingHints.intervalInSeconds",
                      std::to_string(config->interval_s),
                      "Member must have value between 0 and 900");
  }
  static const std::string kFormats[] = {"UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"};
  if (std::find(std::begin(kFormats), std::end(kFormats), config->compression) ==
      std::end(kFormats)) {
    return constraint(where + ".compressionFormat", config->compression,
                      "Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZIP, Snappy, "
                      "HADOOP_SNAPPY]");
  }
  if (config->compression != "UNCOMPRESSED" && config->compression != "GZIP") {
    return semantic("CompressionFormat " + config->compression +
                    " is not supported by offcloud; use UNCOMPRESSED or GZIP.");
  }
  if (std::string why = validate_firehose_prefix(config->prefix, false); !why.empty()) {
    return semantic("Prefix: " + why);
  }
  if (std::string why = validate_firehose_prefix(config->error_output_prefix, true); !why.empty()) {
    return semantic("ErrorOutputPrefix: " + why);
  }
  if (config->prefix.find("!{") != std::string::npos && config->error_output_prefix.empty()) {
    return semantic("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions.");
  }
  return {};
}

// UpdateDestination's two ids, against the model: CurrentDeliveryStreamVersionId
// is 1 to 50 digits, DestinationId 1 to 100 of [a-zA-Z0-9-]; both required.
Invalid update_ids_invalid(const json& body) {
  struct Id {
    const char* field;
    const char* path;
    std::size_t max;
    bool (*allowed)(char);
    const char* pattern;
  };
  static const Id kIds[] = {
      {"CurrentDeliveryStreamVersionId", "currentDeliveryStreamVersionId", 50,
       [](char c) { return c >= '0' && c <= '9'; }, "[0-9]+"},
      {"DestinationId", "destinationId", 100,
       [](char c) {
         return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-';
       },
       "[a-zA-Z0-9-]+"},
  };
  for (const Id& id : kIds) {
    if (!body.contains(id.field)) {
      return {ErrorCode::kValidationException,
              "1 validation error detected: Value null at '" + std::string(id.path) +
                  "' failed to satisfy constraint: Member must not be null"};
    }
    const std::string value = body[id.field].get<std::string>();
    if (value.empty() || value.size() > id.max) {
      return constraint(id.path, value,
                        "Member must have length between 1 and " + std::to_string(id.max));
    }
    if (!std::all_of(value.begin(), value.end(), id.allowed)) {
      return constraint(
          id.path, value,
          "Member must satisfy regular expression pattern: " + std::string(id.pattern));
    }
  }
  return {};
}

json describe(const DeliveryStreamConfig& c) {
  json s3 = {{"RoleARN", c.role_arn},
             {"BucketARN", c.bucket_arn},
             {"BufferingHints", {{"SizeInMBs", c.size_mb}, {"IntervalInSeconds", c.interval_s}}},
             {"CompressionFormat", c.compression},
             {"EncryptionConfiguration", {{"NoEncryptionConfig", "NoEncryption"}}},
             {"CloudWatchLoggingOptions", {{"Enabled", false}}}};
  if (!c.prefix.empty()) s3["Prefix"] = c.prefix;
  if (!c.error_output_prefix.empty()) s3["ErrorOutputPrefix"] = c.error_output_prefix;
  json destination = {{"DestinationId", kDestinationId}, {"S3DestinationDescription", s3}};
  if (c.extended) {
    json extended = s3;
    extended["S3BackupMode"] = "Disabled";
    destination["ExtendedS3DestinationDescription"] = extended;
  }
  return {{"DeliveryStreamDescription",
           {{"DeliveryStreamName", c.name},
            {"DeliveryStreamARN", c.arn},
            {"DeliveryStreamStatus", "ACTIVE"},
            {"DeliveryStreamEncryptionConfiguration", {{"Status", "DISABLED"}}},
            {"DeliveryStreamType", c.type},
            {"VersionId", std::to_string(c.version)},
            {"CreateTimestamp", c.created_ms / 1000.0},
            {"LastUpdateTimestamp", c.updated_ms / 1000.0},
            {"Destinations", json::array({destination})},
            {"HasMoreDestinations", false}}}};
}

std::string stream_arn(const AccountRegion& scope, const std::string& name) {
  return "arn:aws:firehose:" + scope.region + ":" + scope.account_id + ":deliverystream/" + name;
}

std::optional<std::string> stream_name(const json& body) {
  if (!body.contains("DeliveryStreamName") || !body["DeliveryStreamName"].is_string()) {
    return std::nullopt;
  }
  return body["DeliveryStreamName"].get<std::string>();
}

// Record.Data: a base64 blob in JSON.
std::optional<std::string> record_data(const json& record) {
  if (!record.is_object() || !record.contains("Data") || !record["Data"].is_string()) {
    return std::nullopt;
  }
  std::string bytes;
  if (!base64_decode(record["Data"].get<std::string>(), &bytes)) return std::nullopt;
  return bytes;
}

}  // namespace

void FirehoseService::handle(HttpRequest& request, RequestContext& context, Reply reply) {
  if (request.path == kBufferViewPath) return reply(buffer_view(request, context));
  std::string_view target = request.headers.get("x-amz-target");
  if (!target.starts_with(kTargetPrefix) || request.method != "POST") {
    return reply(fail(context, ErrorCode::kUnknownOperationException,
                      "Firehose requests are POSTs with X-Amz-Target: Firehose_20150804.<Op>."));
  }
  std::string operation(target.substr(kTargetPrefix.size()));
  context.operation = operation;
  json body = json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
  if (!body.is_object()) {
    return reply(fail(context, ErrorCode::kSerializationException, "The body is not JSON."));
  }
  // Members read with a default must have their model's type; AWS refuses
  // any other before the operation runs (null counts as absent).
  for (const char* field : {"DeliveryStreamType", "ExclusiveStartDeliveryStreamName",
                            "CurrentDeliveryStreamVersionId", "DestinationId", "Limit"}) {
    if (!body.contains(field)) continue;
    if (body[field].is_null()) {
      body.erase(field);
      continue;
    }
    bool integer = std::string_view(field) == "Limit";
    if (integer ? !body[field].is_number_integer() : !body[field].is_string()) {
      return reply(
          fail(context, ErrorCode::kSerializationException,
               std::string(field) + (integer ? " must be an integer." : " must be a string.")));
    }
  }
  auto name = stream_name(body);
  // Firehose is regional: the caller's account and region hold its streams.
  AccountRegion scope{context.principal.account_id,
                      context.region.empty() ? "us-east-1" : context.region};
  auto not_found = [&] {
    return fail(context, ErrorCode::kResourceNotFoundException,
                "Firehose " + name.value_or("") + " under account " + context.principal.account_id +
                    " not found.");
  };
  bool named = operation != "ListDeliveryStreams";
  if (named && (!name || !valid_stream_name(*name))) {
    Invalid invalid = constraint("deliveryStreamName", name.value_or(""),
                                 "Member must satisfy regular expression pattern: "
                                 "[a-zA-Z0-9._-]+ and have length between 1 and 64");
    return reply(fail(context, invalid.code, invalid.message));
  }

  if (operation == "CreateDeliveryStream") {
    DeliveryStreamConfig config;
    config.scope = scope;
    config.name = *name;
    config.type = body.value("DeliveryStreamType", "DirectPut");
    if (config.type != "DirectPut") {
      return reply(
          fail(context, ErrorCode::kInvalidArgumentException,
               "DeliveryStreamType " + config.type + " is not supported offline; use DirectPut."));
    }
    bool extended = body.contains("ExtendedS3DestinationConfiguration");
    if (!extended && !body.contains("S3DestinationConfiguration")) {
      return reply(fail(context, ErrorCode::kInvalidArgumentException,
                        "offcloud delivers to S3 only: give ExtendedS3DestinationConfiguration "
                        "or S3DestinationConfiguration."));
    }
    config.extended = extended;
    Invalid invalid = read_destination(
        body[extended ? "ExtendedS3DestinationConfiguration" : "S3DestinationConfiguration"], false,
        &config);
    if (!invalid.empty()) return reply(fail(context, invalid.code, invalid.message));
    config.arn = stream_arn(scope, config.name);
    config.created_ms = config.updated_ms = now_ms();
    if (streams_.create(config) == DeliveryStreams::Status::kInUse) {
      return reply(fail(context, ErrorCode::kResourceInUseException,
                        "Firehose " + config.name + " under accountId " +
                            context.principal.account_id + " already exists"));
    }
    return reply(ok({{"DeliveryStreamARN", config.arn}}));
  }
  if (operation == "DescribeDeliveryStream") {
    auto config = streams_.describe(scope, *name);
    if (!config) return reply(not_found());
    return reply(ok(describe(*config)));
  }
  if (operation == "ListDeliveryStreams") {
    int limit = body.value("Limit", 10);
    if (limit < 1 || limit > 10000) {
      return reply(fail(context, ErrorCode::kInvalidArgumentException,
                        "Limit must be between 1 and 10000."));
    }
    std::string after = body.value("ExclusiveStartDeliveryStreamName", "");
    std::string type = body.value("DeliveryStreamType", "");
    json names = json::array();
    bool more = false;
    for (const std::string& stream : streams_.names(scope)) {
      if (stream <= after) continue;
      if (!type.empty() && type != "DirectPut") continue;
      if (static_cast<int>(names.size()) == limit) {
        more = true;
        break;
      }
      names.push_back(stream);
    }
    return reply(ok({{"DeliveryStreamNames", names}, {"HasMoreDeliveryStreams", more}}));
  }
  if (operation == "DeleteDeliveryStream") {
    if (streams_.remove(scope, *name) == DeliveryStreams::Status::kNotFound)
      return reply(not_found());
    return reply(ok(json::object()));
  }
  if (operation == "UpdateDestination") {
    // The model's constraints first, as AWS's request validation does.
    if (Invalid invalid = update_ids_invalid(body); !invalid.empty()) {
      return reply(fail(context, invalid.code, invalid.message));
    }
    auto current = streams_.describe(scope, *name);
    if (!current) return reply(not_found());
    std::string version = body.value("CurrentDeliveryStreamVersionId", "");
    if (body.value("DestinationId", "") != kDestinationId) {
      return reply(fail(context, ErrorCode::kInvalidArgumentException,
                        "DestinationId must be " + std::string(kDestinationId) + "."));
    }
    const char* field = body.contains("ExtendedS3DestinationUpdate") ? "ExtendedS3DestinationUpdate"
                        : body.contains("S3DestinationUpdate")       ? "S3DestinationUpdate"
                                                                     : nullptr;
    if (!field) {
      return reply(fail(context, ErrorCode::kInvalidArgumentException,
                        "offcloud updates S3 destinations only."));
    }
    DeliveryStreamConfig next = *current;
    if (Invalid invalid = read_destination(body[field], true, &next); !invalid.empty()) {
      return reply(fail(context, invalid.code, invalid.message));
    }
    next.version = current->version + 1;
    next.updated_ms = now_ms();
    int expected = 0;
    try {
      expected = std::stoi(version);
    } catch (const std::exception&) {
      expected = -1;
    }
    auto status = streams_.update(scope, *name, expected, next);
    if (status == DeliveryStreams::Status::kNotFound) return reply(not_found());
    if (status == DeliveryStreams::Status::kVersionMismatch) {
      return reply(fail(context, ErrorCode::kConcurrentModificationException,
                        "Cannot update firehose: " + *name +
                            " since the current version id: " + std::to_string(current->version) +
                            " and the specified version id: " + version + " do not match"));
    }
    return reply(ok(json::object()));
  }

  if (operation == "PutRecord" || operation == "PutRecordBatch") {
    bool batch = operation == "PutRecordBatch";
    std::vector<std::string> records;
    json responses = json::array();
    std::vector<std::size_t> accepted;  // index in `responses` of each stored record
    int failed = 0;
    if (batch) {
      if (!body.contains("Records") || !body["Records"].is_array() || body["Records"].empty()) {
        return reply(fail(context, ErrorCode::kInvalidArgumentException,
                          "Records must be a list of 1 to 500 records."));
      }
      if (body["Records"].size() > kMaxBatchRecords) {
        return reply(fail(context, ErrorCode::kValidationException,
                          "1 validation error detected: Value at 'records' failed to satisfy "
                          "constraint: Member must have length less than or equal to 500"));
      }
      std::size_t total = 0;
      for (const json& record : body["Records"]) {
        auto data = record_data(record);
        if (!data) {
          return reply(fail(context, ErrorCode::kSerializationException,
                            "Record.Data must be base64-encoded bytes."));
        }
        total += data->size();
        if (data->size() > kMaxRecordBytes) {
          ++failed;
          responses.push_back({{"ErrorCode", "InvalidArgumentException"},
                               {"ErrorMessage", "Record size exceeds the limit of 1000 KiB."}});
          continue;
        }
        accepted.push_back(responses.size());
        responses.push_back(json::object());
        records.push_back(std::move(*data));
      }
      if (total > kMaxBatchBytes) {
        return reply(fail(context, ErrorCode::kInvalidArgumentException,
                          "The records of one PutRecordBatch may not exceed 4 MiB in all."));
      }
    } else {
      auto data = body.contains("Record") ? record_data(body["Record"]) : std::nullopt;
      if (!data) {
        return reply(fail(context, ErrorCode::kSerializationException,
                          "Record.Data must be base64-encoded bytes."));
      }
      if (data->size() > kMaxRecordBytes) {
        return reply(fail(context, ErrorCode::kValidationException,
                          "1 validation error detected: Value at 'record.data' failed to satisfy "
                          "constraint: Member must have length less than or equal to 1024000"));
      }
      records.push_back(std::move(*data));
    }
    if (!streams_.describe(scope, *name)) return reply(not_found());
    if (records.empty()) {
      return reply(
          ok({{"FailedPutCount", failed}, {"Encrypted", false}, {"RequestResponses", responses}}));
    }
    // Answered from the buffer's writer thread once the records are durable;
    // the answer is made here, so that thread only sends it.
    for (std::size_t index : accepted) responses[index] = {{"RecordId", record_id()}};
    auto answer = std::make_shared<HttpResponse>(
        batch ? ok({{"FailedPutCount", failed},
                    {"Encrypted", false},
                    {"RequestResponses", responses}})
              : ok({{"RecordId", record_id()}, {"Encrypted", false}}));
    auto respond = [reply, answer, request_id = context.request_id](bool durable) {
      if (durable) return reply(std::move(*answer));
      RequestContext failure_context;
      failure_context.request_id = request_id;
      reply(fail(failure_context, ErrorCode::kServiceUnavailableException,
                 "The records could not be made durable; retry."));
    };
    if (!streams_.put(scope, *name, std::move(records), std::move(respond)))
      return reply(not_found());
    return;
  }
  reply(fail(context, ErrorCode::kUnknownOperationException,
             "offcloud does not implement Firehose " + operation + "."));
}

HttpResponse FirehoseService::buffer_view(const HttpRequest& request, RequestContext& context) {
  context.operation = "GetBufferView";
  if (request.method != "GET") {
    return fail(context, ErrorCode::kInvalidArgumentException,
                "GET is the only method of " + std::string(kBufferViewPath) + ".");
  }
  const std::string* name = find_param(context.query, "stream");
  if (!name || !valid_stream_name(*name)) {
    Invalid invalid = constraint("stream", name ? *name : "",
                                 "Member must satisfy regular expression pattern: "
                                 "[a-zA-Z0-9._-]+ and have length between 1 and 64");
    return fail(context, invalid.code, invalid.message);
  }
  AccountRegion scope{context.principal.account_id,
                      context.region.empty() ? "us-east-1" : context.region};
  auto view = streams_.buffer_view(scope, *name);
  if (!view) {
    return fail(context, ErrorCode::kResourceNotFoundException,
                "Firehose " + *name + " under account " + scope.account_id + " not found.");
  }
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  json body = buffer_view_json(*view, *name);
  body["server_time_ms"] = now;
  return ok(body);
}

std::vector<IamRequest> FirehoseService::iam_requests(const HttpRequest& request,
                                                      const QueryParams& query,
                                                      const RequestContext& context) const {
  if (request.path == kBufferViewPath) {
    const std::string* name = find_param(query, "stream");
    AccountRegion scope{context.principal.account_id, context.region};
    return {{"firehose:DescribeDeliveryStream", name ? stream_arn(scope, *name) : "*"}};
  }
  std::string_view target = request.headers.get("x-amz-target");
  if (!target.starts_with(kTargetPrefix)) return {};
  std::string action = "firehose:" + std::string(target.substr(kTargetPrefix.size()));
  json body = json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
  std::optional<std::string> name = body.is_object() ? stream_name(body) : std::nullopt;
  if (!name) return {{action, "*"}};
  return {{action, stream_arn({context.principal.account_id, context.region}, *name)}};
}

}  // namespace offcloud

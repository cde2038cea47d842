#include "emulator/firehose/delivery_streams.h"

#include <zlib.h>

#include <chrono>
#include <ctime>
#include <random>

#include "emulator/util/log.h"
#include "emulator/util/uuid.h"

#include <nlohmann/json.hpp>

namespace offcloud {
namespace {

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr std::int64_t kMaxRetryDelayMs = 30'000;

std::tm utc(std::int64_t epoch_ms) {
  std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return tm;
}

std::string random_string(std::size_t length) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::string out(length, '\0');
  for (char& c : out) c = kAlphabet[random() % (sizeof kAlphabet - 1)];
  return out;
}

// A Java DateTimeFormatter pattern, the subset Firehose prefixes use: y M d
// H m s, quoted literals, and any other non-letter as itself. Returns false
// for a letter it does not know.
bool format_java_time(std::string_view pattern, const std::tm& tm, std::string* out) {
  for (std::size_t i = 0; i < pattern.size();) {
    char c = pattern[i];
    if (c == '\'') {
      std::size_t end = pattern.find('\'', i + 1);
      if (end == std::string_view::npos) return false;
      out->append(pattern.substr(i + 1, end - i - 1));
      i = end + 1;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
      out->push_back(c);
      ++i;
      continue;
    }
    std::size_t run = 1;
    while (i + run < pattern.size() && pattern[i + run] == c) ++run;
    int value;
    switch (c) {
      case 'y':
      case 'u':
        value = tm.tm_year + 1900;
        if (run == 2) value %= 100;
        break;
      case 'M':
        value = tm.tm_mon + 1;
        break;
      case 'd':
        value = tm.tm_mday;
        break;
      case 'H':
        value = tm.tm_hour;
        break;
      case 'm':
        value = tm.tm_min;
        break;
      case 's':
        value = tm.tm_sec;
        break;
      case 'D':
        value = tm.tm_yday + 1;
        break;
      default:
        return false;
    }
    std::string digits = std::to_string(value);
    if (digits.size() < run) digits.insert(0, run - digits.size(), '0');
    out->append(digits);
    i += run;
  }
  return true;
}

// Expands !{namespace:value} expressions. nullopt and `why` on a bad one.
std::optional<std::string> expand_prefix(std::string_view prefix, const std::tm& tm,
                                         bool error_output, bool* had_timestamp, std::string* why) {
  std::string out;
  *had_timestamp = false;
  for (std::size_t i = 0; i < prefix.size();) {
    if (!prefix.substr(i).starts_with("!{")) {
      out.push_back(prefix[i++]);
      continue;
    }
    std::size_t end = prefix.find('}', i);
    if (end == std::string_view::npos) {
      *why = "The expression starting at position " + std::to_string(i) + " is not closed.";
      return std::nullopt;
    }
    std::string_view expression = prefix.substr(i + 2, end - i - 2);
    std::size_t colon = expression.find(':');
    std::string_view ns = expression.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : expression.substr(colon + 1);
    if (ns == "timestamp") {
      if (!format_java_time(value, tm, &out) || value.empty()) {
        *why = "The timestamp pattern '" + std::string(value) + "' is not valid.";
        return std::nullopt;
      }
      *had_timestamp = true;
    } else if (ns == "firehose" && value == "random-string") {
      out += random_string(11);
    } else if (ns == "firehose" && value == "error-output-type" && error_output) {
      out += "delivery-failed";
    } else {
      *why = "The expression !{" + std::string(expression) + "} is not supported.";
      return std::nullopt;
    }
    i = end + 1;
  }
  return out;
}

std::string gzip(const std::string& data) {
  z_stream stream{};
  deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&stream, data.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

// The stored form of a stream's definition.
std::string to_json(const DeliveryStreamConfig& c) {
  return nlohmann::json{{"account_id", c.scope.account_id},
                        {"region", c.scope.region},
                        {"name", c.name},
                        {"arn", c.arn},
                        {"type", c.type},
                        {"version", c.version},
                        {"created_ms", c.created_ms},
                        {"updated_ms", c.updated_ms},
                        {"extended", c.extended},
                        {"role_arn", c.role_arn},
                        {"bucket_arn", c.bucket_arn},
                        {"prefix", c.prefix},
                        {"error_output_prefix", c.error_output_prefix},
                        {"size_mb", c.size_mb},
                        {"interval_s", c.interval_s},
                        {"compression", c.compression}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

DeliveryStreamConfig from_json(const std::string& text) {
  auto j = nlohmann::json::parse(text);
  DeliveryStreamConfig c;
  c.name = j.at("name");
  c.arn = j.at("arn");
  if (j.contains("account_id")) {
    c.scope = {j.at("account_id"), j.at("region")};
  } else {
    // Made before accounts and regions: the default account, in the region
    // its ARN recorded (arn:aws:firehose:<region>:...).
    std::string_view arn = c.arn;
    std::size_t start = std::string_view("arn:aws:firehose:").size();
    std::size_t end = arn.find(':', start);
    if (arn.starts_with("arn:aws:firehose:") && end != std::string_view::npos && end > start) {
      c.scope.region = std::string(arn.substr(start, end - start));
    }
  }
  c.type = j.at("type");
  c.version = j.at("version");
  c.created_ms = j.at("created_ms");
  c.updated_ms = j.at("updated_ms");
  c.extended = j.at("extended");
  c.role_arn = j.at("role_arn");
  c.bucket_arn = j.at("bucket_arn");
  c.prefix = j.at("prefix");
  c.error_output_prefix = j.at("error_output_prefix");
  c.size_mb = j.at("size_mb");
  c.interval_s = j.at("interval_s");
  c.compression = j.at("compression");
  return c;
}

std::string stream_key(const AccountRegion& scope, const std::string& name) {
  return scope.account_id + "/" + scope.region + "/" + name;
}

}  // namespace

std::string DeliveryStreamConfig::bucket() const {
  constexpr std::string_view kPrefix = "arn:aws:s3:::";
  std::string_view arn = bucket_arn;
  return arn.starts_with(kPrefix) ? std::string(arn.substr(kPrefix.size())) : std::string();
}

std::string validate_firehose_prefix(const std::string& prefix, bool error_output) {
  if (prefix.size() > 1024) return "The prefix is longer than 1024 characters.";
  bool had_timestamp = false;
  std::string why;
  if (!expand_prefix(prefix, utc(0), error_output, &had_timestamp, &why)) return why;
  return {};
}

std::string firehose_object_key(const DeliveryStreamConfig& config, std::int64_t oldest_ms,
                                const std::string& uuid) {
  std::tm tm = utc(oldest_ms);
  bool had_timestamp = false;
  std::string why;
  std::string key = expand_prefix(config.prefix, tm, false, &had_timestamp, &why).value_or("");
  // Without a timestamp expression Firehose adds its default time prefix.
  if (!had_timestamp) format_java_time("yyyy/MM/dd/HH/", tm, &key);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d-%H-%M-%S", &tm);
  key += config.name + "-" + std::to_string(config.version) + "-" + stamp + "-" + uuid;
  if (config.compression == "GZIP") key += ".gz";
  return key;
}

DeliveryStreams::DeliveryStreams(FirehoseBuffer& buffer, ObjectStore& objects, Options options)
    : buffer_(buffer), objects_(objects), options_(options) {
  for (const StoredStream& stored : buffer_.streams()) {
    Stream stream;
    stream.config = from_json(stored.config);
    std::string key = stream_key(stream.config.scope, stream.config.name);
    if (stored.name != key) {
      // A stream from before accounts: its records move to its new key.
      buffer_.rename_stream(stored.name, key, to_json(stream.config));
    }
    stream.stats = buffer_.stats(key);  // delivered on the usual schedule
    attach_counter(stream);
    streams_.emplace(key, std::move(stream));
  }
  deliverer_ = std::thread([this] { deliver_loop(); });
}

DeliveryStreams::~DeliveryStreams() {
  flush_and_stop();
}

DeliveryStreams::Status DeliveryStreams::create(DeliveryStreamConfig config) {
  std::lock_guard lock(mutex_);
  std::string key = stream_key(config.scope, config.name);
  if (streams_.count(key)) return Status::kInUse;
  buffer_.save_stream({key, to_json(config)});
  Stream stream;
  stream.config = std::move(config);
  stream.stats = buffer_.stats(key);
  attach_counter(stream);
  streams_.emplace(key, std::move(stream));
  return Status::kOk;
}

std::optional<DeliveryStreamConfig> DeliveryStreams::describe(const AccountRegion& scope,
                                                              const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream_key(scope, name));
  if (it == streams_.end()) return std::nullopt;
  return it->second.config;
}

std::vector<std::string> DeliveryStreams::names(const AccountRegion& scope) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const auto& [key, stream] : streams_) {
    if (stream.config.scope == scope) out.push_back(stream.config.name);
  }
  return out;
}

DeliveryStreams::Status DeliveryStreams::remove(const AccountRegion& scope,
                                                const std::string& name) {
  std::lock_guard lock(mutex_);
  std::string key = stream_key(scope, name);
  auto it = streams_.find(key);
  if (it == streams_.end()) return Status::kNotFound;
  if (it->second.counter) it->second.counter->buffered(0, 0);
  streams_.erase(it);
  buffer_.delete_stream(key);
  return Status::kOk;
}

DeliveryStreams::Status DeliveryStreams::update(const AccountRegion& scope, const std::string& name,
                                                int expected_version,
                                                const DeliveryStreamConfig& next) {
  std::lock_guard lock(mutex_);
  std::string key = stream_key(scope, name);
  auto it = streams_.find(key);
  if (it == streams_.end()) return Status::kNotFound;
  if (it->second.config.version != expected_version) return Status::kVersionMismatch;
  buffer_.save_stream({key, to_json(next)});
  it->second.config = next;
  return Status::kOk;
}

bool DeliveryStreams::put(const AccountRegion& scope, const std::string& stream,
                          std::vector<std::string> records, FirehoseBuffer::Done done) {
  std::string name = stream_key(scope, stream);
  {
    std::lock_guard lock(mutex_);
    if (!streams_.count(name)) return false;
  }
  std::uint64_t bytes = 0;
  for (const std::string& record : records) bytes += record.size();
  std::uint64_t count = records.size();
  std::int64_t arrival = now_ms();
  buffer_.append(name, std::move(records), arrival,
                 [this, name, bytes, count, arrival, done = std::move(done)](bool durable) {
                   if (durable) {
                     std::lock_guard lock(mutex_);
                     if (auto it = streams_.find(name); it != streams_.end()) {
                       BufferStats& stats = it->second.stats;
                       stats.bytes += bytes;
                       stats.count += count;
                       if (stats.oldest_arrival_ms == 0) stats.oldest_arrival_ms = arrival;
                       if (StreamCounter* counter = it->second.counter) {
                         counter->received(count, bytes);
                         counter->buffered(stats.count, stats.bytes);
                       }
                     }
                   }
                   wake_.notify_one();
                   done(durable);
                 });
  return true;
}

bool DeliveryStreams::put_records(const AccountRegion& scope, const std::string& stream,
                                  std::vector<std::string> records, Done done, std::string* error) {
  if (put(scope, stream, std::move(records), std::move(done))) return true;
  *error = "Firehose " + stream + " not found under account " + scope.account_id + ".";
  return false;
}

void DeliveryStreams::attach_counter(Stream& stream) {
  if (!options_.counters) return;
  stream.counter = options_.counters->stream(stream.config.scope, stream.config.name);
  if (stream.counter) stream.counter->buffered(stream.stats.count, stream.stats.bytes);
}

double DeliveryStreams::interval_s(const DeliveryStreamConfig& config) const {
  double interval = config.interval_s;
  if (options_.max_interval_s) interval = std::min(interval, *options_.max_interval_s);
  return interval;
}

std::optional<DeliveryStreams::BufferView> DeliveryStreams::buffer_view(const AccountRegion& scope,
                                                                        const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(stream_key(scope, name));
  if (it == streams_.end()) return std::nullopt;
  const Stream& stream = it->second;
  BufferView view;
  view.arn = stream.config.arn;
  view.buffered = stream.stats;
  view.interval_s = interval_s(stream.config);
  view.size_bytes = static_cast<std::uint64_t>(stream.config.size_mb) << 20;
  if (stream.stats.count) {
    view.next_delivery_ms =
        std::max(stream.stats.oldest_arrival_ms + static_cast<std::int64_t>(view.interval_s * 1000),
                 stream.retry_at_ms);
  }
  view.failures = stream.failures;
  view.last_error = stream.last_error;
  view.deliveries.assign(stream.deliveries.begin(), stream.deliveries.end());
  return view;
}

bool DeliveryStreams::due(const Stream& stream, std::int64_t now) const {
  if (stream.stats.count == 0 || now < stream.retry_at_ms) return false;
  double interval = interval_s(stream.config);
  return stream.stats.bytes >= static_cast<std::uint64_t>(stream.config.size_mb) << 20 ||
         now >= stream.stats.oldest_arrival_ms + static_cast<std::int64_t>(interval * 1000);
}

void DeliveryStreams::deliver_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, kTick);
    std::vector<std::string> ready;
    std::int64_t now = now_ms();
    for (const auto& [name, stream] : streams_) {
      if (due(stream, now)) ready.push_back(name);
    }
    lock.unlock();
    for (const std::string& name : ready) deliver_once(name);
    lock.lock();
  }
}

bool DeliveryStreams::deliver_once(const std::string& name) {
  DeliveryStreamConfig config;
  bool flushing;
  {
    std::lock_guard lock(mutex_);
    auto it = streams_.find(name);
    if (it == streams_.end()) return true;
    config = it->second.config;
    flushing = stopping_;
  }
  std::uint64_t limit = static_cast<std::uint64_t>(config.size_mb) << 20;
  std::vector<BufferedRecord> records;
  std::string key;
  bool delivered = true;
  std::string error;
  // The buffer lives in SQLite: on a full disk even beginning a delivery can
  // fail. Then nothing is begun, the records wait, and delivery is retried.
  auto failed = [&](const std::exception& e) {
    delivered = false;
    error = e.what();
    log(LogLevel::kWarn, "firehose " + name + ": delivery failed: " + e.what() +
                             "; the records stay buffered and delivery is retried");
  };
  try {
    if (auto pending = buffer_.pending_delivery(name)) {
      // A delivery a crash interrupted: the same records under the same key,
      // so the object is rewritten whole rather than split another way.
      records = buffer_.through(name, pending->last_seq);
      key = pending->key;
      if (records.empty()) buffer_.finish_delivery(name, pending->last_seq);
    } else {
      records = buffer_.oldest(name, limit);
      // The in-memory counts can run ahead of the buffer; deliver only what
      // is really due, so no object is cut short.
      std::uint64_t bytes = 0;
      for (const BufferedRecord& record : records) bytes += record.data.size();
      double interval = interval_s(config);
      bool full = !records.empty() && (bytes >= limit || buffer_.stats(name).bytes > bytes);
      bool old_enough =
          !records.empty() &&
          now_ms() >= records.front().arrival_ms + static_cast<std::int64_t>(interval * 1000);
      if (!flushing && !full && !old_enough) records.clear();
      if (!records.empty()) {
        key = firehose_object_key(config, records.front().arrival_ms, new_uuid());
        buffer_.begin_delivery(name, {records.back().seq, key});
      }
    }
  } catch (const StorageError& e) {
    records.clear();
    failed(e);
  }
  Delivery delivery;
  if (!records.empty()) {
    std::string body;
    for (const BufferedRecord& record : records) body += record.data;
    if (key.ends_with(".gz")) body = gzip(body);
    ObjectInfo info;
    info.key = key;
    info.content_type = "application/octet-stream";
    try {
      auto blob = objects_.new_blob();
      blob->write(body);
      blob->close();
      std::optional<BucketInfo> bucket = objects_.bucket(config.bucket());
      if (bucket && bucket->owner != config.scope.account_id) {
        // Another account's bucket grants the stream's role nothing.
        delivered = false;
        error = "AccessDenied: bucket " + config.bucket() + " belongs to another account";
        log(LogLevel::kWarn, "firehose " + name + ": bucket " + config.bucket() +
                                 " belongs to another account (AccessDenied); the records stay "
                                 "buffered and delivery is retried");
      } else if (!(delivered = objects_.put_object(config.bucket(), info, *blob) ==
                               ObjectStore::Status::kOk)) {
        error = "NoSuchBucket: bucket " + config.bucket() + " does not exist";
        log(LogLevel::kWarn, "firehose " + name + ": bucket " + config.bucket() +
                                 " does not exist; the records stay buffered and delivery "
                                 "is retried");
      }
    } catch (const std::exception& e) {
      failed(e);
    }
    delivery = {key, records.size(), body.size(), now_ms()};
    // Only now, with the object in place, may the records go. If they
    // cannot (a full disk), the next attempt rewrites the same object.
    try {
      if (delivered) buffer_.finish_delivery(name, records.back().seq);
    } catch (const StorageError& e) {
      failed(e);
    }
  }
  std::optional<BufferStats> stats;
  try {
    stats = buffer_.stats(name);
  } catch (const StorageError&) {
    // The counts shown stay as they were until a read succeeds.
  }
  std::lock_guard lock(mutex_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return delivered;
  if (stats) it->second.stats = *stats;
  const BufferStats& shown = it->second.stats;
  if (StreamCounter* counter = it->second.counter) {
    counter->buffered(shown.count, shown.bytes);
    if (delivered && !delivery.key.empty()) counter->delivered(delivery.bytes, delivery.time_ms);
  }
  if (delivered) {
    it->second.failures = 0;
    it->second.retry_at_ms = 0;
    it->second.last_error.clear();
    if (!delivery.key.empty()) {
      it->second.deliveries.push_front(std::move(delivery));
      if (it->second.deliveries.size() > kDeliveriesKept) it->second.deliveries.pop_back();
    }
  } else {
    it->second.last_error = std::move(error);
    int failures = ++it->second.failures;
    it->second.retry_at_ms =
        now_ms() + std::min<std::int64_t>(kMaxRetryDelayMs, 500LL << std::min(failures, 6));
  }
  return delivered;
}

void DeliveryStreams::flush_and_stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  deliverer_.join();
  std::vector<std::string> keys;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, stream] : streams_) keys.push_back(key);
  }
  for (const std::string& name : keys) {
    // Everything buffered goes out now, object by object; a stream whose
    // bucket is missing (or a full disk) keeps its records for the next start.
    try {
      for (int i = 0; i < 10000; ++i) {
        if (buffer_.stats(name).count == 0 || !deliver_once(name)) break;
      }
    } catch (const StorageError& e) {
      log(LogLevel::kWarn,
          "firehose " + name + ": the records stay buffered for the next start: " + e.what());
    }
  }
}

}  // namespace offcloud

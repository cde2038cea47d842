#include "storage/object_store.h"
#include "storage/object_store_detail.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace offcloud {
namespace detail {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string random_id() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::array<std::uint8_t, 16> bytes;
  for (std::size_t i = 0; i < bytes.size(); i += 8) {
    std::uint64_t r = random();
    std::memcpy(bytes.data() + i, &r, 8);
  }
  return hex(bytes);
}

[[noreturn]] void io_error(const std::string& what) {
  throw StorageError(what + ": " + std::strerror(errno), errno == ENOSPC || errno == EDQUOT);
}

std::string to_json(const HeaderList& list) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& [name, value] : list) array.push_back({name, value});
  return array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HeaderList from_json(const std::string& text) {
  HeaderList list;
  if (text.empty()) return list;
  for (const auto& pair : nlohmann::json::parse(text)) {
    list.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  }
  return list;
}

std::string parts_to_json(const std::vector<ObjectPart>& parts) {
  if (parts.empty()) return "";
  nlohmann::json array = nlohmann::json::array();
  for (const ObjectPart& part : parts) {
    array.push_back({part.size, nlohmann::json::parse(to_json(part.checksums))});
  }
  return array.dump();
}

std::vector<ObjectPart> parts_from_json(const std::string& text) {
  std::vector<ObjectPart> parts;
  if (text.empty()) return parts;
  for (const auto& item : nlohmann::json::parse(text)) {
    ObjectPart part;
    part.size = item[0].get<std::uint64_t>();
    for (const auto& pair : item[1]) {
      part.checksums.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    }
    parts.push_back(std::move(part));
  }
  return parts;
}

const char* const kObjectColumns =
    "key, size, etag, content_type, headers, metadata, checksums, last_modified_ms, blob,"
    " checksum_type, storage_class, parts, acl, tags, version_id, delete_marker, restore_days,"
    " restore_expiry_ms, lock_mode, lock_until_ms, legal_hold, customer_key";

ObjectInfo read_object(const Statement& row) {
  ObjectInfo info;
  info.key = row.column_text(0);
  info.size = static_cast<std::uint64_t>(row.column_int(1));
  info.etag = row.column_text(2);
  info.content_type = row.column_text(3);
  info.headers = from_json(row.column_text(4));
  info.metadata = from_json(row.column_text(5));
  info.checksums = from_json(row.column_text(6));
  info.last_modified_ms = row.column_int(7);
  info.blob = row.column_text(8);
  info.checksum_type = row.column_text(9);
  // Objects stored before checksum types were kept: a multipart object's
  // checksum was COMPOSITE, any other's FULL_OBJECT.
  if (info.checksum_type.empty() && !info.checksums.empty()) {
    info.checksum_type = info.etag.find('-') == std::string::npos ? "FULL_OBJECT" : "COMPOSITE";
  }
  info.storage_class = row.column_text(10);
  info.parts = parts_from_json(row.column_text(11));
  info.acl = row.column_text(12);
  info.tags = from_json(row.column_text(13));
  info.version_id = row.column_text(14);
  info.delete_marker = row.column_int(15) != 0;
  info.restore_days = row.column_int(16);
  info.restore_expiry_ms = row.column_int(17);
  info.lock.mode = row.column_text(18);
  info.lock.until_ms = row.column_int(19);
  info.lock.legal_hold = row.column_text(20);
  info.customer_key = CustomerKeyRecord::decode(row.column_text(21));
  return info;
}

}  // namespace detail

namespace {

using namespace detail;
namespace fs = std::filesystem;

constexpr std::size_t kWriteBuffer = 1 << 20;

}  // namespace

BlobWriter::BlobWriter(std::string id, std::string path, std::uint64_t inline_max)
    : id_(std::move(id)), path_(std::move(path)), inline_max_(inline_max) {
  // No reserve: the buffer grows with what is written, so a 1 KiB object
  // does not allocate (and the allocator then trim) a 1 MiB heap block.
}

BlobWriter::~BlobWriter() {
  if (pipeline_) pipeline_->finish();  // its file lane may still be writing
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && created_) ::unlink(path_.c_str());
}

void BlobWriter::create_file() {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd_ < 0 && errno == ENOENT) {
    fs::create_directories(fs::path(path_).parent_path());
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  }
  if (fd_ < 0) io_error("create " + path_);
  created_ = true;
}

void BlobWriter::add_checksum(ChecksumAlgorithm algorithm) {
  for (const Checksum& checksum : checksums_) {
    if (checksum.algorithm() == algorithm) return;
  }
  checksums_.emplace_back(algorithm);
}

void BlobWriter::encrypt(const CustomerKey& key, bool plaintext_md5) {
  iv_ = new_customer_iv();
  cipher_ = std::make_unique<CustomerCipher>(key, std::vector<CustomerCipher::Segment>{{0, iv_}});
  if (plaintext_md5) plaintext_md5_.emplace(StreamingDigest::Algorithm::kMd5);
}

void BlobWriter::add_sha256() {
  sha256_.emplace(StreamingDigest::Algorithm::kSha256);
}

void BlobWriter::hash_now(std::string_view data) {
  md5_.update(data);
  for (Checksum& checksum : checksums_) checksum.update(data);
  if (sha256_) sha256_->update(data);
}

void BlobWriter::write_encrypted(std::string_view data) {
  for (Checksum& checksum : checksums_) checksum.update(data);
  if (sha256_) sha256_->update(data);
  if (plaintext_md5_) plaintext_md5_->update(data);
  // Encrypted in the write buffer, so the plaintext never reaches the file.
  while (!data.empty()) {
    if (buffer_.size() == kWriteBuffer) flush(/*last=*/false);
    std::size_t n = std::min(data.size(), kWriteBuffer - buffer_.size());
    std::size_t at = buffer_.size();
    buffer_.append(data.substr(0, n));
    cipher_->apply(size_, buffer_.data() + at, n);
    md5_.update(std::string_view(buffer_.data() + at, n));
    size_ += n;
    data.remove_prefix(n);
  }
}

void BlobWriter::write(std::string_view data) {
  if (cipher_) return write_encrypted(data);
  // Hashed a buffer at a time, when it is flushed (or at close).
  size_ += data.size();
  while (!data.empty()) {
    std::size_t n = std::min(data.size(), kWriteBuffer - buffer_.size());
    buffer_.append(data.substr(0, n));
    data.remove_prefix(n);
    if (buffer_.size() == kWriteBuffer) flush(/*last=*/false);
  }
}

void BlobWriter::flush(bool last) {
  if (buffer_.empty()) return;
  if (fd_ < 0) create_file();
  if (cipher_) {
    write_all(buffer_);  // hashed as it was encrypted
  } else if (last && !pipeline_) {
    // A blob of one buffer: not worth a thread.
    hash_now(buffer_);
    write_all(buffer_);
  } else {
    // Written and hashed on the pipeline's threads while the next buffer
    // arrives: the write's copy into the page cache costs about what MD5
    // does, so neither waits for the other.
    if (!pipeline_) start_pipeline();
    if (write_failed_.load(std::memory_order_acquire)) std::rethrow_exception(write_failure_);
    pipeline_->push(std::move(buffer_));
    // The next buffer is one the pipeline is done with, if any: a fresh
    // 1 MiB buffer costs its page faults (and growing it, copies) again.
    buffer_ = pipeline_->reclaim();
    buffer_.reserve(kWriteBuffer);
  }
  buffer_.clear();
}

void BlobWriter::start_pipeline() {
  std::vector<DigestPipeline::Update> updates;
  // The first lane writes the file; a failure waits for the writer's next
  // flush or its close.
  updates.emplace_back([this](std::string_view data) {
    if (write_failed_.load(std::memory_order_relaxed)) return;
    try {
      write_all(data);
    } catch (const StorageError&) {
      write_failure_ = std::current_exception();
      write_failed_.store(true, std::memory_order_release);
    }
  });
  updates.emplace_back([this](std::string_view data) { md5_.update(data); });
  for (Checksum& checksum : checksums_) {
    updates.emplace_back([&checksum](std::string_view data) { checksum.update(data); });
  }
  if (sha256_) updates.emplace_back([this](std::string_view data) { sha256_->update(data); });
  pipeline_ = std::make_unique<DigestPipeline>(std::move(updates));
}

void BlobWriter::write_all(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_error("write " + path_);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void BlobWriter::close() {
  if (fd_ < 0 && !created_ && size_ <= inline_max_) {
    // buffer_ holds it all: it goes to the index with its row.
    if (!cipher_) hash_now(buffer_);
    inline_ = true;
    return;
  }
  flush(/*last=*/true);
  if (pipeline_) {
    pipeline_->finish();
    if (write_failed_.load(std::memory_order_acquire)) std::rethrow_exception(write_failure_);
  }
  close_file();
}

void BlobWriter::spill() {
  if (!inline_) return;
  inline_ = false;
  create_file();
  write_all(buffer_);  // hashed already, at close
  close_file();
}

void BlobWriter::close_file() {
  if (fd_ < 0) create_file();  // an empty blob that may not be inline
  // No fsync: the page cache survives a killed process, which is the
  // durability offcloud promises; the index commit orders visibility.
  if (::close(fd_) != 0) {
    fd_ = -1;
    io_error("close " + path_);
  }
  fd_ = -1;
  buffer_ = std::string();
}

std::string BlobWriter::sha256_hex() {
  if (!sha256_hex_ && sha256_) {
    std::string raw = sha256_->finish();
    sha256_hex_ = hex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size());
  }
  return sha256_hex_.value_or("");
}

std::string BlobWriter::md5_hex() {
  if (!md5_hex_) {
    std::string raw = md5_.finish();
    md5_hex_ = hex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size());
  }
  return *md5_hex_;
}

std::string BlobWriter::plaintext_md5_hex() {
  if (!cipher_) return md5_hex();
  if (!plaintext_md5_hex_ && plaintext_md5_) {
    std::string raw = plaintext_md5_->finish();
    plaintext_md5_hex_ = hex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size());
  }
  return plaintext_md5_hex_.value_or("");
}

HeaderList BlobWriter::checksums() {
  if (!checksum_values_) {
    checksum_values_.emplace();
    for (Checksum& checksum : checksums_) {
      checksum_values_->emplace_back(std::string(checksum_name(checksum.algorithm())),
                                     checksum.finish_base64());
    }
  }
  return *checksum_values_;
}

BlobReader::BlobReader(int fd, std::uint64_t offset, std::uint64_t length)
    : fd_(fd), offset_(offset), length_(length) {}

BlobReader::BlobReader(std::string bytes, std::uint64_t offset, std::uint64_t length)
    : fd_(-1), bytes_(std::move(bytes)), offset_(offset), length_(length) {}

BlobReader::~BlobReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t BlobReader::read(char* buffer, std::size_t capacity) {
  std::uint64_t left = length_ - done_;
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(capacity, left));
  if (fd_ < 0) {
    std::uint64_t at = std::min<std::uint64_t>(offset_ + done_, bytes_.size());
    want = static_cast<std::size_t>(std::min<std::uint64_t>(want, bytes_.size() - at));
    std::memcpy(buffer, bytes_.data() + at, want);
    if (cipher_) cipher_->apply(offset_ + done_, buffer, want);
    done_ += want;
    return want;
  }
  while (want > 0) {
    ssize_t n = ::pread(fd_, buffer, want, static_cast<off_t>(offset_ + done_));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_error("read blob");
    if (cipher_) cipher_->apply(offset_ + done_, buffer, static_cast<std::size_t>(n));
    done_ += static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }
  return 0;
}

std::unique_ptr<CustomerCipher> ObjectStore::customer_cipher(const ObjectInfo& info,
                                                             const CustomerKey& key) {
  const std::vector<std::string>& ivs = info.customer_key.ivs;
  std::vector<CustomerCipher::Segment> segments;
  if (ivs.size() == 1) {
    segments.push_back({0, ivs[0]});
  } else if (ivs.size() == info.parts.size()) {
    std::uint64_t start = 0;
    for (std::size_t i = 0; i < ivs.size(); ++i) {
      segments.push_back({start, ivs[i]});
      start += info.parts[i].size;
    }
  }
  if (segments.empty()) {
    throw StorageError("SSE-C object " + info.key + " has no IVs for its parts");
  }
  return std::make_unique<CustomerCipher>(key, std::move(segments));
}

ObjectStore::ObjectStore(const std::string& root)
    : root_(root),
      blobs_((fs::path(root) / "blobs").string()),
      db_(
          [&] {
            fs::create_directories(fs::path(root) / "blobs");
            return (fs::path(root) / "s3.db").string();
          }(),
          /*exclusive=*/true),
      reserve_((fs::path(root) / "reserve").string(), kReserveBytes) {
  db_.exec(
      "CREATE TABLE IF NOT EXISTS bucket (name TEXT PRIMARY KEY, region TEXT NOT NULL,"
      " created_ms INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS object (bucket TEXT NOT NULL, key TEXT NOT NULL,"
      " size INTEGER NOT NULL, etag TEXT NOT NULL, content_type TEXT NOT NULL,"
      " headers TEXT NOT NULL, metadata TEXT NOT NULL, checksums TEXT NOT NULL,"
      " last_modified_ms INTEGER NOT NULL, blob TEXT NOT NULL,"
      " PRIMARY KEY (bucket, key)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS upload (id TEXT PRIMARY KEY, bucket TEXT NOT NULL,"
      " key TEXT NOT NULL, initiated_ms INTEGER NOT NULL, content_type TEXT NOT NULL,"
      " headers TEXT NOT NULL, metadata TEXT NOT NULL, checksum TEXT NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS part (upload_id TEXT NOT NULL, number INTEGER NOT NULL,"
      " size INTEGER NOT NULL, etag TEXT NOT NULL, checksums TEXT NOT NULL,"
      " last_modified_ms INTEGER NOT NULL, blob TEXT NOT NULL,"
      " PRIMARY KEY (upload_id, number)) WITHOUT ROWID;"
      // Small blobs (BlobWriter), ids from next_inline_id_.
      "CREATE TABLE IF NOT EXISTS inline_blob (id INTEGER PRIMARY KEY, data BLOB NOT NULL);");
  migrate();
  auto highest = db_.prepare("SELECT coalesce(max(id), 0) FROM inline_blob");
  if (highest->step()) next_inline_id_ = highest->column_int(0) + 1;
  auto newest = db_.prepare("SELECT coalesce(max(seq), 0) FROM object_version");
  if (newest->step()) next_version_seq_ = newest->column_int(0) + 1;
  collect_garbage();
}

void ObjectStore::migrate() {
  // Columns later versions added; data dirs of earlier ones get them with
  // what those versions meant (every object STANDARD, private, no parts
  // recorded).
  struct Column {
    const char* table;
    const char* name;
    const char* definition;
  };
  static constexpr Column kAdded[] = {
      {"bucket", "owner", "TEXT NOT NULL DEFAULT '000000000000'"},
      {"bucket", "acl", "TEXT NOT NULL DEFAULT ''"},
      {"object", "checksum_type", "TEXT NOT NULL DEFAULT ''"},
      {"object", "storage_class", "TEXT NOT NULL DEFAULT 'STANDARD'"},
      {"object", "parts", "TEXT NOT NULL DEFAULT ''"},
      {"object", "acl", "TEXT NOT NULL DEFAULT ''"},
      {"upload", "checksum_type", "TEXT NOT NULL DEFAULT ''"},
      {"upload", "storage_class", "TEXT NOT NULL DEFAULT 'STANDARD'"},
      {"upload", "acl", "TEXT NOT NULL DEFAULT ''"},
      {"object", "tags", "TEXT NOT NULL DEFAULT ''"},
      {"upload", "tags", "TEXT NOT NULL DEFAULT ''"},
      // Versioning: existing objects are the null version of their key.
      {"bucket", "versioning", "TEXT NOT NULL DEFAULT ''"},
      {"object", "version_id", "TEXT NOT NULL DEFAULT ''"},
      {"object", "delete_marker", "INTEGER NOT NULL DEFAULT 0"},
  };
  for (const Column& column : kAdded) {
    if (!db_.has_column(column.table, column.name)) {
      db_.exec(std::string("ALTER TABLE ") + column.table + " ADD COLUMN " + column.name + " " +
               column.definition);
    }
  }
  // Uploads completed lately, so that a repeated CompleteMultipartUpload
  // answers as the first did.
  db_.exec(
      "CREATE TABLE IF NOT EXISTS completed_upload (id TEXT PRIMARY KEY, bucket TEXT NOT NULL,"
      " key TEXT NOT NULL, etag TEXT NOT NULL, checksums TEXT NOT NULL,"
      " checksum_type TEXT NOT NULL, completed_ms INTEGER NOT NULL) WITHOUT ROWID;");
  // Noncurrent versions (object_store_versions.cpp): the object table's
  // columns (a column added to `object` is added here too) plus `seq`,
  // which orders a key's versions, newest highest.
  db_.exec(
      "CREATE TABLE IF NOT EXISTS object_version (bucket TEXT NOT NULL, key TEXT NOT NULL,"
      " seq INTEGER NOT NULL, version_id TEXT NOT NULL, delete_marker INTEGER NOT NULL,"
      " size INTEGER NOT NULL, etag TEXT NOT NULL, content_type TEXT NOT NULL,"
      " headers TEXT NOT NULL, metadata TEXT NOT NULL, checksums TEXT NOT NULL,"
      " last_modified_ms INTEGER NOT NULL, blob TEXT NOT NULL, checksum_type TEXT NOT NULL,"
      " storage_class TEXT NOT NULL, parts TEXT NOT NULL, acl TEXT NOT NULL, tags TEXT NOT NULL,"
      " PRIMARY KEY (bucket, key, seq)) WITHOUT ROWID;"
      "CREATE UNIQUE INDEX IF NOT EXISTS object_version_id ON object_version"
      " (bucket, key, version_id);");
  // RestoreObject's state (object_store_lifecycle.cpp), in both tables; the
  // partial indexes let the sweep find the few restoring versions at once.
  for (const char* table : {"object", "object_version"}) {
    for (const char* column : {"restore_days", "restore_expiry_ms"}) {
      if (!db_.has_column(table, column)) {
        db_.exec(std::string("ALTER TABLE ") + table + " ADD COLUMN " + column +
                 " INTEGER NOT NULL DEFAULT 0");
      }
    }
    db_.exec(std::string("CREATE INDEX IF NOT EXISTS ") + table + "_restoring ON " + table +
             " (bucket) WHERE restore_days > 0 OR restore_expiry_ms > 0");
  }
  // Object Lock (storage/object_lock.h) on every version, and asked for by
  // an upload: objects from before it have none.
  for (const char* table : {"object", "object_version", "upload"}) {
    for (auto [column, definition] : {std::pair{"lock_mode", "TEXT NOT NULL DEFAULT ''"},
                                      {"lock_until_ms", "INTEGER NOT NULL DEFAULT 0"},
                                      {"legal_hold", "TEXT NOT NULL DEFAULT ''"}}) {
      if (!db_.has_column(table, column)) {
        db_.exec(std::string("ALTER TABLE ") + table + " ADD COLUMN " + column + " " + definition);
      }
    }
  }
  // SSE-C (storage/customer_key.h): the key's record on every version and
  // upload, each part's IV; nothing encrypted before it.
  for (auto [table, column] : {std::pair{"object", "customer_key"},
                               {"object_version", "customer_key"},
                               {"upload", "customer_key"},
                               {"part", "customer_iv"}}) {
    if (!db_.has_column(table, column)) {
      db_.exec(std::string("ALTER TABLE ") + table + " ADD COLUMN " + column +
               " TEXT NOT NULL DEFAULT ''");
    }
  }
  // Bucket configurations (CORS, policy, ...), opaque documents.
  db_.exec(
      "CREATE TABLE IF NOT EXISTS bucket_config (bucket TEXT NOT NULL, kind TEXT NOT NULL,"
      " document TEXT NOT NULL, PRIMARY KEY (bucket, kind)) WITHOUT ROWID;");
}

std::string ObjectStore::blob_path(const std::string& id) const {
  return blobs_ + "/" + id.substr(0, 2) + "/" + id;
}

void ObjectStore::remove_blob(const std::string& id) {
  if (!is_inline(id)) {
    ::unlink(blob_path(id).c_str());
    return;
  }
  std::vector<std::string> ids{id};
  std::lock_guard lock(mutex_);
  drop_inline(&ids);
}

void ObjectStore::store_inline(BlobWriter& blob, ObjectInfo* info) {
  if (!blob.is_inline()) {
    info->blob = blob.id();
    return;
  }
  std::int64_t id = next_inline_id_;
  auto insert = db_.cached("INSERT INTO inline_blob (id, data) VALUES (?1, ?2)");
  insert->bind(1, id);
  insert->bind_blob(2, blob.inline_data());
  insert->step();
  ++next_inline_id_;  // only once the row is in (a failed insert throws)
  info->blob = kInlinePrefix + std::to_string(id);
}

void ObjectStore::drop_inline(std::vector<std::string>* ids) {
  std::erase_if(*ids, [this](const std::string& id) {
    if (!is_inline(id)) return false;
    auto remove = db_.cached("DELETE FROM inline_blob WHERE id = ?1");
    remove->bind(1, std::stoll(id.substr(1)));
    remove->step();
    return true;
  });
}

std::uint64_t ObjectStore::blob_count() {
  std::uint64_t files = 0;
  for (const auto& dir : fs::directory_iterator(blobs_)) {
    if (!dir.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(dir.path())) files += file.is_regular_file();
  }
  std::lock_guard lock(mutex_);
  auto count = db_.cached("SELECT count(*) FROM inline_blob");
  count->step();
  return files + static_cast<std::uint64_t>(count->column_int(0));
}

void ObjectStore::collect_garbage() {
  // Blobs written for uploads that never committed (a crash, a killed
  // client) or replaced just before a crash: no row points to them.
  std::unordered_set<std::string> referenced;
  // Noncurrent versions keep their blobs too.
  auto all = db_.prepare(
      "SELECT blob FROM object UNION ALL SELECT blob FROM object_version"
      " UNION ALL SELECT blob FROM part");
  while (all->step()) referenced.insert(all->column_text(0));
  std::vector<std::string> unreferenced;
  auto stored = db_.prepare("SELECT id FROM inline_blob");
  while (stored->step()) {
    std::string id = kInlinePrefix + std::to_string(stored->column_int(0));
    if (!referenced.count(id)) unreferenced.push_back(std::move(id));
  }
  stored.reset();
  if (!unreferenced.empty()) {
    Transaction transaction(db_);
    drop_inline(&unreferenced);
    transaction.commit();
  }
  for (const auto& dir : fs::directory_iterator(blobs_)) {
    if (!dir.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(dir.path())) {
      if (!referenced.count(file.path().filename().string())) fs::remove(file.path());
    }
  }
}

ObjectStore::Status ObjectStore::create_bucket(const std::string& name, const std::string& region,
                                               const std::string& owner) {
  std::lock_guard lock(mutex_);
  auto insert = db_.cached(
      "INSERT OR IGNORE INTO bucket (name, region, created_ms, owner) VALUES (?1, ?2, ?3, ?4)");
  insert->bind(1, name);
  insert->bind(2, region);
  insert->bind(3, now_ms());
  insert->bind(4, owner);
  insert->step();
  auto changed = db_.cached("SELECT changes()");
  changed->step();
  return changed->column_int(0) ? Status::kOk : Status::kAlreadyExists;
}

std::optional<BucketInfo> ObjectStore::bucket(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto select =
      db_.cached("SELECT region, created_ms, owner, acl, versioning FROM bucket WHERE name = ?1");
  select->bind(1, name);
  if (!select->step()) return std::nullopt;
  return BucketInfo{name,
                    select->column_text(0),
                    select->column_int(1),
                    select->column_text(2),
                    select->column_text(3),
                    versioning_from_text(select->column_text(4))};
}

std::vector<BucketInfo> ObjectStore::list_buckets() {
  std::lock_guard lock(mutex_);
  std::vector<BucketInfo> buckets;
  auto select = db_.cached(
      "SELECT name, region, created_ms, owner, acl, versioning FROM bucket ORDER BY name");
  while (select->step()) {
    buckets.push_back({select->column_text(0), select->column_text(1), select->column_int(2),
                       select->column_text(3), select->column_text(4),
                       versioning_from_text(select->column_text(5))});
  }
  return buckets;
}

ObjectStore::Status ObjectStore::set_bucket_acl(const std::string& name, const std::string& acl) {
  std::lock_guard lock(mutex_);
  auto update = db_.cached("UPDATE bucket SET acl = ?2 WHERE name = ?1");
  update->bind(1, name);
  update->bind(2, acl);
  update->step();
  auto changed = db_.cached("SELECT changes()");
  changed->step();
  return changed->column_int(0) ? Status::kOk : Status::kNoSuchBucket;
}

ObjectStore::Status ObjectStore::set_object_acl(const std::string& bucket, const std::string& key,
                                                const std::string& acl,
                                                const std::optional<std::string>& version_id) {
  std::lock_guard lock(mutex_);
  return update_version_column(db_, "acl", bucket, key, acl, version_id) ? Status::kOk
                                                                         : Status::kNoSuchKey;
}

ObjectStore::Status ObjectStore::delete_bucket(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto any = db_.cached("SELECT 1 FROM object WHERE bucket = ?1 LIMIT 1");
  any->bind(1, name);
  if (any->step()) return Status::kNotEmpty;
  Transaction transaction(db_);
  auto remove = db_.cached("DELETE FROM bucket WHERE name = ?1");
  remove->bind(1, name);
  remove->step();
  auto changed = db_.cached("SELECT changes()");
  changed->step();
  if (!changed->column_int(0)) return Status::kNoSuchBucket;
  // Its configurations go with it: a new bucket of the same name starts bare.
  auto configs = db_.cached("DELETE FROM bucket_config WHERE bucket = ?1");
  configs->bind(1, name);
  configs->step();
  transaction.commit();
  return Status::kOk;
}

std::unique_ptr<BlobWriter> ObjectStore::new_blob() {
  std::string id = random_id();
  std::string path = blob_path(id);
  return std::make_unique<BlobWriter>(std::move(id), std::move(path), kInlineMax);
}

ObjectStore::Status ObjectStore::put_object(const std::string& bucket, ObjectInfo info,
                                            BlobWriter& blob, const WriteCondition& condition,
                                            ObjectInfo* committed) {
  info.size = blob.size();
  if (info.etag.empty()) info.etag = blob.md5_hex();
  info.delete_marker = false;
  Status status = commit_object(bucket, &info, condition, &blob);
  if (status == Status::kOk) {
    blob.release();
    if (committed) *committed = std::move(info);
  }
  return status;
}

std::optional<std::string> ObjectStore::upsert_object(const std::string& bucket,
                                                      const ObjectInfo& info) {
  std::optional<std::string> replaced;
  auto old = db_.cached("SELECT blob FROM object WHERE bucket = ?1 AND key = ?2");
  old->bind(1, bucket);
  old->bind(2, info.key);
  if (old->step()) replaced = old->column_text(0);
  write_row(bucket, info);
  if (replaced == info.blob || (replaced && replaced->empty())) replaced.reset();
  return replaced;
}

void ObjectStore::write_row(const std::string& bucket, const ObjectInfo& info) {
  auto insert = db_.cached(
      "INSERT OR REPLACE INTO object (bucket, key, size, etag, content_type, headers,"
      " metadata, checksums, last_modified_ms, blob, checksum_type, storage_class, parts, acl,"
      " tags, version_id, delete_marker, restore_days, restore_expiry_ms, lock_mode,"
      " lock_until_ms, legal_hold, customer_key)"
      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,"
      "?23)");
  insert->bind(1, bucket);
  insert->bind(2, info.key);
  insert->bind(3, static_cast<std::int64_t>(info.size));
  insert->bind(4, info.etag);
  insert->bind(5, info.content_type);
  insert->bind(6, to_json(info.headers));
  insert->bind(7, to_json(info.metadata));
  insert->bind(8, to_json(info.checksums));
  insert->bind(9, info.last_modified_ms);
  insert->bind(10, info.blob);
  insert->bind(11, info.checksum_type);
  insert->bind(12, info.storage_class);
  insert->bind(13, parts_to_json(info.parts));
  insert->bind(14, info.acl);
  insert->bind(15, to_json(info.tags));
  insert->bind(16, info.version_id);
  insert->bind(17, static_cast<std::int64_t>(info.delete_marker));
  insert->bind(18, info.restore_days);
  insert->bind(19, info.restore_expiry_ms);
  insert->bind(20, info.lock.mode);
  insert->bind(21, info.lock.until_ms);
  insert->bind(22, info.lock.legal_hold);
  insert->bind(23, info.customer_key.encode());
  insert->step();
}

ObjectStore::Status ObjectStore::check_condition(const std::string& bucket, const std::string& key,
                                                 const WriteCondition& condition) {
  if (condition.empty()) return Status::kOk;
  // A delete marker is nothing to a condition, as on S3.
  auto select = db_.cached(
      "SELECT etag, blob FROM object WHERE bucket = ?1 AND key = ?2 AND delete_marker = 0");
  select->bind(1, bucket);
  select->bind(2, key);
  std::optional<std::pair<std::string, std::string>> current;
  if (select->step()) current.emplace(select->column_text(0), select->column_text(1));
  std::string now_blob = current ? current->second : std::string();
  bool changed = condition.seen && *condition.seen != now_blob;
  if (condition.if_match) {
    std::string_view wanted = *condition.if_match;
    if (wanted.size() >= 2 && wanted.front() == '"' && wanted.back() == '"') {
      wanted = wanted.substr(1, wanted.size() - 2);
    }
    if (!current) return changed ? Status::kConflict : Status::kNoSuchKey;
    if (wanted != "*" && wanted != current->first) return Status::kPreconditionFailed;
  }
  if (condition.if_none_match && current) return Status::kPreconditionFailed;
  return changed ? Status::kConflict : Status::kOk;
}

std::optional<Versioning> ObjectStore::versioning_of(const std::string& bucket) {
  auto select = db_.cached("SELECT versioning FROM bucket WHERE name = ?1");
  select->bind(1, bucket);
  if (!select->step()) return std::nullopt;
  return versioning_from_text(select->column_text(0));
}

ObjectStore::Status ObjectStore::write_object(const std::string& bucket, ObjectInfo* info,
                                              const WriteCondition& condition, BlobWriter* blob,
                                              std::vector<std::string>* unreferenced) {
  std::optional<Versioning> state = versioning_of(bucket);
  if (!state) return Status::kNoSuchBucket;
  if (Status status = check_condition(bucket, info->key, condition); status != Status::kOk) {
    return status;
  }
  if (blob) store_inline(*blob, info);
  std::vector<std::string> replaced = write_current(bucket, info, *state);
  drop_inline(&replaced);
  unreferenced->insert(unreferenced->end(), replaced.begin(), replaced.end());
  return Status::kOk;
}

ObjectStore::Status ObjectStore::commit_object(const std::string& bucket, ObjectInfo* info,
                                               const WriteCondition& condition, BlobWriter* blob) {
  if (info->last_modified_ms == 0) info->last_modified_ms = now_ms();
  std::vector<std::string> unreferenced;
  {
    std::lock_guard lock(mutex_);
    Transaction transaction(db_);
    Status status = write_object(bucket, info, condition, blob, &unreferenced);
    if (status != Status::kOk) return status;
    transaction.commit();
  }
  // After the commit: a crash before this line leaves only garbage.
  for (const std::string& blob : unreferenced) remove_blob(blob);
  return Status::kOk;
}

std::optional<ObjectInfo> ObjectStore::head_object(const std::string& bucket,
                                                   const std::string& key) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(std::string("SELECT ") + kObjectColumns +
                           " FROM object WHERE bucket = ?1 AND key = ?2 AND delete_marker = 0");
  select->bind(1, bucket);
  select->bind(2, key);
  if (!select->step()) return std::nullopt;
  return read_object(*select);
}

std::optional<ObjectInfo> ObjectStore::object_version(
    const std::string& bucket, const std::string& key,
    const std::optional<std::string>& version_id) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(std::string("SELECT ") + kObjectColumns +
                           " FROM object WHERE bucket = ?1 AND key = ?2");
  select->bind(1, bucket);
  select->bind(2, key);
  if (!select->step()) return std::nullopt;
  ObjectInfo current = read_object(*select);
  if (!version_id || current.version_id == *version_id) return current;
  return noncurrent_version(bucket, key, *version_id);
}

std::optional<ObjectInfo> ObjectStore::noncurrent_version(const std::string& bucket,
                                                          const std::string& key,
                                                          const std::string& version_id) {
  auto select = db_.cached(std::string("SELECT ") + kObjectColumns +
                           " FROM object_version WHERE bucket = ?1 AND key = ?2"
                           " AND version_id = ?3");
  select->bind(1, bucket);
  select->bind(2, key);
  select->bind(3, version_id);
  if (!select->step()) return std::nullopt;
  ObjectInfo info = read_object(*select);
  info.is_latest = false;
  return info;
}

std::optional<std::pair<ObjectInfo, std::unique_ptr<BlobReader>>> ObjectStore::open_object(
    const std::string& bucket, const std::string& key, std::uint64_t offset,
    std::optional<std::uint64_t> length, const std::optional<std::string>& version_id) {
  // The row and the file are read in two steps; an overwrite in between
  // deletes the old blob, so look again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::optional<ObjectInfo> info =
        version_id ? object_version(bucket, key, version_id) : head_object(bucket, key);
    if (!info || info->delete_marker) return std::nullopt;
    if (auto reader = open_blob(*info, offset, length)) {
      return std::make_pair(std::move(*info), std::move(reader));
    }
  }
  throw StorageError("object " + key + " keeps changing under the reader");
}

std::unique_ptr<BlobReader> ObjectStore::open_blob(const ObjectInfo& info, std::uint64_t offset,
                                                   std::optional<std::uint64_t> length) {
  std::uint64_t start = std::min(offset, info.size);
  std::uint64_t count = std::min(length.value_or(info.size - start), info.size - start);
  if (is_inline(info.blob)) {
    std::lock_guard lock(mutex_);
    auto select = db_.cached("SELECT data FROM inline_blob WHERE id = ?1");
    select->bind(1, std::stoll(info.blob.substr(1)));
    if (!select->step()) return nullptr;  // overwritten or deleted since
    return std::make_unique<BlobReader>(select->column_text(0), start, count);
  }
  int fd = ::open(blob_path(info.blob).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return nullptr;
  if (fd < 0) io_error("open blob " + info.blob);
  return std::make_unique<BlobReader>(fd, start, count);
}

bool ObjectStore::delete_object(const std::string& bucket, const std::string& key) {
  return delete_object_version(bucket, key, std::nullopt).found;
}

DeleteResult ObjectStore::delete_object_version(const std::string& bucket, const std::string& key,
                                                const std::optional<std::string>& version_id,
                                                bool bypass_governance) {
  return reserve_.run([&] {
    return delete_object_version_now(bucket, key, version_id, nullptr, bypass_governance);
  });
}

bool ObjectStore::put_object_tags(const std::string& bucket, const std::string& key,
                                  const HeaderList& tags,
                                  const std::optional<std::string>& version_id) {
  std::lock_guard lock(mutex_);
  return update_version_column(db_, "tags", bucket, key, to_json(tags), version_id);
}

ListResult ObjectStore::list_objects(const std::string& bucket, const ListRequest& request) {
  std::lock_guard lock(mutex_);
  ListResult result;
  if (request.max_keys <= 0) return result;
  auto select = db_.cached(std::string("SELECT ") + kObjectColumns +
                           " FROM object WHERE bucket = ?1 AND key > ?2 AND key >= ?3"
                           " ORDER BY key LIMIT 1000");
  std::string cursor = request.after;
  int count = 0;
  for (;;) {
    select->reset();
    select->bind(1, bucket);
    select->bind(2, cursor);
    select->bind(3, request.prefix);
    bool any = false;
    while (select->step()) {
      any = true;
      std::string key = select->column_text(0);
      if (!std::string_view(key).starts_with(request.prefix)) return result;
      if (select->column_int(15)) {  // a delete marker: the key reads as deleted
        cursor = key;
        continue;
      }
      std::size_t at = request.delimiter.empty()
                           ? std::string::npos
                           : key.find(request.delimiter, request.prefix.size());
      if (at != std::string::npos) {
        std::string common = key.substr(0, at + request.delimiter.size());
        // 0xFF never occurs in UTF-8: this skips every key under `common`.
        cursor = common + "\xff";
        if (common <= request.after) break;  // reported on an earlier page
        if (count == request.max_keys) {
          result.truncated = true;
          return result;
        }
        result.common_prefixes.push_back(common);
        result.last = common;
        ++count;
        break;
      }
      if (count == request.max_keys) {
        result.truncated = true;
        return result;
      }
      ObjectInfo info = read_object(*select);
      info.blob.clear();
      result.last = info.key;
      cursor = info.key;
      result.objects.push_back(std::move(info));
      ++count;
    }
    // A roll-up restarts past its prefix; a full batch continues after its
    // last key; an empty one is the end.
    if (!any) return result;
  }
}

}  // namespace offcloud

// Multipart uploads: parts are blobs of their own, indexed in `part`; on
// completion they are concatenated into one new blob (copy_file_range, so
// the kernel copies without a trip through user space) and the object row,
// the upload's removal and its parts' removal commit in one transaction.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "storage/object_store.h"
#include "storage/object_store_detail.h"

namespace offcloud {
namespace {

using namespace detail;

std::string unquoted(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

// Appends all of `from` to `to`.
void copy_all(int from, int to, std::uint64_t size, const std::string& what) {
  std::uint64_t done = 0;
  bool kernel_copy = true;
  std::vector<char> buffer;
  while (done < size) {
    if (kernel_copy) {
      ssize_t n = ::copy_file_range(from, nullptr, to, nullptr, size - done, 0);
      if (n > 0) {
        done += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
        kernel_copy = false;
        buffer.resize(1 << 20);
        continue;
      }
      if (n == 0) throw StorageError(what + ": part shorter than its index says");
      io_error("copy " + what);
    }
    ssize_t n = ::read(from, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_error("read " + what);
    if (n == 0) throw StorageError(what + ": part shorter than its index says");
    for (ssize_t written = 0; written < n;) {
      ssize_t w = ::write(to, buffer.data() + written, static_cast<std::size_t>(n - written));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) io_error("write " + what);
      written += w;
    }
    done += static_cast<std::uint64_t>(n);
  }
}

}  // namespace

std::optional<std::string> ObjectStore::create_upload(const std::string& bucket,
                                                      const ObjectInfo& attributes,
                                                      std::optional<ChecksumAlgorithm> checksum) {
  std::lock_guard lock(mutex_);
  auto exists = db_.cached("SELECT 1 FROM bucket WHERE name = ?1");
  exists->bind(1, bucket);
  if (!exists->step()) return std::nullopt;
  std::string id = random_id();
  auto insert = db_.cached("INSERT INTO upload VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  insert->bind(1, id);
  insert->bind(2, bucket);
  insert->bind(3, attributes.key);
  insert->bind(4, now_ms());
  insert->bind(5, attributes.content_type);
  insert->bind(6, to_json(attributes.headers));
  insert->bind(7, to_json(attributes.metadata));
  insert->bind(8, checksum ? std::string(checksum_name(*checksum)) : std::string());
  insert->step();
  return id;
}

namespace {

constexpr const char* kUploadColumns =
    "id, bucket, key, initiated_ms, content_type, headers, metadata, checksum";

UploadInfo read_upload(const Statement& row) {
  UploadInfo info;
  info.id = row.column_text(0);
  info.bucket = row.column_text(1);
  info.key = row.column_text(2);
  info.initiated_ms = row.column_int(3);
  info.attributes.key = info.key;
  info.attributes.content_type = row.column_text(4);
  info.attributes.headers = from_json(row.column_text(5));
  info.attributes.metadata = from_json(row.column_text(6));
  info.checksum = parse_checksum_algorithm(row.column_text(7));
  return info;
}

PartInfo read_part(const Statement& row) {
  PartInfo part;
  part.number = static_cast<int>(row.column_int(0));
  part.size = static_cast<std::uint64_t>(row.column_int(1));
  part.etag = row.column_text(2);
  part.checksums = from_json(row.column_text(3));
  part.last_modified_ms = row.column_int(4);
  part.blob = row.column_text(5);
  return part;
}

}  // namespace

std::optional<UploadInfo> ObjectStore::upload(const std::string& bucket, const std::string& id) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(std::string("SELECT ") + kUploadColumns +
                           " FROM upload WHERE id = ?1 AND bucket = ?2");
  select->bind(1, id);
  select->bind(2, bucket);
  if (!select->step()) return std::nullopt;
  return read_upload(*select);
}

std::vector<UploadInfo> ObjectStore::list_uploads(const std::string& bucket,
                                                  const std::string& prefix) {
  std::lock_guard lock(mutex_);
  auto select =
      db_.prepare(std::string("SELECT ") + kUploadColumns +
                  " FROM upload WHERE bucket = ?1 AND key >= ?2 ORDER BY key, initiated_ms");
  select->bind(1, bucket);
  select->bind(2, prefix);
  std::vector<UploadInfo> uploads;
  while (select->step()) {
    UploadInfo info = read_upload(*select);
    if (!std::string_view(info.key).starts_with(prefix)) break;
    uploads.push_back(std::move(info));
  }
  return uploads;
}

bool ObjectStore::put_part(const std::string& upload_id, PartInfo part, BlobWriter& blob) {
  part.blob = blob.id();
  part.size = blob.size();
  if (part.etag.empty()) part.etag = blob.md5_hex();
  part.last_modified_ms = now_ms();
  std::optional<std::string> replaced;
  {
    std::lock_guard lock(mutex_);
    Transaction transaction(db_);
    auto exists = db_.cached("SELECT 1 FROM upload WHERE id = ?1");
    exists->bind(1, upload_id);
    if (!exists->step()) return false;
    auto old = db_.cached("SELECT blob FROM part WHERE upload_id = ?1 AND number = ?2");
    old->bind(1, upload_id);
    old->bind(2, std::int64_t{part.number});
    if (old->step()) replaced = old->column_text(0);
    auto insert = db_.cached("INSERT OR REPLACE INTO part VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    insert->bind(1, upload_id);
    insert->bind(2, std::int64_t{part.number});
    insert->bind(3, static_cast<std::int64_t>(part.size));
    insert->bind(4, part.etag);
    insert->bind(5, to_json(part.checksums));
    insert->bind(6, part.last_modified_ms);
    insert->bind(7, part.blob);
    insert->step();
    transaction.commit();
    blob.release();
  }
  if (replaced) remove_blob(*replaced);
  return true;
}

std::vector<PartInfo> ObjectStore::list_parts(const std::string& upload_id) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(
      "SELECT number, size, etag, checksums, last_modified_ms, blob FROM part"
      " WHERE upload_id = ?1 ORDER BY number");
  select->bind(1, upload_id);
  std::vector<PartInfo> parts;
  while (select->step()) parts.push_back(read_part(*select));
  return parts;
}

bool ObjectStore::abort_upload(const std::string& upload_id) {
  return reserve_.run([&] { return abort_upload_now(upload_id); });
}

bool ObjectStore::abort_upload_now(const std::string& upload_id) {
  std::vector<PartInfo> parts = list_parts(upload_id);
  {
    std::lock_guard lock(mutex_);
    Transaction transaction(db_);
    auto remove_parts = db_.cached("DELETE FROM part WHERE upload_id = ?1");
    remove_parts->bind(1, upload_id);
    remove_parts->step();
    auto remove = db_.cached("DELETE FROM upload WHERE id = ?1");
    remove->bind(1, upload_id);
    remove->step();
    auto changed = db_.cached("SELECT changes()");
    changed->step();
    bool existed = changed->column_int(0) > 0;
    transaction.commit();
    if (!existed) return false;
  }
  for (const PartInfo& part : parts) remove_blob(part.blob);
  return true;
}

ObjectStore::CompleteResult ObjectStore::complete_upload(const std::string& bucket,
                                                         const std::string& upload_id,
                                                         const std::vector<CompletedPart>& parts) {
  CompleteResult result;
  std::optional<UploadInfo> info = upload(bucket, upload_id);
  if (!info) {
    result.status = CompleteStatus::kNoSuchUpload;
    return result;
  }
  std::map<int, PartInfo> stored;
  for (PartInfo& part : list_parts(upload_id)) stored.emplace(part.number, std::move(part));

  // S3's checks, in its order: part order, then each part's existence and
  // ETag, then the minimum size of every part but the last.
  int previous = 0;
  for (const CompletedPart& wanted : parts) {
    if (wanted.number <= previous) {
      result.status = CompleteStatus::kInvalidPartOrder;
      result.bad_part = wanted.number;
      return result;
    }
    previous = wanted.number;
  }
  std::vector<const PartInfo*> chosen;
  for (const CompletedPart& wanted : parts) {
    auto it = stored.find(wanted.number);
    if (it == stored.end() || it->second.etag != unquoted(wanted.etag)) {
      result.status = CompleteStatus::kInvalidPart;
      result.bad_part = wanted.number;
      return result;
    }
    chosen.push_back(&it->second);
  }
  for (std::size_t i = 0; i + 1 < chosen.size(); ++i) {
    if (chosen[i]->size < kMinPartSize) {
      result.status = CompleteStatus::kEntityTooSmall;
      result.bad_part = chosen[i]->number;
      return result;
    }
  }
  result.bad_part = 0;

  // ETag: the MD5 of the parts' binary MD5s, then "-<count>", as S3 does.
  StreamingDigest md5_of_md5s(StreamingDigest::Algorithm::kMd5);
  std::optional<Checksum> composite;
  if (info->checksum) composite.emplace(*info->checksum);
  bool all_have_checksum = composite.has_value();
  std::unique_ptr<BlobWriter> blob = new_blob();
  int out = ::open(blob_path(blob->id()).c_str(), O_WRONLY | O_CLOEXEC);
  if (out < 0) io_error("open " + blob->id());
  std::uint64_t total = 0;
  try {
    for (const PartInfo* part : chosen) {
      std::string raw_md5(16, '\0');
      for (std::size_t k = 0; k < 16; ++k) {
        raw_md5[k] = static_cast<char>(std::stoi(part->etag.substr(2 * k, 2), nullptr, 16));
      }
      md5_of_md5s.update(raw_md5);
      if (composite) {
        bool found = false;
        for (const auto& [name, value] : part->checksums) {
          std::string raw;
          if (name == checksum_name(*info->checksum) && base64_decode(value, &raw)) {
            composite->update(raw);
            found = true;
          }
        }
        all_have_checksum = all_have_checksum && found;
      }
      int in = ::open(blob_path(part->blob).c_str(), O_RDONLY | O_CLOEXEC);
      if (in < 0) io_error("open part " + part->blob);
      try {
        copy_all(in, out, part->size, "part " + std::to_string(part->number));
      } catch (...) {
        ::close(in);
        throw;
      }
      ::close(in);
      total += part->size;
    }
  } catch (...) {
    ::close(out);
    throw;
  }
  if (::close(out) != 0) io_error("close " + blob->id());

  std::string raw = md5_of_md5s.finish();
  ObjectInfo object = info->attributes;
  object.key = info->key;
  object.size = total;
  object.etag = hex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()) + "-" +
                std::to_string(chosen.size());
  object.blob = blob->id();
  object.last_modified_ms = now_ms();
  if (composite && all_have_checksum) {
    object.checksums.emplace_back(std::string(checksum_name(*info->checksum)),
                                  composite->finish_base64() + "-" + std::to_string(chosen.size()));
  }

  std::optional<std::string> replaced;
  {
    std::lock_guard lock(mutex_);
    Transaction transaction(db_);
    auto exists = db_.cached("SELECT 1 FROM upload WHERE id = ?1");
    exists->bind(1, upload_id);
    if (!exists->step()) {
      // Aborted or completed by someone else meanwhile.
      result.status = CompleteStatus::kNoSuchUpload;
      return result;
    }
    replaced = upsert_object(bucket, object);
    auto remove_parts = db_.cached("DELETE FROM part WHERE upload_id = ?1");
    remove_parts->bind(1, upload_id);
    remove_parts->step();
    auto remove = db_.cached("DELETE FROM upload WHERE id = ?1");
    remove->bind(1, upload_id);
    remove->step();
    transaction.commit();
    blob->release();
  }
  for (const auto& [number, part] : stored) remove_blob(part.blob);
  if (replaced) remove_blob(*replaced);
  result.object = std::move(object);
  return result;
}

}  // namespace offcloud

// CompleteMultipartUpload: the parts are concatenated into one new blob
// (copy_file_range, so the kernel copies without a trip through user space)
// and the object row, the upload's removal and its parts' removal commit in
// one transaction, under the write's condition. The result is remembered a
// while, since AWS answers a repeated completion as it answered the first.
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

const std::string* find_checksum(const HeaderList& checksums, std::string_view name) {
  for (const auto& [algorithm, value] : checksums) {
    if (algorithm == name) return &value;
  }
  return nullptr;
}

// The object's checksum from its parts': the checksum of the parts'
// checksums with "-<count>" (COMPOSITE), or the CRC of the whole object
// combined from the parts' CRCs (FULL_OBJECT). nullopt when a part has none.
std::optional<std::string> object_checksum(const UploadInfo& upload,
                                           const std::vector<const PartInfo*>& parts) {
  if (!upload.checksum) return std::nullopt;
  std::string_view name = checksum_name(*upload.checksum);
  bool full_object = upload.checksum_type == "FULL_OBJECT";
  Checksum composite(*upload.checksum);
  std::optional<std::string> combined;
  for (const PartInfo* part : parts) {
    const std::string* value = find_checksum(part->checksums, name);
    if (!value) return std::nullopt;
    if (full_object) {
      combined = combined ? combine_crc_base64(*upload.checksum, *combined, *value, part->size)
                          : std::optional<std::string>(*value);
      if (!combined) return std::nullopt;
      continue;
    }
    std::string raw;
    if (!base64_decode(*value, &raw)) return std::nullopt;
    composite.update(raw);
  }
  if (full_object) return combined;
  return composite.finish_base64() + "-" + std::to_string(parts.size());
}

}  // namespace

std::optional<ObjectInfo> ObjectStore::completed_upload(const std::string& bucket,
                                                        const std::string& upload_id) {
  std::lock_guard lock(mutex_);
  auto select = db_.cached(
      "SELECT key, etag, checksums, checksum_type FROM completed_upload"
      " WHERE id = ?1 AND bucket = ?2 AND completed_ms > ?3");
  select->bind(1, upload_id);
  select->bind(2, bucket);
  select->bind(3, now_ms() - kCompletedMemoryMs);
  if (!select->step()) return std::nullopt;
  ObjectInfo info;
  info.key = select->column_text(0);
  info.etag = select->column_text(1);
  info.checksums = from_json(select->column_text(2));
  info.checksum_type = select->column_text(3);
  return info;
}

ObjectStore::CompleteResult ObjectStore::complete_upload(
    const std::string& bucket, const std::string& upload_id,
    const std::vector<CompletedPart>& parts, const WriteCondition& given_condition,
    const std::optional<std::string>& expected_checksum) {
  CompleteResult result;
  std::optional<UploadInfo> info = upload(bucket, upload_id);
  if (!info) {
    if (std::optional<ObjectInfo> done = completed_upload(bucket, upload_id)) {
      result.object = std::move(*done);
      result.repeated = true;
      return result;
    }
    result.status = CompleteStatus::kNoSuchUpload;
    return result;
  }
  auto condition_failure = [](Status status) {
    return status == Status::kNoSuchKey            ? CompleteStatus::kNoSuchKey
           : status == Status::kPreconditionFailed ? CompleteStatus::kPreconditionFailed
                                                   : CompleteStatus::kConflict;
  };
  // What the key holds now: a change before the commit below is a conflict.
  // Checked now too, so a failing condition costs no concatenation.
  WriteCondition condition = given_condition;
  if (!condition.empty()) {
    std::optional<ObjectInfo> current = head_object(bucket, info->key);
    condition.seen = current ? current->blob : std::string();
    std::lock_guard lock(mutex_);
    if (Status status = check_condition(bucket, info->key, condition); status != Status::kOk) {
      result.status = condition_failure(status);
      return result;
    }
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
    // SSE-C: every part encrypted with the upload's key, or none (UploadPart
    // saw to it; a part that is neither could not be read back).
    bool unencrypted_upload = info->attributes.customer_key.empty();
    bool encrypted_as_upload =
        it == stored.end() || it->second.customer_iv.empty() == unencrypted_upload;
    if (it == stored.end() || it->second.etag != unquoted(wanted.etag) || !encrypted_as_upload) {
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

  ObjectInfo object = info->attributes;
  object.key = info->key;
  if (std::optional<std::string> checksum = object_checksum(*info, chosen)) {
    if (expected_checksum && *expected_checksum != *checksum &&
        *expected_checksum + "-" + std::to_string(chosen.size()) != *checksum) {
      result.status = CompleteStatus::kBadDigest;
      return result;
    }
    object.checksums.emplace_back(std::string(checksum_name(*info->checksum)), *checksum);
    object.checksum_type = info->checksum_type;
  }

  // ETag: the MD5 of the parts' binary MD5s, then "-<count>", as S3 does.
  StreamingDigest md5_of_md5s(StreamingDigest::Algorithm::kMd5);
  std::unique_ptr<BlobWriter> blob = new_blob();
  blob->create_file();
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
      object.parts.push_back({part->size, part->checksums});
      if (!object.customer_key.empty()) object.customer_key.ivs.push_back(part->customer_iv);
    }
  } catch (...) {
    ::close(out);
    throw;
  }
  if (::close(out) != 0) io_error("close " + blob->id());

  std::string raw = md5_of_md5s.finish();
  object.size = total;
  object.etag = hex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()) + "-" +
                std::to_string(chosen.size());
  object.blob = blob->id();
  object.last_modified_ms = now_ms();

  std::vector<std::string> unreferenced;
  {
    std::lock_guard lock(mutex_);
    std::optional<Versioning> state = versioning_of(bucket);
    if (!state) {
      result.status = CompleteStatus::kNoSuchUpload;  // its bucket went with it
      return result;
    }
    Transaction transaction(db_);
    auto exists = db_.cached("SELECT 1 FROM upload WHERE id = ?1");
    exists->bind(1, upload_id);
    if (!exists->step()) {
      // Aborted or completed by someone else meanwhile.
      result.status = CompleteStatus::kNoSuchUpload;
      return result;
    }
    if (Status status = check_condition(bucket, object.key, condition); status != Status::kOk) {
      result.status = condition_failure(status);
      return result;
    }
    unreferenced = write_current(bucket, &object, *state);
    drop_inline(&unreferenced);
    auto remove_parts = db_.cached("DELETE FROM part WHERE upload_id = ?1");
    remove_parts->bind(1, upload_id);
    remove_parts->step();
    auto remove = db_.cached("DELETE FROM upload WHERE id = ?1");
    remove->bind(1, upload_id);
    remove->step();
    auto forget = db_.cached("DELETE FROM completed_upload WHERE completed_ms <= ?1");
    forget->bind(1, object.last_modified_ms - kCompletedMemoryMs);
    forget->step();
    auto remember =
        db_.cached("INSERT OR REPLACE INTO completed_upload VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    remember->bind(1, upload_id);
    remember->bind(2, bucket);
    remember->bind(3, object.key);
    remember->bind(4, object.etag);
    remember->bind(5, to_json(object.checksums));
    remember->bind(6, object.checksum_type);
    remember->bind(7, object.last_modified_ms);
    remember->step();
    transaction.commit();
    blob->release();
  }
  for (const auto& [number, part] : stored) remove_blob(part.blob);
  for (const std::string& blob : unreferenced) remove_blob(blob);
  result.object = std::move(object);
  return result;
}

}  // namespace offcloud

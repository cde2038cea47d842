// Multipart uploads: parts are blobs of their own, indexed in `part`, until
// completion (object_store_complete.cpp) concatenates them.
#include <algorithm>
#include <utility>

#include "storage/object_store.h"
#include "storage/object_store_detail.h"

namespace offcloud {

using namespace detail;

std::optional<std::string> ObjectStore::create_upload(const std::string& bucket,
                                                      const ObjectInfo& attributes,
                                                      std::optional<ChecksumAlgorithm> checksum,
                                                      const std::string& checksum_type) {
  std::lock_guard lock(mutex_);
  auto exists = db_.cached("SELECT 1 FROM bucket WHERE name = ?1");
  exists->bind(1, bucket);
  if (!exists->step()) return std::nullopt;
  std::string id = random_id();
  auto insert = db_.cached(
      "INSERT INTO upload (id, bucket, key, initiated_ms, content_type, headers, metadata,"
      " checksum, checksum_type, storage_class, acl, tags, lock_mode, lock_until_ms, legal_hold,"
      " customer_key)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
  insert->bind(1, id);
  insert->bind(2, bucket);
  insert->bind(3, attributes.key);
  insert->bind(4, now_ms());
  insert->bind(5, attributes.content_type);
  insert->bind(6, to_json(attributes.headers));
  insert->bind(7, to_json(attributes.metadata));
  insert->bind(8, checksum ? std::string(checksum_name(*checksum)) : std::string());
  insert->bind(9, checksum ? checksum_type : std::string());
  insert->bind(10, attributes.storage_class);
  insert->bind(11, attributes.acl);
  insert->bind(12, to_json(attributes.tags));
  insert->bind(13, attributes.lock.mode);
  insert->bind(14, attributes.lock.until_ms);
  insert->bind(15, attributes.lock.legal_hold);
  insert->bind(16, attributes.customer_key.encode());
  insert->step();
  return id;
}

namespace {

constexpr const char* kUploadColumns =
    "id, bucket, key, initiated_ms, content_type, headers, metadata, checksum, checksum_type,"
    " storage_class, acl, tags, lock_mode, lock_until_ms, legal_hold, customer_key";

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
  info.checksum_type = row.column_text(8);
  // Uploads begun before checksum types were kept: COMPOSITE was all there was.
  if (info.checksum && info.checksum_type.empty()) info.checksum_type = "COMPOSITE";
  info.attributes.storage_class = row.column_text(9);
  info.attributes.acl = row.column_text(10);
  info.attributes.tags = from_json(row.column_text(11));
  info.attributes.lock.mode = row.column_text(12);
  info.attributes.lock.until_ms = row.column_int(13);
  info.attributes.lock.legal_hold = row.column_text(14);
  info.attributes.customer_key = CustomerKeyRecord::decode(row.column_text(15));
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
  part.customer_iv = decode_customer_iv(row.column_text(6));
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

UploadListResult ObjectStore::list_uploads(const std::string& bucket,
                                           const UploadListRequest& request) {
  const std::string& prefix = request.prefix;
  const std::string& marker = request.key_marker;
  UploadListResult result;
  if (request.max_uploads <= 0) return result;
  std::lock_guard lock(mutex_);
  // The marker upload's place among its key's uploads; one that is gone
  // leaves S3's rule: upload ids greater than the marker.
  std::optional<std::int64_t> marker_initiated;
  if (!marker.empty() && !request.upload_id_marker.empty()) {
    auto find =
        db_.prepare("SELECT initiated_ms FROM upload WHERE id = ?1 AND bucket = ?2 AND key = ?3");
    find->bind(1, request.upload_id_marker);
    find->bind(2, bucket);
    find->bind(3, marker);
    if (find->step()) marker_initiated = find->column_int(0);
  }
  auto after_marker = [&](const UploadInfo& upload) {
    if (marker.empty() || upload.key > marker) return true;
    if (upload.key < marker || request.upload_id_marker.empty()) return false;
    if (!marker_initiated) return upload.id > request.upload_id_marker;
    return std::pair(upload.initiated_ms, upload.id) >
           std::pair(*marker_initiated, request.upload_id_marker);
  };
  auto select = db_.prepare(std::string("SELECT ") + kUploadColumns +
                            " FROM upload WHERE bucket = ?1 AND key >= ?2"
                            " ORDER BY key, initiated_ms, id");
  select->bind(1, bucket);
  select->bind(2, std::max(prefix, marker));
  std::size_t entries = 0;
  while (select->step()) {
    UploadInfo upload = read_upload(*select);
    if (!std::string_view(upload.key).starts_with(prefix)) break;
    if (!after_marker(upload)) continue;
    std::optional<std::string> common_prefix;
    if (!request.delimiter.empty()) {
      std::size_t at = upload.key.find(request.delimiter, prefix.size());
      if (at != std::string::npos) {
        common_prefix = upload.key.substr(0, at + request.delimiter.size());
        // Already listed, here or on a page before (the marker is in it).
        if (marker.starts_with(*common_prefix) ||
            (!result.common_prefixes.empty() && result.common_prefixes.back() == *common_prefix)) {
          continue;
        }
      }
    }
    if (entries == static_cast<std::size_t>(request.max_uploads)) {
      result.truncated = true;
      break;
    }
    ++entries;
    if (common_prefix) {
      result.next_key_marker = *common_prefix;
      result.next_upload_id_marker.clear();
      result.common_prefixes.push_back(std::move(*common_prefix));
    } else {
      result.next_key_marker = upload.key;
      result.next_upload_id_marker = upload.id;
      result.uploads.push_back(std::move(upload));
    }
  }
  if (!result.truncated) {
    result.next_key_marker.clear();
    result.next_upload_id_marker.clear();
  }
  return result;
}

bool ObjectStore::put_part(const std::string& upload_id, PartInfo part, BlobWriter& blob) {
  blob.spill();  // completion concatenates parts' files
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
    auto insert = db_.cached(
        "INSERT OR REPLACE INTO part (upload_id, number, size, etag, checksums,"
        " last_modified_ms, blob, customer_iv) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    insert->bind(1, upload_id);
    insert->bind(2, std::int64_t{part.number});
    insert->bind(3, static_cast<std::int64_t>(part.size));
    insert->bind(4, part.etag);
    insert->bind(5, to_json(part.checksums));
    insert->bind(6, part.last_modified_ms);
    insert->bind(7, part.blob);
    insert->bind(8, encode_customer_iv(part.customer_iv));
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
      "SELECT number, size, etag, checksums, last_modified_ms, blob, customer_iv FROM part"
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

}  // namespace offcloud

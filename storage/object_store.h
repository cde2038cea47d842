// S3's buckets and objects on the local filesystem. Object bytes live in blob
// files named by random ids (never by key, so no key can reach outside the
// store); keys, metadata and the listing index live in SQLite. A write goes
// to a new blob and becomes visible only when its index row commits, so a
// crash leaves the old object or the new one, never a torn one; blobs no row
// points to are removed at start-up. Small objects (up to kInlineMax) are
// blobs too, but kept in SQLite in the same transaction as their row: a file
// per object cost a create and an unlink, more than the rest of a small
// PUT's work together. The HTTP handlers and the other services (Firehose,
// rule actions) use this same interface.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "storage/checksum.h"
#include "storage/customer_key.h"
#include "storage/database.h"
#include "storage/digest_pipeline.h"
#include "storage/object_lock.h"
#include "storage/space_reserve.h"

namespace offcloud {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// A bucket's versioning state. Once enabled, a bucket never returns to
// kUnversioned (AWS offers only Enabled and Suspended from then on).
enum class Versioning { kUnversioned, kEnabled, kSuspended };

struct BucketInfo {
  std::string name;
  std::string region;
  std::int64_t created_ms = 0;
  // The account that owns it: bucket names are global, their buckets are
  // not. Buckets made before accounts belong to 000000000000.
  std::string owner;
  std::string acl;  // opaque to the store (the S3 front end's encoding); "": the owner's alone
  Versioning versioning = Versioning::kUnversioned;
};

// One part of an object made by a multipart upload, as it was uploaded.
struct ObjectPart {
  std::uint64_t size = 0;
  HeaderList checksums;  // ("CRC32", base64), ...
};

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // without quotes: MD5 hex, or "<md5 of md5s>-<parts>"
  std::string content_type;
  HeaderList headers;         // Content-Encoding, Content-Disposition, Cache-Control, ...
  HeaderList metadata;        // x-amz-meta-* without the prefix, names lower-case
  HeaderList checksums;       // ("CRC32", base64), ...
  HeaderList tags;            // the tag set, in the order it was given
  std::string checksum_type;  // "FULL_OBJECT" or "COMPOSITE" when there are checksums
  std::string storage_class = "STANDARD";
  // A multipart object's parts, in order (GET ?partNumber, GetObjectAttributes);
  // empty for other objects, and for multipart objects stored before offcloud
  // kept them.
  std::vector<ObjectPart> parts;
  std::string acl;  // opaque to the store, as BucketInfo::acl
  std::int64_t last_modified_ms = 0;
  std::string blob;  // the blob file's id; "" for a delete marker
  // Versioning (object_store_versions.cpp). "" is the null version: every
  // object of a bucket that never had versioning, and those written while
  // it was suspended; otherwise the id the store made (kVersionIdLength
  // URL-safe characters). Filled by the store on reads and commits.
  std::string version_id;
  bool delete_marker = false;  // no bytes, no blob: the key reads as deleted
  bool is_latest = true;       // the key's current version (listings of versions)
  // Object Lock (storage/object_lock.h): the version's retention and legal
  // hold; empty in buckets without Object Lock.
  ObjectLock lock;
  // RestoreObject of an archived object (object_store_lifecycle.cpp): the
  // days asked for while a restore is in progress (0: none), and when the
  // restored copy expires (0: none restored). A new write starts with none.
  std::int64_t restore_days = 0;
  std::int64_t restore_expiry_ms = 0;
  bool restore_ongoing() const { return restore_days > 0; }
  bool restored(std::int64_t now_ms) const {
    return restore_days == 0 && restore_expiry_ms > now_ms;
  }
  // SSE-C (storage/customer_key.h): empty unless the bytes on disk are
  // encrypted with a client's key, with one IV per part (or one).
  CustomerKeyRecord customer_key;
};

// If-Match / If-None-Match on a write, checked under the lock the write
// commits under, so no other write slips in between the check and the
// commit. `seen` is what the key held when the request began (its blob id,
// or "" for nothing): a change since then that the condition itself lets
// through (a delete under If-None-Match) is a conflict, as AWS answers a
// conditional write that raced with another request.
struct WriteCondition {
  bool if_none_match = false;           // If-None-Match: *
  std::optional<std::string> if_match;  // an ETag, quotes optional; "*": any object
  std::optional<std::string> seen;
  bool empty() const { return !if_none_match && !if_match; }
};

// Writes one new blob, hashing as it goes. Until commit, nothing refers to
// it; destroying an uncommitted writer deletes the file. The file is made
// on the first flush: a blob that ends within `inline_max` bytes never has
// one, and is committed into the index instead (is_inline()).
class BlobWriter {
 public:
  BlobWriter(std::string id, std::string path, std::uint64_t inline_max);
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  // Adds a checksum to compute besides MD5; before the first write.
  void add_checksum(ChecksumAlgorithm algorithm);
  // Also the SHA-256 of what is written (the plaintext), for a signed
  // payload's x-amz-content-sha256; before the first write. A blob larger
  // than its write buffer is hashed on threads (DigestPipeline) while it is
  // written, so this costs no time of the writer's own.
  void add_sha256();
  std::string sha256_hex();  // after close; "" without add_sha256
  // SSE-C; before the first write. The bytes go to disk encrypted with
  // `key` under a new IV (iv()); checksums are of the plaintext, MD5 (the
  // ETag) of the ciphertext, as an SSE-C object's ETag is no MD5 of its
  // data on S3. `plaintext_md5`: also the plaintext's MD5, for Content-MD5.
  void encrypt(const CustomerKey& key, bool plaintext_md5);
  const std::string& iv() const { return iv_; }  // raw; "" when not encrypted
  // Throws StorageError on a write failure (disk full, ...).
  void write(std::string_view data);
  // Flushes and closes; the blob is complete.
  void close();
  // After close: the blob is in memory (inline_data()), to be stored in the
  // index with the row that refers to it; id() is "" until then.
  bool is_inline() const { return inline_; }
  std::string_view inline_data() const { return buffer_; }
  // After close: writes an inline blob to its file after all (parts, which
  // completion concatenates file by file).
  void spill();
  // Makes the file now, for writers whose bytes are copied in by other
  // means (completion). Before any write.
  void create_file();

  const std::string& id() const { return inline_ ? kNoId : id_; }
  std::uint64_t size() const { return size_; }
  std::string md5_hex();  // after close
  // After close: the plaintext's MD5 (md5_hex() unless encrypting).
  std::string plaintext_md5_hex();
  // After close: each added checksum, base64.
  HeaderList checksums();
  void release() { committed_ = true; }  // the index now owns the file

 private:
  // Writes the buffer out; hashes it first, or hands it to the pipeline
  // (started on the first flush that is not the `last`).
  void flush(bool last);
  void close_file();
  void write_all(std::string_view data);
  void hash_now(std::string_view data);
  void start_pipeline();
  void write_encrypted(std::string_view data);

  static inline const std::string kNoId;
  std::string id_;
  std::string path_;
  int fd_ = -1;
  std::uint64_t inline_max_;
  bool created_ = false;  // the file exists (and goes unless committed)
  bool inline_ = false;
  std::uint64_t size_ = 0;
  std::string buffer_;
  StreamingDigest md5_{StreamingDigest::Algorithm::kMd5};
  std::optional<std::string> md5_hex_;
  std::vector<Checksum> checksums_;
  std::optional<HeaderList> checksum_values_;
  bool committed_ = false;
  std::unique_ptr<CustomerCipher> cipher_;
  std::string iv_;
  std::optional<StreamingDigest> plaintext_md5_;
  std::optional<StreamingDigest> sha256_;
  std::optional<std::string> sha256_hex_;
  // What the pipeline's file lane threw; seen by the writer once the
  // pipeline is past it (a flush's mutex handoff or finish()).
  std::exception_ptr write_failure_;
  std::atomic<bool> write_failed_{false};
  // Last: destroyed first, so its threads stop before the digests they use.
  std::unique_ptr<DigestPipeline> pipeline_;
  std::optional<std::string> plaintext_md5_hex_;
};

// An open object: reads stay valid even if the object is overwritten or
// deleted meanwhile (the file descriptor keeps the old blob alive; an
// inline blob is read whole into the reader).
class BlobReader {
 public:
  BlobReader(int fd, std::uint64_t offset, std::uint64_t length);
  BlobReader(std::string bytes, std::uint64_t offset, std::uint64_t length);
  ~BlobReader();
  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;
  std::uint64_t length() const { return length_; }
  // Up to `capacity` bytes of what is left; 0 at the end. Throws StorageError.
  std::size_t read(char* buffer, std::size_t capacity);
  // SSE-C: what read() gives from now on is decrypted with `cipher`, laid
  // out over the whole object (ObjectStore::customer_cipher).
  void decrypt(std::unique_ptr<CustomerCipher> cipher) { cipher_ = std::move(cipher); }

 private:
  int fd_;
  std::string bytes_;  // an inline blob's, when fd_ < 0
  std::uint64_t offset_;
  std::uint64_t length_;
  std::uint64_t done_ = 0;
  std::unique_ptr<CustomerCipher> cipher_;
};

struct ListRequest {
  std::string prefix;
  std::string after;  // keys strictly greater than this (marker / start-after / token)
  std::string delimiter;
  int max_keys = 1000;
};

struct ListResult {
  std::vector<ObjectInfo> objects;  // without blob ids
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string last;  // the last key or prefix returned: where the next page starts
};

// ListObjectVersions: every version and delete marker, keys in order and
// newest first within a key. Paging resumes after (key_marker,
// version_id_marker), or after all of key_marker's versions without one.
struct VersionListRequest {
  std::string prefix;
  std::string delimiter;
  std::string key_marker;
  std::optional<std::string> version_id_marker;  // "" the null version
  int max_keys = 1000;
};

struct VersionListResult {
  std::vector<ObjectInfo> versions;  // versions and delete markers, without blob ids
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  // Where the next page starts: the last key (or common prefix) returned,
  // and the last version of it (none after a common prefix).
  std::string next_key_marker;
  std::optional<std::string> next_version_id_marker;
};

// What a DELETE did (delete_object_version).
struct DeleteResult {
  bool found = false;  // a version was removed or a delete marker made
  // The version removed, or the delete marker made ("" the null version);
  // nullopt in a bucket that never had versioning, where nothing is versioned.
  std::optional<std::string> version_id;
  bool delete_marker = false;  // that version is a delete marker
  // Refused, nothing done: the version is locked (may_delete_version).
  bool locked = false;
};

struct UploadInfo {
  std::string id;
  std::string bucket;
  std::string key;
  std::int64_t initiated_ms = 0;
  ObjectInfo attributes;  // content type, headers, metadata, storage class, ACL
  std::optional<ChecksumAlgorithm> checksum;
  std::string checksum_type;  // "COMPOSITE" or "FULL_OBJECT" with a checksum
};

// ListMultipartUploads' request and answer, as S3 pages it: uploads by
// key, then by initiation; a key's uploads after upload_id_marker (all of
// them after key_marker without one); keys holding `delimiter` past the
// prefix rolled up into common prefixes, each counting as one entry.
struct UploadListRequest {
  std::string prefix;
  std::string delimiter;
  std::string key_marker;
  std::string upload_id_marker;
  int max_uploads = 1000;
};

struct UploadListResult {
  std::vector<UploadInfo> uploads;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_key_marker;        // when truncated: the last entry's key or prefix
  std::string next_upload_id_marker;  // when truncated on an upload: its id
};

struct PartInfo {
  int number = 0;
  std::uint64_t size = 0;
  std::string etag;  // MD5 hex, without quotes
  HeaderList checksums;
  std::int64_t last_modified_ms = 0;
  std::string blob;
  std::string customer_iv;  // SSE-C: the part's raw IV, "" when not encrypted
};

// A part named in CompleteMultipartUpload.
struct CompletedPart {
  int number = 0;
  std::string etag;  // quotes optional
};

class ObjectStore {
 public:
  // `root` holds s3.db and the blobs/ folder; created if missing.
  explicit ObjectStore(const std::string& root);
  ~ObjectStore();  // commits what put_object_later queued first
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  enum class Status {
    kOk,
    kAlreadyExists,
    kNoSuchBucket,
    kNotEmpty,
    kNoSuchKey,           // If-Match on a key that holds nothing
    kPreconditionFailed,  // the WriteCondition does not hold
    kConflict             // it holds, but the key changed since the request began
  };

  Status create_bucket(const std::string& name, const std::string& region,
                       const std::string& owner);
  std::optional<BucketInfo> bucket(const std::string& name);
  std::vector<BucketInfo> list_buckets();
  Status delete_bucket(const std::string& name);
  Status set_bucket_acl(const std::string& name, const std::string& acl);
  // kEnabled or kSuspended (a bucket never returns to kUnversioned).
  Status set_bucket_versioning(const std::string& name, Versioning state);

  // Version ids the store makes: kVersionIdLength characters of
  // [A-Za-z0-9._]. "null" is not one (the front end's name for "").
  static constexpr std::size_t kVersionIdLength = 32;
  static bool is_version_id(std::string_view text);
  // SSE-C: the keystream of an object `key` encrypted (its record's IVs
  // laid over its parts), for BlobReader::decrypt.
  static std::unique_ptr<CustomerCipher> customer_cipher(const ObjectInfo& info,
                                                         const CustomerKey& key);

  // Blobs of at most this many bytes are kept in SQLite (BlobWriter).
  static constexpr std::uint64_t kInlineMax = 32 * 1024;
  std::unique_ptr<BlobWriter> new_blob();
  // Blobs stored, in files and inline (tests, diagnostics).
  std::uint64_t blob_count();
  // Makes a closed blob `info.key` in `bucket`. Fills info.blob, size and
  // etag from the writer (blob and size always, etag when empty). As the bucket's versioning
  // says: unversioned, it replaces what was there; enabled, it is a new
  // version with a new id (the previous one stays, noncurrent); suspended,
  // it replaces the null version and keeps the others. `committed`, when
  // given, receives the row as stored (version id, Last-Modified).
  Status put_object(const std::string& bucket, ObjectInfo info, BlobWriter& blob,
                    const WriteCondition& condition = {}, ObjectInfo* committed = nullptr);
  // put_object, committed on the store's commit thread in one transaction
  // with every other write waiting then (object_store_commit.cpp): a
  // commit's fixed cost (its WAL frames, the lock) is shared by many small
  // PUTs instead of paid by each. `done` runs on that thread once the write
  // is durable or refused, with the status and the row as stored, or with
  // what the commit threw; `blob` must live until then.
  using Committed = std::function<void(Status, ObjectInfo, std::exception_ptr)>;
  void put_object_later(const std::string& bucket, ObjectInfo info, BlobWriter& blob,
                        WriteCondition condition, Committed done);
  // Returns once every put_object_later queued before has run its `done`.
  void finish_commits();
  // kNoSuchKey when there is no such object (or version; a delete marker
  // has no ACL). `version_id`: nullopt the current version, "" the null one.
  Status set_object_acl(const std::string& bucket, const std::string& key, const std::string& acl,
                        const std::optional<std::string>& version_id = std::nullopt);
  // The current version, unless it is a delete marker.
  std::optional<ObjectInfo> head_object(const std::string& bucket, const std::string& key);
  // A version, delete markers included: nullopt `version_id` the current
  // one, "" the null version.
  std::optional<ObjectInfo> object_version(const std::string& bucket, const std::string& key,
                                           const std::optional<std::string>& version_id);
  // The object (that version of it) and a reader for bytes
  // [offset, offset + length) of it; nullopt for nothing or a delete marker.
  // A reader for bytes [offset, offset + length) of the blob `info` names
  // (as head_object or object_version read it); null when that blob is gone,
  // i.e. the object was overwritten or deleted since. Blobs never change, so
  // what it reads is the object `info` describes.
  std::unique_ptr<BlobReader> open_blob(const ObjectInfo& info, std::uint64_t offset,
                                        std::optional<std::uint64_t> length);
  std::optional<std::pair<ObjectInfo, std::unique_ptr<BlobReader>>> open_object(
      const std::string& bucket, const std::string& key, std::uint64_t offset,
      std::optional<std::uint64_t> length,
      const std::optional<std::string>& version_id = std::nullopt);
  // True when something was deleted (delete_object_version without a version).
  bool delete_object(const std::string& bucket, const std::string& key);
  // DELETE as S3 does it. Without `version_id`: unversioned, the object
  // goes; enabled, a delete marker with a new id becomes current (even
  // where nothing was); suspended, a null delete marker replaces the null
  // version. With one: that version goes for good, and when it was the
  // current one the newest remaining version becomes current, unless Object
  // Lock protects it (DeleteResult::locked; `bypass_governance`: the caller
  // bypasses GOVERNANCE retention, as object_lock.h's may_delete_version).
  DeleteResult delete_object_version(const std::string& bucket, const std::string& key,
                                     const std::optional<std::string>& version_id,
                                     bool bypass_governance = false);
  // Replaces the tag set of bucket/key (that version), leaving the object
  // otherwise as it was (Last-Modified too, as S3 does). False when there
  // is no such object or version, or it is a delete marker.
  bool put_object_tags(const std::string& bucket, const std::string& key, const HeaderList& tags,
                       const std::optional<std::string>& version_id = std::nullopt);
  // Keys whose current version is a delete marker are not listed.
  ListResult list_objects(const std::string& bucket, const ListRequest& request);
  VersionListResult list_object_versions(const std::string& bucket,
                                         const VersionListRequest& request);

  // Lifecycle (object_store_lifecycle.cpp): the sweep's changes. Each
  // applies only while the version is still as the sweep saw it (`seen`:
  // its key, version id, ETag and Last-Modified), so a write that raced the
  // sweep wins; false (or found == false) when it changed.
  // Expiration of the current version: what DELETE without a version id does.
  DeleteResult expire_current(const std::string& bucket, const ObjectInfo& seen);
  // Permanent removal of one version or delete marker, as DELETE ?versionId.
  bool delete_version_if(const std::string& bucket, const ObjectInfo& seen);
  // A transition: the version's storage class changes, nothing else does.
  bool set_storage_class(const std::string& bucket, const ObjectInfo& seen,
                         const std::string& storage_class);
  // RestoreObject on a version (nullopt: the current one). A restore in
  // progress keeps restore_days and, in restore_expiry_ms, the time it may
  // complete (`ready_ms`); `extended_expiry_ms` is where a restored copy's
  // expiry moves to when it is asked again.
  enum class RestoreStatus { kStarted, kInProgress, kExtended, kNotArchived, kNoSuchVersion };
  RestoreStatus request_restore(const std::string& bucket, const std::string& key,
                                const std::optional<std::string>& version_id, std::int64_t days,
                                std::int64_t ready_ms, std::int64_t extended_expiry_ms,
                                std::int64_t now_ms);
  // Every version with a restore in progress or a restored copy, by bucket.
  std::vector<std::pair<std::string, ObjectInfo>> restoring_versions();
  // Moves `seen`'s restore state (restore_days, restore_expiry_ms) to
  // (days, expiry_ms), unless it changed meanwhile.
  bool set_restore_state(const std::string& bucket, const ObjectInfo& seen, std::int64_t days,
                         std::int64_t expiry_ms);

  // Object Lock (object_store_lock.cpp) on a version (nullopt: the current
  // one), checked by object_lock.h's rules under the lock deletes commit
  // under. kNoSuchVersion: none, or a delete marker.
  enum class LockStatus { kOk, kNoSuchVersion, kLocked };
  // PutObjectRetention: `mode` "" removes the retention.
  LockStatus set_object_retention(const std::string& bucket, const std::string& key,
                                  const std::optional<std::string>& version_id,
                                  const std::string& mode, std::int64_t until_ms,
                                  bool bypass_governance);
  // PutObjectLegalHold: "ON" or "OFF".
  LockStatus set_object_legal_hold(const std::string& bucket, const std::string& key,
                                   const std::optional<std::string>& version_id,
                                   const std::string& status);

  // Bucket configurations (object_store_config.cpp): one opaque document
  // per bucket and kind ("cors", "policy", ...), as the front-end chose to
  // store it; deleted with the bucket. put_bucket_config is false when
  // there is no such bucket.
  bool put_bucket_config(const std::string& bucket, const std::string& kind,
                         const std::string& document);
  std::optional<std::string> bucket_config(const std::string& bucket, const std::string& kind);
  void delete_bucket_config(const std::string& bucket, const std::string& kind);

  // Multipart uploads (object_store_multipart.cpp). Parts are blobs of their
  // own until completion concatenates them into the object's blob.
  static constexpr std::uint64_t kMinPartSize = 5 * 1024 * 1024;
  // `checksum_type` goes with `checksum`: "COMPOSITE" or "FULL_OBJECT".
  std::optional<std::string> create_upload(const std::string& bucket, const ObjectInfo& attributes,
                                           std::optional<ChecksumAlgorithm> checksum,
                                           const std::string& checksum_type = "COMPOSITE");
  std::optional<UploadInfo> upload(const std::string& bucket, const std::string& id);
  UploadListResult list_uploads(const std::string& bucket, const UploadListRequest& request);
  // Replaces a part of the same number. False when the upload is gone.
  bool put_part(const std::string& upload_id, PartInfo part, BlobWriter& blob);
  std::vector<PartInfo> list_parts(const std::string& upload_id);
  bool abort_upload(const std::string& upload_id);

  enum class CompleteStatus {
    kOk,
    kNoSuchUpload,
    kInvalidPart,
    kInvalidPartOrder,
    kEntityTooSmall,
    kNoSuchKey,           // as Status::kNoSuchKey
    kPreconditionFailed,  // as Status::kPreconditionFailed
    kConflict,            // as Status::kConflict
    kBadDigest            // the whole object's checksum is not `expected_checksum`
  };
  struct CompleteResult {
    CompleteStatus status = CompleteStatus::kOk;
    int bad_part = 0;  // the part the status is about
    ObjectInfo object;
    bool repeated = false;  // the upload had completed already: `object` is what it made then
  };
  // `expected_checksum`: the full object's checksum the client declared
  // (base64, of the upload's algorithm), if any. An upload completed in the
  // last kCompletedMemoryMs completes again with the same result, as on AWS.
  static constexpr std::int64_t kCompletedMemoryMs = 24LL * 3600 * 1000;
  CompleteResult complete_upload(const std::string& bucket, const std::string& upload_id,
                                 const std::vector<CompletedPart>& parts,
                                 const WriteCondition& condition = {},
                                 const std::optional<std::string>& expected_checksum = {});

 private:
  // Commits `info` (whose blob is already on disk) as bucket/key.
  // Fills info->version_id (and Last-Modified when 0) as committed.
  // `blob`, when given, is the closed writer of info's bytes (stored inline
  // in the same transaction when it is inline).
  Status commit_object(const std::string& bucket, ObjectInfo* info, const WriteCondition& condition,
                       BlobWriter* blob = nullptr);
  // Inside a transaction, under mutex_: put_object's checks and writes,
  // adding to `unreferenced` the file blobs no row refers to any more.
  Status write_object(const std::string& bucket, ObjectInfo* info, const WriteCondition& condition,
                      BlobWriter* blob, std::vector<std::string>* unreferenced);
  struct LaterPut {
    std::string bucket;
    ObjectInfo info;
    BlobWriter* blob;
    WriteCondition condition;
    Committed done;
  };
  void commit_loop();
  // Inside a transaction: writes the row, returns the blob it replaced.
  std::optional<std::string> upsert_object(const std::string& bucket, const ObjectInfo& info);
  // Inside a transaction: writes the row over whatever was there.
  void write_row(const std::string& bucket, const ObjectInfo& info);
  // Under mutex_: the bucket's versioning state; nullopt for no bucket.
  std::optional<Versioning> versioning_of(const std::string& bucket);
  // Inside a transaction (object_store_versions.cpp): makes `info` (an
  // object or a delete marker) the key's current version as `state` says,
  // filling info->version_id; returns the blobs no row refers to any more,
  // to remove once the transaction commits.
  std::vector<std::string> write_current(const std::string& bucket, ObjectInfo* info,
                                         Versioning state);
  // Inside a transaction: moves the current row of bucket/key, if any, to
  // the noncurrent versions.
  void retire_current(const std::string& bucket, const std::string& key);
  // Inside a transaction: the same copy, leaving the current row in place.
  void copy_current_to_versions(const std::string& bucket, const std::string& key);
  // Inside a transaction: the newest noncurrent version of bucket/key, if
  // any, becomes current.
  void promote_newest(const std::string& bucket, const std::string& key);
  // Under mutex_: a noncurrent version.
  std::optional<ObjectInfo> noncurrent_version(const std::string& bucket, const std::string& key,
                                               const std::string& version_id);
  // `seen`, when given: only while that version is still as it was
  // (object_store_lifecycle.cpp's unchanged()).
  DeleteResult delete_object_version_now(const std::string& bucket, const std::string& key,
                                         const std::optional<std::string>& version_id,
                                         const ObjectInfo* seen = nullptr,
                                         bool bypass_governance = false);
  // Under mutex_: whether `seen` is still in the store as it was (the
  // current version when `current_only`).
  bool unchanged(const std::string& bucket, const ObjectInfo& seen, bool current_only);
  // Under mutex_: whether `condition` lets a write to bucket/key through.
  Status check_condition(const std::string& bucket, const std::string& key,
                         const WriteCondition& condition);
  void migrate();
  // What a completion of `upload_id` made, if it completed lately.
  std::optional<ObjectInfo> completed_upload(const std::string& bucket,
                                             const std::string& upload_id);
  std::string blob_path(const std::string& id) const;
  // Ids of inline blobs (inline_blob rows) start with kInlinePrefix; file
  // blobs' are 32 hex digits.
  static constexpr char kInlinePrefix = '~';
  static bool is_inline(const std::string& id) { return !id.empty() && id[0] == kInlinePrefix; }
  // Inside a transaction: stores `blob`'s bytes if it is inline and sets
  // info->blob to the id they got; otherwise info->blob = blob.id().
  void store_inline(BlobWriter& blob, ObjectInfo* info);
  // Inside a transaction: deletes the inline blobs among `ids` and leaves
  // the file blobs, for remove_blob once the transaction commits.
  void drop_inline(std::vector<std::string>* ids);
  // Outside any transaction and mutex_: removes the blob's file, or its
  // row when inline.
  void remove_blob(const std::string& id);
  void collect_garbage();
  // The deletions themselves; the public ones run them through reserve_.
  bool abort_upload_now(const std::string& upload_id);

  std::string root_;
  std::string blobs_;
  std::mutex mutex_;
  Database db_;
  // Orders the noncurrent versions of a key (object_version.seq): the next
  // one to retire gets the highest. Under mutex_.
  std::int64_t next_version_seq_ = 1;
  // The next inline blob's id: ids only grow while the process runs, so a
  // reader holding a removed blob's id finds nothing rather than another
  // blob (after a restart, no reader holds one). Under mutex_.
  std::int64_t next_inline_id_ = 1;
  // Lets deletions through on a full disk (1 MiB: a few WAL pages each).
  static constexpr std::uint64_t kReserveBytes = 1 << 20;
  SpaceReserve reserve_;

  // put_object_later's queue and thread (started by its first call).
  std::mutex commit_mutex_;
  std::condition_variable commit_changed_;
  std::deque<LaterPut> commit_queue_;
  bool committing_ = false;  // a batch taken from the queue is being written
  bool commit_stopping_ = false;
  std::thread committer_;
};

}  // namespace offcloud

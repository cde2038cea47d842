#include "storage/object_store.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace offcloud {
namespace {

namespace fs = std::filesystem;

class ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A private parent, so a file escaping the store would show up in it.
    parent_ = fs::temp_directory_path() /
              ("offcloud-objects-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(parent_);
    root_ = parent_ / "store";
  }
  void TearDown() override { fs::remove_all(parent_); }

  void put(ObjectStore& store, const std::string& bucket, const std::string& key,
           const std::string& data) {
    auto blob = store.new_blob();
    blob->write(data);
    blob->close();
    ObjectInfo info;
    info.key = key;
    ASSERT_EQ(store.put_object(bucket, info, *blob), ObjectStore::Status::kOk);
  }

  std::string read(ObjectStore& store, const std::string& bucket, const std::string& key) {
    auto opened = store.open_object(bucket, key, 0, std::nullopt);
    if (!opened) return "<missing>";
    std::string out(opened->second->length(), '\0');
    std::size_t n = opened->second->read(out.data(), out.size());
    out.resize(n);
    return out;
  }

  std::size_t blob_files() const {
    std::size_t n = 0;
    for (const auto& entry : fs::recursive_directory_iterator(root_ / "blobs")) {
      n += entry.is_regular_file();
    }
    return n;
  }

  fs::path parent_;
  fs::path root_;
};

TEST_F(ObjectStoreTest, BucketsAndObjects) {
  ObjectStore store(root_.string());
  EXPECT_EQ(store.create_bucket("b", "us-east-1", "000000000000"), ObjectStore::Status::kOk);
  EXPECT_EQ(store.create_bucket("b", "us-east-1", "000000000000"),
            ObjectStore::Status::kAlreadyExists);
  put(store, "b", "a/b", "hello");
  put(store, "b", "a/b", "replaced");
  EXPECT_EQ(read(store, "b", "a/b"), "replaced");
  EXPECT_EQ(store.head_object("b", "a/b")->etag, "91bb248359043fe98416e259c9bdf10d");  // MD5
  EXPECT_EQ(store.blob_count(), 1u);  // the replaced blob is gone
  EXPECT_EQ(store.delete_bucket("b"), ObjectStore::Status::kNotEmpty);
  EXPECT_TRUE(store.delete_object("b", "a/b"));
  EXPECT_FALSE(store.delete_object("b", "a/b"));
  EXPECT_EQ(store.delete_bucket("b"), ObjectStore::Status::kOk);
  EXPECT_EQ(store.blob_count(), 0u);
}

TEST_F(ObjectStoreTest, KeysAreNeverPaths) {
  ObjectStore store(root_.string());
  store.create_bucket("b", "us-east-1", "000000000000");
  for (const char* key : {"../x", "/etc/passwd", "a/../../y", "%2F", "\xe6\x97\xa5"}) {
    put(store, "b", key, key);
    EXPECT_EQ(read(store, "b", key), key);
  }
  for (const auto& entry : fs::recursive_directory_iterator(root_)) {
    std::string name = entry.path().filename().string();
    EXPECT_TRUE(name == "blobs" || name == "reserve" || name.starts_with("s3.db") ||
                name.size() == 2 || name.size() == 32)
        << entry.path();
  }
  for (const auto& entry : fs::directory_iterator(parent_)) {
    EXPECT_EQ(entry.path().filename(), "store");
  }
}

TEST_F(ObjectStoreTest, ReadersKeepTheirVersion) {
  ObjectStore store(root_.string());
  store.create_bucket("b", "us-east-1", "000000000000");
  put(store, "b", "k", "first");
  auto opened = store.open_object("b", "k", 1, 3);
  put(store, "b", "k", "second");
  char buffer[8];
  std::size_t n = opened->second->read(buffer, sizeof buffer);
  EXPECT_EQ(std::string(buffer, n), "irs");
}

TEST_F(ObjectStoreTest, ListsWithPrefixDelimiterAndPages) {
  ObjectStore store(root_.string());
  store.create_bucket("b", "us-east-1", "000000000000");
  for (const char* key : {"a", "a/", "a/b", "a/c/d", "b/x", "b/y", "c"}) put(store, "b", key, "x");
  ListRequest all;
  auto result = store.list_objects("b", all);
  EXPECT_EQ(result.objects.size(), 7u);

  ListRequest rolled;
  rolled.delimiter = "/";
  result = store.list_objects("b", rolled);
  ASSERT_EQ(result.objects.size(), 2u);  // "a" and "c"
  EXPECT_EQ(result.common_prefixes, (std::vector<std::string>{"a/", "b/"}));

  ListRequest paged = rolled;
  paged.max_keys = 2;
  result = store.list_objects("b", paged);
  EXPECT_TRUE(result.truncated);
  EXPECT_EQ(result.last, "a/");
  paged.after = result.last;
  result = store.list_objects("b", paged);
  ASSERT_EQ(result.common_prefixes.size(), 1u);
  EXPECT_EQ(result.common_prefixes[0], "b/");
  EXPECT_EQ(result.objects[0].key, "c");

  ListRequest prefixed;
  prefixed.prefix = "a/";
  prefixed.delimiter = "/";
  result = store.list_objects("b", prefixed);
  ASSERT_EQ(result.objects.size(), 2u);
  EXPECT_EQ(result.objects[0].key, "a/");
  EXPECT_EQ(result.common_prefixes, (std::vector<std::string>{"a/c/"}));
}

TEST_F(ObjectStoreTest, GarbageBlobsAreCollectedAtStart) {
  {
    ObjectStore store(root_.string());
    store.create_bucket("b", "us-east-1", "000000000000");
    put(store, "b", "kept", "x");
    auto orphan = store.new_blob();
    orphan->write(std::string(ObjectStore::kInlineMax + 1, 'o'));  // too big to be inline
    orphan->close();
    orphan->release();  // as if the process died before the index commit
    EXPECT_EQ(store.blob_count(), 2u);
  }
  {
    // An inline blob no row refers to (its removal never ran).
    Database db((root_ / "s3.db").string());
    db.exec("INSERT INTO inline_blob (data) VALUES (x'00')");
  }
  ObjectStore reopened(root_.string());
  EXPECT_EQ(reopened.blob_count(), 1u);
  EXPECT_EQ(read(reopened, "b", "kept"), "x");
}

TEST_F(ObjectStoreTest, SmallObjectsAreInlineAndLargeOnesFiles) {
  ObjectStore store(root_.string());
  store.create_bucket("b", "us-east-1", "000000000000");
  std::string large(ObjectStore::kInlineMax + 1, 'L');
  put(store, "b", "k", "small");
  EXPECT_EQ(blob_files(), 0u);
  EXPECT_EQ(store.blob_count(), 1u);
  std::optional<ObjectInfo> small = store.head_object("b", "k");
  ASSERT_TRUE(small);
  put(store, "b", "k", large);
  EXPECT_EQ(blob_files(), 1u);
  EXPECT_EQ(store.blob_count(), 1u);  // the inline blob went with the overwrite
  EXPECT_EQ(read(store, "b", "k"), large);
  // A reader holding the old row finds nothing, never another blob's bytes.
  EXPECT_EQ(store.open_blob(*small, 0, std::nullopt), nullptr);
  put(store, "b", "k", "small again");
  EXPECT_EQ(blob_files(), 0u);
  std::optional<ObjectInfo> now = store.head_object("b", "k");
  ASSERT_TRUE(now);
  EXPECT_NE(now->blob, small->blob);
  auto reader = store.open_blob(*now, 2, 3);
  ASSERT_TRUE(reader);
  std::string out(8, '\0');
  out.resize(reader->read(out.data(), out.size()));
  EXPECT_EQ(out, "all");
  EXPECT_EQ(reader->read(out.data(), out.size()), 0u);
  put(store, "b", "empty", "");
  EXPECT_EQ(read(store, "b", "empty"), "");
  EXPECT_TRUE(store.delete_object("b", "k"));
  EXPECT_TRUE(store.delete_object("b", "empty"));
  EXPECT_EQ(store.blob_count(), 0u);
}

TEST_F(ObjectStoreTest, LargeBlobsAreHashedWhileWrittenAsSmallOnesAre) {
  ObjectStore store(root_.string());
  // 5.5 write buffers, in pieces of odd sizes: the pipeline's threads hash
  // the full buffers, the writer the last piece.
  std::string data;
  for (std::size_t i = 0; data.size() < (11u << 19); ++i) data.push_back(static_cast<char>(i * 7));
  for (std::size_t size : {std::size_t{100}, data.size()}) {
    std::string_view bytes(data.data(), size);
    auto blob = store.new_blob();
    blob->add_checksum(ChecksumAlgorithm::kCrc32);
    blob->add_sha256();
    for (std::size_t at = 0; at < bytes.size(); at += 70001) blob->write(bytes.substr(at, 70001));
    blob->close();
    EXPECT_EQ(blob->md5_hex(), hex(md5(bytes)));
    EXPECT_EQ(blob->sha256_hex(), sha256_hex(bytes));
    Checksum crc(ChecksumAlgorithm::kCrc32);
    crc.update(bytes);
    EXPECT_EQ(blob->checksums(), (HeaderList{{"CRC32", crc.finish_base64()}}));
    EXPECT_EQ(blob->is_inline(), size == 100);
  }
}

TEST_F(ObjectStoreTest, MultipartCompletesWithS3Checks) {
  ObjectStore store(root_.string());
  store.create_bucket("b", "us-east-1", "000000000000");
  ObjectInfo attributes;
  attributes.key = "big";
  auto id = store.create_upload("b", attributes, std::nullopt);
  ASSERT_TRUE(id);
  std::string part1(ObjectStore::kMinPartSize, 'a'), part2 = "tail";
  std::string etags[2];
  int number = 1;
  for (const std::string* data : {&part1, &part2}) {
    auto blob = store.new_blob();
    blob->write(*data);
    blob->close();
    etags[number - 1] = blob->md5_hex();
    PartInfo part;
    part.number = number++;
    ASSERT_TRUE(store.put_part(*id, part, *blob));
  }
  EXPECT_EQ(store.complete_upload("b", *id, {{2, etags[1]}, {1, etags[0]}}).status,
            ObjectStore::CompleteStatus::kInvalidPartOrder);
  EXPECT_EQ(store.complete_upload("b", *id, {{1, etags[1]}}).status,
            ObjectStore::CompleteStatus::kInvalidPart);
  EXPECT_EQ(store.complete_upload("b", *id, {{2, etags[1]}, {3, "x"}}).status,
            ObjectStore::CompleteStatus::kInvalidPart);
  auto done = store.complete_upload("b", *id, {{1, "\"" + etags[0] + "\""}, {2, etags[1]}});
  ASSERT_EQ(done.status, ObjectStore::CompleteStatus::kOk);
  EXPECT_TRUE(done.object.etag.ends_with("-2"));
  EXPECT_EQ(read(store, "b", "big"), part1 + part2);
  EXPECT_FALSE(store.upload("b", *id));
  EXPECT_EQ(store.blob_count(), 1u);  // the parts are gone
}

WriteCondition if_none_match(std::optional<std::string> seen = std::nullopt) {
  WriteCondition condition;
  condition.if_none_match = true;
  condition.seen = std::move(seen);
  return condition;
}

WriteCondition if_match(std::string etag) {
  WriteCondition condition;
  condition.if_match = std::move(etag);
  return condition;
}

TEST_F(ObjectStoreTest, ConditionalWritesCheckUnderTheCommit) {
  ObjectStore store(root_.string());
  store.create_bucket("b", "us-east-1", "000000000000");
  auto put_if = [&](const std::string& data, const WriteCondition& condition) {
    auto blob = store.new_blob();
    blob->write(data);
    blob->close();
    ObjectInfo info;
    info.key = "k";
    return store.put_object("b", info, *blob, condition);
  };
  using S = ObjectStore::Status;
  const std::string md5_of_1 = "c4ca4238a0b923820dcc509a6f75849b";
  EXPECT_EQ(put_if("1", if_match(md5_of_1)), S::kNoSuchKey);
  EXPECT_EQ(put_if("1", if_none_match()), S::kOk);
  EXPECT_EQ(put_if("2", if_none_match()), S::kPreconditionFailed);
  EXPECT_EQ(put_if("2", if_match("nope")), S::kPreconditionFailed);
  EXPECT_EQ(put_if("2", if_match("\"" + md5_of_1 + "\"")), S::kOk);  // quotes optional
  EXPECT_EQ(read(store, "b", "k"), "2");
  // The key changed since the request began, in a way the condition allows.
  std::string seen = store.head_object("b", "k")->blob;
  store.delete_object("b", "k");
  EXPECT_EQ(put_if("3", if_none_match(seen)), S::kConflict);
  EXPECT_EQ(put_if("3", if_none_match("")), S::kOk);
  EXPECT_EQ(read(store, "b", "k"), "3");
}

TEST_F(ObjectStoreTest, MultipartObjectsKeepTheirPartsAndCompleteAgain) {
  std::string id;
  std::vector<CompletedPart> parts;
  std::string part1(ObjectStore::kMinPartSize, 'a'), part2 = "tail";
  ObjectStore::CompleteResult done;
  {
    ObjectStore store(root_.string());
    store.create_bucket("b", "us-east-1", "000000000000");
    ObjectInfo attributes;
    attributes.key = "mp";
    attributes.storage_class = "GLACIER_IR";
    id = store.create_upload("b", attributes, ChecksumAlgorithm::kCrc32, "FULL_OBJECT").value();
    int number = 1;
    for (const std::string* data : {&part1, &part2}) {
      auto blob = store.new_blob();
      blob->add_checksum(ChecksumAlgorithm::kCrc32);
      blob->write(*data);
      blob->close();
      PartInfo part;
      part.number = number;
      part.checksums = blob->checksums();
      parts.push_back({number++, blob->md5_hex()});
      ASSERT_TRUE(store.put_part(id, part, *blob));
    }
    EXPECT_EQ(store.complete_upload("b", id, parts, {}, "AAAAAA==").status,
              ObjectStore::CompleteStatus::kBadDigest);
    EXPECT_EQ(store.complete_upload("b", id, parts, if_match("x")).status,
              ObjectStore::CompleteStatus::kNoSuchKey);
    done = store.complete_upload("b", id, parts);
    ASSERT_EQ(done.status, ObjectStore::CompleteStatus::kOk);
  }
  Checksum whole(ChecksumAlgorithm::kCrc32);
  whole.update(part1 + part2);
  ASSERT_EQ(done.object.checksums.size(), 1u);
  EXPECT_EQ(done.object.checksums[0].second, whole.finish_base64());
  EXPECT_EQ(done.object.checksum_type, "FULL_OBJECT");

  ObjectStore reopened(root_.string());
  auto info = reopened.head_object("b", "mp");
  ASSERT_TRUE(info);
  ASSERT_EQ(info->parts.size(), 2u);
  EXPECT_EQ(info->parts[0].size, part1.size());
  EXPECT_EQ(info->parts[1].size, part2.size());
  EXPECT_EQ(info->storage_class, "GLACIER_IR");
  auto again = reopened.complete_upload("b", id, parts);
  EXPECT_EQ(again.status, ObjectStore::CompleteStatus::kOk);
  EXPECT_TRUE(again.repeated);
  EXPECT_EQ(again.object.etag, done.object.etag);
  EXPECT_EQ(reopened.complete_upload("b", "unknown", parts).status,
            ObjectStore::CompleteStatus::kNoSuchUpload);
}

TEST_F(ObjectStoreTest, AclsAreKept) {
  ObjectStore store(root_.string());
  store.create_bucket("b", "us-east-1", "000000000000");
  put(store, "b", "k", "x");
  EXPECT_EQ(store.set_bucket_acl("b", "[1]"), ObjectStore::Status::kOk);
  EXPECT_EQ(store.set_object_acl("b", "k", "[2]"), ObjectStore::Status::kOk);
  EXPECT_EQ(store.set_object_acl("b", "missing", "[2]"), ObjectStore::Status::kNoSuchKey);
  EXPECT_EQ(store.set_bucket_acl("missing", "[1]"), ObjectStore::Status::kNoSuchBucket);
  EXPECT_EQ(store.bucket("b")->acl, "[1]");
  EXPECT_EQ(store.head_object("b", "k")->acl, "[2]");
}

}  // namespace
}  // namespace offcloud

// The object store's versioning: versions and delete markers, the null
// version of suspended buckets, listing order and paging, and what a
// restart (garbage collection, the version order) keeps.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "storage/database.h"
#include "storage/object_store.h"

namespace offcloud {
namespace {

namespace fs = std::filesystem;

class ObjectStoreVersionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("offcloud-versions-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // The new version's id ("" the null version).
  std::string put(ObjectStore& store, const std::string& key, const std::string& data) {
    auto blob = store.new_blob();
    blob->write(data);
    blob->close();
    ObjectInfo info;
    info.key = key;
    ObjectInfo committed;
    EXPECT_EQ(store.put_object("b", info, *blob, {}, &committed), ObjectStore::Status::kOk);
    return committed.version_id;
  }

  std::string read(ObjectStore& store, const std::string& key,
                   const std::optional<std::string>& version = std::nullopt) {
    auto opened = store.open_object("b", key, 0, std::nullopt, version);
    if (!opened) return "<missing>";
    std::string out(opened->second->length(), '\0');
    out.resize(opened->second->read(out.data(), out.size()));
    return out;
  }

  // "key:version:L|N:M" for each entry, "key/" for a common prefix.
  static std::vector<std::string> entries(const VersionListResult& result) {
    std::vector<std::string> out;
    for (const ObjectInfo& v : result.versions) {
      out.push_back(v.key + ":" + (v.version_id.empty() ? "null" : v.version_id.substr(0, 4)) +
                    ":" + (v.is_latest ? "L" : "N") + (v.delete_marker ? ":M" : ""));
    }
    for (const std::string& prefix : result.common_prefixes) out.push_back(prefix);
    return out;
  }

  static void make_bucket(ObjectStore& store, Versioning state) {
    store.create_bucket("b", "us-east-1", "000000000000");
    EXPECT_EQ(store.set_bucket_versioning("b", state), ObjectStore::Status::kOk);
  }

  fs::path root_;
};

TEST_F(ObjectStoreVersionsTest, VersionIdsLookAsAwsMakesThem) {
  ObjectStore store(root_.string());
  store.create_bucket("b", "us-east-1", "000000000000");
  EXPECT_EQ(put(store, "k", "unversioned"), "");
  EXPECT_EQ(store.bucket("b")->versioning, Versioning::kUnversioned);
  ASSERT_EQ(store.set_bucket_versioning("b", Versioning::kEnabled), ObjectStore::Status::kOk);
  EXPECT_EQ(store.bucket("b")->versioning, Versioning::kEnabled);
  std::string a = put(store, "k", "a"), b = put(store, "k", "b");
  EXPECT_TRUE(ObjectStore::is_version_id(a)) << a;
  EXPECT_TRUE(ObjectStore::is_version_id(b)) << b;
  EXPECT_NE(a, b);
  EXPECT_FALSE(ObjectStore::is_version_id("null"));
  EXPECT_FALSE(ObjectStore::is_version_id(a.substr(1)));
  EXPECT_FALSE(ObjectStore::is_version_id(std::string(32, '/')));
  EXPECT_EQ(store.set_bucket_versioning("missing", Versioning::kEnabled),
            ObjectStore::Status::kNoSuchBucket);
}

TEST_F(ObjectStoreVersionsTest, EnabledKeepsEveryVersion) {
  ObjectStore store(root_.string());
  store.create_bucket("b", "us-east-1", "000000000000");
  put(store, "k", "before");  // the null version
  store.set_bucket_versioning("b", Versioning::kEnabled);
  std::string v1 = put(store, "k", "one");
  std::string v2 = put(store, "k", "two");
  EXPECT_EQ(read(store, "k"), "two");
  EXPECT_EQ(read(store, "k", v1), "one");
  EXPECT_EQ(read(store, "k", ""), "before");
  EXPECT_EQ(store.blob_count(), 3u);
  auto listed = store.list_object_versions("b", {});
  EXPECT_EQ(entries(listed), (std::vector<std::string>{"k:" + v2.substr(0, 4) + ":L",
                                                       "k:" + v1.substr(0, 4) + ":N", "k:null:N"}));

  // Deleting the current version makes the one before current.
  DeleteResult deleted = store.delete_object_version("b", "k", v2);
  EXPECT_TRUE(deleted.found);
  EXPECT_FALSE(deleted.delete_marker);
  EXPECT_EQ(read(store, "k"), "one");
  EXPECT_EQ(store.blob_count(), 2u);
  // A noncurrent one goes without changing the current.
  EXPECT_TRUE(store.delete_object_version("b", "k", "").found);
  EXPECT_EQ(read(store, "k"), "one");
  EXPECT_FALSE(store.delete_object_version("b", "k", "").found);
  EXPECT_EQ(store.blob_count(), 1u);
}

TEST_F(ObjectStoreVersionsTest, DeleteMarkers) {
  ObjectStore store(root_.string());
  make_bucket(store, Versioning::kEnabled);
  std::string v1 = put(store, "k", "one");
  DeleteResult marker = store.delete_object_version("b", "k", std::nullopt);
  EXPECT_TRUE(marker.found);
  EXPECT_TRUE(marker.delete_marker);
  ASSERT_TRUE(marker.version_id);
  EXPECT_TRUE(ObjectStore::is_version_id(*marker.version_id));
  EXPECT_FALSE(store.head_object("b", "k"));
  EXPECT_EQ(read(store, "k"), "<missing>");
  EXPECT_EQ(read(store, "k", v1), "one");
  auto current = store.object_version("b", "k", std::nullopt);
  ASSERT_TRUE(current);
  EXPECT_TRUE(current->delete_marker);
  EXPECT_EQ(store.list_objects("b", {}).objects.size(), 0u);
  // A marker's tags and ACL are not there to set.
  EXPECT_FALSE(store.put_object_tags("b", "k", {{"a", "b"}}));
  EXPECT_FALSE(store.put_object_tags("b", "k", {{"a", "b"}}, *marker.version_id));
  EXPECT_TRUE(store.put_object_tags("b", "k", {{"a", "b"}}, v1));
  EXPECT_EQ(store.object_version("b", "k", v1)->tags, (HeaderList{{"a", "b"}}));
  // The bucket is not empty while versions remain.
  EXPECT_EQ(store.delete_bucket("b"), ObjectStore::Status::kNotEmpty);

  // A delete of nothing still makes a marker.
  EXPECT_TRUE(store.delete_object_version("b", "never", std::nullopt).delete_marker);
  EXPECT_TRUE(store.object_version("b", "never", std::nullopt)->delete_marker);

  // Removing the marker by its id brings the object back.
  DeleteResult removed = store.delete_object_version("b", "k", *marker.version_id);
  EXPECT_TRUE(removed.found);
  EXPECT_TRUE(removed.delete_marker);
  EXPECT_EQ(read(store, "k"), "one");
  EXPECT_EQ(store.list_objects("b", {}).objects.size(), 1u);

  EXPECT_TRUE(store.delete_object_version("b", "k", v1).found);
  auto only = store.list_object_versions("b", {});
  ASSERT_EQ(only.versions.size(), 1u);
  EXPECT_EQ(only.versions[0].key, "never");
  store.delete_object_version("b", "never", only.versions[0].version_id);
  EXPECT_EQ(store.delete_bucket("b"), ObjectStore::Status::kOk);
}

TEST_F(ObjectStoreVersionsTest, SuspendedReplacesTheNullVersionOnly) {
  ObjectStore store(root_.string());
  make_bucket(store, Versioning::kEnabled);
  std::string v1 = put(store, "k", "one");
  store.set_bucket_versioning("b", Versioning::kSuspended);
  EXPECT_EQ(put(store, "k", "null one"), "");
  EXPECT_EQ(put(store, "k", "null two"), "");
  EXPECT_EQ(read(store, "k"), "null two");
  EXPECT_EQ(read(store, "k", v1), "one");
  EXPECT_EQ(store.blob_count(), 2u);
  // A delete makes a null marker in place of the null version.
  DeleteResult marker = store.delete_object_version("b", "k", std::nullopt);
  EXPECT_TRUE(marker.delete_marker);
  EXPECT_EQ(marker.version_id, std::optional<std::string>(""));
  EXPECT_EQ(store.blob_count(), 1u);
  EXPECT_EQ(entries(store.list_object_versions("b", {})),
            (std::vector<std::string>{"k:null:L:M", "k:" + v1.substr(0, 4) + ":N"}));
  // Enabled again: a new version retires the null marker, which a later
  // suspended write then replaces where it lies (noncurrent).
  store.set_bucket_versioning("b", Versioning::kEnabled);
  std::string v3 = put(store, "k", "three");
  store.set_bucket_versioning("b", Versioning::kSuspended);
  put(store, "k", "null three");
  EXPECT_EQ(entries(store.list_object_versions("b", {})),
            (std::vector<std::string>{"k:null:L", "k:" + v3.substr(0, 4) + ":N",
                                      "k:" + v1.substr(0, 4) + ":N"}));
}

TEST_F(ObjectStoreVersionsTest, UnversionedBucketsBehaveAsBefore) {
  ObjectStore store(root_.string());
  store.create_bucket("b", "us-east-1", "000000000000");
  put(store, "k", "one");
  put(store, "k", "two");
  EXPECT_EQ(store.blob_count(), 1u);
  DeleteResult deleted = store.delete_object_version("b", "k", std::nullopt);
  EXPECT_TRUE(deleted.found);
  EXPECT_FALSE(deleted.delete_marker);
  EXPECT_FALSE(deleted.version_id);
  EXPECT_FALSE(store.object_version("b", "k", std::nullopt));
  EXPECT_EQ(store.blob_count(), 0u);
}

TEST_F(ObjectStoreVersionsTest, ListingPagesThroughVersionsAndPrefixes) {
  ObjectStore store(root_.string());
  make_bucket(store, Versioning::kEnabled);
  for (int i = 0; i < 3; ++i) put(store, "a", "a" + std::to_string(i));
  put(store, "d/1", "x");
  put(store, "d/2", "x");
  store.delete_object_version("b", "e", std::nullopt);
  put(store, "f", "f");
  VersionListRequest request;
  request.delimiter = "/";
  request.max_keys = 2;
  std::vector<std::string> all;
  for (int page = 0; page < 10; ++page) {
    VersionListResult result = store.list_object_versions("b", request);
    for (const std::string& entry : entries(result)) all.push_back(entry.substr(0, 2));
    if (!result.truncated) break;
    request.key_marker = result.next_key_marker;
    request.version_id_marker = result.next_version_id_marker;
  }
  EXPECT_EQ(all, (std::vector<std::string>{"a:", "a:", "a:", "d/", "e:", "f:"}));

  // Without a delimiter, one page per version.
  VersionListRequest each;
  each.max_keys = 1;
  int pages = 0;
  std::vector<std::string> keys;
  for (;; ++pages) {
    VersionListResult result = store.list_object_versions("b", each);
    for (const ObjectInfo& v : result.versions) keys.push_back(v.key);
    if (!result.truncated) break;
    each.key_marker = result.next_key_marker;
    each.version_id_marker = result.next_version_id_marker;
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "a", "a", "d/1", "d/2", "e", "f"}));
  EXPECT_EQ(pages, 6);  // the seventh page's answer is not truncated
}

TEST_F(ObjectStoreVersionsTest, ConditionsSeeThroughDeleteMarkers) {
  ObjectStore store(root_.string());
  make_bucket(store, Versioning::kEnabled);
  put(store, "k", "one");
  store.delete_object_version("b", "k", std::nullopt);
  auto blob = store.new_blob();
  blob->write("two");
  blob->close();
  ObjectInfo info;
  info.key = "k";
  WriteCondition absent;
  absent.if_none_match = true;
  EXPECT_EQ(store.put_object("b", info, *blob, absent), ObjectStore::Status::kOk);
  EXPECT_EQ(read(store, "k"), "two");
}

TEST_F(ObjectStoreVersionsTest, VersionsSurviveARestartAndItsGarbageCollection) {
  std::string v1, v2, marker;
  {
    ObjectStore store(root_.string());
    make_bucket(store, Versioning::kEnabled);
    v1 = put(store, "k", "one");
    v2 = put(store, "k", "two");
    marker = *store.delete_object_version("b", "k", std::nullopt).version_id;
  }
  ObjectStore store(root_.string());
  EXPECT_EQ(store.bucket("b")->versioning, Versioning::kEnabled);
  EXPECT_EQ(store.blob_count(), 2u);  // noncurrent versions keep their blobs
  EXPECT_EQ(read(store, "k", v1), "one");
  EXPECT_EQ(read(store, "k", v2), "two");
  // Versions made after the restart still sort newest first.
  std::string v3 = put(store, "k", "three");
  EXPECT_EQ(
      entries(store.list_object_versions("b", {})),
      (std::vector<std::string>{"k:" + v3.substr(0, 4) + ":L", "k:" + marker.substr(0, 4) + ":N:M",
                                "k:" + v2.substr(0, 4) + ":N", "k:" + v1.substr(0, 4) + ":N"}));
}

TEST_F(ObjectStoreVersionsTest, OldDataDirsOpenWithTheirObjectsAsNullVersions) {
  fs::create_directories(root_ / "blobs");
  {
    // The tables as offcloud made them before versioning.
    Database db((root_ / "s3.db").string());
    db.exec(
        "CREATE TABLE bucket (name TEXT PRIMARY KEY, region TEXT NOT NULL,"
        " created_ms INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE object (bucket TEXT NOT NULL, key TEXT NOT NULL,"
        " size INTEGER NOT NULL, etag TEXT NOT NULL, content_type TEXT NOT NULL,"
        " headers TEXT NOT NULL, metadata TEXT NOT NULL, checksums TEXT NOT NULL,"
        " last_modified_ms INTEGER NOT NULL, blob TEXT NOT NULL,"
        " PRIMARY KEY (bucket, key)) WITHOUT ROWID;"
        "INSERT INTO bucket VALUES ('b', 'us-east-1', 1);"
        "INSERT INTO object VALUES ('b', 'k', 0, 'd41d8cd98f00b204e9800998ecf8427e', 'text/plain',"
        " '[]', '[]', '[]', 1, 'ab00000000000000000000000000000');");
  }
  fs::create_directories(root_ / "blobs" / "ab");
  { std::ofstream(root_ / "blobs" / "ab" / "ab00000000000000000000000000000"); }
  ObjectStore store(root_.string());
  auto info = store.object_version("b", "k", "");
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->delete_marker);
  EXPECT_EQ(store.bucket("b")->versioning, Versioning::kUnversioned);
  store.set_bucket_versioning("b", Versioning::kEnabled);
  std::string v1 = put(store, "k", "new");
  EXPECT_EQ(entries(store.list_object_versions("b", {})),
            (std::vector<std::string>{"k:" + v1.substr(0, 4) + ":L", "k:null:N"}));
  EXPECT_EQ(store.blob_count(), 2u);
}

}  // namespace
}  // namespace offcloud

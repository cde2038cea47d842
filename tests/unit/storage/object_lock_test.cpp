// Object Lock in the store: the rules of storage/object_lock.h, and the
// lock columns on current and noncurrent versions and uploads, enforced by
// DELETE, kept across restarts and added to data dirs made before them.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "storage/database.h"
#include "storage/object_lock.h"
#include "storage/object_store.h"

namespace offcloud {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1'800'000'000'000;
constexpr std::int64_t kDay = 24LL * 3600 * 1000;

std::int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

TEST(ObjectLockRules, NothingProtectsAVersionWithoutLock) {
  EXPECT_TRUE(may_delete_version({}, kNow, false));
  EXPECT_TRUE(may_delete_version({"", 0, "OFF"}, kNow, false));
  EXPECT_TRUE(may_change_retention({}, "COMPLIANCE", kNow + kDay, kNow, false));
}

TEST(ObjectLockRules, GovernanceYieldsOnlyToTheBypass) {
  ObjectLock governance{"GOVERNANCE", kNow + kDay, ""};
  EXPECT_FALSE(may_delete_version(governance, kNow, false));
  EXPECT_TRUE(may_delete_version(governance, kNow, true));
  // Extending needs nothing; shortening, removing or a new mode the bypass.
  EXPECT_TRUE(may_change_retention(governance, "GOVERNANCE", kNow + 2 * kDay, kNow, false));
  EXPECT_TRUE(may_change_retention(governance, "GOVERNANCE", kNow + kDay, kNow, false));
  EXPECT_FALSE(may_change_retention(governance, "GOVERNANCE", kNow + 1, kNow, false));
  EXPECT_FALSE(may_change_retention(governance, "", 0, kNow, false));
  EXPECT_FALSE(may_change_retention(governance, "COMPLIANCE", kNow + 2 * kDay, kNow, false));
  EXPECT_TRUE(may_change_retention(governance, "GOVERNANCE", kNow + 1, kNow, true));
  EXPECT_TRUE(may_change_retention(governance, "", 0, kNow, true));
  EXPECT_TRUE(may_change_retention(governance, "COMPLIANCE", kNow + 2 * kDay, kNow, true));
}

TEST(ObjectLockRules, ComplianceYieldsToNobodyUntilItEnds) {
  ObjectLock compliance{"COMPLIANCE", kNow + kDay, ""};
  EXPECT_FALSE(may_delete_version(compliance, kNow, true));
  EXPECT_TRUE(may_change_retention(compliance, "COMPLIANCE", kNow + 2 * kDay, kNow, false));
  EXPECT_FALSE(may_change_retention(compliance, "COMPLIANCE", kNow + 1, kNow, true));
  EXPECT_FALSE(may_change_retention(compliance, "GOVERNANCE", kNow + 2 * kDay, kNow, true));
  EXPECT_FALSE(may_change_retention(compliance, "", 0, kNow, true));
  // Once its date has passed it protects nothing.
  EXPECT_TRUE(may_delete_version(compliance, kNow + kDay, false));
  EXPECT_TRUE(may_change_retention(compliance, "", 0, kNow + kDay + 1, false));
}

TEST(ObjectLockRules, ALegalHoldBlocksDeletesWhateverTheRetention) {
  EXPECT_FALSE(may_delete_version({"", 0, "ON"}, kNow, true));
  EXPECT_FALSE(may_delete_version({"GOVERNANCE", kNow - 1, "ON"}, kNow, true));
  // It says nothing about the retention.
  EXPECT_TRUE(may_change_retention({"", 0, "ON"}, "GOVERNANCE", kNow + 1, kNow, false));
}

class ObjectStoreLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("offcloud-lock-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string put(ObjectStore& store, const std::string& key, ObjectLock lock = {}) {
    auto blob = store.new_blob();
    blob->write("data");
    blob->close();
    ObjectInfo info;
    info.key = key;
    info.lock = lock;
    ObjectInfo committed;
    EXPECT_EQ(store.put_object("b", info, *blob, {}, &committed), ObjectStore::Status::kOk);
    return committed.version_id;
  }

  ObjectStore& open() {
    store_.reset();  // one store per data dir at a time
    store_ = std::make_unique<ObjectStore>(root_.string());
    if (!store_->bucket("b")) {
      store_->create_bucket("b", "us-east-1", "000000000000");
      store_->set_bucket_versioning("b", Versioning::kEnabled);
    }
    return *store_;
  }

  fs::path root_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(ObjectStoreLockTest, LocksLiveOnEachVersionAndSurviveARestart) {
  ObjectStore& store = open();
  std::int64_t until = wall_ms() + kDay;
  std::string v1 = put(store, "k", {"COMPLIANCE", until, "ON"});
  std::string v2 = put(store, "k");  // v1 becomes noncurrent with its lock
  EXPECT_EQ(store.object_version("b", "k", v1)->lock.mode, "COMPLIANCE");
  EXPECT_TRUE(store.object_version("b", "k", v2)->lock.empty());
  EXPECT_EQ(store.set_object_retention("b", "k", v2, "GOVERNANCE", until, false),
            ObjectStore::LockStatus::kOk);
  EXPECT_EQ(store.set_object_legal_hold("b", "k", v2, "OFF"), ObjectStore::LockStatus::kOk);
  EXPECT_EQ(store.set_object_legal_hold("b", "k", "nosuchversionnosuchversion123456", "ON"),
            ObjectStore::LockStatus::kNoSuchVersion);

  ObjectStore& reopened = open();
  ObjectInfo old = *reopened.object_version("b", "k", v1);
  EXPECT_EQ(old.lock.mode, "COMPLIANCE");
  EXPECT_EQ(old.lock.until_ms, until);
  EXPECT_EQ(old.lock.legal_hold, "ON");
  ObjectInfo current = *reopened.head_object("b", "k");
  EXPECT_EQ(current.lock.mode, "GOVERNANCE");
  EXPECT_EQ(current.lock.legal_hold, "OFF");
}

TEST_F(ObjectStoreLockTest, DeletesOfLockedVersionsAreRefusedAndChangeNothing) {
  ObjectStore& store = open();
  std::int64_t until = wall_ms() + kDay;
  std::string governed = put(store, "g", {"GOVERNANCE", until, ""});
  std::string held = put(store, "h", {"", 0, "ON"});
  std::string complied = put(store, "c", {"COMPLIANCE", until, ""});

  DeleteResult refused = store.delete_object_version("b", "g", governed);
  EXPECT_TRUE(refused.locked);
  EXPECT_FALSE(refused.found);
  EXPECT_TRUE(store.head_object("b", "g"));
  EXPECT_TRUE(store.delete_object_version("b", "c", complied, true).locked);
  EXPECT_TRUE(store.delete_object_version("b", "h", held, true).locked);

  // A delete marker on top is no removal: allowed, the version stays.
  DeleteResult marker = store.delete_object_version("b", "c", std::nullopt);
  EXPECT_TRUE(marker.delete_marker);
  EXPECT_TRUE(store.object_version("b", "c", complied));
  EXPECT_TRUE(store.delete_object_version("b", "c", complied).locked);  // noncurrent now
  EXPECT_EQ(store.delete_bucket("b"), ObjectStore::Status::kNotEmpty);

  EXPECT_TRUE(store.delete_object_version("b", "g", governed, true).found);
  EXPECT_EQ(store.set_object_legal_hold("b", "h", held, "OFF"), ObjectStore::LockStatus::kOk);
  EXPECT_TRUE(store.delete_object_version("b", "h", held).found);
}

TEST_F(ObjectStoreLockTest, RetentionChangesFollowTheRules) {
  ObjectStore& store = open();
  std::int64_t until = wall_ms() + kDay;
  std::string v = put(store, "k", {"COMPLIANCE", until, ""});
  EXPECT_EQ(store.set_object_retention("b", "k", v, "COMPLIANCE", until - 1000, true),
            ObjectStore::LockStatus::kLocked);
  EXPECT_EQ(store.set_object_retention("b", "k", v, "", 0, true), ObjectStore::LockStatus::kLocked);
  EXPECT_EQ(store.set_object_retention("b", "k", v, "COMPLIANCE", until + kDay, false),
            ObjectStore::LockStatus::kOk);
  EXPECT_EQ(store.head_object("b", "k")->lock.until_ms, until + kDay);

  std::string g = put(store, "g", {"GOVERNANCE", until, "ON"});
  EXPECT_EQ(store.set_object_retention("b", "g", g, "", 0, false),
            ObjectStore::LockStatus::kLocked);
  EXPECT_EQ(store.set_object_retention("b", "g", g, "", 0, true), ObjectStore::LockStatus::kOk);
  ObjectLock lock = store.head_object("b", "g")->lock;
  EXPECT_EQ(lock.mode, "");
  EXPECT_EQ(lock.until_ms, 0);
  EXPECT_EQ(lock.legal_hold, "ON");  // the legal hold is its own
}

TEST_F(ObjectStoreLockTest, AnUploadCarriesItsLockToTheObject) {
  ObjectStore& store = open();
  ObjectInfo attributes;
  attributes.key = "m";
  attributes.lock = {"GOVERNANCE", wall_ms() + kDay, "ON"};
  auto id = store.create_upload("b", attributes, std::nullopt);
  ASSERT_TRUE(id);
  auto blob = store.new_blob();
  blob->write("part");
  blob->close();
  PartInfo part;
  part.number = 1;
  part.size = blob->size();
  part.etag = blob->md5_hex();
  ASSERT_TRUE(store.put_part(*id, part, *blob));
  auto done = store.complete_upload("b", *id, {{1, part.etag}});
  ASSERT_EQ(done.status, ObjectStore::CompleteStatus::kOk);
  ObjectLock lock = store.head_object("b", "m")->lock;
  EXPECT_EQ(lock.mode, "GOVERNANCE");
  EXPECT_EQ(lock.legal_hold, "ON");
}

TEST_F(ObjectStoreLockTest, OldDataDirsGainTheColumnsWithNoLock) {
  std::string version = put(open(), "k");
  store_.reset();
  {
    // The tables as offcloud made them before Object Lock.
    Database db((root_ / "s3.db").string());
    for (const char* table : {"object", "object_version", "upload"}) {
      for (const char* column : {"lock_mode", "lock_until_ms", "legal_hold"}) {
        db.exec(std::string("ALTER TABLE ") + table + " DROP COLUMN " + column);
      }
      EXPECT_FALSE(db.has_column(table, "lock_mode"));
    }
  }
  ObjectStore& store = open();
  EXPECT_TRUE(store.head_object("b", "k")->lock.empty());
  put(store, "k", {"GOVERNANCE", wall_ms() + kDay, ""});
  EXPECT_TRUE(store.delete_object_version("b", "k", version).found);
}

}  // namespace
}  // namespace offcloud

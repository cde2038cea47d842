// S3 Lifecycle without HTTP: the day arithmetic (AWS's midnight rounding,
// the shortened day), which versions a rule's filter selects, and what one
// sweep does to a real object store at a chosen moment.
#include "storage/lifecycle.h"

#include <gtest/gtest.h>

#include "storage/lifecycle_sweep.h"
#include "tests/unit/scratch_dir_test.h"

namespace offcloud {
namespace {

LifecycleRule named_rule(std::string id, bool enabled) {
  LifecycleRule rule;
  rule.id = std::move(id);
  rule.enabled = enabled;
  return rule;
}

constexpr std::int64_t kDay = LifecycleClock::kRealDayMs;

TEST(LifecycleClockTest, RealDaysRoundUpToTheNextMidnightUtc) {
  LifecycleClock clock;
  std::int64_t midnight = 20000 * kDay;  // 2024-10-04T00:00:00Z
  // Made at 10:00: "1 day" is the second midnight after.
  EXPECT_EQ(clock.due_ms(midnight + 10 * 3600 * 1000, 1), midnight + 2 * kDay);
  // Made exactly at midnight: one day later, already a midnight.
  EXPECT_EQ(clock.due_ms(midnight, 1), midnight + kDay);
  EXPECT_EQ(clock.due_ms(midnight + 1, 30), midnight + 31 * kDay);
}

TEST(LifecycleClockTest, ShortDaysAreSimpleMultiples) {
  LifecycleClock clock{2000};
  EXPECT_FALSE(clock.real_days());
  EXPECT_EQ(clock.due_ms(1'000'123, 3), 1'006'123);
}

TEST(LifecycleClockTest, DateWinsOverDays) {
  LifecycleClock clock{1000};
  EXPECT_EQ(lifecycle_due_ms({std::nullopt, 42 * kDay}, 5, clock), 42 * kDay);
  EXPECT_EQ(lifecycle_due_ms({2, std::nullopt}, 5, clock), 2005);
}

ObjectInfo object(std::string key, std::uint64_t size, HeaderList tags = {}) {
  ObjectInfo info;
  info.key = std::move(key);
  info.size = size;
  info.tags = std::move(tags);
  return info;
}

TEST(LifecycleMatchTest, PrefixTagsAndSizes) {
  LifecycleRule rule;
  rule.enabled = true;
  rule.filter.prefix = "logs/";
  EXPECT_TRUE(lifecycle_matches(rule, object("logs/a", 1)));
  EXPECT_FALSE(lifecycle_matches(rule, object("log/a", 1)));
  rule.filter.tags = {{"tier", "cold"}, {"team", "x"}};
  EXPECT_FALSE(lifecycle_matches(rule, object("logs/a", 1, {{"tier", "cold"}})));
  EXPECT_FALSE(lifecycle_matches(rule, object("logs/a", 1, {{"tier", "hot"}, {"team", "x"}})));
  EXPECT_TRUE(lifecycle_matches(rule, object("logs/a", 1, {{"team", "x"}, {"tier", "cold"}})));
  rule.filter.tags.clear();
  rule.filter.size_greater_than = 10;
  rule.filter.size_less_than = 20;
  EXPECT_FALSE(lifecycle_matches(rule, object("logs/a", 10)));
  EXPECT_TRUE(lifecycle_matches(rule, object("logs/a", 11)));
  EXPECT_TRUE(lifecycle_matches(rule, object("logs/a", 19)));
  EXPECT_FALSE(lifecycle_matches(rule, object("logs/a", 20)));
}

TEST(LifecycleMatchTest, DeleteMarkersHaveNoTagsOrSize) {
  LifecycleRule rule;
  rule.enabled = true;
  ObjectInfo marker = object("k", 0);
  marker.delete_marker = true;
  EXPECT_TRUE(lifecycle_matches(rule, marker));
  rule.filter.tags = {{"a", "b"}};
  EXPECT_FALSE(lifecycle_matches(rule, marker));
  rule.filter.tags.clear();
  rule.filter.size_less_than = 100;
  EXPECT_FALSE(lifecycle_matches(rule, marker));
}

TEST(LifecycleExpiryTest, EarliestEnabledRuleWins) {
  LifecycleClock clock{1000};
  LifecycleRule late = named_rule("late", true);
  late.expiration = LifecycleWhen{10, std::nullopt};
  LifecycleRule early = named_rule("early", true);
  early.expiration = LifecycleWhen{3, std::nullopt};
  LifecycleRule disabled = named_rule("off", false);
  disabled.expiration = LifecycleWhen{1, std::nullopt};
  LifecycleRule other = named_rule("other", true);
  other.filter.prefix = "z";
  other.expiration = LifecycleWhen{1, std::nullopt};
  ObjectInfo info = object("k", 5);
  info.last_modified_ms = 100;
  auto expiry = lifecycle_expiry({late, early, disabled, other}, info, clock);
  ASSERT_TRUE(expiry);
  EXPECT_EQ(expiry->rule_id, "early");
  EXPECT_EQ(expiry->due_ms, 3100);
  EXPECT_FALSE(lifecycle_expiry({disabled, other}, info, clock));
}

TEST(LifecycleStorageClassTest, WaterfallAndMinimumSize) {
  EXPECT_LT(storage_class_rank("STANDARD"), storage_class_rank("STANDARD_IA"));
  EXPECT_LT(storage_class_rank("GLACIER_IR"), storage_class_rank("GLACIER"));
  EXPECT_LT(storage_class_rank("GLACIER"), storage_class_rank("DEEP_ARCHIVE"));
  EXPECT_EQ(storage_class_rank("OUTPOSTS"), -1);
  EXPECT_TRUE(is_archived_storage_class("GLACIER"));
  EXPECT_TRUE(is_archived_storage_class("DEEP_ARCHIVE"));
  EXPECT_FALSE(is_archived_storage_class("GLACIER_IR"));
  LifecycleRule rule;
  EXPECT_FALSE(transition_size_allowed(rule, kTransitionMinimumBytes - 1));
  EXPECT_TRUE(transition_size_allowed(rule, kTransitionMinimumBytes));
  rule.filter.size_greater_than = 10;
  EXPECT_TRUE(transition_size_allowed(rule, 11));
  EXPECT_FALSE(transition_size_allowed(rule, 10));
}

// A sweep over a real store, run at chosen moments with 1-second days.
class LifecycleSweepTest : public ScratchDirTest {
 protected:
  void SetUp() override {
    ScratchDirTest::SetUp();
    store_ = std::make_unique<ObjectStore>((dir_ / "s3").string());
    ASSERT_EQ(store_->create_bucket("b", "us-east-1", "000000000000"), ObjectStore::Status::kOk);
  }

  ObjectInfo put(const std::string& key, std::size_t size = 3, HeaderList tags = {},
                 std::string storage_class = "STANDARD") {
    auto blob = store_->new_blob();
    blob->write(std::string(size, 'x'));
    blob->close();
    ObjectInfo info;
    info.key = key;
    info.tags = std::move(tags);
    info.storage_class = std::move(storage_class);
    ObjectInfo committed;
    EXPECT_EQ(store_->put_object("b", info, *blob, {}, &committed), ObjectStore::Status::kOk);
    return committed;
  }

  LifecycleSweep::Stats sweep(std::int64_t now_ms) {
    LifecycleSweep::Options options;
    options.clock.day_ms = 1000;
    LifecycleSweep sweep(
        *store_, [this](const std::string&) { return rules_; }, options);
    return sweep.sweep_once(now_ms);
  }

  std::vector<ObjectInfo> versions(const std::string& key) {
    VersionListRequest request;
    request.prefix = key;
    return store_->list_object_versions("b", request).versions;
  }

  std::unique_ptr<ObjectStore> store_;
  std::vector<LifecycleRule> rules_;
};

TEST_F(LifecycleSweepTest, ExpiresCurrentObjectsOnAnUnversionedBucket) {
  LifecycleRule rule = named_rule("r", true);
  rule.filter.prefix = "tmp/";
  rule.expiration = LifecycleWhen{2, std::nullopt};
  rules_ = {rule};
  ObjectInfo old = put("tmp/a");
  put("keep/a");
  EXPECT_EQ(sweep(old.last_modified_ms + 1999).expired, 0);
  EXPECT_TRUE(store_->head_object("b", "tmp/a"));
  EXPECT_EQ(sweep(old.last_modified_ms + 2000).expired, 1);
  EXPECT_FALSE(store_->head_object("b", "tmp/a"));
  EXPECT_TRUE(store_->head_object("b", "keep/a"));
  EXPECT_TRUE(versions("tmp/a").empty());
}

TEST_F(LifecycleSweepTest, DisabledRulesDoNothing) {
  LifecycleRule rule = named_rule("r", false);
  rule.expiration = LifecycleWhen{1, std::nullopt};
  rules_ = {rule};
  ObjectInfo old = put("a");
  EXPECT_EQ(sweep(old.last_modified_ms + 100 * 1000).expired, 0);
  EXPECT_TRUE(store_->head_object("b", "a"));
}

TEST_F(LifecycleSweepTest, VersionedExpirationAddsADeleteMarkerThenNoncurrentRulesApply) {
  ASSERT_EQ(store_->set_bucket_versioning("b", Versioning::kEnabled), ObjectStore::Status::kOk);
  LifecycleRule rule = named_rule("r", true);
  rule.expiration = LifecycleWhen{1, std::nullopt};
  rules_ = {rule};
  ObjectInfo first = put("k");
  auto stats = sweep(first.last_modified_ms + 1000);
  EXPECT_EQ(stats.expired, 1);
  auto listed = versions("k");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(listed[0].delete_marker);
  EXPECT_EQ(listed[1].version_id, first.version_id);
  // The marker is not the only version: it stays.
  EXPECT_EQ(sweep(first.last_modified_ms + 100 * 1000).delete_markers_removed, 0);
  EXPECT_EQ(versions("k").size(), 2u);
}

TEST_F(LifecycleSweepTest, NoncurrentExpirationKeepsTheNewerNoncurrentVersions) {
  ASSERT_EQ(store_->set_bucket_versioning("b", Versioning::kEnabled), ObjectStore::Status::kOk);
  LifecycleRule rule = named_rule("r", true);
  rule.noncurrent_expiration = LifecycleNoncurrent{1, 2, ""};
  rules_ = {rule};
  std::vector<ObjectInfo> made;
  for (int i = 0; i < 5; ++i) made.push_back(put("k"));
  // Everything is noncurrent for long enough: the two newest noncurrent
  // versions and the current one stay.
  auto stats = sweep(made.back().last_modified_ms + 10 * 1000);
  EXPECT_EQ(stats.noncurrent_deleted, 2);
  auto listed = versions("k");
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].version_id, made[4].version_id);
  EXPECT_EQ(listed[1].version_id, made[3].version_id);
  EXPECT_EQ(listed[2].version_id, made[2].version_id);
}

TEST_F(LifecycleSweepTest, NoncurrentDaysCountFromTheSuccessor) {
  ASSERT_EQ(store_->set_bucket_versioning("b", Versioning::kEnabled), ObjectStore::Status::kOk);
  LifecycleRule rule = named_rule("r", true);
  rule.noncurrent_expiration = LifecycleNoncurrent{3, 0, ""};
  rules_ = {rule};
  ObjectInfo old = put("k");
  ObjectInfo current = put("k");
  EXPECT_EQ(sweep(current.last_modified_ms + 2999).noncurrent_deleted, 0);
  EXPECT_EQ(sweep(current.last_modified_ms + 3000).noncurrent_deleted, 1);
  EXPECT_EQ(versions("k").size(), 1u);
}

TEST_F(LifecycleSweepTest, ExpiredObjectDeleteMarkersGo) {
  ASSERT_EQ(store_->set_bucket_versioning("b", Versioning::kEnabled), ObjectStore::Status::kOk);
  LifecycleRule rule = named_rule("r", true);
  rule.expired_object_delete_marker = true;
  rules_ = {rule};
  ObjectInfo made = put("k");
  store_->delete_object_version("b", "k", std::nullopt);
  // A marker over a version is no expired marker.
  EXPECT_EQ(sweep(made.last_modified_ms + 1).delete_markers_removed, 0);
  store_->delete_object_version("b", "k", made.version_id);
  EXPECT_EQ(sweep(made.last_modified_ms + 1).delete_markers_removed, 1);
  EXPECT_TRUE(versions("k").empty());
}

TEST_F(LifecycleSweepTest, SuspendedExpirationReplacesTheNullVersion) {
  ASSERT_EQ(store_->set_bucket_versioning("b", Versioning::kEnabled), ObjectStore::Status::kOk);
  ObjectInfo kept = put("k");
  ASSERT_EQ(store_->set_bucket_versioning("b", Versioning::kSuspended), ObjectStore::Status::kOk);
  ObjectInfo null_version = put("k");
  EXPECT_EQ(null_version.version_id, "");
  LifecycleRule rule = named_rule("r", true);
  rule.expiration = LifecycleWhen{1, std::nullopt};
  rules_ = {rule};
  EXPECT_EQ(sweep(null_version.last_modified_ms + 1000).expired, 1);
  auto listed = versions("k");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(listed[0].delete_marker);
  EXPECT_EQ(listed[0].version_id, "");
  EXPECT_EQ(listed[1].version_id, kept.version_id);
}

TEST_F(LifecycleSweepTest, AbortsOldUploadsUnderThePrefix) {
  LifecycleRule rule = named_rule("r", true);
  rule.filter.prefix = "up/";
  rule.abort_upload_days = 1;
  rules_ = {rule};
  ObjectInfo attributes;
  attributes.key = "up/x";
  auto old = store_->create_upload("b", attributes, std::nullopt);
  attributes.key = "other/x";
  auto other = store_->create_upload("b", attributes, std::nullopt);
  ASSERT_TRUE(old && other);
  std::int64_t started = store_->upload("b", *old)->initiated_ms;
  EXPECT_EQ(sweep(started + 999).uploads_aborted, 0);
  EXPECT_EQ(sweep(started + 1000).uploads_aborted, 1);
  EXPECT_FALSE(store_->upload("b", *old));
  EXPECT_TRUE(store_->upload("b", *other));
}

TEST_F(LifecycleSweepTest, TransitionsToTheDeepestDueClassFromTheMinimumSize) {
  LifecycleRule rule = named_rule("r", true);
  rule.transitions = {{{1, std::nullopt}, "STANDARD_IA"}, {{2, std::nullopt}, "GLACIER"}};
  rules_ = {rule};
  ObjectInfo big = put("big", kTransitionMinimumBytes);
  ObjectInfo small = put("small", 10);
  EXPECT_EQ(sweep(big.last_modified_ms + 1000).transitioned, 1);
  EXPECT_EQ(store_->head_object("b", "big")->storage_class, "STANDARD_IA");
  EXPECT_EQ(sweep(big.last_modified_ms + 5000).transitioned, 1);
  EXPECT_EQ(store_->head_object("b", "big")->storage_class, "GLACIER");
  EXPECT_EQ(store_->head_object("b", "small")->storage_class, "STANDARD");
  // Never back up the waterfall.
  rules_[0].transitions = {{{1, std::nullopt}, "STANDARD_IA"}};
  EXPECT_EQ(sweep(big.last_modified_ms + 9000).transitioned, 0);
}

TEST_F(LifecycleSweepTest, RestoresCompleteAtTheirTimeAndExpire) {
  ObjectInfo cold = put("cold", 3, {}, "GLACIER");
  put("warm");
  std::int64_t now = cold.last_modified_ms;
  EXPECT_EQ(store_->request_restore("b", "warm", std::nullopt, 2, now, now, now),
            ObjectStore::RestoreStatus::kNotArchived);
  EXPECT_EQ(store_->request_restore("b", "nothing", std::nullopt, 2, now, now, now),
            ObjectStore::RestoreStatus::kNoSuchVersion);
  EXPECT_EQ(store_->request_restore("b", "cold", std::nullopt, 2, now + 500, 0, now),
            ObjectStore::RestoreStatus::kStarted);
  EXPECT_EQ(store_->request_restore("b", "cold", std::nullopt, 2, now + 500, 0, now),
            ObjectStore::RestoreStatus::kInProgress);
  EXPECT_TRUE(store_->head_object("b", "cold")->restore_ongoing());
  EXPECT_EQ(sweep(now + 499).restores_completed, 0);
  EXPECT_EQ(sweep(now + 500).restores_completed, 1);
  ObjectInfo restored = *store_->head_object("b", "cold");
  EXPECT_FALSE(restored.restore_ongoing());
  EXPECT_EQ(restored.restore_expiry_ms, now + 2500);
  EXPECT_TRUE(restored.restored(now + 2499));
  // Asked again while restored: the expiry moves.
  EXPECT_EQ(store_->request_restore("b", "cold", std::nullopt, 5, 0, now + 9000, now + 1000),
            ObjectStore::RestoreStatus::kExtended);
  EXPECT_EQ(store_->head_object("b", "cold")->restore_expiry_ms, now + 9000);
  EXPECT_EQ(sweep(now + 8999).restores_expired, 0);
  EXPECT_EQ(sweep(now + 9000).restores_expired, 1);
  EXPECT_FALSE(store_->head_object("b", "cold")->restored(now + 9000));
}

TEST_F(LifecycleSweepTest, AVersionChangedSinceTheListingIsLeftAlone) {
  ObjectInfo seen = put("k");
  ObjectInfo replaced = put("k", 7);
  // The sweep listed `seen`; an overwrite came before it acted.
  if (replaced.last_modified_ms != seen.last_modified_ms || replaced.etag != seen.etag) {
    EXPECT_FALSE(store_->expire_current("b", seen).found);
    EXPECT_FALSE(store_->set_storage_class("b", seen, "GLACIER"));
    EXPECT_TRUE(store_->head_object("b", "k"));
  }
  EXPECT_TRUE(store_->expire_current("b", replaced).found);
  EXPECT_FALSE(store_->head_object("b", "k"));
}

}  // namespace
}  // namespace offcloud

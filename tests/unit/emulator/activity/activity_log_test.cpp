#include "emulator/activity/activity_log.h"

#include <gtest/gtest.h>

namespace offcloud {
namespace {

ActivityEntry entry(std::string account, std::string arn) {
  ActivityEntry e;
  e.account_id = std::move(account);
  e.caller_arn = std::move(arn);
  e.service = "s3";
  return e;
}

Principal root_of(std::string account) {
  return account_root(account, account == std::string(kAccountId) ? "test" : "AKIAROOT");
}

Principal user_of(std::string account, std::string name) {
  Principal p;
  p.account_id = account;
  p.user_name = name;
  p.arn = "arn:aws:iam::" + account + ":user/" + name;
  return p;
}

std::vector<std::uint64_t> seqs(const ActivityLog::Page& page) {
  std::vector<std::uint64_t> out;
  for (const ActivityEntry& e : page.entries) out.push_back(e.seq);
  return out;
}

TEST(ActivityLogTest, KeepsTheNewestEntriesInOrder) {
  ActivityLog log(3);
  ActivityViewer all = ActivityViewer::of(root_of(std::string(kAccountId)));
  ASSERT_TRUE(all.everything);
  EXPECT_EQ(log.since(0, all, 10).last_seq, 0u);
  for (int i = 0; i < 5; ++i) log.record(entry("111122223333", "arn:aws:iam::111122223333:root"));
  ActivityLog::Page page = log.since(0, all, 10);
  EXPECT_EQ(seqs(page), (std::vector<std::uint64_t>{3, 4, 5}));
  EXPECT_TRUE(page.missed);  // 1 and 2 were overwritten
  EXPECT_EQ(page.last_seq, 5u);
  EXPECT_GT(page.entries[0].time_ms, 0);
  page = log.since(3, all, 10);
  EXPECT_EQ(seqs(page), (std::vector<std::uint64_t>{4, 5}));
  EXPECT_FALSE(page.missed);
  EXPECT_TRUE(log.since(5, all, 10).entries.empty());
  // The newest `limit`, not the oldest.
  page = log.since(0, all, 1);
  EXPECT_EQ(seqs(page), (std::vector<std::uint64_t>{5}));
  EXPECT_TRUE(page.missed);
  // A number the log never reached (it restarted): from the beginning.
  EXPECT_EQ(seqs(log.since(99, all, 10)), (std::vector<std::uint64_t>{3, 4, 5}));
}

TEST(ActivityLogTest, EachViewerSeesWhatIsTheirs) {
  ActivityLog log;
  log.record(entry("111122223333", "arn:aws:iam::111122223333:root"));      // 1
  log.record(entry("111122223333", "arn:aws:iam::111122223333:user/ann"));  // 2
  log.record(entry("111122223333", "arn:aws:iam::111122223333:user/bob"));  // 3
  log.record(entry("444455556666", "arn:aws:iam::444455556666:root"));      // 4
  log.record(entry("", ""));                                                // 5: nobody's
  auto seen = [&](const Principal& p) { return seqs(log.since(0, ActivityViewer::of(p), 100)); };
  EXPECT_EQ(seen(root_of(std::string(kAccountId))), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(seen(root_of("111122223333")), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(seen(user_of("111122223333", "ann")), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(seen(root_of("444455556666")), (std::vector<std::uint64_t>{4}));
  // A user of the default account is no teacher.
  EXPECT_TRUE(seen(user_of(std::string(kAccountId), "ann")).empty());
  // Invisible entries still move the reader on.
  EXPECT_EQ(log.since(0, ActivityViewer::of(root_of("444455556666")), 100).last_seq, 5u);
}

TEST(ActivityLogTest, BoundsWhatAnEntryHolds) {
  ActivityLog log(2);
  ActivityEntry big = entry("111122223333", "a");
  big.resource = std::string(10000, 'x');
  log.record(std::move(big));
  ActivityViewer all = ActivityViewer::of(root_of(std::string(kAccountId)));
  EXPECT_EQ(log.since(0, all, 1).entries[0].resource.size(), ActivityLog::kMaxFieldBytes);
  // Cut on a character boundary: no half of a 3-byte character.
  std::string text = "ab" + std::string("\xE3\x81\x82") + "cd";
  EXPECT_EQ(truncate_utf8(text, 4), "ab");
  EXPECT_EQ(truncate_utf8(text, 5), "ab\xE3\x81\x82");
  EXPECT_EQ(truncate_utf8(text, 100), text);
}

}  // namespace
}  // namespace offcloud

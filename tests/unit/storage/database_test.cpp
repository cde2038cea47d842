#include "storage/database.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace offcloud {
namespace {

TEST(Transaction, RollsBackUnlessCommitted) {
  auto path = std::filesystem::temp_directory_path() /
              ("offcloud-database-" + std::to_string(::getpid()) + ".db");
  {
    Database db(path.string());
    db.exec("CREATE TABLE t (x INTEGER)");
    try {
      Transaction transaction(db);
      db.exec("INSERT INTO t VALUES (1)");
      throw StorageError("fails before the commit");
    } catch (const StorageError&) {
    }
    {
      Transaction transaction(db);
      db.exec("INSERT INTO t VALUES (2)");
      transaction.commit();
    }
    auto count = db.cached("SELECT count(*), sum(x) FROM t");
    ASSERT_TRUE(count->step());
    EXPECT_EQ(count->column_int(0), 1);
    EXPECT_EQ(count->column_int(1), 2);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

}  // namespace
}  // namespace offcloud

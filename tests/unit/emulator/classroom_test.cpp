#include "emulator/classroom.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/unit/scratch_dir_test.h"

namespace offcloud {
namespace {

// A fixed byte stream (xorshift from a seed): the same accounts every run.
RandomBytes fixed_source(std::uint32_t seed) {
  return [state = seed](unsigned char* out, std::size_t size) mutable {
    for (std::size_t i = 0; i < size; ++i) {
      state ^= state << 13;
      state ^= state >> 17;
      state ^= state << 5;
      out[i] = static_cast<unsigned char>(state >> 24);
    }
  };
}

std::string read(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(Classroom, AccountsHaveAwsShapedDistinctIdsAndKeys) {
  for (int students : {1, 40, 500}) {
    std::vector<StudentAccount> accounts = make_student_accounts(students);
    ASSERT_EQ(accounts.size(), static_cast<std::size_t>(students));
    std::set<std::string> ids, key_ids;
    for (const StudentAccount& account : accounts) {
      EXPECT_TRUE(std::regex_match(account.account_id, std::regex("[1-9][0-9]{11}")))
          << account.account_id;
      EXPECT_NE(account.account_id, "000000000000");
      EXPECT_TRUE(std::regex_match(account.access_key_id, std::regex("AKIA[A-Z2-7]{16}")))
          << account.access_key_id;
      EXPECT_TRUE(std::regex_match(account.secret_access_key, std::regex("[A-Za-z0-9+/]{40}")))
          << account.secret_access_key;
      ids.insert(account.account_id);
      key_ids.insert(account.access_key_id);
    }
    EXPECT_EQ(ids.size(), accounts.size());
    EXPECT_EQ(key_ids.size(), accounts.size());
  }
}

TEST(Classroom, NamesAreZeroPaddedToTheWidthOfTheClass) {
  std::vector<StudentAccount> nine = make_student_accounts(9, fixed_source(1));
  EXPECT_EQ(nine.front().name, "student01");
  EXPECT_EQ(nine.back().name, "student09");
  std::vector<StudentAccount> forty = make_student_accounts(40, fixed_source(1));
  EXPECT_EQ(forty[4].name, "student05");
  EXPECT_EQ(forty.back().name, "student40");
  std::vector<StudentAccount> many = make_student_accounts(120, fixed_source(1));
  EXPECT_EQ(many.front().name, "student001");
  EXPECT_EQ(many[99].name, "student100");
  EXPECT_EQ(many.back().name, "student120");
}

TEST(Classroom, AFixedSourceGivesTheSameAccounts) {
  std::vector<StudentAccount> a = make_student_accounts(30, fixed_source(42));
  std::vector<StudentAccount> b = make_student_accounts(30, fixed_source(42));
  std::vector<StudentAccount> c = make_student_accounts(30, fixed_source(43));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].account_id, b[i].account_id);
    EXPECT_EQ(a[i].access_key_id, b[i].access_key_id);
    EXPECT_EQ(a[i].secret_access_key, b[i].secret_access_key);
  }
  EXPECT_NE(a[0].account_id, c[0].account_id);
  EXPECT_NE(a[0].secret_access_key, c[0].secret_access_key);
}

TEST(Classroom, ABrokenSourceIsAnErrorNotAHang) {
  // Every byte 0xff: rejected for every digit.
  RandomBytes ones = [](unsigned char* out, std::size_t size) {
    std::fill(out, out + size, static_cast<unsigned char>(0xff));
  };
  EXPECT_THROW(make_student_accounts(2, ones), std::runtime_error);
  // Every byte 0: the same id again and again.
  RandomBytes zeros = [](unsigned char* out, std::size_t size) { std::fill(out, out + size, 0); };
  EXPECT_THROW(make_student_accounts(2, zeros), std::runtime_error);
  EXPECT_THROW(make_student_accounts(0, fixed_source(1)), std::invalid_argument);
  EXPECT_THROW(make_student_accounts(501, fixed_source(1)), std::invalid_argument);
}

TEST(Classroom, ConfigParsesBackWithExactlyTheAccountKeys) {
  std::vector<StudentAccount> accounts = make_student_accounts(12, fixed_source(7));
  std::string text = classroom_config_json(accounts);
  nlohmann::json document = nlohmann::json::parse(text);
  ASSERT_TRUE(document.is_object());
  EXPECT_EQ(document.size(), 1u);
  const nlohmann::json& list = document.at("accounts");
  ASSERT_EQ(list.size(), accounts.size());
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    const nlohmann::json& account = list[i];
    std::set<std::string> keys;
    for (const auto& [key, value] : account.items()) keys.insert(key);
    EXPECT_EQ(keys, (std::set<std::string>{"id", "name", "root_access_key_id",
                                           "root_secret_access_key"}));
    EXPECT_EQ(account["id"].get<std::string>(), accounts[i].account_id);
    EXPECT_EQ(account["name"].get<std::string>(), accounts[i].name);
    EXPECT_EQ(account["root_access_key_id"].get<std::string>(), accounts[i].access_key_id);
    EXPECT_EQ(account["root_secret_access_key"].get<std::string>(), accounts[i].secret_access_key);
  }
  EXPECT_NE(text.find("\n  \"accounts\""), std::string::npos) << "2-space indent";
}

TEST(Classroom, SheetHasACardPerStudentAndEscapesEverything) {
  std::vector<StudentAccount> accounts = make_student_accounts(3, fixed_source(9));
  ClassroomSheetOptions options{"http://x/<script>", "http://x/console?a=1&b=2", "ap-northeast-1",
                                "2025-04-01"};
  std::string html = classroom_sheet_html(accounts, options);
  EXPECT_NE(html.find("http://x/&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("a=1&amp;b=2"), std::string::npos);
  EXPECT_EQ(html.find("a=1&b=2"), std::string::npos);
  EXPECT_NE(html.find("3 students, 2025-04-01"), std::string::npos);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(html.find("page-break-inside: avoid"), std::string::npos);
  for (const char* external : {"<script", "src=", "href=", "url(", "@import", "<link"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  std::size_t cards = 0;
  for (std::size_t at = html.find("<div class=\"card\">"); at != std::string::npos;
       at = html.find("<div class=\"card\">", at + 1)) {
    ++cards;
  }
  EXPECT_EQ(cards, 3u);
  for (const StudentAccount& account : accounts) {
    EXPECT_NE(html.find(account.name), std::string::npos);
    EXPECT_NE(html.find(account.account_id), std::string::npos);
    EXPECT_NE(html.find("export AWS_ACCESS_KEY_ID=" + account.access_key_id +
                        " AWS_SECRET_ACCESS_KEY=" + account.secret_access_key),
              std::string::npos);
  }
  // The endpoint has a shell metacharacter: quoted on the command line.
  EXPECT_NE(html.find("AWS_DEFAULT_REGION=ap-northeast-1 AWS_ENDPOINT_URL=&apos;http://x/"
                      "&lt;script&gt;&apos;"),
            std::string::npos);
}

class ClassroomCommand : public ScratchDirTest {
 protected:
  int run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    return run_classroom(args, out_, err_);
  }
  std::ostringstream out_, err_;
};

TEST_F(ClassroomCommand, RefusesAClassSizeOutOfRange) {
  std::string dir = (dir_ / "out").string();
  EXPECT_EQ(run({"--students", "0", "--out", dir}), 2);
  EXPECT_NE(err_.str().find("1 to 500"), std::string::npos) << err_.str();
  EXPECT_EQ(run({"--students", "501", "--out", dir}), 2);
  EXPECT_EQ(run({"--students", "12x", "--out", dir}), 2);
  EXPECT_EQ(run({"--out", dir}), 2);
  EXPECT_EQ(run({"--students", "3", "--bogus", "1", "--out", dir}), 2);
  EXPECT_EQ(run({"--students", "3", "--endpoint", "10.0.0.5:4566", "--out", dir}), 2);
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_EQ(run({"--help"}), 0);
  EXPECT_NE(out_.str().find("--students"), std::string::npos);
}

TEST_F(ClassroomCommand, WritesBothFilesAndSaysHowToStart) {
  std::filesystem::path dir = dir_ / "new" / "room";  // created, parents too
  ASSERT_EQ(run({"--students=4", "--out", dir.string(), "--endpoint", "http://10.0.0.5:4566"}), 0)
      << err_.str();
  nlohmann::json config = nlohmann::json::parse(read(dir / "classroom.json"));
  EXPECT_EQ(config["accounts"].size(), 4u);
  std::string html = read(dir / "classroom.html");
  EXPECT_NE(html.find("AWS_ENDPOINT_URL=http://10.0.0.5:4566"), std::string::npos);
  EXPECT_NE(html.find("http://10.0.0.5:4566/_offcloud/console/"), std::string::npos);
  EXPECT_NE(html.find("ap-northeast-1"), std::string::npos);
  EXPECT_NE(
      out_.str().find("offcloud --config " + (dir / "classroom.json").string() + " --host 0.0.0.0"),
      std::string::npos)
      << out_.str();
  EXPECT_FALSE(std::filesystem::exists(dir / "classroom.json.tmp"));
}

TEST_F(ClassroomCommand, NeverReplacesPrintedSheetsWithoutForce) {
  std::string dir = dir_.string();
  ASSERT_EQ(run({"--students", "2", "--out", dir}), 0) << err_.str();
  std::string config = read(dir_ / "classroom.json");
  std::string html = read(dir_ / "classroom.html");

  EXPECT_EQ(run({"--students", "2", "--out", dir}), 2);
  EXPECT_NE(err_.str().find("--force"), std::string::npos) << err_.str();
  EXPECT_EQ(read(dir_ / "classroom.json"), config);
  EXPECT_EQ(read(dir_ / "classroom.html"), html);

  // Either file alone is enough to refuse.
  std::filesystem::remove(dir_ / "classroom.json");
  EXPECT_EQ(run({"--students", "2", "--out", dir}), 2);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "classroom.json"));
  EXPECT_EQ(read(dir_ / "classroom.html"), html);

  ASSERT_EQ(run({"--students", "2", "--out", dir, "--force"}), 0) << err_.str();
  EXPECT_NE(read(dir_ / "classroom.json"), config);
  EXPECT_NE(read(dir_ / "classroom.html"), html);
}

}  // namespace
}  // namespace offcloud

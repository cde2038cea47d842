// `offcloud classroom`: prepares one offcloud for a whole class. Each student
// gets an AWS account of their own (a random 12-digit id and a root access
// key), written as a config file offcloud starts with (`accounts`) and as a
// printable sheet with one card per student. Keys see only their own
// account, so one student's buckets, things and rules are invisible to the
// next, as with real AWS accounts.
#pragma once

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace offcloud {

// A class larger than this is more likely a typo than a class.
inline constexpr int kMaxClassroomStudents = 500;

struct StudentAccount {
  std::string name;               // student01, ..., zero padded to the width of the class size
  std::string account_id;         // 12 digits, the first not 0
  std::string access_key_id;      // AKIA + 16 of A-Z and 2-7, as AWS's
  std::string secret_access_key;  // 40 of A-Za-z0-9+/, as AWS's
};

// Fills `size` bytes from a cryptographically strong source (OpenSSL's
// RAND_bytes). Throws std::runtime_error if it has none.
void secure_random_bytes(unsigned char* out, std::size_t size);

using RandomBytes = std::function<void(unsigned char*, std::size_t)>;

// `students` accounts with distinct ids and keys, every character drawn
// uniformly (rejection sampling) from `random_bytes`, which tests replace
// with a fixed source. Throws std::invalid_argument for a count outside
// 1..kMaxClassroomStudents, and std::runtime_error if `random_bytes` is so
// poor that distinct values cannot be drawn from it.
std::vector<StudentAccount> make_student_accounts(
    int students, const RandomBytes& random_bytes = secure_random_bytes);

// The config file: {"accounts": [{"id", "name", "root_access_key_id",
// "root_secret_access_key"}, ...]}, pretty printed, ending in a newline.
std::string classroom_config_json(const std::vector<StudentAccount>& accounts);

struct ClassroomSheetOptions {
  std::string endpoint;     // what students set AWS_ENDPOINT_URL to
  std::string console_url;  // the web console, for a browser
  std::string region;
  std::string date;  // shown in the title, e.g. 2025-04-01
};

// A self-contained printable HTML page (no scripts, no external resources),
// one card per student, cards never split across pages. Every value is
// HTML-escaped.
std::string classroom_sheet_html(const std::vector<StudentAccount>& accounts,
                                 const ClassroomSheetOptions& options);

// The subcommand: `args` are the words after "classroom". Writes
// classroom.json and classroom.html, refusing to replace either without
// --force (a re-run must not silently invalidate printed sheets), and says
// on `out` how to start offcloud with them. Returns the exit code: 0, 2 for
// a usage error or a refused overwrite, 1 for a failure to write.
int run_classroom(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace offcloud

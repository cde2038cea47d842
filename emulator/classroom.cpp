#include "emulator/classroom.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <climits>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "emulator/util/xml.h"

namespace offcloud {
namespace {

constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kKeyIdChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kSecretChars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr const char* kDefaultEndpoint = "http://127.0.0.1:4566";
constexpr const char* kDefaultRegion = "ap-northeast-1";  // the hands-on's
constexpr const char* kConfigName = "classroom.json";
constexpr const char* kSheetName = "classroom.html";

// Draws uniform characters from a byte source. A byte is used only below
// the largest multiple of the alphabet's size that fits in 256, so no
// character is likelier than another; the rest are drawn again.
class Draw {
 public:
  explicit Draw(const RandomBytes& source) : source_(source) {}

  char from(std::string_view alphabet) {
    const unsigned limit = 256 - 256 % alphabet.size();
    // A real source rejects at most 6 bytes in 256 (for digits); only a
    // broken one (all 0xff, say) rejects this many in a row.
    for (int tries = 0; tries < 4096; ++tries) {
      unsigned char byte = next();
      if (byte < limit) return alphabet[byte % alphabet.size()];
    }
    throw std::runtime_error("the random source gives only bytes it cannot use");
  }

  std::string string(std::string_view alphabet, std::size_t length) {
    std::string out;
    out.reserve(length);
    while (out.size() < length) out += from(alphabet);
    return out;
  }

 private:
  unsigned char next() {
    if (used_ == buffer_.size()) {
      source_(buffer_.data(), buffer_.size());
      used_ = 0;
    }
    return buffer_[used_++];
  }

  const RandomBytes& source_;
  std::array<unsigned char, 256> buffer_{};
  std::size_t used_ = buffer_.size();
};

// Draws until `draw` gives a value not in `seen`. A real source repeats a
// 12-digit id with odds of 1 in a billion; a broken one repeats forever.
template <typename F>
std::string distinct(std::set<std::string>& seen, F draw) {
  for (int tries = 0; tries < 100; ++tries) {
    std::string value = draw();
    if (seen.insert(value).second) return value;
  }
  throw std::runtime_error("the random source keeps repeating itself");
}

// A word the shell takes literally: as is when it has nothing the shell
// reads specially (keys never do), single-quoted otherwise.
std::string shell_word(std::string_view text) {
  bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(text);
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The card's fixed size is what fits eight on an A4 page (two columns of
// four rows in 190 x 277 mm, the first page a little less for the title);
// inline-block cards are atomic boxes, which a browser never splits across
// pages, unlike grid or flex items in some browsers.
constexpr const char* kStyle = R"(@page { size: A4; margin: 10mm; }
* { box-sizing: border-box; }
body { font-family: sans-serif; color: #000; background: #fff; margin: 0 auto; max-width: 190mm; }
h1 { font-size: 11pt; margin: 0 0 2mm; }
.cards { font-size: 0; }
.card { display: inline-block; vertical-align: top; width: 92.5mm; height: 64mm; margin: 0 0 2mm;
  padding: 3mm; border: 1px dashed #777; overflow: hidden; font-size: 8pt;
  break-inside: avoid; page-break-inside: avoid; }
.card:nth-child(odd) { margin-right: 4mm; }
h2 { font-size: 11pt; margin: 0 0 1.5mm; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th { width: 16mm; text-align: left; vertical-align: top; font-size: 6.5pt; font-weight: bold;
  padding: 0.4mm 1mm 0.4mm 0; }
td { padding: 0.4mm 0; overflow-wrap: anywhere; word-break: break-all; }
.mono, code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
td.mono { font-size: 7.5pt; }
p { margin: 1.5mm 0 0.5mm; font-size: 6.5pt; }
code { display: block; font-size: 6pt; background: #eee; padding: 0.5mm 1mm 0.5mm 2.5mm;
  text-indent: -1.5mm; overflow-wrap: anywhere; margin-bottom: 0.5mm; }
@media print { .card { border-color: #999; } code { background: none; border: 1px solid #ccc; } }
)";

std::string row(const char* label, const std::string& value) {
  return std::string("<tr><th>") + label + "</th><td class=\"mono\">" + xml_escape(value) +
         "</td></tr>\n";
}

// --- the subcommand --------------------------------------------------------

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Options {
  int students = 0;
  std::string out_dir = ".";
  std::string endpoint = kDefaultEndpoint;
  std::optional<std::string> console_url;
  std::string region = kDefaultRegion;
  bool force = false;
  bool help = false;
};

std::string classroom_usage() {
  return "usage: offcloud classroom --students N [--out DIR] [--endpoint URL] "
         "[--console-url URL]\n"
         "                          [--region REGION] [--force]\n"
         "\n"
         "Prepares offcloud for a class: one AWS account per student, each with its own\n"
         "root key, which sees only that account. Writes DIR/classroom.json (start offcloud\n"
         "with --config on it) and DIR/classroom.html (a sheet to print, one card each).\n"
         "\n"
         "  --students N       how many students, 1 to 500\n"
         "  --out DIR          where to write the two files (default ., created if missing)\n"
         "  --endpoint URL     the address students use, e.g. http://10.0.0.5:4566\n"
         "                     (default http://127.0.0.1:4566: this machine only)\n"
         "  --console-url URL  the web console (default <endpoint>/_offcloud/console/)\n"
         "  --region REGION    the region on the sheet (default ap-northeast-1)\n"
         "  --force            replace existing files; sheets already printed stop working\n";
}

int parse_students(const std::string& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 ||
      value > kMaxClassroomStudents) {
    throw UsageError("--students: '" + text + "' is not a number from 1 to " +
                     std::to_string(kMaxClassroomStudents));
  }
  return value;
}

Options parse_options(const std::vector<std::string>& args) {
  Options options;
  bool have_students = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      options.help = true;
      continue;
    }
    if (!arg.starts_with("--")) throw UsageError("unexpected argument '" + args[i] + "'");
    std::size_t eq = arg.find('=');
    std::string name(arg.substr(2, eq == std::string_view::npos ? arg.npos : eq - 2));
    if (name == "force") {
      if (eq != std::string_view::npos) throw UsageError("--force takes no value");
      options.force = true;
      continue;
    }
    if (name != "students" && name != "out" && name != "endpoint" && name != "console-url" &&
        name != "region") {
      throw UsageError("unknown option '--" + name + "'");
    }
    std::string value;
    if (eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw UsageError("option '--" + name + "' needs a value");
    }
    if (name == "students") {
      options.students = parse_students(value);
      have_students = true;
    } else if (name == "out") {
      if (value.empty()) throw UsageError("--out: needs a directory");
      options.out_dir = value;
    } else if (name == "endpoint") {
      options.endpoint = value;
    } else if (name == "console-url") {
      if (value.empty()) throw UsageError("--console-url: needs a URL");
      options.console_url = value;
    } else {
      options.region = value;
    }
  }
  if (options.help) return options;
  if (!have_students) throw UsageError("--students N is required");
  // A typo here would be printed on every card; the SDKs would refuse it.
  if (!(options.endpoint.starts_with("http://") || options.endpoint.starts_with("https://")) ||
      options.endpoint.find_first_of(" \t\r\n") != std::string::npos ||
      options.endpoint.size() <= std::string_view("https://").size()) {
    throw UsageError("--endpoint: '" + options.endpoint +
                     "' is not an http:// or https:// URL, e.g. http://10.0.0.5:4566");
  }
  if (options.region.empty() || options.region.find_first_not_of(
                                    "abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
    throw UsageError("--region: '" + options.region + "' is not a region, e.g. ap-northeast-1");
  }
  return options;
}

// host[:port] of a URL, between "://" and the path.
std::string_view authority(std::string_view url) {
  std::size_t start = url.find("://");
  start = start == url.npos ? 0 : start + 3;
  std::size_t end = url.find_first_of("/?#", start);
  return url.substr(start, end == url.npos ? url.npos : end - start);
}

// The port written in the endpoint, if any, so the start command listens
// where the sheets point.
std::string explicit_port(std::string_view url) {
  std::string_view host_port = authority(url);
  std::size_t bracket = host_port.rfind(']');  // [::1]:4566
  std::size_t colon = host_port.rfind(':');
  if (colon == host_port.npos || (bracket != host_port.npos && colon < bracket)) return "";
  std::string_view port = host_port.substr(colon + 1);
  if (port.empty() || port.find_first_not_of("0123456789") != port.npos) return "";
  return std::string(port);
}

bool is_loopback(std::string_view url) {
  std::string_view host = authority(url);
  return host.starts_with("127.") || host == "localhost" || host.starts_with("localhost:") ||
         host.starts_with("[::1]");
}

std::string today() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &local);
  return text;
}

bool occupied(const std::filesystem::path& path) {
  std::error_code ec;
  // symlink_status: a dangling link is still something not to replace.
  return std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

void secure_random_bytes(unsigned char* out, std::size_t size) {
  while (size > 0) {
    int chunk = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
    if (RAND_bytes(out, chunk) != 1) {
      throw std::runtime_error("OpenSSL has no strong random source (RAND_bytes failed)");
    }
    out += chunk;
    size -= static_cast<std::size_t>(chunk);
  }
}

std::vector<StudentAccount> make_student_accounts(int students, const RandomBytes& random_bytes) {
  if (students < 1 || students > kMaxClassroomStudents) {
    throw std::invalid_argument("students must be from 1 to " +
                                std::to_string(kMaxClassroomStudents));
  }
  const std::size_t width = std::max<std::size_t>(2, std::to_string(students).size());
  Draw draw(random_bytes);
  std::set<std::string> ids, key_ids;
  std::vector<StudentAccount> accounts;
  accounts.reserve(students);
  for (int i = 1; i <= students; ++i) {
    StudentAccount account;
    std::string number = std::to_string(i);
    account.name = "student" + std::string(width - number.size(), '0') + number;
    // A first digit other than 0 keeps clear of 000000000000, the built-in
    // account, and of ids a spreadsheet would shorten.
    account.account_id = distinct(ids, [&] {
      std::string id(1, draw.from(kDigits.substr(1)));
      return id + draw.string(kDigits, 11);
    });
    account.access_key_id =
        distinct(key_ids, [&] { return "AKIA" + draw.string(kKeyIdChars, 16); });
    account.secret_access_key = draw.string(kSecretChars, 40);
    accounts.push_back(std::move(account));
  }
  return accounts;
}

std::string classroom_config_json(const std::vector<StudentAccount>& accounts) {
  // ordered_json: each account reads id, name, key, secret, in the order
  // a teacher looking into the file expects.
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const StudentAccount& account : accounts) {
    list.push_back({{"id", account.account_id},
                    {"name", account.name},
                    {"root_access_key_id", account.access_key_id},
                    {"root_secret_access_key", account.secret_access_key}});
  }
  nlohmann::ordered_json document = {{"accounts", std::move(list)}};
  return document.dump(2) + "\n";
}

std::string classroom_sheet_html(const std::vector<StudentAccount>& accounts,
                                 const ClassroomSheetOptions& options) {
  std::string title = "offcloud classroom: " + std::to_string(accounts.size()) +
                      (accounts.size() == 1 ? " student" : " students");
  if (!options.date.empty()) title += ", " + options.date;
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<title>" + xml_escape(title) + "</title>\n<style>\n" + kStyle + "</style>\n";
  html += "</head>\n<body>\n<h1>" + xml_escape(title) + "</h1>\n<div class=\"cards\">\n";
  for (const StudentAccount& account : accounts) {
    html += "<div class=\"card\">\n<h2>" + xml_escape(account.name) + "</h2>\n<table>\n";
    html += row("Account ID", account.account_id);
    html += row("Access key ID", account.access_key_id);
    html += row("Secret access key", account.secret_access_key);
    html += row("Region", options.region);
    html += row("Endpoint", options.endpoint);
    html += row("Console", options.console_url);
    html += "</table>\n<p>In a terminal, type these two commands (each on one line):</p>\n";
    html += "<code>" +
            xml_escape("export AWS_ACCESS_KEY_ID=" + shell_word(account.access_key_id) +
                       " AWS_SECRET_ACCESS_KEY=" + shell_word(account.secret_access_key)) +
            "</code>\n";
    html += "<code>" +
            xml_escape("export AWS_DEFAULT_REGION=" + shell_word(options.region) +
                       " AWS_ENDPOINT_URL=" + shell_word(options.endpoint)) +
            "</code>\n";
    html += "<p>This key sees only your own account. Keep the secret to yourself.</p>\n</div>\n";
  }
  html += "</div>\n</body>\n</html>\n";
  return html;
}

int run_classroom(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Options options;
  try {
    options = parse_options(args);
  } catch (const UsageError& e) {
    err << "offcloud classroom: " << e.what() << "\n\n" << classroom_usage();
    return 2;
  }
  if (options.help) {
    out << classroom_usage();
    return 0;
  }

  namespace fs = std::filesystem;
  const fs::path dir = options.out_dir;
  const fs::path config_path = dir / kConfigName;
  const fs::path sheet_path = dir / kSheetName;
  if (!options.force) {
    std::vector<std::string> present;
    for (const fs::path& path : {config_path, sheet_path}) {
      if (occupied(path)) present.push_back(path.string());
    }
    if (!present.empty()) {
      err << "offcloud classroom: " << present[0]
          << (present.size() > 1 ? " and " + present[1] + " already exist"
                                 : std::string(" already exists"))
          << "; new accounts would make the sheets already printed useless.\n"
             "Use --force to replace them, or --out to write elsewhere.\n";
      return 2;
    }
  }

  fs::path config_tmp = config_path, sheet_tmp = sheet_path;
  config_tmp += ".tmp";
  sheet_tmp += ".tmp";
  try {
    std::string console_url = options.console_url.value_or(
        (options.endpoint.ends_with('/') ? options.endpoint.substr(0, options.endpoint.size() - 1)
                                         : options.endpoint) +
        "/_offcloud/console/");
    std::vector<StudentAccount> accounts = make_student_accounts(options.students);
    ClassroomSheetOptions sheet{options.endpoint, console_url, options.region, today()};

    fs::create_directories(dir);
    // Both written aside, then renamed in place: a failed write (a full
    // disk) leaves no half-written file, and the old ones, if any, whole.
    write_file(config_tmp, classroom_config_json(accounts));
    write_file(sheet_tmp, classroom_sheet_html(accounts, sheet));
    fs::rename(sheet_tmp, sheet_path);
    fs::rename(config_tmp, config_path);

    std::string start = "offcloud --config " + shell_word(config_path.string()) + " --host 0.0.0.0";
    std::string port = explicit_port(options.endpoint);
    if (!port.empty() && port != "4566") start += " --port " + port;
    out << "Wrote " << accounts.size() << (accounts.size() == 1 ? " account" : " accounts")
        << ", one per student:\n"
        << "  " << config_path.string()
        << "  the config: every account and its root key (keep it private)\n"
        << "  " << sheet_path.string() << "  the sheet to print, one card per student\n\n"
        << "Start offcloud with it:\n"
        << "  " << start << "\n\n"
        << "Each key sees only its own account; students reach it at " << options.endpoint << ".\n";
    if (is_loopback(options.endpoint)) {
      out << "Note: " << options.endpoint
          << " is this machine only; for students' machines, run again with\n"
             "--endpoint http://<this machine's address>:4566 --force before printing.\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::error_code ignored;
    fs::remove(config_tmp, ignored);
    fs::remove(sheet_tmp, ignored);
    err << "offcloud classroom: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace offcloud

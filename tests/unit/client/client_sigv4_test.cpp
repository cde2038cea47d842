// The client's signer (client/sigv4_signer.h) against the AWS SigV4 test
// suite (tests/data/sigv4): it must build every case's canonical request,
// string to sign and signature from the unsigned request alone. Then requests
// the client signs are put through the server's verifier: the two share only
// storage/digest.h, so agreement means both read AWS's rules the same way.
#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "client/iot_data_client.h"
#include "client/s3_client.h"
#include "client/sigv4_signer.h"
#include "client/uri_encoding.h"
#include "emulator/auth/sigv4_verifier.h"

namespace offcloud::client {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

Fields parse_query_string(std::string_view query) {
  Fields fields;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    std::size_t equals = pair.find('=');
    fields.emplace_back(
        percent_decode(pair.substr(0, equals)),
        equals == std::string_view::npos ? "" : percent_decode(pair.substr(equals + 1)));
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
  }
  return fields;
}

// The suite's request files: "METHOD target HTTP/1.1" (the target may hold
// spaces and raw UTF-8), Name:value lines with obsolete folding, a blank
// line, a body.
Request parse_request(const std::string& text) {
  Request request;
  std::size_t line_end = text.find('\n');
  std::string line = text.substr(0, line_end);
  std::size_t first = line.find(' '), last = line.rfind(' ');
  request.method = line.substr(0, first);
  std::string target = line.substr(first + 1, last - first - 1);
  std::size_t question = target.find('?');
  request.path = target.substr(0, question);
  if (question != std::string::npos)
    request.query = parse_query_string(target.substr(question + 1));
  std::size_t pos = line_end + 1;
  while (pos < text.size()) {
    line_end = text.find('\n', pos);
    if (line_end == std::string::npos) line_end = text.size();
    line = text.substr(pos, line_end - pos);
    pos = line_end + 1;
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') {
      request.headers.back().second += " " + line.substr(line.find_first_not_of(" \t"));
    } else {
      std::size_t colon = line.find(':');
      request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
    }
  }
  if (pos < text.size()) request.body = text.substr(pos);
  return request;
}

std::chrono::system_clock::time_point parse_iso8601(const std::string& iso) {
  std::tm tm{};
  std::istringstream in(iso);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

struct Case {
  std::string name;
  fs::path dir;
  nlohmann::json context;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  fs::path root = OFFCLOUD_SIGV4_VECTORS;
  for (const char* group : {"v4", "extra/s3-doc-examples", "extra/botocore-generated"}) {
    for (const auto& entry : fs::directory_iterator(root / group)) {
      cases.push_back({entry.path().filename().string(), entry.path(),
                       nlohmann::json::parse(read_file(entry.path() / "context.json"))});
    }
  }
  std::sort(cases.begin(), cases.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return cases;
}

std::vector<Case> cases_with(const std::string& file) {
  std::vector<Case> out;
  for (const Case& c : all_cases()) {
    if (fs::exists(c.dir / file)) out.push_back(c);
  }
  return out;
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.name;
  for (char& ch : name) {
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

// The suite's signing parameters, as the client's signer takes them.
SigV4Signer signer_for(const nlohmann::json& context) {
  const auto& credentials = context["credentials"];
  Credentials key{credentials["access_key_id"], credentials["secret_access_key"],
                  credentials.value("token", "")};
  PathRules rules{.normalize = context.value("normalize", true),
                  .encode = context.value("double_uri_encode", true)};
  return SigV4Signer(key, context["region"], context["service"], rules);
}

SignOptions options_for(const nlohmann::json& context) {
  SignOptions options;
  options.content_sha256_header = context.value("sign_body", false);
  options.sign_session_token = !context.value("omit_session_token", false);
  return options;
}

Fields sorted(Fields fields) {
  std::sort(fields.begin(), fields.end());
  return fields;
}

class SuiteCase : public ::testing::TestWithParam<Case> {
 protected:
  void expect_steps(const SigningResult& result, const std::string& variant) {
    const fs::path& dir = GetParam().dir;
    EXPECT_EQ(result.canonical_request, read_file(dir / (variant + "-canonical-request.txt")));
    EXPECT_EQ(result.string_to_sign, read_file(dir / (variant + "-string-to-sign.txt")));
    EXPECT_EQ(result.signature, read_file(dir / (variant + "-signature.txt")));
  }
};

class HeaderSigning : public SuiteCase {};
class QuerySigning : public SuiteCase {};

TEST_P(HeaderSigning, ReproducesTheSuite) {
  const Case& c = GetParam();
  Request request = parse_request(read_file(c.dir / "request.txt"));
  SigningResult result = signer_for(c.context).sign(&request, parse_iso8601(c.context["timestamp"]),
                                                    options_for(c.context));
  expect_steps(result, "header");

  // The request as sent carries the same headers as the suite's signed one;
  // AWS's S3 examples separate the Authorization parts with "," alone.
  Request expected = parse_request(read_file(c.dir / "header-signed-request.txt"));
  auto lowered = [](Fields fields) {
    for (auto& [name, value] : fields) {
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      if (name == "authorization") value = std::regex_replace(value, std::regex(", ?"), ", ");
    }
    return sorted(fields);
  };
  EXPECT_EQ(lowered(request.headers), lowered(expected.headers));
}

TEST_P(QuerySigning, ReproducesTheSuite) {
  const Case& c = GetParam();
  Request request = parse_request(read_file(c.dir / "request.txt"));
  SignOptions options = options_for(c.context);
  if (c.context["service"] == "s3") options.payload_hash = "UNSIGNED-PAYLOAD";
  SigningResult result = signer_for(c.context).presign(
      &request, parse_iso8601(c.context["timestamp"]),
      std::chrono::seconds(c.context["expiration_in_seconds"]), options);
  expect_steps(result, "query");

  Request expected = parse_request(read_file(c.dir / "query-signed-request.txt"));
  EXPECT_EQ(sorted(request.query), sorted(expected.query));
  // X-Amz-Signature goes last, whatever else the URL carries.
  ASSERT_FALSE(request.query.empty());
  EXPECT_EQ(request.query.back().first, "X-Amz-Signature");
  // What goes on the wire parses back to the same parameters.
  std::string target = request.target();
  EXPECT_EQ(sorted(parse_query_string(target.substr(target.find('?') + 1))), sorted(request.query));
}

INSTANTIATE_TEST_SUITE_P(Vectors, HeaderSigning,
                         ::testing::ValuesIn(cases_with("header-canonical-request.txt")),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Vectors, QuerySigning,
                         ::testing::ValuesIn(cases_with("query-canonical-request.txt")), case_name);

TEST(SuiteCoverage, EveryCaseAndVariantRuns) {
  EXPECT_EQ(all_cases().size(), 38u + 5u + 1u);
  // v4/: both variants; S3 examples: one each; the botocore case: header.
  EXPECT_EQ(cases_with("header-canonical-request.txt").size(), 38u + 4u + 1u);
  EXPECT_EQ(cases_with("query-canonical-request.txt").size(), 38u + 1u);
}

TEST(CanonicalPath, NormalizesAndEncodesOnlyOutsideS3) {
  EXPECT_EQ(normalize_path("/a/./b/../c//d/"), "/a/c/d/");
  EXPECT_EQ(normalize_path("/a/b/.."), "/a/");
  EXPECT_EQ(normalize_path("/.."), "/");
  EXPECT_EQ(normalize_path(""), "/");
  EXPECT_EQ(canonical_path("/topics/handson%2FanalysisLogData", path_rules_for("iotdata")),
            "/topics/handson%252FanalysisLogData");
  EXPECT_EQ(canonical_path("/bucket/a%20b/../c", path_rules_for("s3")), "/bucket/a%20b/../c");
}

TEST(CanonicalQuery, SortsEncodedNamesThenValues) {
  EXPECT_EQ(canonical_query_string({{"b", "2"}, {"a", "y z"}, {"a", "x/+"}, {"flag", ""}}),
            "a=x%2F%2B&a=y%20z&b=2&flag=");
}

TEST(Signer, RefusesARequestWithoutHost) {
  Request request;
  request.method = "GET";
  SigV4Signer signer({"AKID", "secret", ""}, "us-east-1", "s3");
  EXPECT_THROW(signer.sign(&request, std::chrono::system_clock::now()), std::invalid_argument);
}

// ---- the client's requests through the server's verifier ----

constexpr const char* kKey = "AKIDCLIENTTEST";
constexpr const char* kSecret = "client/secret+key";

class AgainstServerVerifier : public ::testing::Test {
 protected:
  void SetUp() override { store_.add_user_key("device", kKey, kSecret); }

  // Turns the client's request into what the server parses off the wire.
  static HttpRequest as_received(const Request& sent) {
    HttpRequest received;
    received.method = sent.method;
    received.target = sent.target();
    split_target(&received);
    for (const auto& [name, value] : sent.headers) received.headers.add(name, value);
    received.body = sent.body;
    return received;
  }

  std::optional<AuthFailure> verify(const Request& sent, bool s3) {
    HttpRequest received = as_received(sent);
    auto query = parse_query(received.query);
    EXPECT_TRUE(query) << received.target;
    if (!query) return AuthFailure{AuthFailureKind::kMalformed, "bad query", {}, {}, {}};
    ParsedAuth auth = parse_sigv4(received, *query);
    EXPECT_EQ(auth.state, ParsedAuth::State::kSigned) << auth.error;
    SigV4Verifier verifier(store_, [this] { return now_; });
    Principal principal;
    return verifier.verify(received, *query, auth.params, s3, &principal);
  }

  Request with_host(Request request) {
    request.set_header("Host", "127.0.0.1:4566");
    return request;
  }

  void expect_accepted(const Request& sent, bool s3) {
    auto failure = verify(sent, s3);
    EXPECT_FALSE(failure) << failure->message << "\nserver canonical request:\n"
                          << failure->canonical_request;
  }

  CredentialStore store_;
  std::chrono::system_clock::time_point now_ = parse_iso8601("2026-11-27T07:00:00Z");
  SigV4Signer iotdata_{{kKey, kSecret, ""}, "ap-northeast-1", "iotdata"};
  SigV4Signer s3_{{kKey, kSecret, ""}, "ap-northeast-1", "s3"};
};

TEST_F(AgainstServerVerifier, IotPublishToTopicsWithSlashesSpacesAndUnicode) {
  for (const char* topic : {"handson/analysisLogData", "a b/ü/x=y&z", "$aws/rules/r/t", "~._-"}) {
    Request request = with_host(publish_request(topic, "{\"face_id\": 0}", 1, true));
    iotdata_.sign(&request, now_);
    expect_accepted(request, false);
  }
}

TEST_F(AgainstServerVerifier, S3PutAndGetOfAwkwardKeys) {
  for (const char* key : {"plain.txt", "dir/a b+c=ü~.txt", "x/../y//z", "%41"}) {
    Request put = with_host(put_object_request("bucket", key, "hello"));
    s3_.sign(&put, now_, s3_sign_options());
    expect_accepted(put, true);
    Request get = with_host(get_object_request("bucket", key));
    get.headers.emplace_back("Range", "bytes=0-1");
    s3_.sign(&get, now_, s3_sign_options());
    expect_accepted(get, true);
  }
}

TEST_F(AgainstServerVerifier, QueryParametersAndRepeatedHeaders) {
  Request list = with_host({});
  list.method = "GET";
  list.path = "/bucket";
  list.query = {{"list-type", "2"}, {"prefix", "a b/+"}, {"delimiter", "/"}, {"fetch-owner", ""}};
  list.headers.emplace_back("X-Custom", "  two   spaces ");
  list.headers.emplace_back("x-custom", "second");
  s3_.sign(&list, now_, s3_sign_options());
  expect_accepted(list, true);
}

TEST_F(AgainstServerVerifier, FirehoseJson) {
  Request request = with_host({});
  request.method = "POST";
  request.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
  request.headers.emplace_back("X-Amz-Target", "Firehose_20150804.PutRecordBatch");
  request.body = R"({"DeliveryStreamName":"s","Records":[{"Data":"eyJhIjoxfQo="}]})";
  SigV4Signer firehose({kKey, kSecret, ""}, "ap-northeast-1", "firehose");
  firehose.sign(&request, now_);
  expect_accepted(request, false);
}

TEST_F(AgainstServerVerifier, PresignedUrls) {
  Request get = with_host(get_object_request("bucket", "dir/report 1.csv"));
  SignOptions unsigned_payload;
  unsigned_payload.payload_hash = "UNSIGNED-PAYLOAD";
  s3_.presign(&get, now_, std::chrono::seconds(300), unsigned_payload);
  expect_accepted(get, true);

  Request publish = with_host(publish_request("handson/analysisLogData", "{}", 0, false));
  iotdata_.presign(&publish, now_, std::chrono::seconds(60));
  expect_accepted(publish, false);
}

TEST_F(AgainstServerVerifier, SessionTokens) {
  Credential temporary;
  temporary.secret_access_key = "tmp-secret";
  temporary.session_token = "token/with+chars==";
  store_.add("ASIATEMPORARY", temporary);
  SigV4Signer signer({"ASIATEMPORARY", "tmp-secret", "token/with+chars=="}, "us-east-1", "iotdata");
  Request header = with_host(publish_request("t", "x", 0, false));
  signer.sign(&header, now_);
  expect_accepted(header, false);
  Request query = with_host(publish_request("t", "x", 0, false));
  signer.presign(&query, now_, std::chrono::seconds(60));
  expect_accepted(query, false);
}

// The checks above can fail: a wrong secret, or a byte changed after signing,
// is refused.
TEST_F(AgainstServerVerifier, WrongSecretAndTamperingAreRefused) {
  SigV4Signer wrong({kKey, "not-the-secret", ""}, "ap-northeast-1", "iotdata");
  Request request = with_host(publish_request("t", "x", 0, false));
  wrong.sign(&request, now_);
  auto failure = verify(request, false);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, AuthFailureKind::kSignatureMismatch);

  Request tampered = with_host(publish_request("t", "x", 0, false));
  iotdata_.sign(&tampered, now_);
  tampered.query[0].second = "1";
  failure = verify(tampered, false);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, AuthFailureKind::kSignatureMismatch);
}

}  // namespace
}  // namespace offcloud::client

// Runs every case of the AWS Signature V4 test suite (tests/data/sigv4)
// through the canonicalization functions and through SigV4Verifier, then
// checks the ways a verifier must say no.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "emulator/auth/signature_v2.h"
#include "emulator/auth/sigv4_verifier.h"

namespace offcloud {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Parses the suite's request files: "METHOD target HTTP/1.1" (the target may
// hold spaces), Name:value lines with obsolete folding, a blank line, a body.
HttpRequest parse_request(const std::string& text) {
  HttpRequest request;
  std::size_t line_end = text.find('\n');
  std::string line = text.substr(0, line_end);
  std::size_t first = line.find(' '), last = line.rfind(' ');
  request.method = line.substr(0, first);
  request.target = line.substr(first + 1, last - first - 1);
  split_target(&request);
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t pos = line_end + 1;
  while (pos < text.size()) {
    line_end = text.find('\n', pos);
    if (line_end == std::string::npos) line_end = text.size();
    line = text.substr(pos, line_end - pos);
    pos = line_end + 1;
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') {
      fields.back().second += " " + line.substr(line.find_first_not_of(" \t"));
    } else {
      std::size_t colon = line.find(':');
      fields.emplace_back(line.substr(0, colon), line.substr(colon + 1));
    }
  }
  for (auto& [name, value] : fields) request.headers.add(name, value);
  if (pos < text.size()) request.body = text.substr(pos);
  return request;
}

struct Case {
  std::string name;
  fs::path dir;
  nlohmann::json context;
  bool s3;  // signed with S3's rules: the wire path, not normalized
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  fs::path root = OFFCLOUD_SIGV4_VECTORS;
  for (const char* group : {"v4", "extra/s3-doc-examples", "extra/botocore-generated"}) {
    for (const auto& entry : fs::directory_iterator(root / group)) {
      nlohmann::json context = nlohmann::json::parse(read_file(entry.path() / "context.json"));
      cases.push_back({entry.path().filename().string(), entry.path(), context,
                       !context.value("normalize", true)});
    }
  }
  std::sort(cases.begin(), cases.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return cases;
}

std::chrono::system_clock::time_point case_time(const nlohmann::json& context) {
  std::string iso = context["timestamp"];  // 2015-08-30T12:36:00Z
  std::string amz = iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2) + "T" +
                    iso.substr(11, 2) + iso.substr(14, 2) + iso.substr(17, 2) + "Z";
  return *parse_amz_date(amz);
}

// The wire form of a v4/ request: the suite's paths are raw, and an S3
// client percent-encodes them once before sending.
void to_wire(const Case& c, HttpRequest* request) {
  bool raw_path = c.dir.parent_path().filename() == "v4";
  if (c.s3 && raw_path) {
    request->path = uri_encode(request->path, /*keep_slash=*/true);
  }
  if (c.s3 && raw_path && !request->headers.find("x-amz-content-sha256")) {
    // S3 takes the payload hash from this header; unsigned, it does not
    // change the canonical request.
    request->headers.add("x-amz-content-sha256", sha256_hex(request->body));
  }
}

class SigV4Suite : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const auto& credentials = GetParam().context["credentials"];
    Credential credential;
    credential.secret_access_key = credentials["secret_access_key"];
    if (credentials.contains("token")) credential.session_token = credentials["token"];
    credential.principal.arn = "arn:aws:iam::000000000000:user/example";
    store_.add(credentials["access_key_id"], credential);
  }

  // Checks canonical request, string to sign and signature for one variant
  // ("header" or "query"), then that the verifier accepts the signed request.
  void check_variant(const std::string& variant) {
    const Case& c = GetParam();
    HttpRequest request = parse_request(read_file(c.dir / (variant + "-signed-request.txt")));
    to_wire(c, &request);
    auto query = parse_query(request.query);
    ASSERT_TRUE(query);
    ParsedAuth auth = parse_sigv4(request, *query);
    ASSERT_EQ(auth.state, ParsedAuth::State::kSigned) << auth.error;
    EXPECT_EQ(auth.params.presigned, variant == "query");
    EXPECT_EQ(auth.params.signature, read_file(c.dir / (variant + "-signature.txt")));

    std::string expected_canonical = read_file(c.dir / (variant + "-canonical-request.txt"));
    CanonicalRequestParts parts;
    parts.method = request.method;
    parts.uri = canonical_uri(request.path, c.s3);
    bool token_unsigned = c.context.value("omit_session_token", false);
    parts.query = canonical_query(*query, auth.params.presigned ? "X-Amz-Signature" : "",
                                  token_unsigned ? "X-Amz-Security-Token" : "");
    parts.headers = canonical_headers(request.headers, auth.params.signed_headers);
    for (const auto& name : auth.params.signed_headers) {
      parts.signed_headers += (parts.signed_headers.empty() ? "" : ";") + name;
    }
    std::string payload_hash = *signed_payload_hash(request, c.s3, auth.params.presigned);
    parts.payload_hash = payload_hash;
    std::string canonical = canonical_request(parts);
    EXPECT_EQ(canonical, expected_canonical);
    std::string to_sign = string_to_sign(auth.params.amz_date, auth.params.scope(), canonical);
    EXPECT_EQ(to_sign, read_file(c.dir / (variant + "-string-to-sign.txt")));
    Sha256 key =
        derive_signing_key(c.context["credentials"]["secret_access_key"].get<std::string>(),
                           auth.params.date, auth.params.region, auth.params.service);
    EXPECT_EQ(compute_signature(key, to_sign), auth.params.signature);

    SigV4Verifier verifier(store_, [&] { return case_time(c.context); });
    Principal principal;
    auto failure = verifier.verify(request, *query, auth.params, c.s3, &principal);
    EXPECT_FALSE(failure) << failure->message << "\n" << failure->canonical_request;
    EXPECT_EQ(principal.arn, "arn:aws:iam::000000000000:user/example");
  }

  CredentialStore store_;
};

class HeaderSigned : public SigV4Suite {};
class Presigned : public SigV4Suite {};
class S3Path : public SigV4Suite {};
TEST_P(HeaderSigned, Verifies) {
  check_variant("header");
}
TEST_P(Presigned, Verifies) {
  check_variant("query");
}

// S3 signs the wire path as sent. Encoding a v4/ path once gives the
// suite's canonical path in every case without dot segments or "//".
TEST_P(S3Path, CanonicalPathIsTheWirePath) {
  const Case& c = GetParam();
  HttpRequest request = parse_request(read_file(c.dir / "request.txt"));
  std::string wire = uri_encode(request.path, true);
  std::string expected = read_file(c.dir / "header-canonical-request.txt");
  std::string expected_uri = expected.substr(expected.find('\n') + 1);
  expected_uri = expected_uri.substr(0, expected_uri.find('\n'));
  bool has_dots =
      request.path.find("/.") != std::string::npos || request.path.find("//") != std::string::npos;
  if (has_dots && !c.s3) {
    EXPECT_NE(canonical_uri(wire, /*s3=*/true), expected_uri);
  } else {
    EXPECT_EQ(canonical_uri(wire, /*s3=*/true), expected_uri);
  }
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

INSTANTIATE_TEST_SUITE_P(Vectors, HeaderSigned,
                         ::testing::ValuesIn(cases_with("header-signed-request.txt")), case_name);
INSTANTIATE_TEST_SUITE_P(Vectors, Presigned,
                         ::testing::ValuesIn(cases_with("query-signed-request.txt")), case_name);
// Only v4/ paths are raw; extra/ cases are already in wire form.
std::vector<Case> v4_cases() {
  std::vector<Case> out;
  for (const Case& c : all_cases()) {
    if (c.dir.parent_path().filename() == "v4") out.push_back(c);
  }
  return out;
}
INSTANTIATE_TEST_SUITE_P(Vectors, S3Path, ::testing::ValuesIn(v4_cases()), case_name);

TEST(SigV4SuiteCoverage, HasEveryCase) {
  EXPECT_EQ(all_cases().size(), 38u + 5u + 1u);
}

// The iot-data hands-on topic travels as %2F and is signed as %252F.
TEST(CanonicalUri, NonS3ServicesEncodeTheWirePathAgain) {
  EXPECT_EQ(canonical_uri("/topics/handson%2FanalysisLogData", false),
            "/topics/handson%252FanalysisLogData");
  EXPECT_EQ(canonical_uri("/topics/handson%2FanalysisLogData", true),
            "/topics/handson%2FanalysisLogData");
  EXPECT_EQ(canonical_uri("", false), "/");
}

// Signs requests the way a client does, to check each refusal.
class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override { store_.add_user_key("device", "AKIDDEVICE", "device-secret"); }

  HttpRequest sign(std::string key, std::string secret, std::chrono::system_clock::time_point at,
                   std::string body = "{\"a\":1}") {
    HttpRequest request;
    request.method = "POST";
    request.target = "/topics/handson%2FanalysisLogData?qos=1";
    split_target(&request);
    request.body = std::move(body);
    std::string amz_date = format_amz_date(at);
    request.headers.add("Host", "127.0.0.1:4566");
    request.headers.add("X-Amz-Date", amz_date);
    SigV4Params params;
    params.access_key_id = key;
    params.date = amz_date.substr(0, 8);
    params.region = "ap-northeast-1";
    params.service = "iotdata";
    params.terminator = "aws4_request";
    CanonicalRequestParts parts;
    parts.method = request.method;
    parts.uri = canonical_uri(request.path, false);
    parts.query = canonical_query(*parse_query(request.query), "");
    parts.headers = canonical_headers(request.headers, {"host", "x-amz-date"});
    parts.signed_headers = "host;x-amz-date";
    std::string payload_hash = sha256_hex(request.body);
    parts.payload_hash = payload_hash;
    std::string signature =
        compute_signature(derive_signing_key(secret, params.date, params.region, params.service),
                          string_to_sign(amz_date, params.scope(), canonical_request(parts)));
    request.headers.add("Authorization",
                        "AWS4-HMAC-SHA256 Credential=" + key + "/" + params.scope() +
                            ", SignedHeaders=host;x-amz-date, Signature=" + signature);
    return request;
  }

  std::optional<AuthFailure> verify(const HttpRequest& request) {
    auto query = parse_query(request.query);
    ParsedAuth auth = parse_sigv4(request, *query);
    EXPECT_EQ(auth.state, ParsedAuth::State::kSigned) << auth.error;
    SigV4Verifier verifier(store_, [this] { return now_; });
    Principal principal;
    return verifier.verify(request, *query, auth.params, false, &principal);
  }

  CredentialStore store_;
  std::chrono::system_clock::time_point now_ = *parse_amz_date("20261127T070000Z");
};

TEST_F(VerifierTest, AcceptsRootAndConfiguredUsers) {
  EXPECT_FALSE(verify(sign("test", "test", now_)));
  EXPECT_FALSE(verify(sign("AKIDDEVICE", "device-secret", now_)));
}

TEST_F(VerifierTest, WrongSecretIsASignatureMismatch) {
  auto failure = verify(sign("AKIDDEVICE", "wrong", now_));
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, AuthFailureKind::kSignatureMismatch);
  EXPECT_NE(failure->canonical_request.find("/topics/handson%252FanalysisLogData"),
            std::string::npos);
}

TEST_F(VerifierTest, UnknownKey) {
  auto failure = verify(sign("AKIDNOBODY", "x", now_));
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, AuthFailureKind::kUnknownKey);
}

TEST_F(VerifierTest, ClockSkewBeyondFifteenMinutes) {
  EXPECT_FALSE(verify(sign("test", "test", now_ - std::chrono::minutes(14))));
  auto past = verify(sign("test", "test", now_ - std::chrono::minutes(20)));
  ASSERT_TRUE(past);
  EXPECT_EQ(past->kind, AuthFailureKind::kSkewed);
  EXPECT_EQ(past->message.rfind("Signature expired: 20261127T064000Z is now earlier than", 0), 0u)
      << past->message;
  auto future = verify(sign("test", "test", now_ + std::chrono::minutes(16)));
  ASSERT_TRUE(future);
  EXPECT_EQ(future->kind, AuthFailureKind::kSkewed);
}

TEST_F(VerifierTest, TamperedBodyAndHeader) {
  HttpRequest body = sign("test", "test", now_);
  body.body = "{\"a\":2}";
  ASSERT_TRUE(verify(body));
  EXPECT_EQ(verify(body)->kind, AuthFailureKind::kSignatureMismatch);

  HttpRequest header = sign("test", "test", now_);
  header.headers.set("Host", "evil.example:4566");
  ASSERT_TRUE(verify(header));
  EXPECT_EQ(verify(header)->kind, AuthFailureKind::kSignatureMismatch);
}

TEST_F(VerifierTest, ScopeDateMustMatchRequestDate) {
  HttpRequest request = sign("test", "test", now_);
  request.headers.set("X-Amz-Date", "20261126T070000Z");
  auto failure = verify(request);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, AuthFailureKind::kBadScope);
}

TEST_F(VerifierTest, SessionTokenMustMatchWhenTheKeyHasOne) {
  Credential temporary;
  temporary.secret_access_key = "tmp-secret";
  temporary.session_token = "token-1";
  store_.add("ASIATEMP", temporary);
  HttpRequest request = sign("ASIATEMP", "tmp-secret", now_);
  auto failure = verify(request);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, AuthFailureKind::kInvalidToken);
  request.headers.add("X-Amz-Security-Token", "token-1");
  EXPECT_FALSE(verify(request));
}

TEST_F(VerifierTest, InactiveKeyIsRefused) {
  Credential inactive = *store_.find("AKIDDEVICE");
  inactive.active = false;
  store_.add("AKIDDEVICE", inactive);
  auto failure = verify(sign("AKIDDEVICE", "device-secret", now_));
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, AuthFailureKind::kUnknownKey);
}

TEST(ParseSigV4, MalformedHeadersAreReported) {
  HttpRequest request;
  request.headers.add("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261127/x");
  request.headers.add("X-Amz-Date", "20261127T070000Z");
  EXPECT_EQ(parse_sigv4(request, {}).state, ParsedAuth::State::kMalformed);

  HttpRequest other;
  other.headers.add("Authorization", "Basic dGVzdDp0ZXN0");
  EXPECT_EQ(parse_sigv4(other, {}).state, ParsedAuth::State::kMalformed);

  HttpRequest none;
  EXPECT_EQ(parse_sigv4(none, {}).state, ParsedAuth::State::kUnsigned);
}

TEST(ParseSigV4, PresignedExpiry) {
  CredentialStore store;
  auto at = *parse_amz_date("20261127T070000Z");
  QueryParams query = {{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
                       {"X-Amz-Credential", "test/20261127/us-east-1/s3/aws4_request"},
                       {"X-Amz-Date", "20261127T070000Z"},
                       {"X-Amz-Expires", "60"},
                       {"X-Amz-SignedHeaders", "host"},
                       {"X-Amz-Signature", "00"}};
  HttpRequest request;
  request.method = "GET";
  request.path = "/bucket/key";
  request.headers.add("Host", "localhost");
  ParsedAuth auth = parse_sigv4(request, query);
  ASSERT_EQ(auth.state, ParsedAuth::State::kSigned);
  SigV4Verifier late(store, [&] { return at + std::chrono::seconds(61); });
  Principal principal;
  auto failure = late.verify(request, query, auth.params, true, &principal);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, AuthFailureKind::kExpired);
  SigV4Verifier in_time(store, [&] { return at + std::chrono::seconds(59); });
  failure = in_time.verify(request, query, auth.params, true, &principal);
  ASSERT_TRUE(failure);
  EXPECT_EQ(failure->kind, AuthFailureKind::kSignatureMismatch);
}

// Found by tests/fuzz/sigv4_fuzzer: a year past 2262 overflowed the clock's
// nanoseconds (undefined behaviour, and a wrapped date) instead of being
// refused.
TEST(ParseAmzDate, RefusesYearsTheClockCannotHold) {
  EXPECT_FALSE(parse_amz_date("25100830T123600Z"));
  EXPECT_FALSE(parse_amz_date("99991231T235959Z"));
  EXPECT_FALSE(parse_amz_date("19691231T235959Z"));
  ASSERT_TRUE(parse_amz_date("21991231T235959Z"));
  EXPECT_EQ(format_amz_date(*parse_amz_date("21991231T235959Z")), "21991231T235959Z");
}

// The same overflow in SigV2, seen while writing that fuzzer: an Expires
// centuries ahead overflowed the clock's nanoseconds; this one wrapped to
// 1970 and so was "expired".
TEST(SigV2Presigned, ExpiresFarAheadIsNotExpired) {
  CredentialStore store;
  HttpRequest request;
  request.method = "GET";
  request.path = "/bucket/key";
  request.headers.add("Host", "localhost");
  std::string expires = "18446744074";  // 2554
  std::string signature = base64_encode(hmac_sha1("test", "GET\n\n\n" + expires + "\n/bucket/key"));
  QueryParams query = {{"AWSAccessKeyId", "test"}, {"Expires", expires}, {"Signature", signature}};
  ASSERT_TRUE(is_sigv2_presigned(query));
  Principal principal;
  auto failure = verify_sigv2_presigned(request, query, store, *parse_amz_date("20261127T070000Z"),
                                        &principal);
  EXPECT_FALSE(failure) << failure->message;
  EXPECT_TRUE(principal.is_root);
}

}  // namespace
}  // namespace offcloud

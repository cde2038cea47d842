// SigV4 and SigV2 request authentication: the Authorization header and the
// presigned X-Amz-* query (parse_sigv4), the verifier's canonicalization and
// checks (SigV4Verifier, S3's rules and the others'), and S3's SigV2
// presigned query. The input is a request in the AWS SigV4 test suite's text
// form (tests/data/sigv4), so the suite's signed requests are valid seeds:
//   METHOD target HTTP/1.1
//   Name:value          (a line starting with space or tab continues a value)
//
//   body
// The keys of the suite and the S3 documentation are known to the verifier,
// and its clock is the request's own X-Amz-Date, so a seed that verifies keeps
// verifying while the fuzzer mutates around it.
#include <chrono>
#include <cstdint>
#include <string>

#include "emulator/auth/signature_v2.h"
#include "emulator/auth/sigv4_verifier.h"

namespace offcloud {
namespace {

HttpRequest parse_text_request(std::string_view text) {
  HttpRequest request;
  std::size_t line_end = std::min(text.find('\n'), text.size());
  std::string_view line = text.substr(0, line_end);
  std::size_t first = line.find(' ');
  std::size_t last = line.rfind(" HTTP/");
  request.method = std::string(line.substr(0, first));
  if (first != std::string_view::npos) {
    std::size_t end = last != std::string_view::npos && last > first ? last : line.size();
    request.target = std::string(line.substr(first + 1, end - first - 1));
  }
  split_target(&request);
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t pos = line_end + 1;
  while (pos < text.size()) {
    line_end = std::min(text.find('\n', pos), text.size());
    line = text.substr(pos, line_end - pos);
    pos = line_end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    if ((line[0] == ' ' || line[0] == '\t') && !fields.empty()) {
      fields.back().second += " ";
      fields.back().second += line.substr(std::min(line.find_first_not_of(" \t"), line.size()));
    } else {
      std::size_t colon = std::min(line.find(':'), line.size());
      fields.emplace_back(line.substr(0, colon), line.substr(std::min(colon + 1, line.size())));
    }
  }
  for (auto& [name, value] : fields) request.headers.add(std::move(name), std::move(value));
  if (pos < text.size()) request.body = std::string(text.substr(pos));
  return request;
}

CredentialStore* make_credentials() {
  auto* store = new CredentialStore();  // holds test/test
  Credential suite;
  suite.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  suite.principal.arn = "arn:aws:iam::000000000000:user/suite";
  store->add("AKIDEXAMPLE", suite);
  Credential s3_docs;
  s3_docs.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  s3_docs.principal.arn = "arn:aws:iam::000000000000:user/s3-docs";
  store->add("AKIAIOSFODNN7EXAMPLE", s3_docs);
  Credential with_token = suite;
  with_token.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
  store->add("ASIDEXAMPLE", with_token);
  return store;
}

std::chrono::system_clock::time_point now_for_request;

}  // namespace
}  // namespace offcloud

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace offcloud;
  static CredentialStore* credentials = make_credentials();
  static SigV4Verifier* verifier = new SigV4Verifier(*credentials, [] { return now_for_request; });

  HttpRequest request =
      parse_text_request(std::string_view(reinterpret_cast<const char*>(data), size));
  // What every service's path handling sees, signed or not.
  canonical_uri(request.path, true);
  canonical_uri(request.path, false);
  s3_virtual_host_bucket(request.headers.get("host"));
  std::optional<QueryParams> query = parse_query(request.query);
  if (!query) return 0;

  ParsedAuth auth = parse_sigv4(request, *query);
  if (auth.state == ParsedAuth::State::kSigned) {
    auto signed_at = parse_amz_date(auth.params.amz_date);
    now_for_request = signed_at.value_or(std::chrono::system_clock::time_point{});
    for (bool s3 : {false, true}) {
      Principal principal;
      ChunkSigning signing;
      verifier->verify(request, *query, auth.params, s3, &principal, &signing);
    }
  }
  if (is_sigv2_presigned(*query)) {
    Principal principal;
    // Early enough that the examples' Expires (2007 and later) are current.
    verify_sigv2_presigned(request, *query, *credentials,
                           std::chrono::system_clock::from_time_t(1'000'000'000), &principal);
  }
  return 0;
}

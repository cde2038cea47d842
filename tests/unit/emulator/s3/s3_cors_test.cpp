#include "emulator/s3/s3_cors.h"

#include <gtest/gtest.h>

namespace offcloud::s3 {
namespace {

std::string config(const std::string& rules) {
  return "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" + rules +
         "</CORSConfiguration>";
}

constexpr const char* kRule =
    "<CORSRule><ID>app</ID><AllowedOrigin>https://app.example.com</AllowedOrigin>"
    "<AllowedOrigin>http://*.example.org</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
    "<AllowedMethod>PUT</AllowedMethod><AllowedHeader>Content-Type</AllowedHeader>"
    "<AllowedHeader>x-amz-*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>"
    "<MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>";

TEST(S3Cors, ParsesAndWritesRules) {
  std::vector<CorsRule> rules;
  ASSERT_FALSE(parse_cors(config(kRule), &rules));
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].id, "app");
  EXPECT_EQ(rules[0].allowed_origins.size(), 2u);
  EXPECT_EQ(rules[0].allowed_methods, (std::vector<std::string>{"GET", "PUT"}));
  EXPECT_EQ(rules[0].max_age_seconds, 3000);
  std::vector<CorsRule> again;
  ASSERT_FALSE(parse_cors(cors_xml(rules), &again));
  EXPECT_EQ(cors_xml(again), cors_xml(rules));
}

TEST(S3Cors, RefusesWhatS3Refuses) {
  std::vector<CorsRule> rules;
  auto code = [&](const std::string& body) {
    auto invalid = parse_cors(body, &rules);
    return invalid ? invalid->code : ErrorCode::kInternalError;
  };
  const std::string open = "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>";
  EXPECT_EQ(code(config("")), ErrorCode::kMalformedXML);
  EXPECT_EQ(code("<CORSConfiguration>"), ErrorCode::kMalformedXML);
  EXPECT_EQ(code(config("<CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>")),
            ErrorCode::kMalformedXML);
  EXPECT_EQ(code(config("<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>")),
            ErrorCode::kMalformedXML);
  EXPECT_EQ(code(config("<CORSRule>" + open + "<Bogus/></CORSRule>")), ErrorCode::kMalformedXML);
  EXPECT_EQ(code(config("<CORSRule>" + open + "<MaxAgeSeconds>x</MaxAgeSeconds></CORSRule>")),
            ErrorCode::kMalformedXML);
  EXPECT_EQ(code(config("<CORSRule><AllowedOrigin>*</AllowedOrigin>"
                        "<AllowedMethod>PATCH</AllowedMethod></CORSRule>")),
            ErrorCode::kInvalidRequest);
  EXPECT_EQ(code(config("<CORSRule><AllowedOrigin>http://*.*.com</AllowedOrigin>"
                        "<AllowedMethod>GET</AllowedMethod></CORSRule>")),
            ErrorCode::kInvalidRequest);
  EXPECT_EQ(code(config("<CORSRule>" + open + "<AllowedHeader>a*b*</AllowedHeader></CORSRule>")),
            ErrorCode::kInvalidRequest);
  std::string hundred, one_more = "<CORSRule>" + open + "</CORSRule>";
  for (int i = 0; i < 100; ++i) hundred += one_more;
  EXPECT_FALSE(parse_cors(config(hundred), &rules));
  EXPECT_EQ(code(config(hundred + one_more)), ErrorCode::kInvalidRequest);
}

TEST(S3Cors, MatchesTheFirstRuleThatAllowsEverything) {
  std::vector<CorsRule> rules;
  ASSERT_FALSE(parse_cors(
      config(std::string(kRule) +
             "<CORSRule><ID>all</ID><AllowedOrigin>*</AllowedOrigin>"
             "<AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader></CORSRule>"),
      &rules));
  auto id = [&](std::string_view origin, std::string_view method,
                std::vector<std::string> headers) {
    const CorsRule* rule = match_cors(rules, origin, method, headers);
    return rule ? rule->id : std::string("none");
  };
  EXPECT_EQ(id("https://app.example.com", "PUT", {"content-type", "X-Amz-Date"}), "app");
  EXPECT_EQ(id("http://a.b.example.org", "GET", {}), "app");
  EXPECT_EQ(id("http://example.org", "GET", {}), "all");  // "*." needs a subdomain
  EXPECT_EQ(id("https://app.example.com", "GET", {"x-custom"}), "all");
  EXPECT_EQ(id("https://app.example.com", "PUT", {"x-custom"}), "none");
  EXPECT_EQ(id("https://other.example.com", "PUT", {}), "none");
  EXPECT_EQ(id("HTTPS://APP.EXAMPLE.COM", "PUT", {}), "none");  // origins are case-sensitive
  EXPECT_EQ(id("https://app.example.com", "DELETE", {}), "none");
}

TEST(S3Cors, SplitsHeaderLists) {
  EXPECT_EQ(split_header_list(" a, b,c ,, "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_header_list("").empty());
}

}  // namespace
}  // namespace offcloud::s3

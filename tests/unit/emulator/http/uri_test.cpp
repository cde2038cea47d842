#include "emulator/http/uri.h"

#include <gtest/gtest.h>

namespace offcloud {
namespace {

TEST(UriEncode, KeepsUnreservedAndOptionallySlash) {
  EXPECT_EQ(uri_encode("aZ09-._~", false), "aZ09-._~");
  EXPECT_EQ(uri_encode("a b/c", false), "a%20b%2Fc");
  EXPECT_EQ(uri_encode("a b/c", true), "a%20b/c");
  EXPECT_EQ(uri_encode("%2F+", true), "%252F%2B");
  EXPECT_EQ(uri_encode("\xe1\x88\xb4", true), "%E1%88%B4");
}

TEST(PercentDecode, DecodesAndRejectsBadEscapes) {
  EXPECT_EQ(percent_decode("handson%2FanalysisLogData"), "handson/analysisLogData");
  EXPECT_EQ(percent_decode("a+b%20c"), "a+b c");
  EXPECT_EQ(percent_decode("%e3%81%82"), "\xe3\x81\x82");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%2"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_EQ(percent_decode("%00"), std::string(1, '\0'));
}

TEST(NormalizePath, RemovesDotSegmentsAndEmptySegments) {
  EXPECT_EQ(normalize_path(""), "/");
  EXPECT_EQ(normalize_path("/"), "/");
  EXPECT_EQ(normalize_path("//"), "/");
  EXPECT_EQ(normalize_path("/./"), "/");
  EXPECT_EQ(normalize_path("/example/.."), "/");
  EXPECT_EQ(normalize_path("/example1/example2/../.."), "/");
  EXPECT_EQ(normalize_path("//example//"), "/example/");
  EXPECT_EQ(normalize_path("/./example"), "/example");
  EXPECT_EQ(normalize_path("/a/b/../c"), "/a/c");
  EXPECT_EQ(normalize_path("/../../x"), "/x");
}

TEST(ParseQuery, SplitsDecodesAndKeepsOrder) {
  auto params = parse_query("b=2&a=1&flag&x=%20y&&c=");
  ASSERT_TRUE(params);
  QueryParams expected = {{"b", "2"}, {"a", "1"}, {"flag", ""}, {"x", " y"}, {"c", ""}};
  EXPECT_EQ(*params, expected);
  EXPECT_EQ(*find_param(*params, "x"), " y");
  EXPECT_EQ(find_param(*params, "missing"), nullptr);
  EXPECT_FALSE(parse_query("a=%G0"));
}

}  // namespace
}  // namespace offcloud

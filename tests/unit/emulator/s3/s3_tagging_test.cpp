#include "emulator/s3/s3_tagging.h"

#include <gtest/gtest.h>

namespace offcloud::s3 {
namespace {

std::string tagging(const std::string& tags) {
  return "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>" + tags +
         "</TagSet></Tagging>";
}

std::string tag(const std::string& key, const std::string& value) {
  return "<Tag><Key>" + key + "</Key><Value>" + value + "</Value></Tag>";
}

TEST(S3Tagging, ParsesATagSetInOrder) {
  HeaderList tags;
  EXPECT_FALSE(parse_tagging(tagging(tag("b", "2") + tag("a", "") + tag("k v", "x:/@")),
                             TagTarget::kObject, &tags));
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0], (std::pair<std::string, std::string>{"b", "2"}));
  EXPECT_EQ(tags[1].second, "");
  EXPECT_EQ(tags[2].first, "k v");
  EXPECT_FALSE(parse_tagging(tagging(""), TagTarget::kObject, &tags));
  EXPECT_TRUE(tags.empty());
}

TEST(S3Tagging, RefusesMalformedDocuments) {
  HeaderList tags;
  for (const std::string& bad :
       {std::string("<Tagging/>"), std::string("<Other><TagSet/></Other>"),
        tagging("<Tag><Key>a</Key></Tag>"), tagging("<Tag><Value>a</Value></Tag>"),
        tagging("<Nope/>"), tagging(tag("a", "b").replace(5, 0, "<Extra/>")),
        std::string("<Tagging><TagSet>")}) {
    auto invalid = parse_tagging(bad, TagTarget::kObject, &tags);
    ASSERT_TRUE(invalid) << bad;
    EXPECT_EQ(invalid->code, ErrorCode::kMalformedXML) << bad;
  }
}

TEST(S3Tagging, EnforcesS3sLimits) {
  HeaderList tags;
  std::string ten, eleven;
  for (int i = 0; i < 11; ++i) (i < 10 ? ten : eleven) += tag("k" + std::to_string(i), "v");
  EXPECT_FALSE(parse_tagging(tagging(ten), TagTarget::kObject, &tags));
  auto too_many = parse_tagging(tagging(ten + eleven), TagTarget::kObject, &tags);
  ASSERT_TRUE(too_many);
  EXPECT_EQ(too_many->code, ErrorCode::kBadRequest);
  EXPECT_EQ(too_many->message, "Object tags cannot be greater than 10");
  EXPECT_FALSE(parse_tagging(tagging(ten + eleven), TagTarget::kBucket, &tags));

  auto code_of = [&](const std::string& key, const std::string& value) {
    auto invalid = parse_tagging(tagging(tag(key, value)), TagTarget::kObject, &tags);
    return invalid ? invalid->message : std::string("ok");
  };
  EXPECT_EQ(code_of(std::string(128, 'k'), std::string(256, 'v')), "ok");
  // Characters, not bytes: 128 three-byte characters are a valid key.
  std::string wide;
  for (int i = 0; i < 128; ++i) wide += "\xe6\x97\xa5";
  EXPECT_EQ(code_of(wide, "v"), "ok");
  EXPECT_EQ(code_of(wide + "x", "v"), "The TagKey you have provided is too long, max 128");
  EXPECT_EQ(code_of(std::string(129, 'k'), "v"),
            "The TagKey you have provided is too long, max 128");
  EXPECT_EQ(code_of("k", std::string(257, 'v')),
            "The TagValue you have provided is too long, max 256");
  EXPECT_EQ(code_of("", "v"), "The TagKey you have provided is invalid");
  EXPECT_EQ(code_of("a{b}", "v"), "The TagKey you have provided is invalid");
  EXPECT_EQ(code_of("k", "a;b"), "The TagValue you have provided is invalid");
  EXPECT_EQ(code_of("aws:x", "v"), "Your TagKey cannot be prefixed with aws:");
  auto twice = parse_tagging(tagging(tag("a", "1") + tag("a", "2")), TagTarget::kBucket, &tags);
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->code, ErrorCode::kInvalidTag);
  EXPECT_EQ(twice->message, "Cannot provide multiple Tags with the same key");

  std::string fifty_one;
  for (int i = 0; i < 51; ++i) fifty_one += tag("k" + std::to_string(i), "v");
  auto bucket = parse_tagging(tagging(fifty_one), TagTarget::kBucket, &tags);
  ASSERT_TRUE(bucket);
  EXPECT_EQ(bucket->code, ErrorCode::kInvalidTag);
}

TEST(S3Tagging, ParsesTheTaggingHeader) {
  HeaderList tags;
  EXPECT_FALSE(parse_tagging_header("a=1&b=two%20words&c=x+y&d&e=", &tags));
  ASSERT_EQ(tags.size(), 5u);
  EXPECT_EQ(tags[1].second, "two words");
  EXPECT_EQ(tags[2].second, "x y");
  EXPECT_EQ(tags[3], (std::pair<std::string, std::string>{"d", ""}));
  EXPECT_FALSE(parse_tagging_header("", &tags));
  EXPECT_TRUE(tags.empty());
  auto duplicate = parse_tagging_header("a=1&a=2", &tags);
  ASSERT_TRUE(duplicate);
  EXPECT_EQ(duplicate->code, ErrorCode::kInvalidArgument);
  auto bad_escape = parse_tagging_header("a=%zz", &tags);
  ASSERT_TRUE(bad_escape);
  EXPECT_EQ(bad_escape->code, ErrorCode::kInvalidArgument);
}

TEST(S3Tagging, WritesTheTaggingDocumentBack) {
  HeaderList tags = {{"a b", "\xe6\x97\xa5+=._:/@-"}, {"e", ""}};
  std::string xml = tagging_xml(tags);
  HeaderList parsed;
  EXPECT_FALSE(parse_tagging(xml, TagTarget::kObject, &parsed));
  EXPECT_EQ(parsed, tags);
}

}  // namespace
}  // namespace offcloud::s3

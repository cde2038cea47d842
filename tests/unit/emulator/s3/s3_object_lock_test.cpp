// Object Lock's documents and headers: what parses, what S3 refuses and
// with which code, and the stored form of a bucket's configuration.
#include "emulator/s3/s3_object_lock.h"

#include <gtest/gtest.h>

namespace offcloud::s3 {
namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;  // 2027-01-15T08:00:00Z

TEST(S3ObjectLock, Iso8601TakesZonesAndFractions) {
  EXPECT_EQ(parse_iso8601("2030-01-01T00:00:00Z"), 1893456000000);
  EXPECT_EQ(parse_iso8601("2030-01-01T00:00:00.25Z"), 1893456000250);
  EXPECT_EQ(parse_iso8601("2030-01-01T01:30:00+01:30"), 1893456000000);
  EXPECT_EQ(parse_iso8601("2029-12-31T23:00:00-0100"), 1893456000000);
  for (const char* bad : {"", "2030-01-01", "2030-01-01T00:00:00", "2030-13-01T00:00:00Z",
                          "2030-01-01T00:00:00.Z", "2030-01-01T00:00:00Zjunk", "tomorrow"}) {
    EXPECT_FALSE(parse_iso8601(bad)) << bad;
  }
}

TEST(S3ObjectLock, ConfigurationsParseAndSurviveTheirStoredForm) {
  LockConfiguration config;
  ASSERT_FALSE(parse_lock_configuration(
      "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
      "<DefaultRetention><Mode>COMPLIANCE</Mode><Years>2</Years></DefaultRetention></Rule>"
      "</ObjectLockConfiguration>",
      &config));
  EXPECT_EQ(config.mode, "COMPLIANCE");
  EXPECT_EQ(config.years, 2);
  auto stored = decode_lock_configuration(encode_lock_configuration(config));
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->mode, "COMPLIANCE");
  EXPECT_EQ(stored->years, 2);
  EXPECT_EQ(decode_lock_configuration("")->mode, "");
  EXPECT_FALSE(decode_lock_configuration("WORM Days 1"));
  EXPECT_NE(lock_configuration_xml(config).find("<Years>2</Years>"), std::string::npos);
}

TEST(S3ObjectLock, ConfigurationRefusalsAreAwsCodes) {
  auto code = [](const std::string& retention) {
    LockConfiguration config;
    auto refused = parse_lock_configuration(
        "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
        "<DefaultRetention>" +
            retention + "</DefaultRetention></Rule></ObjectLockConfiguration>",
        &config);
    return refused ? refused->code : ErrorCode::kInternalError;  // kInternalError: accepted
  };
  EXPECT_EQ(code("<Mode>GOVERNANCE</Mode><Days>1</Days>"), ErrorCode::kInternalError);
  EXPECT_EQ(code("<Mode>GOVERNANCE</Mode><Days>1</Days><Years>1</Years>"),
            ErrorCode::kMalformedXML);
  EXPECT_EQ(code("<Mode>GOVERNANCE</Mode>"), ErrorCode::kMalformedXML);
  EXPECT_EQ(code("<Mode>Governance</Mode><Days>1</Days>"), ErrorCode::kMalformedXML);
  EXPECT_EQ(code("<Mode>GOVERNANCE</Mode><Days>one</Days>"), ErrorCode::kMalformedXML);
  EXPECT_EQ(code("<Mode>GOVERNANCE</Mode><Days>0</Days>"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code("<Mode>GOVERNANCE</Mode><Years>101</Years>"), ErrorCode::kInvalidArgument);
  LockConfiguration config;
  EXPECT_EQ(parse_lock_configuration("<ObjectLockConfiguration/>", &config)->code,
            ErrorCode::kMalformedXML);
  EXPECT_EQ(parse_lock_configuration("not xml", &config)->code, ErrorCode::kMalformedXML);
}

TEST(S3ObjectLock, DefaultRetentionCountsDaysAndCalendarYears) {
  EXPECT_EQ(default_retain_until({"GOVERNANCE", 2, 0}, kNow), kNow + 2 * 86400000LL);
  // 2027-01-15 plus one year is 2028-01-15: 365 days (2028's leap day comes later).
  EXPECT_EQ(default_retain_until({"GOVERNANCE", 0, 1}, kNow), kNow + 365 * 86400000LL);
  EXPECT_EQ(default_retain_until({"GOVERNANCE", 0, 2}, kNow), kNow + 731 * 86400000LL);
}

TEST(S3ObjectLock, RetentionAndLegalHoldDocuments) {
  std::string mode, hold;
  std::int64_t until = 0;
  EXPECT_FALSE(parse_retention(
      "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate>"
      "</Retention>",
      kNow, &mode, &until));
  EXPECT_EQ(mode, "GOVERNANCE");
  EXPECT_EQ(until, 1893456000000);
  EXPECT_FALSE(parse_retention("<Retention/>", kNow, &mode, &until));
  EXPECT_EQ(mode, "");  // a removal
  EXPECT_EQ(
      parse_retention("<Retention><Mode>GOVERNANCE</Mode></Retention>", kNow, &mode, &until)->code,
      ErrorCode::kMalformedXML);
  auto past = parse_retention(
      "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>2020-01-01T00:00:00Z</RetainUntilDate>"
      "</Retention>",
      kNow, &mode, &until);
  ASSERT_TRUE(past);
  EXPECT_EQ(past->code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(parse_legal_hold("<LegalHold><Status>OFF</Status></LegalHold>", &hold));
  EXPECT_EQ(hold, "OFF");
  EXPECT_EQ(parse_legal_hold("<LegalHold><Status>on</Status></LegalHold>", &hold)->code,
            ErrorCode::kMalformedXML);
}

TEST(S3ObjectLock, WriteHeadersAreCheckedAsS3ChecksThem) {
  auto read = [](std::initializer_list<std::pair<const char*, const char*>> fields,
                 ObjectLock* lock) {
    Headers headers;
    for (const auto& [name, value] : fields) headers.add(name, value);
    return read_lock_headers(headers, kNow, lock);
  };
  ObjectLock lock;
  EXPECT_FALSE(read({{"x-amz-object-lock-mode", "COMPLIANCE"},
                     {"x-amz-object-lock-retain-until-date", "2030-01-01T00:00:00Z"},
                     {"x-amz-object-lock-legal-hold", "ON"}},
                    &lock));
  EXPECT_EQ(lock.mode, "COMPLIANCE");
  EXPECT_EQ(lock.until_ms, 1893456000000);
  EXPECT_EQ(lock.legal_hold, "ON");
  for (auto fields : {std::initializer_list<std::pair<const char*, const char*>>{
                          {"x-amz-object-lock-mode", "COMPLIANCE"}},
                      {{"x-amz-object-lock-retain-until-date", "2030-01-01T00:00:00Z"}},
                      {{"x-amz-object-lock-mode", "WORM"},
                       {"x-amz-object-lock-retain-until-date", "2030-01-01T00:00:00Z"}},
                      {{"x-amz-object-lock-mode", "GOVERNANCE"},
                       {"x-amz-object-lock-retain-until-date", "2020-01-01T00:00:00Z"}},
                      {{"x-amz-object-lock-mode", "GOVERNANCE"},
                       {"x-amz-object-lock-retain-until-date", "next year"}},
                      {{"x-amz-object-lock-legal-hold", "on"}}}) {
    ObjectLock ignored;
    auto refused = read(fields, &ignored);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->code, ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace offcloud::s3

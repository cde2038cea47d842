#include "emulator/api/api_errors.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "emulator/auth_errors.h"

namespace offcloud {
namespace {

TEST(ApiErrors, RestJsonCarriesTheCodeInAHeader) {
  HttpResponse response = error_response(
      Protocol::kRestJson, {ErrorCode::kRequestEntityTooLargeException, "too big"}, "req-1");
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(response.headers.get("x-amzn-ErrorType"), "RequestEntityTooLargeException");
  EXPECT_EQ(nlohmann::json::parse(response.body)["message"], "too big");
}

TEST(ApiErrors, JsonOnePointOneAlsoHasType) {
  HttpResponse response =
      error_response(Protocol::kJson, {ErrorCode::kResourceNotFoundException, ""}, "req-1");
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["__type"], "ResourceNotFoundException");
  EXPECT_EQ(body["message"], "The specified resource does not exist.");
}

TEST(ApiErrors, QueryAndRestXmlShapes) {
  HttpResponse query =
      error_response(Protocol::kQuery, {ErrorCode::kSignatureDoesNotMatch, "a<b"}, "req-2");
  EXPECT_EQ(query.status, 403);
  EXPECT_NE(query.body.find("<Code>SignatureDoesNotMatch</Code><Message>a&lt;b</Message>"),
            std::string::npos);
  HttpResponse s3 = error_response(Protocol::kRestXml,
                                   {ErrorCode::kAccessDenied, "", {{"Resource", "/b/k"}}}, "req-3");
  EXPECT_NE(s3.body.find("<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
                         "<Resource>/b/k</Resource><RequestId>req-3</RequestId></Error>"),
            std::string::npos);
}

TEST(AuthErrors, EachProtocolNamesTheFailureItsOwnWay) {
  SigV4Params params;
  params.access_key_id = "AKID";
  params.signature = "abc";
  AuthFailure mismatch{AuthFailureKind::kSignatureMismatch, "m", "CANONICAL", "STS", ""};
  EXPECT_EQ(auth_error(Protocol::kRestJson, mismatch, params).code,
            ErrorCode::kInvalidSignatureException);
  EXPECT_EQ(auth_error(Protocol::kQuery, mismatch, params).code, ErrorCode::kSignatureDoesNotMatch);
  ApiError s3 = auth_error(Protocol::kRestXml, mismatch, params);
  EXPECT_EQ(s3.code, ErrorCode::kSignatureDoesNotMatch);
  HttpResponse response = error_response(Protocol::kRestXml, s3, "r");
  EXPECT_NE(response.body.find("<CanonicalRequest>CANONICAL</CanonicalRequest>"),
            std::string::npos);
  EXPECT_NE(response.body.find("<StringToSign>STS</StringToSign>"), std::string::npos);

  AuthFailure unknown{AuthFailureKind::kUnknownKey, "m", "", "", ""};
  EXPECT_EQ(auth_error(Protocol::kRestJson, unknown, params).code,
            ErrorCode::kUnrecognizedClientException);
  EXPECT_EQ(auth_error(Protocol::kRestXml, unknown, params).code, ErrorCode::kInvalidAccessKeyId);
  AuthFailure skewed{AuthFailureKind::kSkewed, "Signature expired: x", "", "", "now"};
  EXPECT_EQ(auth_error(Protocol::kRestXml, skewed, params).code, ErrorCode::kRequestTimeTooSkewed);
  EXPECT_EQ(missing_authentication_error(Protocol::kRestJson).code,
            ErrorCode::kMissingAuthenticationTokenException);
  EXPECT_EQ(missing_authentication_error(Protocol::kRestXml).code, ErrorCode::kAccessDenied);
}

}  // namespace
}  // namespace offcloud

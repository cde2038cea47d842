#include "emulator/s3/s3_form_data.h"

#include <gtest/gtest.h>

#include <vector>

namespace offcloud::s3 {
namespace {

// Records what the parser hands over: one entry per part.
struct Recorder : FormDataParser::Handler {
  struct Seen {
    FormPart part;
    std::string data;
    bool ended = false;
  };
  std::vector<Seen> parts;
  bool stop_at_data = false;

  bool on_part(const FormPart& part) override {
    parts.push_back({part, {}, false});
    return true;
  }
  bool on_data(std::string_view bytes) override {
    parts.back().data.append(bytes);
    return !stop_at_data;
  }
  bool on_part_end() override {
    parts.back().ended = true;
    return true;
  }
};

const std::string kBody =
    "preamble\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"key\"\r\n"
    "\r\n"
    "uploads/${filename}\r\n"
    "--XyZ  \r\n"
    "content-disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "line one\r\n--XyzNot a delimiter\r\n--Xy\r\n"
    "--XyZ--\r\n"
    "epilogue";

FormDataParser::Status feed_in_pieces(FormDataParser& parser, std::string_view body,
                                      std::size_t piece) {
  for (std::size_t at = 0; at < body.size(); at += piece) {
    auto status = parser.feed(body.substr(at, piece));
    if (status != FormDataParser::Status::kOk) return status;
  }
  return parser.finish();
}

TEST(S3FormData, ReadsBoundaryFromContentType) {
  EXPECT_EQ(form_data_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(form_data_boundary("Multipart/Form-Data;boundary=\"a b;c\""), "a b;c");
  EXPECT_FALSE(form_data_boundary("multipart/form-data"));
  EXPECT_FALSE(form_data_boundary("multipart/mixed; boundary=abc"));
  EXPECT_FALSE(form_data_boundary("multipart/form-data; boundary=" + std::string(71, 'a')));
}

TEST(S3FormData, ParsesPartsWhateverThePieceSize) {
  for (std::size_t piece : {1u, 2u, 3u, 7u, 64u, 4096u}) {
    Recorder recorder;
    FormDataParser parser("XyZ", recorder);
    ASSERT_EQ(feed_in_pieces(parser, kBody, piece), FormDataParser::Status::kOk)
        << piece << " " << parser.error();
    ASSERT_EQ(recorder.parts.size(), 2u);
    EXPECT_EQ(recorder.parts[0].part.name, "key");
    EXPECT_FALSE(recorder.parts[0].part.filename);
    EXPECT_EQ(recorder.parts[0].data, "uploads/${filename}");
    EXPECT_EQ(recorder.parts[1].part.name, "file");
    EXPECT_EQ(recorder.parts[1].part.filename, "a \"b\".txt");
    EXPECT_EQ(recorder.parts[1].part.content_type, "text/plain");
    EXPECT_EQ(recorder.parts[1].data, "line one\r\n--XyzNot a delimiter\r\n--Xy");
    EXPECT_TRUE(recorder.parts[1].ended);
  }
}

TEST(S3FormData, BodyWithoutPreambleAndEmptyValue) {
  Recorder recorder;
  FormDataParser parser("b", recorder);
  EXPECT_EQ(parser.feed("--b\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n--b--"),
            FormDataParser::Status::kOk);
  EXPECT_EQ(parser.finish(), FormDataParser::Status::kOk);
  ASSERT_EQ(recorder.parts.size(), 1u);
  EXPECT_EQ(recorder.parts[0].part.name, "x");
  EXPECT_EQ(recorder.parts[0].data, "");
}

TEST(S3FormData, RefusesMalformedBodies) {
  for (std::string body : {
           std::string("--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--"),  // no disposition
           std::string("--b\r\nContent-Disposition: attachment; name=x\r\n\r\nx\r\n--b--"),
           std::string("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--"),  // no name
           std::string("--b\r\nno colon here\r\n\r\nx\r\n--b--"),
           std::string("--bx\r\n"),  // a boundary followed by other text
       }) {
    Recorder recorder;
    FormDataParser parser("b", recorder);
    auto status = parser.feed(body);
    if (status == FormDataParser::Status::kOk) status = parser.finish();
    EXPECT_EQ(status, FormDataParser::Status::kMalformed) << body;
    EXPECT_FALSE(parser.error().empty());
  }
}

TEST(S3FormData, RefusesTruncatedBodiesAndHugeHeaders) {
  Recorder recorder;
  FormDataParser parser("b", recorder);
  EXPECT_EQ(parser.feed("--b\r\nContent-Disposition: form-data; name=x\r\n\r\nabc"),
            FormDataParser::Status::kOk);
  EXPECT_EQ(parser.finish(), FormDataParser::Status::kMalformed);

  Recorder other;
  FormDataParser huge("b", other);
  std::string header = "--b\r\nX-Filler: " + std::string(FormDataParser::kMaxPartHeaderBytes, 'a');
  EXPECT_EQ(huge.feed(header), FormDataParser::Status::kMalformed);
}

TEST(S3FormData, HandlerStopsTheParse) {
  Recorder recorder;
  recorder.stop_at_data = true;
  FormDataParser parser("b", recorder);
  EXPECT_EQ(parser.feed("--b\r\nContent-Disposition: form-data; name=x\r\n\r\nabc\r\n--b--"),
            FormDataParser::Status::kStopped);
  EXPECT_EQ(parser.feed("more"), FormDataParser::Status::kStopped);
}

}  // namespace
}  // namespace offcloud::s3

// multipart/form-data (RFC 7578 on RFC 2046's multipart syntax) read as it
// arrives, for S3's browser-based POST uploads: each part's headers are
// parsed and handed over, then its bytes in pieces as they come. It holds at
// most one part's headers and a delimiter's worth of bytes, so a 5 GiB file
// field streams through. Knows nothing of S3: what the fields mean is the
// handler's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace offcloud::s3 {

// The boundary of a "multipart/form-data; boundary=..." Content-Type;
// nullopt when the type is another, or the boundary is missing or not one
// RFC 2046 allows (1 to 70 characters).
std::optional<std::string> form_data_boundary(std::string_view content_type);

// ASCII lower case: form field names and header parameters, which S3
// compares without case.
std::string lower(std::string_view text);

// What a part's headers say about it.
struct FormPart {
  std::string name;                     // Content-Disposition's name
  std::optional<std::string> filename;  // set for a file field (maybe empty)
  std::string content_type;             // the part's Content-Type, "" if none
};

class FormDataParser {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // Each returns false to stop the parse (the handler keeps its reason).
    virtual bool on_part(const FormPart& part) = 0;
    virtual bool on_data(std::string_view bytes) = 0;
    virtual bool on_part_end() = 0;
  };
  enum class Status { kOk, kMalformed, kStopped };

  // A part's header block larger than this is malformed.
  static constexpr std::size_t kMaxPartHeaderBytes = 16 * 1024;

  FormDataParser(std::string_view boundary, Handler& handler);

  // After kMalformed or kStopped, further calls return the same.
  Status feed(std::string_view bytes);
  // The body has ended: kMalformed unless the closing delimiter was seen.
  Status finish();
  // Why the body is malformed.
  const std::string& error() const { return error_; }

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kBody, kEpilogue };
  // Consumes what it can of pending_; false when it needs more bytes.
  bool step();
  bool read_headers(std::string_view block);
  bool malformed(std::string message);

  std::string delimiter_;  // CRLF "--" boundary
  Handler& handler_;
  State state_ = State::kPreamble;
  Status status_ = Status::kOk;
  std::string pending_;
  std::size_t consumed_ = 0;  // bytes of pending_ already handled
  std::string error_;
};

}  // namespace offcloud::s3

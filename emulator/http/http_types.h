// The request and response every service sees. Plain structs, free of Beast,
// so services and their tests compile without the networking headers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace offcloud {

// Header fields in arrival order; lookups ignore case, as HTTP requires.
class Headers {
 public:
  void add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every field of that name by one.
  void set(std::string_view name, std::string value);
  // The first field of that name, or nullptr.
  const std::string* find(std::string_view name) const;
  std::string_view get(std::string_view name) const {
    const std::string* value = find(name);
    return value ? std::string_view(*value) : std::string_view();
  }

  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

bool iequals(std::string_view a, std::string_view b);

struct HttpResponse;

// Takes a request body piece by piece as it arrives, for bodies too large to
// hold in memory (S3 uploads). Any method may return an error response; the
// server then sends it and stops reading.
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  virtual std::optional<HttpResponse> consume(std::string_view bytes) = 0;
  // The whole body has arrived.
  virtual std::optional<HttpResponse> finish() = 0;
};

// Gives a response body piece by piece (S3 downloads).
class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual std::uint64_t size() const = 0;
  // Fills up to `capacity` bytes; returns how many, 0 only at the end.
  // Throws on a read error, which ends the connection.
  virtual std::size_t read(char* buffer, std::size_t capacity) = 0;
};

struct HttpRequest {
  std::string method;
  std::string target;  // the raw request-target
  std::string path;    // target before '?', still percent-encoded
  std::string query;   // target after '?', still percent-encoded
  Headers headers;
  std::string body;  // empty when body_reader took it
  std::shared_ptr<BodyReader> body_reader;
  std::string remote_address;  // "ip:port"
  bool secure = false;         // it came over TLS
};

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;
  std::shared_ptr<BodySource> body_source;  // instead of `body`, when set
  bool close = false;                       // close the connection after this response
};

// How the server should receive a request's body, decided once its head is
// read: into HttpRequest::body, through a BodyReader, or not at all because
// the request is already refused.
struct BodyPlan {
  std::shared_ptr<BodyReader> reader;     // null: buffer in memory
  std::shared_ptr<HttpResponse> refusal;  // set: answer this, read nothing
};

// Splits `target` into path and query.
void split_target(HttpRequest* request);

}  // namespace offcloud

#include "emulator/s3/s3_form_data.h"

#include <cctype>
#include <utility>
#include <vector>

namespace offcloud::s3 {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// A header value's ";"-separated parameters after its first token:
// lower-case names, values unquoted (backslash escapes undone). nullopt
// for an unterminated quoted string.
using Params = std::vector<std::pair<std::string, std::string>>;
std::optional<std::pair<std::string, Params>> split_header_value(std::string_view value) {
  std::size_t semicolon = value.find(';');
  std::pair<std::string, Params> out{lower(trim(value.substr(0, semicolon))), {}};
  std::size_t at = semicolon == std::string_view::npos ? value.size() : semicolon + 1;
  while (at < value.size()) {
    std::size_t equals = value.find('=', at);
    std::size_t next_semicolon = value.find(';', at);
    if (equals == std::string_view::npos || (next_semicolon < equals)) {
      // A parameter without a value: skipped, as browsers never send one.
      if (next_semicolon == std::string_view::npos) break;
      at = next_semicolon + 1;
      continue;
    }
    std::string name = lower(trim(value.substr(at, equals - at)));
    at = equals + 1;
    while (at < value.size() && (value[at] == ' ' || value[at] == '\t')) ++at;
    std::string text;
    if (at < value.size() && value[at] == '"') {
      ++at;
      bool closed = false;
      while (at < value.size()) {
        char c = value[at++];
        if (c == '\\' && at < value.size()) {
          text += value[at++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          text += c;
        }
      }
      if (!closed) return std::nullopt;
      std::size_t after = value.find(';', at);
      at = after == std::string_view::npos ? value.size() : after + 1;
    } else {
      std::size_t end = value.find(';', at);
      if (end == std::string_view::npos) end = value.size();
      text = std::string(trim(value.substr(at, end - at)));
      at = end + 1;
    }
    out.second.emplace_back(std::move(name), std::move(text));
  }
  return out;
}

const std::string* find(const Params& params, std::string_view name) {
  for (const auto& [key, value] : params) {
    if (key == name) return &value;
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> form_data_boundary(std::string_view content_type) {
  auto parsed = split_header_value(content_type);
  if (!parsed || parsed->first != "multipart/form-data") return std::nullopt;
  const std::string* boundary = find(parsed->second, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 70) return std::nullopt;
  return *boundary;
}

FormDataParser::FormDataParser(std::string_view boundary, Handler& handler)
    : delimiter_("\r\n--" + std::string(boundary)), handler_(handler) {
  // The first delimiter may open the body, with no CRLF before it.
  pending_ = "\r\n";
}

bool FormDataParser::malformed(std::string message) {
  status_ = Status::kMalformed;
  error_ = std::move(message);
  return false;
}

FormDataParser::Status FormDataParser::feed(std::string_view bytes) {
  if (status_ != Status::kOk) return status_;
  if (state_ == State::kEpilogue) return status_;
  pending_.append(bytes);
  while (status_ == Status::kOk && step()) {
  }
  pending_.erase(0, consumed_);
  consumed_ = 0;
  return status_;
}

FormDataParser::Status FormDataParser::finish() {
  if (status_ != Status::kOk) return status_;
  if (state_ != State::kEpilogue) {
    malformed("The body ends before the closing boundary.");
  }
  return status_;
}

bool FormDataParser::step() {
  std::string_view rest = std::string_view(pending_).substr(consumed_);
  switch (state_) {
    case State::kPreamble: {
      std::size_t at = rest.find(delimiter_);
      if (at == std::string_view::npos) {
        // What cannot begin a delimiter is preamble, ignored.
        if (rest.size() >= delimiter_.size()) consumed_ += rest.size() - delimiter_.size() + 1;
        return false;
      }
      consumed_ += at + delimiter_.size();
      state_ = State::kAfterDelimiter;
      return true;
    }
    case State::kAfterDelimiter: {
      if (rest.size() < 2) return false;
      if (rest.starts_with("--")) {
        state_ = State::kEpilogue;
        consumed_ = pending_.size();
        return false;
      }
      // RFC 2046 lets transport padding (spaces, tabs) follow a delimiter.
      std::size_t at = 0;
      while (at < rest.size() && (rest[at] == ' ' || rest[at] == '\t')) ++at;
      if (at > 256) return malformed("A boundary is not followed by a line break.");
      if (at + 1 >= rest.size() && (at == rest.size() || rest[at] == '\r')) return false;
      if (rest[at] != '\r' || rest[at + 1] != '\n') {
        return malformed("A boundary is not followed by a line break.");
      }
      std::size_t crlf = at;
      consumed_ += crlf + 2;
      state_ = State::kHeaders;
      return true;
    }
    case State::kHeaders: {
      std::size_t end = rest.starts_with("\r\n") ? 0 : rest.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        // (+3: the blank line may be arriving.)
        if (rest.size() > kMaxPartHeaderBytes + 3) {
          return malformed("A part's headers are too long.");
        }
        return false;
      }
      if (end > kMaxPartHeaderBytes) return malformed("A part's headers are too long.");
      std::size_t block_end = end == 0 ? 0 : end + 2;  // keep the last line's CRLF
      if (!read_headers(rest.substr(0, block_end))) return false;
      consumed_ += end == 0 ? 2 : end + 4;
      state_ = State::kBody;
      return true;
    }
    case State::kBody: {
      std::size_t at = rest.find(delimiter_);
      if (at == std::string_view::npos) {
        // Keep what could be the start of a delimiter; the rest is data.
        if (rest.size() < delimiter_.size()) return false;
        std::size_t safe = rest.size() - delimiter_.size() + 1;
        consumed_ += safe;
        if (!handler_.on_data(rest.substr(0, safe))) status_ = Status::kStopped;
        return false;
      }
      if (at > 0 && !handler_.on_data(rest.substr(0, at))) {
        status_ = Status::kStopped;
        return false;
      }
      consumed_ += at + delimiter_.size();
      state_ = State::kAfterDelimiter;
      if (!handler_.on_part_end()) {
        status_ = Status::kStopped;
        return false;
      }
      return true;
    }
    case State::kEpilogue:
      consumed_ = pending_.size();
      return false;
  }
  return false;
}

bool FormDataParser::read_headers(std::string_view block) {
  FormPart part;
  bool disposition = false;
  while (!block.empty()) {
    std::size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return malformed("A part's header line has no name.");
    }
    std::string name = lower(trim(line.substr(0, colon)));
    std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-disposition") {
      auto parsed = split_header_value(value);
      if (!parsed || parsed->first != "form-data") {
        return malformed("A part's Content-Disposition is not form-data.");
      }
      const std::string* field = find(parsed->second, "name");
      if (!field) return malformed("A part's Content-Disposition names no field.");
      part.name = *field;
      if (const std::string* filename = find(parsed->second, "filename")) part.filename = *filename;
      disposition = true;
    } else if (name == "content-type") {
      part.content_type = std::string(value);
    }
  }
  if (!disposition) return malformed("A part has no Content-Disposition.");
  if (!handler_.on_part(part)) {
    status_ = Status::kStopped;
    return false;
  }
  return true;
}

}  // namespace offcloud::s3

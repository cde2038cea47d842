#include "emulator/util/xml.h"

namespace offcloud {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

XmlWriter::XmlWriter(std::string_view root, std::string_view xmlns) {
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
  out_.append(root);
  if (!xmlns.empty()) {
    out_ += " xmlns=\"";
    out_.append(xmlns);
    out_ += "\"";
  }
  out_ += ">";
  open_.emplace_back(root);
}

XmlWriter& XmlWriter::open(std::string_view name) {
  out_ += "<";
  out_.append(name);
  out_ += ">";
  open_.emplace_back(name);
  return *this;
}

XmlWriter& XmlWriter::close() {
  out_ += "</" + open_.back() + ">";
  open_.pop_back();
  return *this;
}

XmlWriter& XmlWriter::element(std::string_view name, std::string_view text) {
  out_ += "<";
  out_.append(name);
  out_ += ">";
  out_ += xml_escape(text);
  out_ += "</";
  out_.append(name);
  out_ += ">";
  return *this;
}

std::string XmlWriter::finish() {
  while (!open_.empty()) close();
  return std::move(out_);
}

const XmlElement* XmlElement::child(std::string_view child_name) const {
  for (const XmlElement& element : children) {
    if (element.name == child_name) return &element;
  }
  return nullptr;
}

std::vector<const XmlElement*> XmlElement::children_named(std::string_view child_name) const {
  std::vector<const XmlElement*> found;
  for (const XmlElement& element : children) {
    if (element.name == child_name) found.push_back(&element);
  }
  return found;
}

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  std::optional<XmlElement> document() {
    skip_misc();
    XmlElement root;
    if (!element(&root, 0)) return std::nullopt;
    skip_misc();
    if (pos_ != s_.size()) return std::nullopt;
    return root;
  }

 private:
  static constexpr int kMaxDepth = 32;

  bool starts(std::string_view token) const { return s_.substr(pos_).starts_with(token); }

  void skip_space() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r' || s_[pos_] == '\n')) {
      ++pos_;
    }
  }

  // Declarations, processing instructions, comments and white space.
  void skip_misc() {
    for (;;) {
      skip_space();
      if (starts("<?")) {
        std::size_t end = s_.find("?>", pos_);
        pos_ = end == std::string_view::npos ? s_.size() : end + 2;
      } else if (starts("<!--")) {
        std::size_t end = s_.find("-->", pos_);
        pos_ = end == std::string_view::npos ? s_.size() : end + 3;
      } else {
        return;
      }
    }
  }

  bool name(std::string* out) {
    std::size_t start = pos_;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '>' || c == '/' || c == '=')
        break;
      ++pos_;
    }
    std::string_view full = s_.substr(start, pos_ - start);
    if (full.empty()) return false;
    std::size_t colon = full.find(':');
    *out = std::string(colon == std::string_view::npos ? full : full.substr(colon + 1));
    return true;
  }

  bool decode_entity(std::string* out) {
    std::size_t end = s_.find(';', pos_);
    if (end == std::string_view::npos || end - pos_ > 10) return false;
    std::string_view entity = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    if (entity == "amp") return out->push_back('&'), true;
    if (entity == "lt") return out->push_back('<'), true;
    if (entity == "gt") return out->push_back('>'), true;
    if (entity == "quot") return out->push_back('"'), true;
    if (entity == "apos") return out->push_back('\''), true;
    if (entity.size() < 2 || entity[0] != '#') return false;
    unsigned long code = 0;
    bool hex = entity[1] == 'x' || entity[1] == 'X';
    std::string_view digits = entity.substr(hex ? 2 : 1);
    if (digits.empty()) return false;
    for (char c : digits) {
      int d = (c >= '0' && c <= '9')        ? c - '0'
              : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
              : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                            : -1;
      if (d < 0) return false;
      code = code * (hex ? 16 : 10) + static_cast<unsigned long>(d);
      if (code > 0x10ffff) return false;
    }
    // UTF-8 encode.
    if (code < 0x80) {
      out->push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (code >> 6)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
    } else if (code < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (code >> 12)));
      out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (code >> 18)));
      out->push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
    }
    return true;
  }

  bool element(XmlElement* out, int depth) {
    if (depth > kMaxDepth || !starts("<")) return false;
    ++pos_;
    if (!name(&out->name)) return false;
    // Attributes (namespaces) are skipped, quoted values included.
    for (;;) {
      skip_space();
      if (pos_ >= s_.size()) return false;
      if (starts("/>")) {
        pos_ += 2;
        return true;
      }
      if (s_[pos_] == '>') {
        ++pos_;
        break;
      }
      std::string ignored;
      if (!name(&ignored)) return false;
      skip_space();
      if (!starts("=")) return false;
      ++pos_;
      skip_space();
      if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) return false;
      std::size_t end = s_.find(s_[pos_], pos_ + 1);
      if (end == std::string_view::npos) return false;
      pos_ = end + 1;
    }
    for (;;) {
      if (pos_ >= s_.size()) return false;
      if (starts("</")) {
        pos_ += 2;
        std::string closing;
        if (!name(&closing) || closing != out->name) return false;
        skip_space();
        if (!starts(">")) return false;
        ++pos_;
        return true;
      }
      if (starts("<!--")) {
        std::size_t end = s_.find("-->", pos_);
        if (end == std::string_view::npos) return false;
        pos_ = end + 3;
      } else if (starts("<![CDATA[")) {
        std::size_t end = s_.find("]]>", pos_);
        if (end == std::string_view::npos) return false;
        out->text.append(s_.substr(pos_ + 9, end - pos_ - 9));
        pos_ = end + 3;
      } else if (s_[pos_] == '<') {
        out->children.emplace_back();
        if (!element(&out->children.back(), depth + 1)) return false;
      } else if (s_[pos_] == '&') {
        if (!decode_entity(&out->text)) return false;
      } else {
        out->text.push_back(s_[pos_++]);
      }
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

std::optional<XmlElement> parse_xml(std::string_view document) {
  return Parser(document).document();
}

}  // namespace offcloud

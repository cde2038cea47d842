// Just enough XML for AWS's REST-XML and query protocols: a writer for
// responses, and a small parser for the request bodies S3 takes
// (CreateBucketConfiguration, Delete, CompleteMultipartUpload). No DTDs, no
// namespaces beyond ignoring them: AWS's request documents need neither.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace offcloud {

// Escapes &, <, >, " and ' for XML text and attribute values.
std::string xml_escape(std::string_view text);

class XmlWriter {
 public:
  // Starts the document with the XML declaration and the root element.
  explicit XmlWriter(std::string_view root, std::string_view xmlns = {});

  XmlWriter& open(std::string_view name);
  XmlWriter& close();
  // <name>escaped text</name>
  XmlWriter& element(std::string_view name, std::string_view text);
  // Closes every open element and returns the document.
  std::string finish();

 private:
  std::string out_;
  std::vector<std::string> open_;
};

struct XmlElement {
  std::string name;  // local name, without any namespace prefix
  std::string text;  // concatenated, entities decoded
  std::vector<XmlElement> children;

  const XmlElement* child(std::string_view child_name) const;
  std::vector<const XmlElement*> children_named(std::string_view child_name) const;
};

// nullopt when `document` is not well-formed.
std::optional<XmlElement> parse_xml(std::string_view document);

}  // namespace offcloud

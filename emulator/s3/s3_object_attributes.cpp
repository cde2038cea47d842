// GetObjectAttributes (GET /key?attributes): the attributes the
// x-amz-object-attributes header lists, in one document, without the bytes.
#include <charconv>

#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_customer_key.h"
#include "emulator/s3/s3_service.h"
#include "emulator/s3/s3_versioning.h"
#include "emulator/util/xml.h"

namespace offcloud {
namespace {

using namespace s3;

constexpr std::string_view kAttributes[] = {"ETag", "Checksum", "ObjectParts", "StorageClass",
                                            "ObjectSize"};

std::optional<int> header_number(const S3Call& call, std::string_view name, int fallback) {
  const std::string* text = call.http.headers.find(name);
  if (!text) return fallback;
  int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 0) return std::nullopt;
  return value;
}

// "CRC32" checksum values of a COMPOSITE object carry "-<parts>"; this
// document shows the checksum alone, as AWS does.
std::string without_part_count(const std::string& value) {
  std::size_t dash = value.rfind('-');
  return dash == std::string::npos ? value : value.substr(0, dash);
}

}  // namespace

HttpResponse S3Service::get_object_attributes(S3Call& call) {
  std::optional<BucketInfo> bucket = store_.bucket(call.target.bucket);
  if (!bucket) return no_such_bucket(call);
  std::vector<std::string> wanted;
  std::string_view list = call.http.headers.get("x-amz-object-attributes");
  for (std::size_t start = 0; start < list.size();) {
    std::size_t comma = list.find(',', start);
    std::string_view item = list.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    bool known = false;
    for (std::string_view attribute : kAttributes) known = known || item == attribute;
    if (!known) {
      return error(call, ErrorCode::kInvalidArgument, "Invalid attribute name specified.");
    }
    wanted.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (wanted.empty()) {
    return error(call, ErrorCode::kInvalidRequest,
                 "The x-amz-object-attributes header specifying the attributes to be retrieved "
                 "is either missing or empty");
  }
  auto max_parts = header_number(call, "x-amz-max-parts", 1000);
  auto marker = header_number(call, "x-amz-part-number-marker", 0);
  if (!max_parts || !marker) {
    return error(call, ErrorCode::kInvalidArgument, "Invalid max-parts or part-number-marker.");
  }
  *max_parts = std::min(*max_parts, 1000);
  CustomerKeyRequest customer_key;  // an SSE-C object's attributes need its key
  if (auto refused = read_customer_key(call, false, &customer_key)) return std::move(*refused);
  ObjectLookup found = find_object(call);  // the version ?versionId= names
  if (!found.object) return std::move(found.refusal);
  std::optional<ObjectInfo>& info = found.object;
  if (auto refused = check_customer_key(call, *info, customer_key)) return std::move(*refused);
  auto asked = [&](std::string_view name) {
    return std::find(wanted.begin(), wanted.end(), name) != wanted.end();
  };

  XmlWriter xml("GetObjectAttributesResponse", kXmlns);
  if (asked("ETag")) xml.element("ETag", info->etag);
  if (asked("Checksum") && !info->checksums.empty()) {
    xml.open("Checksum");
    for (const auto& [algorithm, value] : info->checksums) {
      xml.element("Checksum" + algorithm, without_part_count(value));
    }
    if (!info->checksum_type.empty()) xml.element("ChecksumType", info->checksum_type);
    xml.close();
  }
  if (asked("ObjectParts") && !info->parts.empty()) {
    xml.open("ObjectParts").element("PartsCount", std::to_string(info->parts.size()));
    // AWS lists the parts only of objects uploaded with checksums.
    if (!info->checksums.empty()) {
      int last = static_cast<int>(info->parts.size());
      int end = std::min(last, *marker + *max_parts);
      xml.element("PartNumberMarker", std::to_string(*marker));
      if (end < last) xml.element("NextPartNumberMarker", std::to_string(end));
      xml.element("MaxParts", std::to_string(*max_parts))
          .element("IsTruncated", end < last ? "true" : "false");
      for (int number = *marker + 1; number <= end; ++number) {
        const ObjectPart& part = info->parts[static_cast<std::size_t>(number - 1)];
        xml.open("Part")
            .element("PartNumber", std::to_string(number))
            .element("Size", std::to_string(part.size));
        for (const auto& [algorithm, value] : part.checksums) {
          xml.element("Checksum" + algorithm, value);
        }
        xml.close();
      }
    }
    xml.close();
  }
  if (asked("StorageClass")) xml.element("StorageClass", info->storage_class);
  if (asked("ObjectSize")) xml.element("ObjectSize", std::to_string(info->size));
  HttpResponse response = xml_response(xml.finish());
  response.headers.add("Last-Modified", http_date(info->last_modified_ms));
  add_version_header(*bucket, *info, &response);
  return response;
}

}  // namespace offcloud

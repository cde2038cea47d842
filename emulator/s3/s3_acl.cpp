#include "emulator/s3/s3_acl.h"

#include <nlohmann/json.hpp>

#include "emulator/util/xml.h"

namespace offcloud::s3 {
namespace {

constexpr std::string_view kAllUsers = "http://acs.amazonaws.com/groups/global/AllUsers";
constexpr std::string_view kAuthenticatedUsers =
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
constexpr std::string_view kLogDelivery = "http://acs.amazonaws.com/groups/s3/LogDelivery";
constexpr std::string_view kPermissions[] = {"FULL_CONTROL", "WRITE", "WRITE_ACP", "READ",
                                             "READ_ACP"};

bool is_permission(std::string_view text) {
  for (std::string_view permission : kPermissions) {
    if (text == permission) return true;
  }
  return false;
}

AclGrant owner_grant(std::string_view owner_id, std::string permission = "FULL_CONTROL") {
  return {"CanonicalUser", std::string(owner_id), "", std::move(permission)};
}

AclGrant group_grant(std::string_view uri, std::string permission) {
  return {"Group", std::string(uri), "", std::move(permission)};
}

AclRequest refuse(ErrorCode code, std::string message) {
  return {std::nullopt, code, std::move(message)};
}

AclRequest malformed() {
  return refuse(ErrorCode::kMalformedACLError, "");
}

// The canned ACLs as S3 expands them. The bucket-owner-* ACLs add a grant
// only when another account owns the bucket.
std::optional<Acl> canned(std::string_view name, std::string_view owner_id, bool bucket,
                          std::string_view bucket_owner_id) {
  Acl acl;
  acl.grants.push_back(owner_grant(owner_id));
  if (name == "private" || name == "aws-exec-read") return acl;
  if (name == "public-read" || name == "public-read-write") {
    acl.grants.push_back(group_grant(kAllUsers, "READ"));
    if (name == "public-read-write") acl.grants.push_back(group_grant(kAllUsers, "WRITE"));
    return acl;
  }
  if (name == "authenticated-read") {
    acl.grants.push_back(group_grant(kAuthenticatedUsers, "READ"));
    return acl;
  }
  if (!bucket && (name == "bucket-owner-read" || name == "bucket-owner-full-control")) {
    if (!bucket_owner_id.empty() && bucket_owner_id != owner_id) {
      acl.grants.push_back(
          owner_grant(bucket_owner_id, name == "bucket-owner-read" ? "READ" : "FULL_CONTROL"));
    }
    return acl;
  }
  if (bucket && name == "log-delivery-write") {
    acl.grants.push_back(group_grant(kLogDelivery, "WRITE"));
    acl.grants.push_back(group_grant(kLogDelivery, "READ_ACP"));
    return acl;
  }
  return std::nullopt;
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

// `id="…", uri="…", emailAddress="…"`: one grant per item.
bool parse_grantees(std::string_view value, const std::string& permission,
                    std::vector<AclGrant>* grants) {
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    std::string item = trim(value.substr(start, comma - start));
    std::size_t eq = item.find('=');
    if (eq == std::string::npos) return false;
    std::string kind = trim(std::string_view(item).substr(0, eq));
    std::string target = trim(std::string_view(item).substr(eq + 1));
    if (target.size() >= 2 && target.front() == '"' && target.back() == '"') {
      target = target.substr(1, target.size() - 2);
    }
    if (target.empty()) return false;
    if (kind == "id") {
      grants->push_back({"CanonicalUser", target, "", permission});
    } else if (kind == "uri") {
      grants->push_back({"Group", target, "", permission});
    } else if (kind == "emailAddress") {
      grants->push_back({"AmazonCustomerByEmail", target, "", permission});
    } else {
      return false;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return true;
}

}  // namespace

AclRequest acl_from_headers(const Headers& headers, std::string_view owner_id, bool bucket,
                            std::string_view bucket_owner_id) {
  static constexpr std::pair<std::string_view, std::string_view> kGrantHeaders[] = {
      {"x-amz-grant-full-control", "FULL_CONTROL"},
      {"x-amz-grant-read", "READ"},
      {"x-amz-grant-read-acp", "READ_ACP"},
      {"x-amz-grant-write", "WRITE"},
      {"x-amz-grant-write-acp", "WRITE_ACP"}};
  std::optional<Acl> granted;
  for (const auto& [name, permission] : kGrantHeaders) {
    const std::string* value = headers.find(name);
    if (!value) continue;
    if (!granted) granted.emplace();
    if (!parse_grantees(*value, std::string(permission), &granted->grants)) {
      return refuse(ErrorCode::kInvalidArgument, "Invalid " + std::string(name) + " header.");
    }
  }
  const std::string* canned_name = headers.find("x-amz-acl");
  if (canned_name && granted) {
    return refuse(ErrorCode::kInvalidRequest,
                  "Specifying both Canned ACLs and Header Grants is not allowed");
  }
  if (granted) return {granted, std::nullopt, ""};
  if (!canned_name) return {};
  std::optional<Acl> acl = canned(*canned_name, owner_id, bucket, bucket_owner_id);
  if (!acl) return refuse(ErrorCode::kInvalidArgument, "");
  return {acl, std::nullopt, ""};
}

AclRequest acl_from_document(std::string_view body) {
  auto document = parse_xml(body);
  if (!document || document->name != "AccessControlPolicy") {
    return malformed();
  }
  const XmlElement* list = document->child("AccessControlList");
  if (!document->child("Owner") || !list) {
    return malformed();
  }
  Acl acl;
  for (const XmlElement* grant : list->children_named("Grant")) {
    const XmlElement* grantee = grant->child("Grantee");
    const XmlElement* permission = grant->child("Permission");
    if (!grantee || !permission || !is_permission(permission->text)) {
      return malformed();
    }
    AclGrant entry;
    entry.permission = permission->text;
    if (const XmlElement* id = grantee->child("ID")) {
      entry.type = "CanonicalUser";
      entry.grantee = id->text;
      if (const XmlElement* name = grantee->child("DisplayName")) entry.display_name = name->text;
    } else if (const XmlElement* uri = grantee->child("URI")) {
      entry.type = "Group";
      entry.grantee = uri->text;
    } else if (const XmlElement* email = grantee->child("EmailAddress")) {
      entry.type = "AmazonCustomerByEmail";
      entry.grantee = email->text;
    } else {
      return refuse(ErrorCode::kInvalidArgument, "Invalid id");
    }
    if (entry.grantee.empty()) return refuse(ErrorCode::kInvalidArgument, "Invalid id");
    acl.grants.push_back(std::move(entry));
  }
  return {acl, std::nullopt, ""};
}

std::string encode_acl(const Acl& acl) {
  nlohmann::json array = nlohmann::json::array();
  for (const AclGrant& grant : acl.grants) {
    array.push_back({grant.type, grant.grantee, grant.display_name, grant.permission});
  }
  if (!acl.owner_account.empty()) {
    array = nlohmann::json{{"owner", acl.owner_account}, {"grants", std::move(array)}};
  }
  return array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Acl decode_acl(const std::string& stored, std::string_view owner_id) {
  Acl acl;
  if (stored.empty()) {
    acl.grants.push_back(owner_grant(owner_id));
    return acl;
  }
  nlohmann::json document = nlohmann::json::parse(stored);
  if (document.is_object()) {
    acl.owner_account = document.value("owner", "");
    document = document["grants"];
  }
  for (const auto& item : document) {
    acl.grants.push_back({item[0].get<std::string>(), item[1].get<std::string>(),
                          item[2].get<std::string>(), item[3].get<std::string>()});
  }
  return acl;
}

std::string acl_document(const Acl& acl, std::string_view owner_id,
                         std::string_view owner_display_name) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy "
      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>" +
      xml_escape(owner_id) + "</ID><DisplayName>" + xml_escape(owner_display_name) +
      "</DisplayName></Owner><AccessControlList>";
  for (const AclGrant& grant : acl.grants) {
    xml += "<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"" +
           grant.type + "\">";
    if (grant.type == "CanonicalUser") {
      xml += "<ID>" + xml_escape(grant.grantee) + "</ID>";
      // The owner's grant shows the owner's name, as S3 shows it.
      std::string_view name = grant.display_name;
      if (name.empty() && grant.grantee == owner_id) name = owner_display_name;
      if (!name.empty()) xml += "<DisplayName>" + xml_escape(name) + "</DisplayName>";
    } else if (grant.type == "Group") {
      xml += "<URI>" + xml_escape(grant.grantee) + "</URI>";
    } else {
      xml += "<EmailAddress>" + xml_escape(grant.grantee) + "</EmailAddress>";
    }
    xml += "</Grantee><Permission>" + grant.permission + "</Permission></Grant>";
  }
  return xml + "</AccessControlList></AccessControlPolicy>";
}

}  // namespace offcloud::s3

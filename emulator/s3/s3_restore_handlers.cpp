// RestoreObject (POST /bucket/key?restore): a temporary copy of an archived
// object (GLACIER, DEEP_ARCHIVE) that GET can read until it expires. AWS
// takes minutes to hours; offcloud completes a restore at the first
// lifecycle sweep one sweep interval or more after it was asked (so that
// HEAD shows it in progress for a while), and the copy expires `Days`
// lifecycle days after it completed (shortened by --lifecycle-day-seconds).
#include "emulator/s3/s3_common.h"
#include "emulator/s3/s3_lifecycle.h"
#include "emulator/s3/s3_service.h"
#include "emulator/s3/s3_versioning.h"
#include "emulator/util/log.h"

namespace offcloud {
namespace {

using namespace s3;

constexpr std::int64_t kMaxRestoreDays = 2147483647;

}  // namespace

HttpResponse S3Service::restore_object(S3Call& call) {
  if (!store_.bucket(call.target.bucket)) return no_such_bucket(call);
  auto document = parse_xml(call.http.body);
  if (!document || document->name != "RestoreRequest") {
    return error(call, ErrorCode::kMalformedXML);
  }
  if (const XmlElement* type = document->child("Type")) {
    if (type->text != "SELECT") return error(call, ErrorCode::kMalformedXML);
    return error(call, ErrorCode::kNotImplemented,
                 "offcloud does not implement S3 Select restores; AWS has retired them.");
  }
  const XmlElement* days_element = document->child("Days");
  std::int64_t days = 0;
  if (!days_element || days_element->text.empty() ||
      days_element->text.find_first_not_of("0123456789") != std::string::npos ||
      days_element->text.size() > 10) {
    return error(call, ErrorCode::kMalformedXML);
  }
  days = std::stoll(days_element->text);
  if (days < 1 || days > kMaxRestoreDays) {
    return error(call, ErrorCode::kInvalidArgument, "Days must be a positive integer",
                 {{"ArgumentName", "Days"}, {"ArgumentValue", days_element->text}});
  }
  for (const XmlElement* parameters : document->children_named("GlacierJobParameters")) {
    const XmlElement* tier = parameters->child("Tier");
    if (!tier || (tier->text != "Standard" && tier->text != "Bulk" && tier->text != "Expedited")) {
      return error(call, ErrorCode::kMalformedXML);
    }
  }
  if (const XmlElement* tier = document->child("Tier")) {
    if (tier->text != "Standard" && tier->text != "Bulk" && tier->text != "Expedited") {
      return error(call, ErrorCode::kMalformedXML);
    }
  }
  ObjectLookup found = find_object(call);
  if (!found.object) return std::move(found.refusal);

  std::int64_t now = now_ms();
  switch (store_.request_restore(call.target.bucket, call.target.key, found.version_id, days,
                                 now + restore_delay_ms_, lifecycle_clock_.due_ms(now, days),
                                 now)) {
    case ObjectStore::RestoreStatus::kStarted: {
      HttpResponse response;
      response.status = 202;
      return response;
    }
    case ObjectStore::RestoreStatus::kExtended:
      return {};
    case ObjectStore::RestoreStatus::kInProgress:
      return error(call, ErrorCode::kRestoreAlreadyInProgress);
    case ObjectStore::RestoreStatus::kNotArchived:
      return error(call, ErrorCode::kInvalidObjectState,
                   "Restore is not allowed for the object's current storage class");
    case ObjectStore::RestoreStatus::kNoSuchVersion:
      break;
  }
  // Deleted meanwhile: answer as a lookup now would.
  ObjectLookup again = find_object(call);
  return again.object ? error(call, ErrorCode::kNoSuchKey) : std::move(again.refusal);
}

}  // namespace offcloud

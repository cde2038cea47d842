// S3 tag sets: the <Tagging> document of Put{Object,Bucket}Tagging, the
// x-amz-tagging header of PutObject, CreateMultipartUpload and CopyObject,
// and their limits as S3 checks them (InvalidTag, MalformedXML).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "emulator/s3/s3_invalid.h"
#include "storage/object_store.h"  // HeaderList

namespace offcloud::s3 {

inline constexpr std::size_t kMaxObjectTags = 10;
inline constexpr std::size_t kMaxBucketTags = 50;

enum class TagTarget { kObject, kBucket };

// <Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>...</TagSet></Tagging>
// into *tags; nullopt when S3 would take it.
std::optional<S3Invalid> parse_tagging(std::string_view body, TagTarget target, HeaderList* tags);

// "k1=v1&k2=v2", each part URL-encoded, as the x-amz-tagging header has it.
std::optional<S3Invalid> parse_tagging_header(std::string_view header, HeaderList* tags);

// The limits every tag set meets: count, key and value lengths in
// characters, characters S3 allows, no key twice, no "aws:" prefix.
std::optional<S3Invalid> validate_tags(const HeaderList& tags, TagTarget target);

// The <Tagging> document Get{Object,Bucket}Tagging answer with.
std::string tagging_xml(const HeaderList& tags);

}  // namespace offcloud::s3

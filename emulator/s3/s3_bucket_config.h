// The small bucket configuration documents S3 stores and gives back:
// lifecycle (checked as S3 checks it; offcloud runs no lifecycle sweep),
// default encryption, object ownership and the public access block.
// Parsers answer S3's refusal, writers the document Get* answers with.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "emulator/s3/s3_invalid.h"

namespace offcloud::s3 {

// <LifecycleConfiguration>, in the current shape (Filter) or the old one
// (a rule-level Prefix); stored as sent, since S3 gives rules back as sent.
std::optional<S3Invalid> validate_lifecycle(std::string_view body);

struct BucketEncryption {
  std::string algorithm = "AES256";  // AES256, aws:kms or aws:kms:dsse
  std::string kms_key_id;            // only with aws:kms*
  bool bucket_key_enabled = false;
};
// <ServerSideEncryptionConfiguration>
std::optional<S3Invalid> parse_encryption(std::string_view body, BucketEncryption* out);
std::string encryption_xml(const BucketEncryption& encryption);

// <OwnershipControls><Rule><ObjectOwnership>...</ObjectOwnership></Rule></OwnershipControls>
std::optional<S3Invalid> parse_ownership(std::string_view body, std::string* ownership);
std::string ownership_xml(std::string_view ownership);
bool valid_ownership(std::string_view ownership);

struct PublicAccessBlock {
  bool block_public_acls = false;
  bool ignore_public_acls = false;
  bool block_public_policy = false;
  bool restrict_public_buckets = false;
};
// <PublicAccessBlockConfiguration>; absent settings are false.
std::optional<S3Invalid> parse_public_access_block(std::string_view body, PublicAccessBlock* out);
std::string public_access_block_xml(const PublicAccessBlock& block);

}  // namespace offcloud::s3

// Every AWS error code offcloud answers with, its HTTP status and its default
// message, in one table; and how each AWS protocol puts an error on the wire.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "emulator/http/http_types.h"
#include "emulator/util/xml.h"

namespace offcloud {

// The wire protocols of the emulated services (botocore's "protocol").
enum class Protocol { kRestJson, kJson, kQuery, kRestXml };

// X(code, status, default message)
#define OFFCLOUD_API_ERRORS(X)                                                                     \
  /* Authentication, per protocol family. */                                                       \
  X(AccessDenied, 403, "Access Denied")                                                            \
  X(AccessDeniedException, 403, "You are not authorized to perform this operation.")               \
  X(ForbiddenException, 403, "You are not authorized to perform this operation.")                  \
  X(AuthorizationHeaderMalformed, 400, "The authorization header is malformed.")                   \
  X(AuthorizationQueryParametersError, 400, "Error parsing the X-Amz-Credential parameter.")       \
  X(IncompleteSignature, 400, "The request signature does not conform to AWS standards.")          \
  X(IncompleteSignatureException, 400, "The request signature does not conform to AWS standards.") \
  X(InvalidAccessKeyId, 403, "The AWS Access Key Id you provided does not exist in our records.")  \
  X(InvalidClientTokenId, 403, "The security token included in the request is invalid.")           \
  X(InvalidSignatureException, 403,                                                                \
    "The request signature we calculated does not match the signature you provided. Check "        \
    "your AWS Secret Access Key and signing method. Consult the service documentation for "        \
    "details.")                                                                                    \
  X(MissingAuthenticationToken, 403, "Request is missing Authentication Token")                    \
  X(MissingAuthenticationTokenException, 403, "Missing Authentication Token")                      \
  X(RequestTimeTooSkewed, 403,                                                                     \
    "The difference between the request time and the current time is too large.")                  \
  X(SignatureDoesNotMatch, 403,                                                                    \
    "The request signature we calculated does not match the signature you provided. Check "        \
    "your key and signing method.")                                                                \
  X(UnrecognizedClientException, 403, "The security token included in the request is invalid.")    \
  X(XAmzContentSHA256Mismatch, 400,                                                                \
    "The provided 'x-amz-content-sha256' header does not match what was computed.")                \
  /* Requests. */                                                                                  \
  X(InvalidArgument, 400, "Invalid Argument")                                                      \
  X(InvalidRequest, 400, "Invalid Request")                                                        \
  X(InvalidRequestException, 400, "The request is not valid.")                                     \
  X(MalformedHttpRequest, 400, "The HTTP request could not be parsed.")                            \
  X(MethodNotAllowedException, 405,                                                                \
    "The specified combination of HTTP verb and URI is not supported.")                            \
  X(RequestEntityTooLargeException, 413, "The payload exceeds the maximum size allowed.")          \
  X(EntityTooLarge, 413, "Your proposed upload exceeds the maximum allowed size.")                 \
  X(RequestHeaderSectionTooLarge, 431,                                                             \
    "Your request header section exceeds the maximum allowed "                                     \
    "size.")                                                                                       \
  X(ResourceNotFoundException, 404, "The specified resource does not exist.")                      \
  X(UnknownOperationException, 404, "The requested operation is not recognized.")                  \
  X(UnknownServiceException, 400, "offcloud does not emulate the requested service.")              \
  /* Firehose. */                                                                                  \
  X(ConcurrentModificationException, 400, "Another modification has already happened.")            \
  X(InvalidArgumentException, 400, "The specified input parameter has a value that is not valid.") \
  X(LimitExceededException, 400, "You have already reached the limit for a requested resource.")   \
  X(ResourceInUseException, 400,                                                                   \
    "The resource is already in use and not available for this "                                   \
    "operation.")                                                                                  \
  X(SerializationException, 400, "The request body could not be parsed.")                          \
  X(ValidationException, 400, "The input fails to satisfy the constraints of the operation.")      \
  /* S3. */                                                                                        \
  X(BadDigest, 400, "The Content-MD5 you specified did not match what we received.")               \
  X(BucketAlreadyExists, 409, "The requested bucket name is not available.")                       \
  X(BucketAlreadyOwnedByYou, 409,                                                                  \
    "Your previous request to create the named bucket succeeded and you already own it.")          \
  X(BucketNotEmpty, 409, "The bucket you tried to delete is not empty")                            \
  X(IllegalLocationConstraintException, 400,                                                       \
    "The unspecified location constraint is incompatible for the region specific endpoint "        \
    "this request was sent to.")                                                                   \
  X(InvalidBucketName, 400, "The specified bucket is not valid.")                                  \
  X(InvalidDigest, 400, "The Content-MD5 you specified is not valid.")                             \
  X(InvalidURI, 400, "Couldn't parse the specified URI.")                                          \
  X(InvalidPart, 400,                                                                              \
    "One or more of the specified parts could not be found. The part may not "                     \
    "have been uploaded, or the specified entity tag may not match the part's entity tag.")        \
  X(InvalidPartOrder, 400,                                                                         \
    "The list of parts was not in ascending order. Parts must be ordered "                         \
    "by part number.")                                                                             \
  X(EntityTooSmall, 400, "Your proposed upload is smaller than the minimum allowed object size.")  \
  X(IncompleteBody, 400,                                                                           \
    "You did not provide the number of bytes specified by the "                                    \
    "Content-Length HTTP header.")                                                                 \
  X(InvalidLocationConstraint, 400, "The specified location-constraint is not valid.")             \
  X(InvalidRange, 416, "The requested range is not satisfiable")                                   \
  X(KeyTooLongError, 400, "Your key is too long")                                                  \
  X(MalformedXML, 400,                                                                             \
    "The XML you provided was not well-formed or did not validate against our published schema")   \
  X(MethodNotAllowed, 405, "The specified method is not allowed against this resource.")           \
  X(NoSuchBucket, 404, "The specified bucket does not exist")                                      \
  X(NoSuchKey, 404, "The specified key does not exist.")                                           \
  X(NoSuchVersion, 404, "The specified version does not exist.")                                   \
  X(IllegalVersioningConfigurationException, 400, "The Versioning element must be specified")      \
  X(NoSuchUpload, 404,                                                                             \
    "The specified upload does not exist. The upload ID may be invalid, or "                       \
    "the upload may have been aborted or completed.")                                              \
  /* S3's browser-based POST uploads. */                                                           \
  X(MalformedPOSTRequest, 400,                                                                     \
    "The body of your POST request is not well-formed multipart/form-data.")                       \
  X(InvalidPolicyDocument, 400,                                                                    \
    "The content of the form does not meet the conditions specified in the policy document.")      \
  X(IncorrectNumberOfFilesInPostRequest, 400,                                                      \
    "POST requires exactly one file upload per request.")                                          \
  X(MaxPostPreDataLengthExceededError, 400,                                                        \
    "Your POST request fields preceding the upload file were too large.")                          \
  X(PreconditionFailed, 412, "At least one of the pre-conditions you specified did not hold")      \
  X(ConditionalRequestConflict, 409,                                                               \
    "A conflicting operation occurred. If using PutObject you can retry the request. If using "    \
    "multipart upload you should initiate another CreateMultipartUpload request and re-upload "    \
    "each part.")                                                                                  \
  X(InvalidPartNumber, 416, "The requested partnumber is not satisfiable")                         \
  X(InvalidStorageClass, 400, "The storage class you specified is not valid")                      \
  X(InvalidEncryptionAlgorithmError, 400,                                                          \
    "The Encryption request you specified is not valid. Supported value: AES256.")                 \
  X(MissingSecurityHeader, 400, "Your request was missing a required header")                      \
  X(UnexpectedContent, 400, "This request does not support content")                               \
  X(AccessControlListNotSupported, 400, "The bucket does not allow ACLs")                          \
  X(InvalidBucketAclWithObjectOwnership, 400,                                                      \
    "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")              \
  X(MalformedACLError, 400,                                                                        \
    "The XML you provided was not well-formed or did not validate against our published schema")   \
  X(AccessForbidden, 403,                                                                          \
    "CORSResponse: This CORS request is not allowed. This is usually because the evalution of "    \
    "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers "    \
    "are not whitelisted by the resource's CORS spec.")                                            \
  X(BadRequest, 400, "Bad Request")                                                                \
  X(InvalidTag, 400, "The TagKey you have provided is invalid")                                    \
  X(MalformedPolicy, 400, "Policies must be valid JSON and the first byte must be '{'")            \
  X(NoSuchBucketPolicy, 404, "The bucket policy does not exist")                                   \
  X(NoSuchCORSConfiguration, 404, "The CORS configuration does not exist")                         \
  X(InvalidBucketState, 409, "The request is not valid with the current state of the bucket.")     \
  X(NoSuchObjectLockConfiguration, 404,                                                            \
    "The specified object does not have a ObjectLock configuration")                               \
  X(ObjectLockConfigurationNotFoundError, 404,                                                     \
    "Object Lock configuration does not exist for this bucket")                                    \
  X(NoSuchLifecycleConfiguration, 404, "The lifecycle configuration does not exist")               \
  X(NoSuchPublicAccessBlockConfiguration, 404,                                                     \
    "The public access block configuration was not found")                                         \
  X(NoSuchTagSet, 404, "The TagSet does not exist")                                                \
  X(OwnershipControlsNotFoundError, 404, "The bucket ownership controls were not found")           \
  X(InvalidObjectState, 403, "The operation is not valid for the object's storage class")          \
  X(RestoreAlreadyInProgress, 409, "Object restore is already in progress")                        \
  /* IoT control plane. */                                                                         \
  X(ResourceAlreadyExistsException, 409, "The resource already exists.")                           \
  X(CertificateStateException, 406, "The certificate operation is not allowed.")                   \
  X(CertificateValidationException, 400, "The certificate is invalid.")                            \
  X(DeleteConflictException, 409,                                                                  \
    "You can't delete the resource because it is attached to "                                     \
    "one or more resources.")                                                                      \
  X(MalformedPolicyException, 400, "The policy documentation is not valid.")                       \
  X(VersionConflictException, 409,                                                                 \
    "An exception thrown when the version of an entity "                                           \
    "specified with the expectedVersion parameter does not match the latest version in the "       \
    "system.")                                                                                     \
  X(VersionsLimitExceededException, 409, "The number of policy versions exceeds the limit.")       \
  X(SqlParseException, 400, "The Rule-SQL expression can't be parsed correctly.")                  \
  X(UnauthorizedException, 401, "You are not authorized to perform this operation.")               \
  /* IAM and STS. */                                                                               \
  X(DeleteConflict, 409,                                                                           \
    "The request was rejected because it attempted to delete a resource that has attached "        \
    "subordinate entities.")                                                                       \
  X(EntityAlreadyExists, 409,                                                                      \
    "The request was rejected because it attempted to create a resource that already exists.")     \
  X(InvalidAction, 400,                                                                            \
    "The action or operation requested is invalid. Verify that the action is typed correctly.")    \
  X(InvalidInput, 400, "An invalid or out-of-range value was supplied for an input parameter.")    \
  X(LimitExceeded, 409,                                                                            \
    "The request was rejected because it attempted to create resources beyond the current AWS "    \
    "account limits.")                                                                             \
  X(MalformedPolicyDocument, 400, "The policy document is malformed.")                             \
  X(MissingAction, 400, "The request is missing an action or a required parameter.")               \
  X(NoSuchEntity, 404,                                                                             \
    "The request was rejected because it referenced a resource entity that does not exist.")       \
  X(ValidationError, 400,                                                                          \
    "The input fails to satisfy the constraints specified by an AWS service.")                     \
  /* Server side. */                                                                               \
  X(InternalError, 500, "We encountered an internal error. Please try again.")                     \
  X(InternalException, 500, "An unexpected error has occurred.")                                   \
  X(InternalFailureException, 500,                                                                 \
    "The request processing has failed because of an internal "                                    \
    "error.")                                                                                      \
  X(NotImplemented, 501,                                                                           \
    "A header or operation you provided implies functionality that is not "                        \
    "implemented.")                                                                                \
  X(ServiceUnavailable, 503, "Please reduce your request rate.")                                   \
  X(ServiceUnavailableException, 503,                                                              \
    "The service is unavailable. Back off and retry the operation.")

enum class ErrorCode {
#define OFFCLOUD_ERROR_ENUM(code, status, message) k##code,
  OFFCLOUD_API_ERRORS(OFFCLOUD_ERROR_ENUM)
#undef OFFCLOUD_ERROR_ENUM
};

struct ErrorInfo {
  std::string_view code;
  int status;
  std::string_view message;
};
const ErrorInfo& error_info(ErrorCode code);

struct ApiError {
  ErrorCode code;
  std::string message;  // empty: the table's default
  // Extra elements S3 puts in its <Error> (Resource, StringToSign, ...).
  // JSON protocols leave them out.
  std::vector<std::pair<std::string, std::string>> details = {};
  // Non-zero: the status this service gives the code (Firehose answers
  // ResourceNotFoundException with 400 where IoT uses 404).
  int status = 0;
};

// The error as `protocol` shows it: rest-json and json 1.1 with
// x-amzn-ErrorType and {"message"}, query with <ErrorResponse>, rest-xml (S3)
// with <Error>.
HttpResponse error_response(Protocol protocol, const ApiError& error, std::string_view request_id);

}  // namespace offcloud

// S3's error codes in one table: each code with its HTTP status and, where S3 always says
// the same, its message (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
// and what S3 answers). Operations throw s3_error("NoSuchKey"): the code is checked at
// compile time against the table, so a misspelt code or a status that disagrees with
// another use of the same code cannot happen.
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace stratus::s3 {

struct ErrorSpec {
    std::string_view code;
    int status;
    std::string_view message;  // empty: the call site gives it
};

inline constexpr ErrorSpec error_specs[] = {
    {"AccessControlListNotSupported", 400, "The bucket does not allow ACLs"},
    {"AccessDenied", 403, "Access Denied"},
    {"AccessForbidden", 403, ""},
    {"AuthorizationQueryParametersError", 400, ""},
    {"BadDigest", 400, "The Content-MD5 you specified did not match what we received."},
    {"BadRequest", 400, ""},
    {"BucketAlreadyOwnedByYou", 409,
     "Your previous request to create the named bucket succeeded and you already own it."},
    {"BucketNotEmpty", 409, "The bucket you tried to delete is not empty"},
    {"EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size"},
    {"EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed size"},
    {"IncompleteBody", 400, "The request body terminated unexpectedly"},
    {"InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."},
    {"InvalidArgument", 400, ""},
    {"InvalidBucketAclWithBlockPublicAccessError", 400,
     "Bucket cannot have public ACLs set with BlockPublicAccess enabled"},
    {"InvalidBucketAclWithObjectOwnership", 400,
     "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"},
    {"InvalidBucketName", 400, "The specified bucket is not valid."},
    {"InvalidDigest", 400, "The Content-MD5 you specified was invalid."},
    {"InvalidLocationConstraint", 400, "The specified location-constraint is not valid"},
    {"InvalidPart", 400,
     "One or more of the specified parts could not be found.  The part may not have been uploaded, or the "
     "specified entity tag may not have matched the part's entity tag."},
    {"InvalidPartNumber", 416, "The requested partnumber is not satisfiable"},
    {"InvalidPartOrder", 400, "The list of parts was not in ascending order. Parts must be ordered by part number."},
    {"InvalidPolicyDocument", 400, ""},
    {"InvalidRange", 416, "The requested range is not satisfiable"},
    {"InvalidRequest", 400, ""},
    {"InvalidTag", 400, ""},
    {"InvalidURI", 400, "Couldn't parse the specified URI."},
    {"KeyTooLongError", 400, "Your key is too long"},
    {"MalformedACLError", 400,
     "The XML you provided was not well-formed or did not validate against our published schema"},
    {"MalformedPOSTRequest", 400, "The body of your POST request is not well-formed multipart/form-data."},
    {"MalformedPolicy", 400, ""},
    {"MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema"},
    {"MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size"},
    {"MethodNotAllowed", 405, "The specified method is not allowed against this resource."},
    {"MissingContentLength", 411, "You must provide the Content-Length HTTP header."},
    {"MissingSecurityHeader", 400, "Your request was missing a required header"},
    {"NoSuchBucket", 404, "The specified bucket does not exist"},
    {"NoSuchBucketPolicy", 404, "The bucket policy does not exist"},
    {"NoSuchCORSConfiguration", 404, "The CORS configuration does not exist"},
    {"NoSuchKey", 404, "The specified key does not exist."},
    {"NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist"},
    {"NoSuchPublicAccessBlockConfiguration", 404, "The public access block configuration was not found"},
    {"NoSuchTagSet", 404, "The TagSet does not exist"},
    {"NoSuchUpload", 404,
     "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or "
     "completed."},
    {"NoSuchVersion", 404, "The specified version does not exist."},
    {"NoSuchWebsiteConfiguration", 404, "The specified bucket does not have a website configuration"},
    {"NotImplemented", 501, "A header you provided implies functionality that is not implemented"},
    {"OwnershipControlsNotFoundError", 404, "The bucket ownership controls were not found"},
    {"PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold"},
    {"SignatureDoesNotMatch", 403,
     "The request signature we calculated does not match the signature you provided. Check your key and signing "
     "method."},
    {"UnexpectedContent", 400, "This request does not support content"},
};

// A code of the table, checked when compiled.
class ErrorCode {
public:
    consteval ErrorCode(const char* code) : index_(find(code)) {}  // NOLINT: implicit by design
    const ErrorSpec& spec() const { return error_specs[index_]; }

private:
    static consteval std::size_t find(std::string_view code) {
        for (std::size_t i = 0; i < std::size(error_specs); ++i)
            if (error_specs[i].code == code) return i;
        throw "not an S3 error code of s3/errors.hpp";  // a compile error: consteval
    }
    std::size_t index_;
};

// The error with the table's message, or with its own.
inline core::AwsError s3_error(ErrorCode c) {
    const ErrorSpec& s = c.spec();
    return core::AwsError(std::string(s.code), std::string(s.message), s.status);
}
inline core::AwsError s3_error(ErrorCode c, std::string message) {
    const ErrorSpec& s = c.spec();
    return core::AwsError(std::string(s.code), std::move(message), s.status);
}
// The same for a code known only at run time (nullopt when the table lacks it).
inline std::optional<core::AwsError> s3_error_named(std::string_view code) {
    for (const auto& s : error_specs)
        if (s.code == code) return core::AwsError(std::string(s.code), std::string(s.message), s.status);
    return std::nullopt;
}

}  // namespace stratus::s3

// Why a request failed authentication. Services turn a failure into their own AWS error
// (S3's SignatureDoesNotMatch, DynamoDB's InvalidSignatureException, ...); see
// Service::auth_error and default_auth_error in core/protocol.hpp.
#pragma once

#include <string>

namespace stratus::core {

enum class AuthFailure {
    missing,              // no Authorization header nor presigned query
    malformed,            // SigV4 present but unparsable (missing Credential=, bad scope...)
    unknown_access_key,   // access key is not the configured one
    signature_mismatch,   // signature differs from the one we computed
    expired,              // presigned URL past X-Amz-Expires
    time_skewed,          // header auth with X-Amz-Date more than 15 minutes off
    content_sha_mismatch, // x-amz-content-sha256 differs from the body's SHA-256
};

struct AuthProblem {
    AuthFailure failure;
    std::string detail;  // text for the error message (e.g. the expired timestamps)
};

}  // namespace stratus::core

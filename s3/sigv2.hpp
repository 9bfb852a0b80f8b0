// AWS Signature Version 2 as S3 still accepts it: the presigned query form
// (?AWSAccessKeyId=&Expires=&Signature=) that AWS CLI v1's `s3 presign` produces by
// default, and the "Authorization: AWS AKID:signature" header. Rules follow botocore's
// HmacV1Auth / HmacV1QueryAuth and the S3 documentation
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/auth.hpp"
#include "core/http_types.hpp"

namespace stratus::s3::sigv2 {

using core::AuthProblem;
using core::Request;

}  // namespace stratus::s3::sigv2

namespace stratus::s3::sigv2 {

struct Auth {
    enum class Kind { header, query } kind = Kind::header;
    std::string access_key;
    std::string signature;  // base64, decoded from the query
    std::optional<std::int64_t> expires;  // query form: epoch seconds
};

// nullopt when the request carries no SigV2.
std::optional<Auth> parse(const Request& req);

// The string HMAC-SHA1 signs. `host_bucket`: the bucket named by a virtual-hosted Host
// (empty for path-style), which the canonical resource starts with.
std::string string_to_sign(const Request& req, const Auth& auth, std::string_view host_bucket);

// nullopt when valid; else expired or signature_mismatch.
std::optional<AuthProblem> verify(const Request& req, const Auth& auth, std::string_view secret,
                                  std::chrono::system_clock::time_point now, std::string_view host_bucket);

}  // namespace stratus::s3::sigv2

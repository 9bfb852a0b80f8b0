// How S3 authenticates a request under --verify-signatures: SigV4 with S3's canonical
// rules (the path as sent, x-amz-content-sha256, presigned URLs signing UNSIGNED-PAYLOAD),
// SigV2 (header and presigned query, which AWS CLI v1 still produces), the bytes of a
// streamed body checked against the hash the signature covers, aws-chunked chunk
// signatures, and requests without any signature let through as anonymous (their access
// is decided by the bucket's ACL and policy, s3/access.hpp).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/auth.hpp"
#include "core/error.hpp"
#include "core/http_types.hpp"

namespace stratus::s3 {

// Wraps a streamed body's sink so that its SHA-256 is taken on the way in (bodies that
// never sit in Request::body). authenticate() unwraps it: the operation gets its own sink.
std::unique_ptr<core::BodySink> hashing_sink(std::unique_ptr<core::BodySink> inner);
// The sink inside a hashing_sink (the request's sink, unwrapped), and the body's SHA-256
// in lowercase hex (empty when the sink was not one).
std::string unwrap_hashing_sink(core::Request& req);

// The S3 error for an authentication problem (AuthorizationQueryParametersError for a
// presigned URL's bad parameters, AccessDenied "Request has expired" with S3's fields).
core::AwsError s3_auth_error(const core::AuthProblem& problem);

// nullopt: authenticated (req.access_key set) or anonymous (no signature at all,
// req.access_key empty). `host_bucket`: the bucket a virtual-hosted Host names (SigV2's
// canonical resource starts with it).
std::optional<core::AuthProblem> authenticate(core::Request& req, const core::Credentials& keys,
                                              std::string_view host_bucket);

}  // namespace stratus::s3

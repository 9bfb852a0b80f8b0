// AWS Signature Version 4: parsing the Authorization header or presigned query, and
// verifying the signature the way AWS does for the SDKs we serve. The canonicalisation
// rules follow botocore's signers (SigV4Auth, S3SigV4Auth, SigV4QueryAuth,
// S3SigV4QueryAuth); tests/unit/sigv4_test.cpp checks them against requests signed by
// botocore itself. Spec: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth.hpp"
#include "core/http_types.hpp"

namespace stratus::core::sigv4 {

// SigV4 is present but unusable (no Credential=, a scope without aws4_request, ...).
// Callers report it as AuthFailure::malformed; what() is the text for the message.
struct ParseError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Auth {
    enum class Kind { header, query } kind = Kind::header;
    std::string access_key;
    std::string date;     // scope date, yyyymmdd
    std::string region;
    std::string service;  // scope service: "dynamodb", "s3", "lambda", ...
    std::vector<std::string> signed_headers;  // lowercased, in the order listed
    std::string signature;                    // hex, as sent
    // Signing time in ISO 8601 basic format (20261126T165200Z), the form the string to
    // sign uses: X-Amz-Date (header or query); for header auth without x-amz-date, the
    // Date header converted to that form.
    std::string amz_date;
    std::optional<std::int64_t> expires;  // X-Amz-Expires (presigned), seconds
    std::string security_token;           // x-amz-security-token / X-Amz-Security-Token
};

// nullopt when the request carries no SigV4 at all: no Authorization header whose scheme
// is AWS4-HMAC-SHA256 and no X-Amz-Algorithm query parameter. Throws ParseError when
// SigV4 is there but malformed, or when both forms are there (AWS refuses that too).
std::optional<Auth> parse(const Request& req);

// Just the scope's service name, for routing every request: no allocation, no throw.
// A view into req's Authorization header or raw query; empty when there is none or it
// doesn't parse.
std::string_view scope_service(const Request& req);

struct VerifyOptions {
    std::string_view secret_key;
    std::chrono::system_clock::time_point now;
    // S3 rules: the canonical URI is the path as sent (not normalised, not encoded
    // again), x-amz-content-sha256 must be a hash, UNSIGNED-PAYLOAD or STREAMING-*,
    // presigned URLs sign UNSIGNED-PAYLOAD and must carry X-Amz-Expires.
    bool s3 = false;
};

// nullopt when the signature is valid. Otherwise the AuthFailure and a message text:
// malformed (scope date != X-Amz-Date's day, X-Amz-Expires over a week, bad
// x-amz-content-sha256), time_skewed (header auth more than 15 minutes off `now`),
// expired (presigned past X-Amz-Expires), content_sha_mismatch (x-amz-content-sha256 is
// a hash and the held body doesn't match it), signature_mismatch. The access key is the
// caller's to check.
std::optional<AuthProblem> verify(const Request& req, const Auth& auth, const VerifyOptions& opt);

// The canonical request verify() signs, for error details (S3's <CanonicalRequest>) and
// tests. Hashes req.body when the payload hash comes from the body.
std::string canonical_request(const Request& req, const Auth& auth, bool s3);
// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical request>".
std::string string_to_sign(const Auth& auth, std::string_view canonical_request);

// HMAC chain "AWS4"+secret → date → region → service → "aws4_request" (raw bytes).
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);

}  // namespace stratus::core::sigv4

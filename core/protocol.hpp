// The AWS wire protocols stratus speaks, and the rendering of AwsError in each of them.
// Services build their success bodies themselves; errors are rendered only here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/auth.hpp"
#include "core/error.hpp"
#include "core/http_types.hpp"

namespace stratus::core {

enum class Wire {
    json10,     // DynamoDB, DynamoDB Streams: X-Amz-Target, application/x-amz-json-1.0
    json11,     // CloudWatch Logs: application/x-amz-json-1.1
    rest_json,  // Lambda: x-amzn-ErrorType header
    rest_xml,   // S3: <Error><Code>
    internal,   // /_stratus/ endpoints: plain JSON
};

struct Protocol {
    Wire wire = Wire::internal;
    // JSON 1.0 services qualify __type: "com.amazonaws.dynamodb.v20120810#".
    std::string json_type_prefix;
    // DynamoDB sends x-amz-crc32 (CRC32 of the body) and botocore checks it.
    bool crc32 = false;
};

// Request ids shaped like each service's: S3 16 upper-hex characters, DynamoDB 52
// upper-case alphanumerics, others a UUID.
std::string new_request_id(Wire wire);

// A random (version 4) UUID, lowercase: Lambda request ids, DynamoDB TableId, ...
std::string random_uuid();
// "2026-11-26T19:58:00.123Z" for Unix epoch milliseconds (UTC).
std::string iso8601(std::int64_t epoch_ms);

// The error as the protocol renders it (status, headers, body; no body for HEAD).
Response render_error(const Protocol& protocol, const AwsError& error, const Request& request);

// Adds what every response of the protocol carries: request id headers
// (x-amzn-RequestId, or x-amz-request-id and x-amz-id-2) and x-amz-crc32.
void stamp_response(const Protocol& protocol, const Request& request, Response& response);

// A JSON success response in the protocol's content type.
Response json_response(const Protocol& protocol, std::string body, int status = 200);

// The error AWS answers for a failed authentication, by protocol family. Services may
// override (Service::auth_error).
AwsError default_auth_error(Wire wire, const AuthProblem& problem);

// The error for a body over the service's limit.
AwsError default_too_large(Wire wire, std::uint64_t limit);

std::string xml_escape(std::string_view s);
std::uint32_t crc32(std::string_view data);
// The CRC-32 of what `crc` covered followed by data (crc32(0, d) == crc32(d)).
std::uint32_t crc32(std::uint32_t crc, std::string_view data);

}  // namespace stratus::core

// The gateway's own answers (no route, authorizer denials, integration failures, ...) and
// the one place they are rendered, in each API type's words. Everything else in gateway/
// returns a Failure; only render_failure() turns one into bytes.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/http_types.hpp"
#include "gateway/model.hpp"

namespace stratus::gateway {

enum class Failure {
    no_route,              // REST: 403 Missing Authentication Token; HTTP: 404 Not Found
    forbidden,             // unknown API id or stage: 403 Forbidden
    invalid_api_key,       // REST: x-api-key missing or unknown: 403 Forbidden
    unauthorized,          // authorizer said Unauthorized / no token / bad JWT: 401
    denied_explicitly,     // REST policy with a matching Deny; HTTP authorizer denial: 403
    not_allowed,           // REST policy without a matching Allow; HTTP: 403
    insufficient_scope,    // HTTP JWT: none of the route's scopes: 403
    authorizer_error,      // the authorizer crashed or answered something invalid: 500
    integration_error,     // function error or malformed result: REST 502, HTTP 500
    integration_timeout,   // REST 504, HTTP 503
    configuration_error,   // unknown function, throttled function: 500
    request_too_large,     // over 10 MB: 413
    bad_request,           // a path that cannot be routed (invalid UTF-8, dot segments): 400
};

struct GatewayFailure {
    Failure kind;
    std::string detail;  // for the log (never sent)
    // Extra response headers (HTTP JWT authorizers' www-authenticate).
    std::vector<std::pair<std::string, std::string>> headers;
};

// Who is answering: shapes the ids and the customisations applied.
struct ResponseIds {
    std::string request_id;           // REST: a UUID; HTTP: "JKJaXmPLvHcESHA="
    std::string extended_request_id;  // REST x-amz-apigw-id
};

// The error response as AWS's API Gateway sends it: status, JSON body, and the headers
// of the API type (REST: x-amzn-RequestId, x-amzn-ErrorType, x-amz-apigw-id; HTTP:
// apigw-requestid). REST GatewayResponses customise status, headers and body.
core::Response render_failure(ApiType type, const GatewayFailure& failure, const ResponseIds& ids,
                              const std::vector<GatewayResponseSpec>* customised = nullptr);

// The headers every answer of the API type carries (success or not).
void stamp_ids(ApiType type, const ResponseIds& ids, core::Response& response);

// REST GatewayResponse type name for a failure ("MISSING_AUTHENTICATION_TOKEN", ...).
std::string_view response_type(Failure failure);

}  // namespace stratus::gateway

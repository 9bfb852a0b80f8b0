// The events a Lambda proxy integration receives: payload format 1.0 (REST APIs, and HTTP
// APIs that ask for it) and 2.0 (HTTP APIs), and the Lambda authorizers' events built from
// the same pieces. Field by field as AWS documents them:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http_types.hpp"
#include "core/proxy_event.hpp"
#include "gateway/model.hpp"

namespace stratus::gateway {

// What the events say about the request, gathered once.
struct EventRequest {
    const core::Request* request = nullptr;  // method, headers (with X-Forwarded-* added), query, body
    std::string path;          // the path as requested, percent-encoded, without the query
    std::string source_ip;
    std::string domain_name;   // the Host header as sent ("localhost:3000", "abc.execute-api.localhost:3000")
    std::string domain_prefix; // its first label
    std::string request_id;    // REST: a UUID; HTTP: the extended form
    std::string extended_request_id;
    std::int64_t time_ms = 0;
    std::string api_key;     // REST: the x-api-key a private route accepted
    std::string api_key_id;
};

// Where the request landed.
struct EventRoute {
    const ApiSpec* api = nullptr;
    const RouteSpec* route = nullptr;  // nullptr for the HTTP $default route
    std::string stage;                 // "dev", "$default"
    std::string resource_path;         // the route's path ("/items/{id}"); "/" for $default
    std::string resource_id;           // REST: 6 characters, stable per route
    std::string route_key;             // HTTP: "GET /items/{id}", "$default"
    std::string event_path;            // v1 "path": REST without the stage ("/items/1")
    std::string context_path;          // v1 requestContext.path: REST with it ("/dev/items/1")
    std::string api_path;              // the path within the API (no stage, no mount prefix): ARNs
    std::vector<std::pair<std::string, std::string>> path_params;
};

// "04/Mar/2020:19:15:17 +0000" (the CLF time API Gateway's events carry).
using core::clf_time;

// Whether a request body of this Content-Type goes base64-encoded: REST by the API's
// binaryMediaTypes ("image/png", "image/*", "*/*"); HTTP APIs unless it is text.
bool binary_body_v1(std::string_view content_type, const std::vector<std::string>& binary_media_types);
using core::binary_body_v2;  // core/proxy_event.hpp (function URLs share it)
bool media_type_matches(std::string_view content_type, std::string_view pattern);

// The events, as JSON text ready for the invoke (written directly, in AWS's member order;
// invalid UTF-8 in the request becomes U+FFFD, as Lambda needs valid JSON). `authorizer`
// is what requestContext.authorizer carries (null: none): REST {principalId,
// integrationLatency, ...context as strings}; HTTP payload 1.0 JWT {claims, scopes}; 2.0
// {"jwt": {claims, scopes}} or {"lambda": {...}}.
std::string event_v1(const EventRequest& req, const EventRoute& route, const nlohmann::json* authorizer);
std::string event_v2(const EventRequest& req, const EventRoute& route, const nlohmann::json* authorizer);

// Lambda authorizer events. TOKEN: {type, authorizationToken, methodArn}. REQUEST (REST,
// and HTTP payload 1.0): the v1 event without body, plus type and methodArn (HTTP 1.0 also
// version, identitySource and authorizationToken). HTTP payload 2.0: the v2 event without
// body, plus type, routeArn and identitySource.
std::string token_authorizer_event(std::string_view token, std::string_view method_arn);
std::string request_authorizer_event_v1(const EventRequest& req, const EventRoute& route, std::string_view method_arn,
                                        const std::vector<std::string>* http_identity);
std::string request_authorizer_event_v2(const EventRequest& req, const EventRoute& route, std::string_view route_arn,
                                        const std::vector<std::string>& identity);

// arn:aws:execute-api:us-east-1:000000000000:{apiId}/{stage}/{METHOD}/{path without its leading slash}
std::string execute_api_arn(std::string_view api_id, std::string_view stage, std::string_view method,
                            std::string_view path);

inline constexpr std::string_view account_id = "000000000000";
inline constexpr std::string_view region = "us-east-1";

}  // namespace stratus::gateway

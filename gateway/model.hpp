// The API Gateway's model of APIs: what the app model (emulator/app, from serverless.yml or
// SAM) and the test-only endpoint declare, through Gateway::declare. A plain data header:
// standard library only, so emulator/ and tests include it freely.
//
// Contract between gateway/ (which serves these) and emulator/ (which builds them). Fields
// may be added; existing ones keep their meaning.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stratus::gateway {

enum class ApiType {
    rest,  // API Gateway REST API (v1): serverless `http` events, SAM `Api`, payload 1.0
    http,  // API Gateway HTTP API (v2): serverless `httpApi` events, SAM `HttpApi`, payload 2.0 by default
};

// CORS as each API type configures it. REST: per route (`cors: true` or its detailed form),
// preflights answered by the gateway (as AWS's mock integration does), other responses carry
// what the function returns. HTTP: per API, preflights answered and headers added to
// every response.
struct CorsSpec {
    std::vector<std::string> allow_origins;   // "*" allowed
    std::vector<std::string> allow_methods;   // empty: the route's methods (REST), "*" (HTTP)
    std::vector<std::string> allow_headers;
    std::vector<std::string> expose_headers;  // HTTP only
    bool allow_credentials = false;
    std::optional<int> max_age;               // seconds
};

struct AuthorizerSpec {
    std::string name;  // unique within the API; routes name it
    enum class Kind {
        token,    // REST Lambda TOKEN authorizer
        request,  // REST Lambda REQUEST authorizer, or HTTP API Lambda authorizer
        jwt,      // HTTP API JWT authorizer
    } kind = Kind::token;
    // Lambda authorizers: the function (name or ARN).
    std::string function;
    // REST: "method.request.header.Authorization", "method.request.querystring.token", ...
    // HTTP: "$request.header.Authorization", "$request.querystring.token", ...
    // Empty: Authorization header.
    std::vector<std::string> identity_sources;
    std::string validation_expression;  // TOKEN: a regex the token must match
    int result_ttl_seconds = 300;        // 0 disables caching
    // HTTP API Lambda authorizers.
    std::string payload_format_version = "2.0";  // "1.0" or "2.0"
    bool simple_responses = false;               // {"isAuthorized": bool, "context": {...}}
    // JWT.
    std::string issuer;
    std::vector<std::string> audiences;
    // Where the keys come from: empty means {issuer}/.well-known/openid-configuration's
    // jwks_uri; else an http URL or a local file path of a JWKS document.
    std::string jwks_uri;
};

struct RouteSpec {
    // REST: GET, POST, ..., ANY. HTTP: the same, or "$default" with an empty path for the
    // $default route.
    std::string method;
    // "/items", "/items/{id}", "/{proxy+}", "/" (leading slash; no stage).
    std::string path;
    std::string function;    // name or ARN the route's AWS_PROXY integration invokes
    std::string authorizer;  // AuthorizerSpec::name; empty: none
    std::vector<std::string> scopes;  // HTTP JWT authorizationScopes
    bool api_key_required = false;    // REST `private: true`
    std::optional<CorsSpec> cors;     // REST only
    // Integration timeout in milliseconds (REST at most 29,000, HTTP at most 30,000);
    // 0: the API type's maximum.
    int timeout_ms = 0;
    // HTTP API: the payload format the integration receives ("2.0" default, or "1.0").
    std::string payload_format_version;
};

// AWS::ApiGateway::GatewayResponse: the gateway's own error answers, customised.
struct GatewayResponseSpec {
    std::string type;  // "DEFAULT_4XX", "UNAUTHORIZED", "ACCESS_DENIED", "MISSING_AUTHENTICATION_TOKEN", ...
    std::optional<int> status;
    std::map<std::string, std::string> headers;    // values as sent (quotes already removed)
    std::map<std::string, std::string> templates;  // content type -> body
};

struct ApiSpec {
    // 10 lowercase letters / digits, as AWS makes them; declaring an id again replaces that
    // API atomically (requests in flight finish on the routes they started with).
    std::string id;
    std::string name;
    ApiType type = ApiType::rest;
    // REST: the stage in the URL (/{stage}/{path}), "dev" by default. HTTP: "$default".
    std::string stage;
    std::map<std::string, std::string> stage_variables;
    std::vector<RouteSpec> routes;
    std::vector<AuthorizerSpec> authorizers;
    std::vector<std::string> api_keys;            // REST: values accepted in x-api-key
    std::vector<std::string> binary_media_types;  // REST: "image/png", "*/*", ...
    std::optional<CorsSpec> cors;                 // HTTP only
    std::vector<GatewayResponseSpec> gateway_responses;  // REST
};

// What gateway/ offers the app model. Implemented by the gateway service.
class Gateway {
public:
    virtual ~Gateway() = default;
    // Creates or replaces an API. Throws core::AwsError (BadRequestException /
    // ConflictException) with a clear message for a bad spec or a route that collides with
    // another declared API's; nothing changes then.
    virtual void declare(ApiSpec api) = 0;
    // Removes an API (no-op when unknown).
    virtual void remove(const std::string& id) = 0;
    virtual std::vector<ApiSpec> apis() const = 0;
    // The base URL an API is reached at from this machine ("http://127.0.0.1:3000/dev" for a
    // REST API with stage dev, "http://127.0.0.1:3000" for an HTTP API).
    virtual std::string base_url(const std::string& id) const = 0;
};

}  // namespace stratus::gateway

#include "gateway/errors.hpp"

#include <nlohmann/json.hpp>

namespace stratus::gateway {

namespace {

struct Answer {
    int status;
    std::string_view message;  // $context.error.message
    // The body as AWS sends it. Fixed bytes, exactly AWS's: REST's integration errors
    // carry a space after the colon, the gateway responses do not; an authorizer's policy
    // denial says "Message" with a capital M; an authorizer failure's message is null.
    std::string_view body;
    std::string_view error_type;  // REST x-amzn-ErrorType; empty: none
};

// REST APIs. Sources: the default gateway responses
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html)
// and the bodies AWS actually sends for them.
Answer rest_answer(Failure f) {
    switch (f) {
        case Failure::no_route:
            return {403, "Missing Authentication Token", R"({"message":"Missing Authentication Token"})",
                    "MissingAuthenticationTokenException"};
        case Failure::forbidden:
        case Failure::invalid_api_key:
        case Failure::insufficient_scope:
            return {403, "Forbidden", R"({"message":"Forbidden"})", "ForbiddenException"};
        case Failure::unauthorized:
            return {401, "Unauthorized", R"({"message":"Unauthorized"})", "UnauthorizedException"};
        case Failure::denied_explicitly:
            return {403, "User is not authorized to access this resource with an explicit deny",
                    R"({"Message":"User is not authorized to access this resource with an explicit deny"})",
                    "AccessDeniedException"};
        case Failure::not_allowed:
            return {403, "User is not authorized to access this resource",
                    R"({"Message":"User is not authorized to access this resource"})", "AccessDeniedException"};
        case Failure::authorizer_error:
            return {500, "", R"({"message": null})", "AuthorizerConfigurationException"};
        case Failure::integration_error:
            return {502, "Internal server error", R"({"message": "Internal server error"})",
                    "InternalServerErrorException"};
        case Failure::integration_timeout:
            return {504, "Endpoint request timed out", R"({"message": "Endpoint request timed out"})", ""};
        case Failure::configuration_error:
            return {500, "Internal server error", R"({"message": "Internal server error"})",
                    "InternalServerErrorException"};
        case Failure::request_too_large:
            return {413, "Request Too Long", R"({"message":"Request Too Long"})", ""};
        case Failure::bad_request:
            return {400, "Bad Request", R"({"message":"Bad Request"})", "BadRequestException"};
    }
    return {500, "Internal server error", R"({"message": "Internal server error"})", "InternalServerErrorException"};
}

// HTTP APIs answer with their status's reason phrase.
Answer http_answer(Failure f) {
    switch (f) {
        case Failure::no_route: return {404, "Not Found", R"({"message":"Not Found"})", ""};
        case Failure::forbidden:
        case Failure::invalid_api_key:
        case Failure::denied_explicitly:
        case Failure::not_allowed:
        case Failure::insufficient_scope: return {403, "Forbidden", R"({"message":"Forbidden"})", ""};
        case Failure::unauthorized: return {401, "Unauthorized", R"({"message":"Unauthorized"})", ""};
        case Failure::integration_timeout:
            // Not confirmed: an HTTP API whose integration takes longer than its timeout
            // is reported (AWS knowledge center) to answer 503 Service Unavailable.
            return {503, "Service Unavailable", R"({"message":"Service Unavailable"})", ""};
        case Failure::request_too_large:
            return {413, "Request Entity Too Large", R"({"message":"Request Entity Too Large"})", ""};
        case Failure::bad_request: return {400, "Bad Request", R"({"message":"Bad Request"})", ""};
        case Failure::authorizer_error:
        case Failure::integration_error:
        case Failure::configuration_error: break;
    }
    return {500, "Internal Server Error", R"({"message":"Internal Server Error"})", ""};
}

const GatewayResponseSpec* find_customisation(const std::vector<GatewayResponseSpec>& specs, std::string_view type,
                                              int status) {
    for (auto& s : specs)
        if (s.type == type) return &s;
    std::string_view fallback = status >= 500 ? "DEFAULT_5XX" : "DEFAULT_4XX";
    for (auto& s : specs)
        if (s.type == fallback) return &s;
    return nullptr;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
}

// A GatewayResponse's body template: the $context variables that make sense here.
std::string expand(std::string body, const Answer& a, std::string_view type, const ResponseIds& ids) {
    std::string quoted = a.message.empty() ? "null" : nlohmann::json(std::string(a.message)).dump();
    replace_all(body, "$context.error.messageString", quoted);
    replace_all(body, "$context.error.message", a.message);
    replace_all(body, "$context.error.responseType", type);
    replace_all(body, "$context.requestId", ids.request_id);
    replace_all(body, "$context.extendedRequestId", ids.extended_request_id);
    return body;
}

}  // namespace

std::string_view response_type(Failure f) {
    switch (f) {
        case Failure::no_route: return "MISSING_AUTHENTICATION_TOKEN";
        case Failure::forbidden: return "DEFAULT_4XX";
        case Failure::invalid_api_key: return "INVALID_API_KEY";
        case Failure::unauthorized: return "UNAUTHORIZED";
        case Failure::denied_explicitly:
        case Failure::not_allowed:
        case Failure::insufficient_scope: return "ACCESS_DENIED";
        case Failure::authorizer_error: return "AUTHORIZER_CONFIGURATION_ERROR";
        case Failure::integration_error: return "DEFAULT_5XX";
        case Failure::integration_timeout: return "INTEGRATION_TIMEOUT";
        case Failure::configuration_error: return "API_CONFIGURATION_ERROR";
        case Failure::request_too_large: return "REQUEST_TOO_LARGE";
        case Failure::bad_request: return "DEFAULT_4XX";
    }
    return "DEFAULT_5XX";
}

void stamp_ids(ApiType type, const ResponseIds& ids, core::Response& r) {
    if (type == ApiType::rest) {
        r.headers.set("x-amzn-RequestId", ids.request_id);
        r.headers.set("x-amz-apigw-id", ids.extended_request_id);
    } else {
        r.headers.set("Apigw-Requestid", ids.request_id);
    }
}

core::Response render_failure(ApiType type, const GatewayFailure& failure, const ResponseIds& ids,
                              const std::vector<GatewayResponseSpec>* customised) {
    Answer a = type == ApiType::rest ? rest_answer(failure.kind) : http_answer(failure.kind);
    core::Response r;
    r.status = a.status;
    r.headers.set("Content-Type", "application/json");
    r.body = std::string(a.body);
    stamp_ids(type, ids, r);
    if (!a.error_type.empty()) r.headers.set("x-amzn-ErrorType", std::string(a.error_type));
    for (auto& [name, value] : failure.headers) r.headers.set(name, value);
    if (type == ApiType::rest && customised && !customised->empty()) {
        std::string_view rtype = response_type(failure.kind);
        if (auto* c = find_customisation(*customised, rtype, a.status)) {
            if (c->status) r.status = *c->status;
            for (auto& [name, value] : c->headers) r.headers.set(name, value);
            auto t = c->templates.find("application/json");
            if (t == c->templates.end() && !c->templates.empty()) t = c->templates.begin();
            if (t != c->templates.end()) {
                r.body = expand(t->second, a, rtype, ids);
                if (t->first != "application/json") r.headers.set("Content-Type", t->first);
            }
        }
    }
    return r;
}

}  // namespace stratus::gateway

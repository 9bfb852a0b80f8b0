#include "gateway/cors.hpp"

#include <algorithm>
#include <optional>

namespace stratus::gateway {

namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (auto& s : items) out += (out.empty() ? "" : ",") + s;
    return out;
}

void add_unique(std::vector<std::string>& to, const std::string& s) {
    if (std::find(to.begin(), to.end(), s) == to.end()) to.push_back(s);
}

bool has(const std::vector<std::string>& items, std::string_view s) {
    return std::find(items.begin(), items.end(), s) != items.end();
}

bool origin_allowed(const std::vector<std::string>& origins, std::string_view origin) {
    for (auto& o : origins)
        if (o == "*" || core::iequals(o, origin)) return true;
    return false;
}

}  // namespace

const std::vector<std::string>& default_cors_headers() {
    static const std::vector<std::string> headers = {"Content-Type",         "X-Amz-Date",       "Authorization",
                                                     "X-Api-Key",            "X-Amz-Security-Token",
                                                     "X-Amz-User-Agent",     "X-Amzn-Trace-Id"};
    return headers;
}

core::Response rest_preflight(const std::vector<const CorsSpec*>& specs, const std::vector<std::string>& methods,
                              const core::Request& request) {
    std::vector<std::string> origins, headers, allow_methods{"OPTIONS"};
    bool credentials = false;
    std::optional<int> max_age;
    for (const CorsSpec* c : specs) {
        for (auto& o : c->allow_origins) add_unique(origins, o);
        for (auto& h : c->allow_headers) add_unique(headers, h);
        for (auto& m : c->allow_methods) add_unique(allow_methods, m);
        credentials = credentials || c->allow_credentials;
        if (c->max_age) max_age = std::max(max_age.value_or(0), *c->max_age);
    }
    if (allow_methods.size() == 1)
        for (auto& m : methods) {
            if (m == "ANY")
                for (const char* any : {"DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"}) add_unique(allow_methods, any);
            else
                add_unique(allow_methods, m);
        }
    if (origins.empty()) origins.push_back("*");
    if (headers.empty()) headers = default_cors_headers();
    core::Response r;
    r.status = 200;
    r.headers.set("Content-Type", "application/json");
    // As the Serverless Framework's mock template: one origin is sent as is; of several,
    // the request's when listed, else the first.
    std::string origin = origins.front();
    if (origins.size() > 1) {
        std::string_view asked = request.headers.get_or("origin", "");
        for (auto& o : origins)
            if (o == asked) origin = o;
    }
    r.headers.set("Access-Control-Allow-Origin", origin);
    r.headers.set("Access-Control-Allow-Headers", join(headers));
    r.headers.set("Access-Control-Allow-Methods", join(allow_methods));
    if (credentials) r.headers.set("Access-Control-Allow-Credentials", "true");
    if (max_age) r.headers.set("Access-Control-Max-Age", std::to_string(*max_age));
    return r;
}

bool is_preflight(const core::Request& request) {
    return request.method == "OPTIONS" && request.headers.has("origin") &&
           request.headers.has("access-control-request-method");
}

core::Response http_preflight(const CorsSpec& cors, const core::Request& request) {
    core::Response r;
    r.status = 204;
    std::string_view origin = request.headers.get_or("origin", "");
    if (!origin_allowed(cors.allow_origins, origin)) return r;  // no CORS headers: the browser refuses
    bool wildcard_origin = has(cors.allow_origins, "*") && !cors.allow_credentials;
    r.headers.set("access-control-allow-origin", wildcard_origin ? "*" : std::string(origin));
    // "*" is not honoured by browsers for credentialed requests: echo what was asked then.
    auto allow = [&](const std::vector<std::string>& configured, std::string_view asked) -> std::string {
        if (configured.empty() || has(configured, "*"))
            return cors.allow_credentials && !asked.empty() ? std::string(asked) : "*";
        return join(configured);
    };
    r.headers.set("access-control-allow-methods",
                  allow(cors.allow_methods, request.headers.get_or("access-control-request-method", "")));
    std::string_view asked_headers = request.headers.get_or("access-control-request-headers", "");
    if (!cors.allow_headers.empty()) r.headers.set("access-control-allow-headers", allow(cors.allow_headers, asked_headers));
    if (cors.max_age) r.headers.set("access-control-max-age", std::to_string(*cors.max_age));
    if (cors.allow_credentials) r.headers.set("access-control-allow-credentials", "true");
    return r;
}

void http_cors_headers(const CorsSpec& cors, const core::Request& request, core::Response& response) {
    // The integration's own CORS headers are ignored once the API configures CORS.
    std::vector<std::string> theirs;
    for (auto& [name, value] : response.headers.entries())
        if (name.size() > 15 && core::iequals(std::string_view(name).substr(0, 15), "access-control-"))
            theirs.push_back(name);
    for (auto& name : theirs) response.headers.erase(name);
    auto origin = request.headers.get("origin");
    if (!origin || !origin_allowed(cors.allow_origins, *origin)) return;
    bool wildcard_origin = has(cors.allow_origins, "*") && !cors.allow_credentials;
    response.headers.set("access-control-allow-origin", wildcard_origin ? "*" : std::string(*origin));
    if (!cors.expose_headers.empty()) response.headers.set("access-control-expose-headers", join(cors.expose_headers));
    if (cors.allow_credentials) response.headers.set("access-control-allow-credentials", "true");
}

}  // namespace stratus::gateway

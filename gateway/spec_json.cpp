#include "gateway/spec_json.hpp"

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace stratus::gateway {

using json = nlohmann::json;

namespace {

core::AwsError bad_spec(const std::string& what) {
    return core::AwsError("BadRequestException", "Invalid API declaration: " + what, 400);
}

template <class T>
void get(const json& j, const char* key, T& out) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    try {
        out = it->get<T>();
    } catch (const json::exception&) {
        throw bad_spec(std::string(key) + " has the wrong type");
    }
}

const json& object(const json& j, const char* what) {
    if (!j.is_object()) throw bad_spec(std::string(what) + " must be an object");
    return j;
}

CorsSpec cors_from(const json& j) {
    object(j, "cors");
    CorsSpec c;
    get(j, "allow_origins", c.allow_origins);
    get(j, "allow_methods", c.allow_methods);
    get(j, "allow_headers", c.allow_headers);
    get(j, "expose_headers", c.expose_headers);
    get(j, "allow_credentials", c.allow_credentials);
    if (j.contains("max_age") && !j["max_age"].is_null()) {
        int m = 0;
        get(j, "max_age", m);
        c.max_age = m;
    }
    return c;
}

json cors_to(const CorsSpec& c) {
    json j = {{"allow_origins", c.allow_origins},   {"allow_methods", c.allow_methods},
              {"allow_headers", c.allow_headers},   {"expose_headers", c.expose_headers},
              {"allow_credentials", c.allow_credentials}};
    if (c.max_age) j["max_age"] = *c.max_age;
    return j;
}

}  // namespace

ApiSpec api_spec_from_json(const json& j) {
    object(j, "the API");
    ApiSpec a;
    get(j, "id", a.id);
    get(j, "name", a.name);
    std::string type = "rest";
    get(j, "type", type);
    if (type == "rest") a.type = ApiType::rest;
    else if (type == "http") a.type = ApiType::http;
    else throw bad_spec("type must be rest or http");
    get(j, "stage", a.stage);
    get(j, "stage_variables", a.stage_variables);
    get(j, "api_keys", a.api_keys);
    get(j, "binary_media_types", a.binary_media_types);
    if (j.contains("cors") && !j["cors"].is_null()) a.cors = cors_from(j["cors"]);
    if (auto it = j.find("routes"); it != j.end()) {
        if (!it->is_array()) throw bad_spec("routes must be a list");
        for (auto& r : *it) {
            object(r, "a route");
            RouteSpec s;
            get(r, "method", s.method);
            get(r, "path", s.path);
            get(r, "function", s.function);
            get(r, "authorizer", s.authorizer);
            get(r, "scopes", s.scopes);
            get(r, "api_key_required", s.api_key_required);
            get(r, "timeout_ms", s.timeout_ms);
            get(r, "payload_format_version", s.payload_format_version);
            if (r.contains("cors") && !r["cors"].is_null()) {
                if (r["cors"].is_boolean()) {
                    if (r["cors"].get<bool>()) s.cors = CorsSpec{};
                } else {
                    s.cors = cors_from(r["cors"]);
                }
            }
            a.routes.push_back(std::move(s));
        }
    }
    if (auto it = j.find("authorizers"); it != j.end()) {
        if (!it->is_array()) throw bad_spec("authorizers must be a list");
        for (auto& x : *it) {
            object(x, "an authorizer");
            AuthorizerSpec s;
            get(x, "name", s.name);
            std::string kind = "token";
            get(x, "kind", kind);
            if (kind == "token") s.kind = AuthorizerSpec::Kind::token;
            else if (kind == "request") s.kind = AuthorizerSpec::Kind::request;
            else if (kind == "jwt") s.kind = AuthorizerSpec::Kind::jwt;
            else throw bad_spec("an authorizer's kind must be token, request or jwt");
            get(x, "function", s.function);
            get(x, "identity_sources", s.identity_sources);
            get(x, "validation_expression", s.validation_expression);
            get(x, "result_ttl_seconds", s.result_ttl_seconds);
            get(x, "payload_format_version", s.payload_format_version);
            get(x, "simple_responses", s.simple_responses);
            get(x, "issuer", s.issuer);
            get(x, "audiences", s.audiences);
            get(x, "jwks_uri", s.jwks_uri);
            a.authorizers.push_back(std::move(s));
        }
    }
    if (auto it = j.find("gateway_responses"); it != j.end()) {
        if (!it->is_array()) throw bad_spec("gateway_responses must be a list");
        for (auto& x : *it) {
            object(x, "a gateway response");
            GatewayResponseSpec g;
            get(x, "type", g.type);
            if (x.contains("status") && !x["status"].is_null()) {
                int s = 0;
                get(x, "status", s);
                g.status = s;
            }
            get(x, "headers", g.headers);
            get(x, "templates", g.templates);
            a.gateway_responses.push_back(std::move(g));
        }
    }
    return a;
}

json to_json(const ApiSpec& a) {
    json j = {{"id", a.id},
              {"name", a.name},
              {"type", a.type == ApiType::rest ? "rest" : "http"},
              {"stage", a.stage},
              {"stage_variables", a.stage_variables},
              {"api_keys", a.api_keys},
              {"binary_media_types", a.binary_media_types},
              {"routes", json::array()},
              {"authorizers", json::array()},
              {"gateway_responses", json::array()}};
    if (a.cors) j["cors"] = cors_to(*a.cors);
    for (auto& r : a.routes) {
        json x = {{"method", r.method},
                  {"path", r.path},
                  {"function", r.function},
                  {"authorizer", r.authorizer},
                  {"scopes", r.scopes},
                  {"api_key_required", r.api_key_required},
                  {"timeout_ms", r.timeout_ms},
                  {"payload_format_version", r.payload_format_version}};
        if (r.cors) x["cors"] = cors_to(*r.cors);
        j["routes"].push_back(std::move(x));
    }
    for (auto& s : a.authorizers) {
        static constexpr const char* kinds[] = {"token", "request", "jwt"};
        j["authorizers"].push_back({{"name", s.name},
                                    {"kind", kinds[static_cast<int>(s.kind)]},
                                    {"function", s.function},
                                    {"identity_sources", s.identity_sources},
                                    {"validation_expression", s.validation_expression},
                                    {"result_ttl_seconds", s.result_ttl_seconds},
                                    {"payload_format_version", s.payload_format_version},
                                    {"simple_responses", s.simple_responses},
                                    {"issuer", s.issuer},
                                    {"audiences", s.audiences},
                                    {"jwks_uri", s.jwks_uri}});
    }
    for (auto& g : a.gateway_responses) {
        json x = {{"type", g.type}, {"headers", g.headers}, {"templates", g.templates}};
        if (g.status) x["status"] = *g.status;
        j["gateway_responses"].push_back(std::move(x));
    }
    return j;
}

}  // namespace stratus::gateway

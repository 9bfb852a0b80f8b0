#include "gateway/events.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/base64.hpp"
#include "core/json_writer.hpp"
#include "core/proxy_event.hpp"
#include "core/text.hpp"

namespace stratus::gateway {

using json = nlohmann::json;
using core::JsonWriter;

namespace {

// Values grouped under one name, in the order first seen.
template <class Name>
struct Group {
    Name name;
    std::vector<std::string_view> values;
};

// Headers as payload 1.0 carries them: names as first sent, `headers` the last value of
// each (AWS keeps the last of repeated headers there), `multiValueHeaders` all of them.
void headers_v1(JsonWriter& w, const core::Headers& headers) {
    std::vector<Group<std::string_view>> grouped;
    for (auto& [name, value] : headers.entries()) {
        auto it = std::find_if(grouped.begin(), grouped.end(), [&](auto& g) { return core::iequals(g.name, name); });
        if (it == grouped.end()) grouped.push_back({name, {value}});
        else it->values.push_back(value);
    }
    if (grouped.empty()) {
        w.member_null("headers").member_null("multiValueHeaders");
        return;
    }
    w.key("headers").begin_object();
    for (auto& g : grouped) w.member(g.name, g.values.back());
    w.end_object();
    w.key("multiValueHeaders").begin_object();
    for (auto& g : grouped) {
        w.key(g.name).begin_array();
        for (auto v : g.values) w.value(v);
        w.end_array();
    }
    w.end_object();
}


void query_v1(JsonWriter& w, const std::vector<core::QueryParam>& params) {
    if (params.empty()) {
        w.member_null("queryStringParameters").member_null("multiValueQueryStringParameters");
        return;
    }
    auto grouped = core::group_query(params);
    w.key("queryStringParameters").begin_object();
    for (auto& g : grouped) w.member(g.name, g.values.back());  // the last one, as on AWS
    w.end_object();
    w.key("multiValueQueryStringParameters").begin_object();
    for (auto& g : grouped) {
        w.key(g.name).begin_array();
        for (auto v : g.values) w.value(v);
        w.end_array();
    }
    w.end_object();
}

void path_parameters(JsonWriter& w, const EventRoute& route) {
    w.key("pathParameters");
    if (route.path_params.empty()) {
        w.null();
        return;
    }
    w.begin_object();
    for (auto& [k, v] : route.path_params) w.member(k, v);
    w.end_object();
}

void stage_variables(JsonWriter& w, const EventRoute& route, bool null_when_empty) {
    if (route.api->stage_variables.empty()) {
        if (null_when_empty) w.member_null("stageVariables");
        return;
    }
    w.key("stageVariables").begin_object();
    for (auto& [k, v] : route.api->stage_variables) w.member(k, v);
    w.end_object();
}

void authorizer_member(JsonWriter& w, const json* authorizer) {
    w.key("authorizer").raw(authorizer->dump(-1, ' ', false, json::error_handler_t::replace));
}

void identity(JsonWriter& w, const EventRequest& req) {
    w.key("identity").begin_object();
    for (const char* k : {"accessKey", "accountId", "caller", "cognitoAuthenticationProvider", "cognitoAuthenticationType",
                          "cognitoIdentityId", "cognitoIdentityPoolId", "principalOrgId"})
        w.member_null(k);
    w.member("sourceIp", req.source_ip);
    w.member_null("user");
    if (auto ua = req.request->headers.get("user-agent")) w.member("userAgent", *ua);
    else w.member_null("userAgent");
    w.member_null("userArn");
    if (!req.api_key.empty()) w.member("apiKey", req.api_key).member("apiKeyId", req.api_key_id);
    w.end_object();
}

void request_context_v1(JsonWriter& w, const EventRequest& req, const EventRoute& route, const json* authorizer,
                        bool with_default_authorizer) {
    bool rest = route.api->type == ApiType::rest;
    w.key("requestContext").begin_object();
    w.member("accountId", account_id).member("apiId", route.api->id);
    if (authorizer && !authorizer->is_null()) authorizer_member(w, authorizer);
    // HTTP APIs' payload 1.0 always has it (AWS's example: claims and scopes null).
    else if (!rest && with_default_authorizer) w.key("authorizer").raw(R"({"claims":null,"scopes":null})");
    w.member("domainName", req.domain_name)
        .member("domainPrefix", req.domain_prefix)
        .member("extendedRequestId", req.extended_request_id)
        .member("httpMethod", req.request->method);
    identity(w, req);
    w.member("path", route.context_path)
        .member("protocol", "HTTP/1.1")
        .member("requestId", req.request_id)
        .member("requestTime", clf_time(req.time_ms))
        .member("requestTimeEpoch", req.time_ms)
        .member("resourceId", rest ? route.resource_id : route.route_key)
        .member("resourcePath", route.resource_path)
        .member("stage", route.stage);
    w.end_object();
}

// The parts of payload 1.0 an event and a REQUEST authorizer event share (after what the
// caller wrote first).
void common_v1(JsonWriter& w, const EventRequest& req, const EventRoute& route, const json* authorizer,
               bool with_default_authorizer) {
    if (route.api->type == ApiType::http) w.member("version", "1.0");
    w.member("resource", route.resource_path).member("path", route.event_path).member("httpMethod", req.request->method);
    headers_v1(w, req.request->headers);
    query_v1(w, req.request->query_params());
    request_context_v1(w, req, route, authorizer, with_default_authorizer);
    path_parameters(w, route);
    stage_variables(w, route, true);
}

void request_context_v2(JsonWriter& w, const EventRequest& req, const EventRoute& route, const json* authorizer) {
    w.key("requestContext").begin_object();
    w.member("accountId", account_id).member("apiId", route.api->id);
    if (authorizer && !authorizer->is_null()) authorizer_member(w, authorizer);
    w.member("domainName", req.domain_name).member("domainPrefix", req.domain_prefix);
    w.key("http").begin_object();
    w.member("method", req.request->method)
        .member("path", req.path)
        .member("protocol", "HTTP/1.1")
        .member("sourceIp", req.source_ip)
        .member("userAgent", req.request->headers.get_or("user-agent", ""));
    w.end_object();
    w.member("requestId", req.request_id)
        .member("routeKey", route.route_key)
        .member("stage", route.stage)
        .member("time", clf_time(req.time_ms))
        .member("timeEpoch", req.time_ms);
    w.end_object();
}


void common_v2(JsonWriter& w, const EventRequest& req, const EventRoute& route, const json* authorizer) {
    w.member("version", "2.0")
        .member("routeKey", route.route_key)
        .member("rawPath", req.path)
        .member("rawQueryString", req.request->query);
    core::write_headers_v2(w, req.request->headers);
    core::write_query_v2(w, req.request->query_params());
    request_context_v2(w, req, route, authorizer);
    if (!route.path_params.empty()) path_parameters(w, route);
    stage_variables(w, route, false);
}

void body(JsonWriter& w, const std::string& body, bool binary, bool null_when_empty) {
    if (body.empty()) {
        if (null_when_empty) w.member_null("body");
    } else if (binary) {
        w.member("body", core::base64_encode(body));
    } else {
        w.member("body", body);
    }
    w.member("isBase64Encoded", binary);
}

}  // namespace


bool media_type_matches(std::string_view content_type, std::string_view pattern) {
    auto semi = content_type.find(';');
    std::string type = core::ascii_lower(content_type.substr(0, semi));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    std::string pat = core::ascii_lower(pattern);
    if (pat == "*/*") return true;
    if (pat.size() > 2 && pat.ends_with("/*")) return type.starts_with(pat.substr(0, pat.size() - 1));
    return type == pat;
}

bool binary_body_v1(std::string_view content_type, const std::vector<std::string>& binary_media_types) {
    for (auto& t : binary_media_types)
        if (media_type_matches(content_type, t)) return true;
    return false;
}


std::string event_v1(const EventRequest& req, const EventRoute& route, const json* authorizer) {
    JsonWriter w(2048 + req.request->body.size() * 4 / 3);
    w.begin_object();
    common_v1(w, req, route, authorizer, true);
    const std::string& b = req.request->body;
    bool binary = !b.empty() && binary_body_v1(req.request->headers.get_or("content-type", ""), route.api->binary_media_types);
    body(w, b, binary, true);
    w.end_object();
    return w.take();
}

std::string event_v2(const EventRequest& req, const EventRoute& route, const json* authorizer) {
    JsonWriter w(2048 + req.request->body.size() * 4 / 3);
    w.begin_object();
    common_v2(w, req, route, authorizer);
    const std::string& b = req.request->body;
    bool binary = !b.empty() && binary_body_v2(req.request->headers.get_or("content-type", ""));
    body(w, b, binary, false);
    w.end_object();
    return w.take();
}

std::string token_authorizer_event(std::string_view token, std::string_view method_arn) {
    JsonWriter w(256);
    w.begin_object().member("type", "TOKEN").member("authorizationToken", token).member("methodArn", method_arn).end_object();
    return w.take();
}

std::string request_authorizer_event_v1(const EventRequest& req, const EventRoute& route, std::string_view method_arn,
                                        const std::vector<std::string>* http_identity) {
    JsonWriter w(2048);
    w.begin_object().member("type", "REQUEST").member("methodArn", method_arn);
    if (http_identity) {
        std::string joined;
        for (auto& v : *http_identity) joined += (joined.empty() ? "" : ",") + v;
        w.member("identitySource", joined).member("authorizationToken", joined);
    }
    common_v1(w, req, route, nullptr, false);
    w.end_object();
    return w.take();
}

std::string request_authorizer_event_v2(const EventRequest& req, const EventRoute& route, std::string_view route_arn,
                                        const std::vector<std::string>& identity) {
    JsonWriter w(2048);
    w.begin_object().member("type", "REQUEST").member("routeArn", route_arn);
    w.key("identitySource").begin_array();
    for (auto& v : identity) w.value(v);
    w.end_array();
    common_v2(w, req, route, nullptr);
    w.end_object();
    return w.take();
}

std::string execute_api_arn(std::string_view api_id, std::string_view stage, std::string_view method,
                            std::string_view path) {
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    return fmt::format("arn:aws:execute-api:{}:{}:{}/{}/{}/{}", region, account_id, api_id, stage, method, path);
}

}  // namespace stratus::gateway

#include "gateway/events.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/base64.hpp"

namespace stratus::gateway {

using json = nlohmann::json;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Headers as payload 1.0 carries them: names as first sent, `headers` the last value of
// each (AWS keeps the last of repeated headers there), `multiValueHeaders` all of them.
void headers_v1(const core::Headers& headers, json& single, json& multi) {
    std::vector<std::pair<std::string, std::vector<std::string>>> grouped;
    for (auto& [name, value] : headers.entries()) {
        auto it = std::find_if(grouped.begin(), grouped.end(), [&](auto& g) { return core::iequals(g.first, name); });
        if (it == grouped.end()) grouped.push_back({name, {value}});
        else it->second.push_back(value);
    }
    if (grouped.empty()) {
        single = nullptr;
        multi = nullptr;
        return;
    }
    single = json::object();
    multi = json::object();
    for (auto& [name, values] : grouped) {
        single[name] = values.back();
        multi[name] = values;
    }
}

// Payload 2.0: names lower-cased, repeated values joined with commas; cookies apart.
void headers_v2(const core::Headers& headers, json& out, json& cookies) {
    out = json::object();
    for (auto& [name, value] : headers.entries()) {
        std::string key = lower(name);
        if (key == "cookie") {
            std::string_view v = value;
            while (!v.empty()) {
                auto semi = v.find(';');
                std::string_view c = v.substr(0, semi);
                while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
                while (!c.empty() && c.back() == ' ') c.remove_suffix(1);
                if (!c.empty()) cookies.push_back(std::string(c));
                if (semi == std::string_view::npos) break;
                v.remove_prefix(semi + 1);
            }
            continue;
        }
        auto it = out.find(key);
        if (it == out.end()) out[key] = value;
        else it->get_ref<std::string&>() += "," + value;
    }
}

json path_parameters(const EventRoute& route, bool null_when_empty) {
    if (route.path_params.empty()) return null_when_empty ? json(nullptr) : json::object();
    json out = json::object();
    for (auto& [k, v] : route.path_params) out[k] = v;
    return out;
}

json stage_variables(const EventRoute& route) {
    if (route.api->stage_variables.empty()) return nullptr;
    json out = json::object();
    for (auto& [k, v] : route.api->stage_variables) out[k] = v;
    return out;
}

json identity(const EventRequest& req) {
    auto ua = req.request->headers.get("user-agent");
    json id = {{"accessKey", nullptr},
               {"accountId", nullptr},
               {"caller", nullptr},
               {"cognitoAuthenticationProvider", nullptr},
               {"cognitoAuthenticationType", nullptr},
               {"cognitoIdentityId", nullptr},
               {"cognitoIdentityPoolId", nullptr},
               {"principalOrgId", nullptr},
               {"sourceIp", req.source_ip},
               {"user", nullptr},
               {"userAgent", ua ? json(std::string(*ua)) : json(nullptr)},
               {"userArn", nullptr}};
    if (!req.api_key.empty()) {
        id["apiKey"] = req.api_key;
        id["apiKeyId"] = req.api_key_id;
    }
    return id;
}

json request_context_v1(const EventRequest& req, const EventRoute& route, const json* authorizer) {
    bool rest = route.api->type == ApiType::rest;
    json ctx = {{"accountId", account_id},
                {"apiId", route.api->id},
                {"domainName", req.domain_name},
                {"domainPrefix", req.domain_prefix},
                {"extendedRequestId", req.extended_request_id},
                {"httpMethod", req.request->method},
                {"identity", identity(req)},
                {"path", route.context_path},
                {"protocol", "HTTP/1.1"},
                {"requestId", req.request_id},
                {"requestTime", clf_time(req.time_ms)},
                {"requestTimeEpoch", req.time_ms},
                {"resourceId", rest ? json(route.resource_id) : json(route.route_key)},
                {"resourcePath", route.resource_path},
                {"stage", route.stage}};
    if (authorizer && !authorizer->is_null()) ctx["authorizer"] = *authorizer;
    // HTTP APIs' payload 1.0 always has it (AWS's example: claims and scopes null).
    else if (!rest) ctx["authorizer"] = {{"claims", nullptr}, {"scopes", nullptr}};
    return ctx;
}

// The parts of payload 1.0 an event and a REQUEST authorizer event share.
json common_v1(const EventRequest& req, const EventRoute& route, const json* authorizer) {
    json e = json::object();
    e["resource"] = route.resource_path;
    e["path"] = route.event_path;
    e["httpMethod"] = req.request->method;
    headers_v1(req.request->headers, e["headers"], e["multiValueHeaders"]);
    auto params = req.request->query_params();
    if (params.empty()) {
        e["queryStringParameters"] = nullptr;
        e["multiValueQueryStringParameters"] = nullptr;
    } else {
        json single = json::object(), multi = json::object();
        for (auto& p : params) {
            single[p.name] = p.value;  // the last one wins, as on AWS
            multi[p.name].push_back(p.value);
        }
        e["queryStringParameters"] = std::move(single);
        e["multiValueQueryStringParameters"] = std::move(multi);
    }
    e["pathParameters"] = path_parameters(route, true);
    e["stageVariables"] = stage_variables(route);
    e["requestContext"] = request_context_v1(req, route, authorizer);
    if (route.api->type == ApiType::http) e["version"] = "1.0";
    return e;
}

json request_context_v2(const EventRequest& req, const EventRoute& route, const json* authorizer) {
    auto ua = req.request->headers.get("user-agent");
    json ctx = {{"accountId", account_id},
                {"apiId", route.api->id},
                {"domainName", req.domain_name},
                {"domainPrefix", req.domain_prefix},
                {"http",
                 {{"method", req.request->method},
                  {"path", req.path},
                  {"protocol", "HTTP/1.1"},
                  {"sourceIp", req.source_ip},
                  {"userAgent", ua ? std::string(*ua) : std::string()}}},
                {"requestId", req.request_id},
                {"routeKey", route.route_key},
                {"stage", route.stage},
                {"time", clf_time(req.time_ms)},
                {"timeEpoch", req.time_ms}};
    if (authorizer && !authorizer->is_null()) ctx["authorizer"] = *authorizer;
    return ctx;
}

json common_v2(const EventRequest& req, const EventRoute& route, const json* authorizer) {
    json e = json::object();
    e["version"] = "2.0";
    e["routeKey"] = route.route_key;
    e["rawPath"] = req.path;
    e["rawQueryString"] = req.request->query;
    json cookies = json::array();
    headers_v2(req.request->headers, e["headers"], cookies);
    if (!cookies.empty()) e["cookies"] = std::move(cookies);
    auto params = req.request->query_params();
    if (!params.empty()) {
        json q = json::object();
        for (auto& p : params) {
            auto it = q.find(p.name);
            if (it == q.end()) q[p.name] = p.value;
            else it->get_ref<std::string&>() += "," + p.value;
        }
        e["queryStringParameters"] = std::move(q);
    }
    e["requestContext"] = request_context_v2(req, route, authorizer);
    if (!route.path_params.empty()) e["pathParameters"] = path_parameters(route, false);
    if (auto sv = stage_variables(route); !sv.is_null()) e["stageVariables"] = std::move(sv);
    return e;
}

}  // namespace

std::string clf_time(std::int64_t epoch_ms) {
    std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%d/%b/%Y:%H:%M:%S +0000", &tm);
    return buf;
}

bool media_type_matches(std::string_view content_type, std::string_view pattern) {
    auto semi = content_type.find(';');
    std::string type = lower(content_type.substr(0, semi));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    std::string pat = lower(pattern);
    if (pat == "*/*") return true;
    if (pat.size() > 2 && pat.ends_with("/*")) return type.starts_with(pat.substr(0, pat.size() - 1));
    return type == pat;
}

bool binary_body_v1(std::string_view content_type, const std::vector<std::string>& binary_media_types) {
    for (auto& t : binary_media_types)
        if (media_type_matches(content_type, t)) return true;
    return false;
}

// HTTP APIs pass text as text and anything else base64-encoded (form posts included, as
// AWS does); a body without a Content-Type cannot be known to be text.
bool binary_body_v2(std::string_view content_type) {
    std::string type = lower(content_type.substr(0, content_type.find(';')));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    if (type.empty()) return true;
    if (type.starts_with("text/")) return false;
    if (type == "application/json" || type == "application/javascript" || type == "application/xml" ||
        type == "application/ecmascript" || type == "application/graphql")
        return false;
    if (type.ends_with("+json") || type.ends_with("+xml")) return false;
    return true;
}

json event_v1(const EventRequest& req, const EventRoute& route, const json* authorizer) {
    json e = common_v1(req, route, authorizer);
    const std::string& body = req.request->body;
    bool binary = !body.empty() && binary_body_v1(req.request->headers.get_or("content-type", ""),
                                                  route.api->binary_media_types);
    if (body.empty()) e["body"] = nullptr;
    else e["body"] = binary ? core::base64_encode(body) : body;
    e["isBase64Encoded"] = binary;
    return e;
}

json event_v2(const EventRequest& req, const EventRoute& route, const json* authorizer) {
    json e = common_v2(req, route, authorizer);
    const std::string& body = req.request->body;
    bool binary = !body.empty() && binary_body_v2(req.request->headers.get_or("content-type", ""));
    if (!body.empty()) e["body"] = binary ? core::base64_encode(body) : body;
    e["isBase64Encoded"] = binary;
    return e;
}

std::string dump_event(const json& event) { return event.dump(-1, ' ', false, json::error_handler_t::replace); }

json token_authorizer_event(std::string_view token, std::string_view method_arn) {
    return json{{"type", "TOKEN"}, {"authorizationToken", token}, {"methodArn", method_arn}};
}

json request_authorizer_event_v1(const EventRequest& req, const EventRoute& route, std::string_view method_arn,
                                 const std::vector<std::string>* http_identity) {
    json e = common_v1(req, route, nullptr);
    e["type"] = "REQUEST";
    e["methodArn"] = method_arn;
    if (http_identity) {
        std::string joined;
        for (auto& v : *http_identity) joined += (joined.empty() ? "" : ",") + v;
        e["identitySource"] = joined;
        e["authorizationToken"] = joined;
        e["requestContext"].erase("authorizer");
    }
    return e;
}

json request_authorizer_event_v2(const EventRequest& req, const EventRoute& route, std::string_view route_arn,
                                 const std::vector<std::string>& identity) {
    json e = common_v2(req, route, nullptr);
    e["type"] = "REQUEST";
    e["routeArn"] = route_arn;
    e["identitySource"] = identity;
    return e;
}

std::string execute_api_arn(std::string_view api_id, std::string_view stage, std::string_view method,
                            std::string_view path) {
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    return fmt::format("arn:aws:execute-api:{}:{}:{}/{}/{}/{}", region, account_id, api_id, stage, method, path);
}

}  // namespace stratus::gateway

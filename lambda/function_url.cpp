#include "lambda/function_url.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/base64.hpp"
#include "core/error.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "core/protocol.hpp"
#include "core/proxy_event.hpp"
#include "core/proxy_response.hpp"
#include "core/text.hpp"
#include "lambda/function.hpp"

namespace stratus::lambda {

using nlohmann::json;

std::string FunctionUrl::function_arn() const {
    return qualifier.empty() ? lambda::function_arn(function) : lambda::function_arn(function) + ":" + qualifier;
}

json FunctionUrl::configuration(const std::string& url) const {
    json c = {{"FunctionUrl", url},     {"FunctionArn", function_arn()}, {"AuthType", auth_type},
              {"CreationTime", created}, {"LastModifiedTime", modified},  {"InvokeMode", invoke_mode}};
    json cors_json = json::parse(cors, nullptr, false);
    if (cors_json.is_object()) c["Cors"] = cors_json;
    return c;
}

std::string FunctionUrl::to_json() const {
    return json{{"id", id},
                {"function", function},
                {"qualifier", qualifier},
                {"auth_type", auth_type},
                {"invoke_mode", invoke_mode},
                {"cors", cors},
                {"created", created},
                {"modified", modified}}
        .dump();
}

FunctionUrl FunctionUrl::from_json(std::string_view text) {
    json j = json::parse(text);
    FunctionUrl u;
    u.id = j.at("id");
    u.function = j.at("function");
    u.qualifier = j.value("qualifier", "");
    u.auth_type = j.at("auth_type");
    u.invoke_mode = j.value("invoke_mode", "BUFFERED");
    u.cors = j.value("cors", "null");
    u.created = j.value("created", "");
    u.modified = j.value("modified", "");
    return u;
}

std::optional<UrlTarget> url_target(const core::Request& request) {
    std::string_view host = request.host();
    if (host.size() > url_host_suffix.size() && core::iequals(host.substr(host.size() - url_host_suffix.size()), url_host_suffix)) {
        UrlTarget t;
        t.id = core::ascii_lower(host.substr(0, host.size() - url_host_suffix.size()));
        t.path = request.path.empty() ? "/" : request.path;
        return t;
    }
    if (!request.path.starts_with(url_path_prefix)) return std::nullopt;
    std::string_view rest = std::string_view(request.path).substr(url_path_prefix.size());
    auto slash = rest.find('/');
    UrlTarget t;
    t.id = std::string(rest.substr(0, slash));
    t.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    return t;
}

std::string url_event(const core::Request& request, const UrlTarget& target, const FunctionUrl& url,
                      std::int64_t time_ms) {
    // The headers the function sees: the request's, plus what AWS's front adds.
    core::Headers headers = request.headers;
    if (!headers.has("x-forwarded-proto")) headers.set("x-forwarded-proto", "http");
    if (!headers.has("x-forwarded-for")) headers.set("x-forwarded-for", request.remote_address);
    std::string host(request.headers.get_or("host", ""));
    if (auto colon = host.rfind(':'); colon != std::string::npos && !headers.has("x-forwarded-port"))
        headers.set("x-forwarded-port", host.substr(colon + 1));
    core::JsonWriter w(2048 + request.body.size() * 4 / 3);
    w.begin_object();
    w.member("version", "2.0").member("routeKey", "$default").member("rawPath", target.path).member("rawQueryString", request.query);
    core::write_headers_v2(w, headers);
    core::write_query_v2(w, request.query_params());
    w.key("requestContext").begin_object();
    // Real NONE events say "anonymous" here; AWS_IAM ones the caller's account.
    bool iam = url.auth_type == "AWS_IAM";
    w.member("accountId", iam ? std::string(account) : std::string("anonymous")).member("apiId", target.id);
    if (iam) {
        w.key("authorizer").begin_object().key("iam").begin_object();
        w.member("accessKey", request.access_key.empty() ? std::string(request.headers.get_or("x-amz-security-token", "")) : request.access_key)
            .member("accountId", account)
            .member("callerId", "AIDACKCEVSQ6C2EXAMPLE")
            .member_null("cognitoIdentity")
            .member_null("principalOrgId")
            .member("userArn", fmt::format("arn:aws:iam::{}:root", account))
            .member("userId", "AIDACKCEVSQ6C2EXAMPLE");
        w.end_object().end_object();
    }
    std::string domain = host.empty() ? target.id + std::string(url_host_suffix) : host;
    w.member("domainName", domain).member("domainPrefix", target.id);
    w.key("http").begin_object();
    w.member("method", request.method)
        .member("path", target.path)
        .member("protocol", "HTTP/1.1")
        .member("sourceIp", request.remote_address)
        .member("userAgent", request.headers.get_or("user-agent", ""));
    w.end_object();
    w.member("requestId", request.request_id)
        .member("routeKey", "$default")
        .member("stage", "$default")
        .member("time", core::clf_time(time_ms))
        .member("timeEpoch", time_ms);
    w.end_object();
    const std::string& b = request.body;
    bool binary = !b.empty() && core::binary_body_v2(request.headers.get_or("content-type", ""));
    if (!b.empty()) w.member("body", binary ? core::base64_encode(b) : b);
    w.member_null("pathParameters").member("isBase64Encoded", binary).member_null("stageVariables");
    w.end_object();
    return w.take();
}

core::Response url_error(int status, std::string_view message) {
    core::Response r;
    r.status = status;
    r.headers.set("Content-Type", "application/json");
    core::JsonWriter w(64);
    w.begin_object().member("Message", message).end_object();
    r.body = w.take();
    return r;
}

core::Response url_response(const InvokeResult& result) {
    if (result.error) {
        if (result.error->code() == "TooManyRequestsException") return url_error(429, "Rate Exceeded.");
        if (result.error->code() == "ResourceNotFoundException") return url_error(403, "Forbidden");
        return url_error(500, "Internal Server Error");
    }
    // A function error or a result the rules cannot read: 502, as AWS answers (the body's
    // wording is not confirmed).
    if (result.function_error) return url_error(502, "Internal Server Error");
    std::string why;
    auto r = core::response_v2(result.payload, why);
    if (!r) {
        core::log::info("lambda: function URL result not usable ({}): 502", why);
        return url_error(502, "Internal Server Error");
    }
    return std::move(*r);
}

namespace {

std::string joined(const json& list) {
    std::string out;
    if (!list.is_array()) return out;
    for (auto& v : list) {
        if (!v.is_string()) continue;
        if (!out.empty()) out += ",";
        out += v.get<std::string>();
    }
    return out;
}

// The Access-Control-Allow-Origin value for this request's Origin, or nullopt.
std::optional<std::string> allowed_origin(const json& cors, const core::Request& request) {
    auto origin = request.headers.get("origin");
    if (!origin) return std::nullopt;
    auto it = cors.find("AllowOrigins");
    if (it == cors.end() || !it->is_array()) return std::nullopt;
    for (auto& o : *it) {
        if (!o.is_string()) continue;
        const auto& s = o.get_ref<const std::string&>();
        if (s == "*") return std::string("*");
        if (core::iequals(s, *origin)) return std::string(*origin);
    }
    return std::nullopt;
}

}  // namespace

std::optional<core::Response> url_preflight(const FunctionUrl& url, const core::Request& request) {
    if (request.method != "OPTIONS" || !request.headers.has("origin") ||
        !request.headers.has("access-control-request-method"))
        return std::nullopt;
    json cors = json::parse(url.cors, nullptr, false);
    if (!cors.is_object()) return std::nullopt;  // no Cors: the function answers OPTIONS
    core::Response r;
    r.status = 200;
    auto origin = allowed_origin(cors, request);
    if (!origin) return r;
    r.headers.set("Access-Control-Allow-Origin", *origin);
    if (auto m = joined(cors.value("AllowMethods", json::array())); !m.empty()) r.headers.set("Access-Control-Allow-Methods", m);
    if (auto h = joined(cors.value("AllowHeaders", json::array())); !h.empty()) r.headers.set("Access-Control-Allow-Headers", h);
    if (cors.value("AllowCredentials", false)) r.headers.set("Access-Control-Allow-Credentials", "true");
    if (auto it = cors.find("MaxAge"); it != cors.end() && it->is_number_integer())
        r.headers.set("Access-Control-Max-Age", std::to_string(it->get<int>()));
    return r;
}

void url_cors_headers(const FunctionUrl& url, const core::Request& request, core::Response& response) {
    json cors = json::parse(url.cors, nullptr, false);
    if (!cors.is_object()) return;
    auto origin = allowed_origin(cors, request);
    if (!origin) return;
    for (const char* h : {"Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Access-Control-Allow-Credentials"})
        response.headers.erase(h);
    response.headers.set("Access-Control-Allow-Origin", *origin);
    if (auto e = joined(cors.value("ExposeHeaders", json::array())); !e.empty())
        response.headers.set("Access-Control-Expose-Headers", e);
    if (cors.value("AllowCredentials", false)) response.headers.set("Access-Control-Allow-Credentials", "true");
}

void validate_url_cors(const json& cors) {
    if (cors.is_null()) return;
    if (!cors.is_object()) throw core::AwsError::serialization("Cors has the wrong type");
    auto list = [&](const char* key, std::size_t max, std::size_t item_max) {
        auto it = cors.find(key);
        if (it == cors.end() || it->is_null()) return;
        if (!it->is_array()) throw core::AwsError::serialization(fmt::format("{} has the wrong type", key));
        if (it->size() > max)
            throw core::AwsError::validation(fmt::format(
                "1 validation error detected: Value at 'cors.{}' failed to satisfy constraint: Member must have length "
                "less than or equal to {}",
                std::string(1, static_cast<char>(std::tolower(key[0]))) + (key + 1), max));
        for (auto& v : *it) {
            if (!v.is_string()) throw core::AwsError::serialization(fmt::format("{} has the wrong type", key));
            if (v.get_ref<const std::string&>().size() > item_max)
                throw core::AwsError::validation(fmt::format("1 validation error detected: a member of cors.{} is too long", key));
        }
    };
    list("AllowHeaders", 100, 1024);
    list("ExposeHeaders", 100, 1024);
    list("AllowMethods", 6, 6);
    list("AllowOrigins", 100, 253);
    if (auto it = cors.find("MaxAge"); it != cors.end() && !it->is_null()) {
        if (!it->is_number_integer()) throw core::AwsError::serialization("MaxAge has the wrong type");
        auto v = it->get<long long>();
        if (v < 0 || v > 86400)
            throw core::AwsError::validation(fmt::format(
                "1 validation error detected: Value '{}' at 'cors.maxAge' failed to satisfy constraint: Member must have "
                "value {} than or equal to {}",
                v, v < 0 ? "greater" : "less", v < 0 ? 0 : 86400));
    }
    if (auto it = cors.find("AllowCredentials"); it != cors.end() && !it->is_null() && !it->is_boolean())
        throw core::AwsError::serialization("AllowCredentials has the wrong type");
}

}  // namespace stratus::lambda

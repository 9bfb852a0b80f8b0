#include "core/proxy_response.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/base64.hpp"
#include "core/json_parse.hpp"

namespace stratus::core {

using json = nlohmann::json;

namespace {

// Headers the HTTP layer owns: the length is ours to compute, framing and the connection
// are the listener's.
bool proxy_hop_by_hop(std::string_view name) {
    return iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
           iequals(name, "connection") || iequals(name, "keep-alive");
}

// A header value as API Gateway takes it: strings, and numbers / booleans as their text.
std::optional<std::string> proxy_header_value(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number()) return v.dump();
    return std::nullopt;
}

std::optional<int> proxy_status_code(const json& v) {
    if (v.is_number_integer()) {
        auto n = v.get<std::int64_t>();
        if (n >= 100 && n <= 599) return static_cast<int>(n);
        return std::nullopt;
    }
    if (v.is_number_float()) {
        double d = v.get<double>();
        if (d >= 100 && d <= 599 && std::floor(d) == d) return static_cast<int>(d);
        return std::nullopt;
    }
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        if (s.size() != 3 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
        int n = std::stoi(s);
        if (n >= 100 && n <= 599) return n;
    }
    return std::nullopt;
}

bool proxy_set_body(Response& r, const json& in, bool decode_base64, std::string& why) {
    auto body = in.find("body");
    bool b64 = false;
    if (auto it = in.find("isBase64Encoded"); it != in.end() && !it->is_null()) {
        if (!it->is_boolean()) return why = "isBase64Encoded is not a boolean", false;
        b64 = it->get<bool>();
    }
    if (body == in.end() || body->is_null()) return true;
    if (!body->is_string()) return why = "body is not a string", false;
    const auto& text = body->get_ref<const std::string&>();
    if (b64 && decode_base64) {
        auto bytes = base64_decode(text);
        if (!bytes) return why = "body is not valid base64", false;
        r.body = std::move(*bytes);
    } else {
        r.body = text;
    }
    return true;
}

bool proxy_set_headers(Response& r, const json& in, bool multi_too, std::string& why) {
    if (auto h = in.find("headers"); h != in.end() && !h->is_null()) {
        if (!h->is_object()) return why = "headers is not an object", false;
        for (auto& [name, value] : h->items()) {
            auto v = proxy_header_value(value);
            if (!v) return why = "header " + name + " is not a string", false;
            if (!proxy_hop_by_hop(name)) r.headers.set(name, std::move(*v));
        }
    }
    if (!multi_too) return true;
    if (auto m = in.find("multiValueHeaders"); m != in.end() && !m->is_null()) {
        if (!m->is_object()) return why = "multiValueHeaders is not an object", false;
        // Merged with `headers`; a name in both keeps multiValueHeaders' values.
        for (auto& [name, values] : m->items()) {
            if (!values.is_array()) return why = "multiValueHeaders." + name + " is not a list", false;
            if (proxy_hop_by_hop(name)) continue;
            r.headers.erase(name);
            for (auto& value : values) {
                auto v = proxy_header_value(value);
                if (!v) return why = "multiValueHeaders." + name + " holds a non-string", false;
                r.headers.add(name, std::move(*v));
            }
        }
    }
    return true;
}

}  // namespace

std::optional<Response> response_v1(std::string_view payload, bool decode_base64, std::string& why) {
    json in = parse_json(payload);
    if (in.is_discarded() || !in.is_object()) {
        why = "the result is not a JSON object";
        return std::nullopt;
    }
    Response r;
    auto sc = in.find("statusCode");
    if (sc == in.end()) {
        why = "statusCode is missing";
        return std::nullopt;
    }
    auto status = proxy_status_code(*sc);
    if (!status) {
        why = "statusCode is not an HTTP status";
        return std::nullopt;
    }
    r.status = *status;
    if (!proxy_set_headers(r, in, true, why) || !proxy_set_body(r, in, decode_base64, why)) return std::nullopt;
    if (!r.headers.has("content-type")) r.headers.set("Content-Type", "application/json");
    return r;
}

std::optional<Response> response_v2(std::string_view payload, std::string& why) {
    json in = parse_json(payload);
    if (in.is_discarded()) {
        why = "the result is not JSON";
        return std::nullopt;
    }
    Response r;
    if (!in.is_object() || !in.contains("statusCode")) {
        // Anything without a statusCode is the body of a 200 JSON answer; a string is
        // the body itself (AWS's example: "Hello from Lambda!").
        r.status = 200;
        r.headers.set("Content-Type", "application/json");
        r.body = in.is_string() ? in.get<std::string>() : std::string(payload);
        return r;
    }
    auto status = proxy_status_code(in["statusCode"]);
    if (!status) {
        why = "statusCode is not an HTTP status";
        return std::nullopt;
    }
    r.status = *status;
    if (!proxy_set_headers(r, in, false, why) || !proxy_set_body(r, in, true, why)) return std::nullopt;
    if (auto c = in.find("cookies"); c != in.end() && !c->is_null()) {
        if (!c->is_array()) {
            why = "cookies is not a list";
            return std::nullopt;
        }
        for (auto& cookie : *c) {
            if (!cookie.is_string()) {
                why = "cookies holds a non-string";
                return std::nullopt;
            }
            r.headers.add("Set-Cookie", cookie.get<std::string>());
        }
    }
    if (!r.headers.has("content-type")) r.headers.set("Content-Type", "application/json");
    return r;
}

}  // namespace stratus::core

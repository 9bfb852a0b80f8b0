#include "s3/cors.hpp"

#include <vector>

#include "core/error.hpp"
#include "s3/errors.hpp"
#include "s3/xml.hpp"
#include "core/text.hpp"

namespace stratus::s3 {

namespace {

struct Rule {
    std::vector<std::string> origins, methods, headers, expose;
    std::optional<std::string> max_age;
};

std::vector<Rule> parse_rules(const std::string& xml) {
    std::vector<Rule> out;
    auto doc = parse_xml(xml);
    if (!doc) return out;
    for (auto* r : doc->all("CORSRule")) {
        Rule rule;
        for (auto* o : r->all("AllowedOrigin")) rule.origins.push_back(o->text);
        for (auto* m : r->all("AllowedMethod")) rule.methods.push_back(m->text);
        for (auto* h : r->all("AllowedHeader")) rule.headers.push_back(h->text);
        for (auto* e : r->all("ExposeHeader")) rule.expose.push_back(e->text);
        rule.max_age = r->child_text("MaxAgeSeconds");
        out.push_back(std::move(rule));
    }
    return out;
}

// One '*' wildcard at most, as S3 allows ("http://*.example.com").
bool wildcard(std::string_view pattern, std::string_view value, bool ci) {
    std::string p = ci ? core::ascii_lower(pattern) : std::string(pattern);
    std::string v = ci ? core::ascii_lower(value) : std::string(value);
    auto star = p.find('*');
    if (star == std::string::npos) return p == v;
    std::string_view head = std::string_view(p).substr(0, star), tail = std::string_view(p).substr(star + 1);
    return v.size() >= head.size() + tail.size() && std::string_view(v).starts_with(head) &&
           std::string_view(v).ends_with(tail);
}

std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        auto comma = s.find(',');
        std::string_view part = s.substr(0, comma);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (!part.empty()) out.push_back(core::ascii_lower(part));
        if (comma == std::string_view::npos) break;
        s.remove_prefix(comma + 1);
    }
    return out;
}

const Rule* match(const std::vector<Rule>& rules, std::string_view origin, std::string_view method,
                  const std::vector<std::string>& headers) {
    for (auto& r : rules) {
        bool o = false, m = false, h = true;
        for (auto& p : r.origins) o = o || wildcard(p, origin, false);
        for (auto& x : r.methods) m = m || x == method;
        for (auto& want : headers) {
            bool ok = false;
            for (auto& p : r.headers) ok = ok || wildcard(p, want, true);
            h = h && ok;
        }
        if (o && m && h) return &r;
    }
    return nullptr;
}

void set_headers(core::Response& resp, const Rule& rule, std::string_view origin, std::string_view method) {
    bool any = false;
    for (auto& o : rule.origins) any = any || o == "*";
    resp.headers.set("Access-Control-Allow-Origin", any ? "*" : std::string(origin));
    std::string methods;
    for (auto& m : rule.methods) methods += (methods.empty() ? "" : ", ") + m;
    resp.headers.set("Access-Control-Allow-Methods", methods);
    if (!any) resp.headers.set("Access-Control-Allow-Credentials", "true");
    if (!rule.expose.empty()) {
        std::string e;
        for (auto& x : rule.expose) e += (e.empty() ? "" : ", ") + x;
        resp.headers.set("Access-Control-Expose-Headers", e);
    }
    if (rule.max_age) resp.headers.set("Access-Control-Max-Age", *rule.max_age);
    resp.headers.set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method");
    (void)method;
}

}  // namespace

core::Response preflight(const core::Request& req, const std::optional<std::string>& cors_xml) {
    auto origin = req.headers.get("origin");
    auto method = req.headers.get("access-control-request-method");
    if (!origin || !method)
        throw s3_error("BadRequest", "Insufficient information. Origin request header needed.");
    if (!cors_xml)
        throw s3_error("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.")
            .with("Method", std::string(*method))
            .with("ResourceType", "OBJECT");
    auto requested = split_list(req.headers.get_or("access-control-request-headers", ""));
    auto rules = parse_rules(*cors_xml);
    const Rule* r = match(rules, *origin, *method, requested);
    if (!r)
        throw s3_error("AccessForbidden", "CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
                             "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers "
                             "are not whitelisted by the resource's CORS spec.")
            .with("Method", std::string(*method))
            .with("ResourceType", "OBJECT");
    core::Response resp;
    set_headers(resp, *r, *origin, *method);
    if (!requested.empty()) {
        std::string h;
        for (auto& x : requested) h += (h.empty() ? "" : ", ") + x;
        resp.headers.set("Access-Control-Allow-Headers", h);
    }
    return resp;
}

void decorate(const core::Request& req, const std::string& cors_xml, core::Response& r) {
    auto origin = req.headers.get("origin");
    if (!origin) return;
    auto rules = parse_rules(cors_xml);
    const Rule* rule = match(rules, *origin, req.method, {});
    if (rule) set_headers(r, *rule, *origin, req.method);
}

}  // namespace stratus::s3

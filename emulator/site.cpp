#include "emulator/site.hpp"

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/protocol.hpp"
#include "s3/api.hpp"

namespace stratus::emulator {

namespace {

core::Response page(int status, std::string_view title, std::string_view detail, const core::Request& req) {
    core::Response r;
    r.status = status;
    r.headers.set("Content-Type", "text/html; charset=utf-8");
    std::string body = fmt::format("<html>\n<head><title>{0} {1}</title></head>\n<body>\n<h1>{0} {1}</h1>\n<p>{2}</p>\n"
                                   "<p>RequestId: {3}</p>\n</body>\n</html>\n",
                                   status, title, core::xml_escape(detail), req.request_id);
    r.headers.set("Content-Length", std::to_string(body.size()));
    if (req.method != "HEAD") r.body = std::move(body);
    return r;
}

bool matches(std::string_view path, std::string_view prefix) {
    if (prefix.empty() || prefix == "/") return true;
    return path == prefix || (path.starts_with(prefix) && path.size() > prefix.size() && path[prefix.size()] == '/');
}

}  // namespace

Site::Site(std::shared_ptr<s3::S3Service> s3, core::HttpHandler* api)
    : s3_(std::move(s3)), api_(api), config_(std::make_shared<SiteConfig>()) {}

void Site::configure(SiteConfig config) {
    auto c = std::make_shared<const SiteConfig>(std::move(config));
    std::lock_guard lock(mutex_);
    config_ = std::move(c);
}

std::shared_ptr<const SiteConfig> Site::config() const {
    std::lock_guard lock(mutex_);
    return config_;
}

core::Plan Site::plan(core::Request& head) {
    auto c = config();
    std::string path = core::percent_decode(head.path);
    for (auto& route : c->api_routes) {
        if (!matches(path, route.prefix)) continue;
        if (api_) {
            // A cache behaviour whose origin is the API: the request goes to the gateway as
            // CloudFront forwards it (path unchanged, after the origin's OriginPath).
            if (!route.origin_path.empty()) {
                head.path = route.origin_path + head.path;
                head.target = route.origin_path + head.target;
            }
            return api_->plan(head);
        }
        head.request_id = core::new_request_id(core::Wire::rest_json);
        core::Plan p;
        p.service = "site";
        p.run = [](core::Request&& req, core::Reply reply) {
            reply(page(502, "Bad Gateway", "This build of stratus has no API Gateway to route the API path to.", req));
        };
        return p;
    }
    head.request_id = core::new_request_id(core::Wire::rest_xml);
    core::Plan p;
    p.service = "site";
    p.body.limit = 1024 * 1024;
    p.too_large = [](const core::Request&) {
        core::Response r;
        r.status = 413;
        r.headers.set("Content-Type", "text/plain");
        r.body = "Request body too large\n";
        return r;
    };
    p.run = [this, c](core::Request&& req, core::Reply reply) {
        core::Response r;
        try {
            r = serve(req, *c);
        } catch (const std::exception& e) {
            core::log::error("site request {} failed: {}", req.path, e.what());
            r = page(500, "Internal Server Error", "The site could not read its bucket.", req);
        }
        r.operation = "Site";
        reply(std::move(r));
    };
    return p;
}

core::Response Site::serve(const core::Request& req, const SiteConfig& c) {
    if (req.method != "GET" && req.method != "HEAD") {
        auto r = page(405, "Method Not Allowed", "The site serves GET and HEAD.", req);
        r.headers.set("Allow", "GET, HEAD");
        return r;
    }
    if (c.bucket.empty()) return page(404, "Not Found", "This app has no site.", req);
    std::string key = core::percent_decode(req.path);
    if (!key.empty() && key.front() == '/') key.erase(0, 1);
    auto object = [&](const std::string& k) -> std::optional<core::Response> {
        if (k.empty() || k.size() > 1024) return std::nullopt;
        return s3_->web_object(req, c.bucket, k);
    };
    std::string want = key.empty() || key.ends_with('/') ? key + c.index : key;
    if (auto r = object(want)) return std::move(*r);
    if (!key.empty() && !key.ends_with('/'))
        if (auto r = object(key + "/" + c.index)) return std::move(*r);
    if (c.spa) {
        // SPA routing: a path whose last segment has no extension is a client-side route.
        std::string_view last = key;
        while (last.ends_with('/')) last.remove_suffix(1);
        if (auto slash = last.rfind('/'); slash != std::string_view::npos) last.remove_prefix(slash + 1);
        if (last.find('.') == std::string_view::npos)
            if (auto r = object(c.index)) return std::move(*r);
    }
    // An S3 origin answers a missing key with 403 (no ListBucket) or 404: either matches.
    for (auto& e : c.error_responses) {
        if ((e.error_code != 404 && e.error_code != 403) || e.page.empty()) continue;
        std::string page_key = e.page.front() == '/' ? e.page.substr(1) : e.page;
        core::Request plain;
        plain.method = req.method;
        plain.request_id = req.request_id;
        if (auto r = s3_->web_object(plain, c.bucket, page_key)) {
            r->status = e.response_code ? e.response_code : e.error_code;
            return std::move(*r);
        }
    }
    return page(404, "Not Found", "The specified key does not exist: " + want, req);
}

}  // namespace stratus::emulator

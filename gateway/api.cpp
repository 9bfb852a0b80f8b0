#include "gateway/api.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "core/dispatcher.hpp"
#include "core/log.hpp"
#include "core/net.hpp"
#include "core/protocol.hpp"
#include "core/server.hpp"
#include "gateway/apis.hpp"
#include "gateway/authorizers.hpp"
#include "gateway/cors.hpp"
#include "gateway/errors.hpp"
#include "gateway/events.hpp"
#include "gateway/issuer.hpp"
#include "gateway/jwt.hpp"
#include "gateway/responses.hpp"
#include "gateway/spec_json.hpp"

namespace stratus::gateway {

using json = nlohmann::json;

namespace {

// API Gateway's payload limit for both API types.
constexpr std::uint64_t max_request_body = 10 * 1024 * 1024;
// "Total combined size of request line and header values": 10240 bytes, in the quotas of
// both API types (AWS's "API Gateway quotas" pages). What AWS answers past it is not
// documented; we answer as for a payload over 10 MB (413; REST's REQUEST_TOO_LARGE).
constexpr std::size_t max_request_head = 10240;
// Lambda's limit for a synchronous invocation's event.
constexpr std::size_t max_invoke_payload = 6 * 1024 * 1024;
// JWKS documents are small; anything larger is not one.
constexpr std::uint64_t max_jwks_body = 1024 * 1024;

using timer_type = net::steady_timer;

std::mt19937_64& rng() {
    thread_local std::mt19937_64 r{std::random_device{}()};
    return r;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// "LgDsSFuIIAMFZ1A=": the shape of API Gateway's extended request ids (HTTP APIs use it
// as their request id).
std::string extended_id() {
    static constexpr char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out(16, '=');
    std::uint64_t a = rng()(), b = rng()();
    for (int i = 0; i < 10; ++i) out[static_cast<std::size_t>(i)] = b64[(a >> (6 * i)) & 63];
    for (int i = 10; i < 14; ++i) out[static_cast<std::size_t>(i)] = b64[(b >> (6 * (i - 10))) & 63];
    // 11 bytes of data: the last group carries 4 significant bits, then the padding.
    out[14] = b64[((b >> 30) & 15) << 2];
    return out;
}

// X-Amzn-Trace-Id: "Root=1-{epoch seconds, hex}-{96 random bits, hex}".
std::string trace_id(std::int64_t ms) {
    return fmt::format("Root=1-{:08x}-{:08x}{:016x}", static_cast<std::uint32_t>(ms / 1000),
                       static_cast<std::uint32_t>(rng()()), rng()());
}

// "abc123.execute-api.localhost:3000" names API abc123.
std::optional<std::string> host_api_id(std::string_view host) {
    auto dot = host.find('.');
    if (dot == std::string_view::npos || dot == 0) return std::nullopt;
    std::string_view rest = host.substr(dot + 1);
    if (!rest.starts_with("execute-api.") && rest != "execute-api") return std::nullopt;
    return std::string(host.substr(0, dot));
}

// The request line ("GET /path?query HTTP/1.1") and the header values, as AWS counts them
// against max_request_head (names and separators are not counted).
std::size_t head_size(const core::Request& head) {
    std::size_t n = head.method.size() + 1 + head.target.size() + 1 + 8;
    for (auto& [name, value] : head.headers.entries()) n += value.size();
    return n;
}

// "/dev/items" -> ("dev", "/items"); "/dev" -> ("dev", "/").
std::pair<std::string, std::string> split_first(std::string_view rel) {
    if (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
    auto slash = rel.find('/');
    std::string first = core::percent_decode(rel.substr(0, slash));
    std::string rest = slash == std::string_view::npos ? "/" : std::string(rel.substr(slash));
    return {std::move(first), std::move(rest)};
}

// Where a request goes, decided from its head.
struct Resolution {
    ApiType type = ApiType::http;
    const CompiledApi* api = nullptr;  // the route's API, or the API whose CORS applies
    const CompiledRoute* route = nullptr;
    std::optional<Failure> failure;
    std::vector<std::pair<std::string, std::string>> params;
    std::string stage;
    std::string api_path;
    std::string event_path;
    std::string context_path;
    // REST resources with CORS: routes on the matched resource (for the OPTIONS mock).
    std::vector<const CompiledRoute*> resource;
};

Resolution resolve(const Snapshot& s, const core::Request& head, std::string_view prefix, std::string_view mount_api) {
    Resolution r;
    std::string_view raw = head.path;
    bool mounted = !prefix.empty() || !mount_api.empty();
    if (!prefix.empty()) raw.remove_prefix(std::min(prefix.size(), raw.size()));
    std::string rel = raw.empty() || raw.front() != '/' ? "/" + std::string(raw) : std::string(raw);

    const CompiledApi* api = nullptr;
    bool stage_in_path = true;
    if (!mount_api.empty() || host_api_id(head.host())) {
        std::string id = !mount_api.empty() ? std::string(mount_api) : *host_api_id(head.host());
        auto it = s.apis.find(id);
        if (it == s.apis.end()) {
            // What execute-api answers for an API id it does not know.
            r.type = ApiType::rest;
            r.failure = Failure::forbidden;
            return r;
        }
        api = it->second.get();
        stage_in_path = mount_api.empty();
    }

    // One of: a table whose payloads index api->routes, or a merged one (snapshot targets).
    const RouteTable* table = nullptr;
    bool merged = false;
    if (api) {
        r.type = api->spec.type;
        r.api = api;
        r.stage = api->spec.stage;
        if (!at_root(api->spec) && stage_in_path) {
            auto [stage, rest] = split_first(rel);
            if (stage != r.stage) {
                // An unknown stage: execute-api's 403 Forbidden for a REST API; an HTTP API
                // has no route there (404).
                r.failure = r.type == ApiType::rest ? Failure::forbidden : Failure::no_route;
                return r;
            }
            r.api_path = std::move(rest);
        } else {
            r.api_path = rel;
        }
        table = &api->table;
    } else {
        auto [first, rest] = split_first(rel);
        auto stage = s.stages.find(first);
        merged = true;
        if (stage != s.stages.end()) {
            // A named stage of REST APIs, HTTP APIs or both: the matched route's API says
            // which; without one, REST's answer if any REST API has this stage.
            r.type = ApiType::http;
            for (auto& [id, a] : s.apis)
                if (a->spec.type == ApiType::rest && a->spec.stage == first) r.type = ApiType::rest;
            r.stage = std::move(first);
            r.api_path = std::move(rest);
            table = &stage->second;
        } else if (!s.http.empty()) {
            r.type = ApiType::http;
            r.stage = "$default";
            r.api_path = rel;
            table = &s.http;
        } else {
            bool any_rest = false;
            for (auto& [id, a] : s.apis) any_rest = any_rest || a->spec.type == ApiType::rest;
            r.type = any_rest ? ApiType::rest : ApiType::http;
            r.failure = any_rest ? Failure::forbidden : Failure::no_route;
            return r;
        }
    }
    auto path = RequestPath::split(r.api_path);
    if (!path) {
        r.failure = Failure::bad_request;
        return r;
    }
    auto route_of = [&](int payload) -> std::pair<const CompiledApi*, const CompiledRoute*> {
        if (!merged) return {api, &api->routes[static_cast<std::size_t>(payload)]};
        auto& t = s.targets[static_cast<std::size_t>(payload)];
        return {t.api, t.route};
    };
    auto resource = table->resource_routes(*path);
    for (int p : resource) r.resource.push_back(route_of(p).second);
    if (auto m = table->match(head.method, *path)) {
        auto [a, route] = route_of(m->payload);
        r.api = a;
        r.type = a->spec.type;
        r.route = route;
        r.params = std::move(m->params);
    } else if (merged && r.type == ApiType::http) {
        // No route: the CORS settings that answer are those of the API owning the path,
        // else of an HTTP API at the same stage that has any.
        if (!resource.empty()) r.api = route_of(resource.front()).first;
        else
            for (auto& [id, a] : s.apis)
                if (!r.api && a->spec.type == ApiType::http && a->spec.stage == r.stage && a->spec.cors) r.api = a.get();
    } else if (merged) {
        // REST: the stage's API answers (its gateway responses apply) when it is the only
        // one at that stage.
        int n = 0;
        for (auto& [id, a] : s.apis)
            if (a->spec.type == ApiType::rest && a->spec.stage == r.stage) {
                r.api = a.get();
                ++n;
            }
        if (n != 1) r.api = nullptr;
    }
    // REST events show the path within the stage, and the stage in requestContext.path; an
    // HTTP API's the path as sent (a named stage's included: rawPath "/dev/items").
    if (mounted) r.event_path = r.context_path = head.path;
    else if (r.type == ApiType::rest) {
        r.event_path = r.api_path;
        r.context_path = "/" + r.stage + (r.api_path == "/" ? "/" : r.api_path);
    } else {
        r.event_path = r.context_path = head.path;
    }
    if (!r.route && !(r.type == ApiType::rest && head.method == "OPTIONS")) r.failure = Failure::no_route;
    return r;
}

// Fetches JWKS / discovery documents on threads of their own (a slow issuer blocks no
// I/O thread; each gives up after the timeout). A fetch only runs while requests wait for
// it, and their callbacks keep the service alive: nothing it calls back into goes away
// under it.
class Fetches : public std::enable_shared_from_this<Fetches> {
public:
    explicit Fetches(int timeout_ms) : timeout_ms_(timeout_ms) {}

    void get(const std::string& url, std::function<void(std::optional<std::string>, std::string)> done) {
        std::thread([self = shared_from_this(), url, done = std::move(done)] {
            std::optional<std::string> body;
            std::string error;
            try {
                body = self->fetch(url, error);
            } catch (const std::exception& e) {
                error = e.what();
            }
            done(std::move(body), std::move(error));
        }).detach();
    }

private:
    std::optional<std::string> fetch(std::string url, std::string& error) {
        if (url.starts_with("file://")) url = url.substr(7);
        if (url.starts_with("/")) {
            std::ifstream in(url, std::ios::binary);
            if (!in) {
                error = "cannot read " + url;
                return std::nullopt;
            }
            std::ostringstream s;
            s << in.rdbuf();
            return s.str();
        }
        if (!url.starts_with("http://")) {
            error = "only http:// URLs and local files are fetched (" + url + ")";
            return std::nullopt;
        }
        std::string_view rest = std::string_view(url).substr(7);
        auto slash = rest.find('/');
        std::string authority(rest.substr(0, slash));
        std::string target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
        std::string host = authority, port = "80";
        if (auto colon = authority.rfind(':'); colon != std::string::npos && authority.find(']') == std::string::npos) {
            host = authority.substr(0, colon);
            port = authority.substr(colon + 1);
        } else if (authority.starts_with("[")) {
            auto close = authority.find(']');
            host = authority.substr(1, close - 1);
            if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
        }
        net::io_context ioc;
        tcp::resolver resolver(ioc);
        beast::tcp_stream stream(ioc);
        http::request<http::empty_body> req{http::verb::get, target, 11};
        req.set(http::field::host, authority);
        req.set(http::field::user_agent, "stratus-gateway");
        req.set(http::field::accept, "application/json");
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(max_jwks_body);
        beast::error_code failed;
        stream.expires_after(std::chrono::milliseconds(timeout_ms_));
        resolver.async_resolve(host, port, [&](beast::error_code ec, tcp::resolver::results_type results) {
            if (ec) return void(failed = ec);
            stream.async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
                if (ec) return void(failed = ec);
                http::async_write(stream, req, [&](beast::error_code ec, std::size_t) {
                    if (ec) return void(failed = ec);
                    http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) {
                        if (ec) failed = ec;
                    });
                });
            });
        });
        ioc.run();
        if (failed) {
            error = url + ": " + (failed == beast::error::timeout ? std::string("timed out") : failed.message());
            return std::nullopt;
        }
        auto& res = parser.get();
        if (res.result_int() != 200) {
            error = fmt::format("{}: HTTP {}", url, res.result_int());
            return std::nullopt;
        }
        return std::move(res.body());
    }

    int timeout_ms_;
};

class Service;

// One request on its way through the gateway.
struct Exchange {
    std::shared_ptr<const Snapshot> snapshot;  // the routes it started with
    Resolution res;
    core::Request request;
    core::Reply reply;
    ResponseIds ids;
    std::string trace;
    EventRequest event_request;
    EventRoute event_route;
    std::atomic<bool> finished{false};
    std::optional<timer_type> timer;
};

class Service final : public GatewayService, public std::enable_shared_from_this<Service> {
public:
    Service(core::Runtime& runtime, std::shared_ptr<lambda::Invoker> invoker, GatewayOptions o)
        : runtime_(runtime), invoker_(std::move(invoker)), options_(std::move(o)),
          issuer_(options_.data_dir + "/gateway/issuer-key.pem", options_.issuer_url, options_.issuer_aliases),
          fetches_(std::make_shared<Fetches>(options_.jwks_timeout_ms)),
          keys_(std::make_shared<KeyCache>(
              [f = fetches_](const std::string& url, auto done) { f->get(url, std::move(done)); },
              [this](std::string_view name) -> std::shared_ptr<const KeySet> {
                  return issuer_.owns(name) ? issuer_.keys() : nullptr;
              })),
          authorizers_(invoker_, keys_), snapshot_(std::make_shared<const Snapshot>()) {}

    // ---- Gateway ----

    void declare(ApiSpec api) override {
        auto compiled = compile_api(std::move(api));
        std::lock_guard lock(write_mutex_);
        snapshot_.store(snapshot_.load()->with(std::move(compiled)));
        // A redeployment flushes the authorizer caches, as on AWS.
        authorizers_.clear_cache();
    }

    void remove(const std::string& id) override {
        std::lock_guard lock(write_mutex_);
        auto current = snapshot_.load();
        if (!current->apis.count(id)) return;
        snapshot_.store(current->without(id));
        authorizers_.clear_cache();
    }

    std::vector<ApiSpec> apis() const override {
        std::vector<ApiSpec> out;
        for (auto& [id, api] : snapshot_.load()->apis) out.push_back(api->spec);
        return out;
    }

    std::string base_url(const std::string& id) const override {
        auto s = snapshot_.load();
        auto it = s->apis.find(id);
        if (it == s->apis.end()) return {};
        std::lock_guard lock(endpoint_mutex_);
        if (!at_root(it->second->spec)) return "http://" + endpoint_ + "/" + it->second->spec.stage;
        return "http://" + endpoint_;
    }

    // ---- GatewayService ----

    core::Plan plan(core::Request& head) override { return make_plan(head, {}, {}); }
    core::Plan plan_mounted(core::Request& head, std::string_view prefix, std::string_view api_id) override {
        return make_plan(head, prefix, api_id);
    }
    void set_endpoint(std::string host_port) override {
        std::lock_guard lock(endpoint_mutex_);
        endpoint_ = std::move(host_port);
    }
    Issuer& issuer() override { return issuer_; }
    void reset() override {
        authorizers_.clear_cache();
        keys_->clear();
    }

private:
    core::Plan make_plan(core::Request& head, std::string_view prefix, std::string_view api_id) {
        auto ex = std::make_shared<Exchange>();
        ex->snapshot = snapshot_.load();
        ex->res = resolve(*ex->snapshot, head, prefix, api_id);
        if (head_size(head) > max_request_head) ex->res.failure = Failure::request_too_large;
        ex->event_request.time_ms = now_ms();
        if (ex->res.type == ApiType::rest) {
            ex->ids.request_id = core::random_uuid();
            ex->ids.extended_request_id = extended_id();
        } else {
            ex->ids.request_id = ex->ids.extended_request_id = extended_id();
        }
        head.request_id = ex->ids.request_id;
        core::Plan p;
        p.service = "gateway";
        p.body.limit = max_request_body;
        p.too_large = [ex](const core::Request& req) {
            core::Response r = render_failure(ex->res.type, {Failure::request_too_large, {}, {}}, ex->ids,
                                              ex->res.api ? &ex->res.api->spec.gateway_responses : nullptr);
            add_cors(*ex, req, r);
            return r;
        };
        p.run = [self = shared_from_this(), ex](core::Request&& req, core::Reply reply) {
            ex->request = std::move(req);
            ex->reply = std::move(reply);
            try {
                self->start(ex);
            } catch (const std::exception& e) {
                core::log::error("gateway: request {} failed: {}", ex->ids.request_id, e.what());
                self->fail(*ex, {Failure::configuration_error, e.what(), {}});
            }
        };
        return p;
    }

    void start(const std::shared_ptr<Exchange>& ex) {
        Resolution& res = ex->res;
        const core::Request& req = ex->request;
        if (res.failure == Failure::request_too_large)
            return fail(*ex, {*res.failure, "request line and header values over 10240 bytes", {}});
        // REST: an OPTIONS request to a resource with CORS, and no OPTIONS method of its
        // own, is the mock integration's.
        if (res.type == ApiType::rest && req.method == "OPTIONS" && !res.failure &&
            !(res.route && res.route->spec.method == "OPTIONS")) {
            std::vector<const CorsSpec*> specs;
            std::vector<std::string> methods;
            for (auto* r : res.resource) {
                if (r->spec.cors) specs.push_back(&*r->spec.cors);
                methods.push_back(r->spec.method);
            }
            if (!specs.empty()) {
                core::Response r = rest_preflight(specs, methods, req);
                return respond(*ex, std::move(r));
            }
            if (!res.route) return fail(*ex, {Failure::no_route, {}, {}});
        }
        if (res.type == ApiType::http && res.api && res.api->spec.cors && is_preflight(req))
            return respond(*ex, http_preflight(*res.api->spec.cors, req), false);
        if (res.failure) return fail(*ex, {*res.failure, {}, {}});

        prepare_event(*ex);
        const CompiledRoute& route = *res.route;
        if (!route.authorizer) return authorized(ex, nullptr);
        AuthRequest ar{res.api, res.route, &ex->event_request, &ex->event_route};
        authorizers_.authorize(ar, [self = shared_from_this(), ex](AuthOutcome o) {
            if (o.failure) return self->fail(*ex, std::move(*o.failure));
            self->authorized(ex, std::move(o.context));
        });
    }

    void prepare_event(Exchange& ex) {
        Resolution& res = ex.res;
        core::Request& req = ex.request;
        EventRequest& e = ex.event_request;
        e.request = &req;
        e.path = req.path;
        e.source_ip = req.remote_address;
        e.domain_name = std::string(req.headers.get_or("host", ""));
        e.domain_prefix = e.domain_name.substr(0, e.domain_name.find_first_of(".:"));
        e.request_id = ex.ids.request_id;
        e.extended_request_id = ex.ids.extended_request_id;
        ex.trace = trace_id(e.time_ms);
        // What API Gateway adds on the way to the integration.
        std::string_view host = req.headers.get_or("host", "");
        auto colon = host.rfind(':');
        std::string port = colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos
                               ? std::string(host.substr(colon + 1))
                               : "80";
        if (auto xff = req.headers.get("x-forwarded-for"))
            req.headers.set("X-Forwarded-For", std::string(*xff) + ", " + e.source_ip);
        else
            req.headers.add("X-Forwarded-For", e.source_ip);
        req.headers.set("X-Forwarded-Port", port);
        req.headers.set("X-Forwarded-Proto", "http");
        req.headers.set("X-Amzn-Trace-Id", ex.trace);

        EventRoute& r = ex.event_route;
        r.api = &res.api->spec;
        r.route = &res.route->spec;
        r.stage = res.stage;
        r.resource_path = res.route->spec.method == "$default" ? "$default" : res.route->path.text;
        r.resource_id = res.route->resource_id;
        r.route_key = res.route->route_key;
        r.event_path = res.event_path;
        r.context_path = res.context_path;
        r.api_path = res.api_path;
        r.path_params = res.params;
    }

    void authorized(const std::shared_ptr<Exchange>& ex, std::shared_ptr<json> authorizer) {
        const CompiledRoute& route = *ex->res.route;
        const ApiSpec& api = ex->res.api->spec;
        if (route.spec.api_key_required) {
            auto key = ex->request.headers.get("x-api-key");
            bool ok = false;
            if (key)
                for (std::size_t i = 0; i < api.api_keys.size(); ++i)
                    if (api.api_keys[i] == *key) {
                        ok = true;
                        ex->event_request.api_key = std::string(*key);
                        ex->event_request.api_key_id = fmt::format("{}key{}", api.id.substr(0, 6), i);
                    }
            if (!ok) return fail(*ex, {Failure::invalid_api_key, key ? "unknown API key" : "no x-api-key", {}});
        }
        lambda::InvokeInput in;
        in.payload = route.payload_v2 ? event_v2(ex->event_request, ex->event_route, authorizer.get())
                                      : event_v1(ex->event_request, ex->event_route, authorizer.get());
        if (in.payload.size() > max_invoke_payload)
            return fail(*ex, {Failure::request_too_large, "the event is over Lambda's 6 MB", {}});
        // The integration timeout: armed before the invoke, whose answer may come first.
        ex->timer.emplace(runtime_.io_context());
        ex->timer->expires_after(std::chrono::milliseconds(route.timeout_ms));
        ex->timer->async_wait([self = shared_from_this(), ex](beast::error_code ec) {
            if (ec || ex->finished.exchange(true)) return;
            core::log::warn("gateway: {} {}: {} did not answer within the integration timeout ({} ms)",
                            ex->request.method, ex->request.path, ex->res.route->spec.function,
                            ex->res.route->timeout_ms);
            self->send_failure(*ex, {Failure::integration_timeout, "integration timed out", {}});
        });
        invoker_->invoke(route.spec.function, std::move(in),
                         [self = shared_from_this(), ex](lambda::InvokeResult r) { self->on_result(ex, std::move(r)); });
    }

    void on_result(const std::shared_ptr<Exchange>& ex, lambda::InvokeResult r) {
        if (ex->finished.exchange(true)) return;  // the timeout answered already
        if (ex->timer) ex->timer->cancel();
        if (r.error) {
            // The function could not run: unknown (a configuration error), throttled, or
            // refused. API Gateway answers these as its own 500, not the function's.
            const std::string& code = r.error->code();
            Failure f = code == "RequestEntityTooLargeException" ? Failure::request_too_large : Failure::configuration_error;
            core::log::warn("gateway: {} not invoked: {}: {}", ex->res.route->spec.function, code, r.error->message());
            return send_failure(*ex, {f, r.error->message(), {}});
        }
        if (r.function_error) return send_failure(*ex, {Failure::integration_error, "function error: " + r.payload, {}});
        std::string why;
        std::optional<core::Response> out;
        const CompiledRoute& route = *ex->res.route;
        if (route.payload_v2) {
            out = response_v2(r.payload, why);
        } else {
            bool decode = ex->res.type == ApiType::http;
            if (!decode) {
                // REST sends isBase64Encoded bodies as bytes only to a client that accepts
                // a binary media type (the first Accept type); otherwise as the base64 text.
                std::string_view accept = ex->request.headers.get_or("accept", "");
                std::string_view first = accept.substr(0, accept.find(','));
                decode = !first.empty() && binary_body_v1(first, ex->res.api->spec.binary_media_types);
            }
            out = response_v1(r.payload, decode, why);
        }
        if (!out) {
            core::log::warn("gateway: malformed Lambda proxy response from {}: {}", route.spec.function, why);
            return send_failure(*ex, {Failure::integration_error, why, {}});
        }
        if (ex->res.type == ApiType::rest) out->headers.set("X-Amzn-Trace-Id", ex->trace + ";Sampled=0");
        respond(*ex, std::move(*out));
    }

    static void add_cors(const Exchange& ex, const core::Request& req, core::Response& r) {
        if (ex.res.type == ApiType::http && ex.res.api && ex.res.api->spec.cors)
            http_cors_headers(*ex.res.api->spec.cors, req, r);
    }

    // Failures before the invoke (no race with a timer).
    void fail(Exchange& ex, GatewayFailure f) {
        ex.finished.store(true);
        send_failure(ex, std::move(f));
    }

    void send_failure(Exchange& ex, GatewayFailure f) {
        if (!f.detail.empty()) core::log::debug("gateway: {} {}: {}", ex.request.method, ex.request.path, f.detail);
        core::Response r = render_failure(ex.res.type, f, ex.ids, ex.res.api ? &ex.res.api->spec.gateway_responses : nullptr);
        deliver(ex, std::move(r));
    }

    void respond(Exchange& ex, core::Response&& r, bool cors = true) {
        ex.finished.store(true);
        stamp_ids(ex.res.type, ex.ids, r);
        deliver(ex, std::move(r), cors);
    }

    // `cors`: false for a preflight answer, which has its CORS headers already.
    void deliver(Exchange& ex, core::Response&& r, bool cors = true) {
        if (cors) add_cors(ex, ex.request, r);
        if (ex.res.route) r.operation = ex.res.route->route_key;
        auto reply = std::move(ex.reply);
        reply(std::move(r));
    }

    core::Runtime& runtime_;
    std::shared_ptr<lambda::Invoker> invoker_;
    GatewayOptions options_;
    Issuer issuer_;
    std::shared_ptr<Fetches> fetches_;
    std::shared_ptr<KeyCache> keys_;
    Authorizers authorizers_;
    std::mutex write_mutex_;
    std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
    mutable std::mutex endpoint_mutex_;
    std::string endpoint_ = "127.0.0.1:3000";
};

core::Response cors_json(std::string body, int status = 200) {
    core::Response r = core::json_response(core::internal_protocol(), std::move(body), status);
    r.headers.set("Access-Control-Allow-Origin", "*");
    return r;
}

}  // namespace

std::shared_ptr<GatewayService> make_gateway(core::Runtime& runtime, std::shared_ptr<lambda::Invoker> invoker,
                                             GatewayOptions options) {
    return std::make_shared<Service>(runtime, std::move(invoker), std::move(options));
}

void add_internal_endpoints(core::Dispatcher& d, std::shared_ptr<GatewayService> gw, bool test_api) {
    d.add_internal("GET", "/_stratus/.well-known/openid-configuration", [gw](const core::Request&) {
        return cors_json(gw->issuer().discovery_json());
    });
    d.add_internal("GET", "/_stratus/.well-known/jwks.json",
                   [gw](const core::Request&) { return cors_json(gw->issuer().jwks_json()); });
    // The dev sign-in: a page on the site port calls it, so it answers CORS.
    d.add_internal("POST", "/_stratus/token", [gw](const core::Request& r) {
        try {
            json in = r.body.empty() ? json::object() : json::parse(r.body, nullptr, false);
            if (in.is_discarded()) throw core::AwsError::serialization("the body is not JSON");
            auto seconds = now_ms() / 1000;
            return cors_json(json{{"token", gw->issuer().mint(in, seconds)}}.dump());
        } catch (const core::AwsError& e) {
            core::Response resp = core::render_error(core::internal_protocol(), e, r);
            resp.headers.set("Access-Control-Allow-Origin", "*");
            return resp;
        }
    });
    d.add_internal("OPTIONS", "/_stratus/token", [](const core::Request& r) {
        core::Response resp;
        resp.status = 204;
        resp.headers.set("Access-Control-Allow-Origin", "*");
        resp.headers.set("Access-Control-Allow-Methods", "POST, OPTIONS");
        std::string_view asked = r.headers.get_or("access-control-request-headers", "");
        resp.headers.set("Access-Control-Allow-Headers", asked.empty() ? "content-type, authorization" : std::string(asked));
        resp.headers.set("Access-Control-Max-Age", "600");
        return resp;
    });
    if (!test_api) return;
    static constexpr std::string_view apis = "/_stratus/test/gateway/apis";
    d.add_internal("POST", std::string(apis), [gw](const core::Request& r) {
        json in = json::parse(r.body, nullptr, false);
        if (in.is_discarded()) throw core::AwsError("BadRequestException", "the body is not JSON", 400);
        ApiSpec spec = api_spec_from_json(in);
        if (spec.id.empty()) spec.id = new_api_id();
        std::string id = spec.id;
        gw->declare(std::move(spec));
        json out = {{"id", id}, {"url", gw->base_url(id)}};
        return core::json_response(core::internal_protocol(), out.dump(), 201);
    });
    d.add_internal("GET", std::string(apis), [gw](const core::Request&) {
        json out = json::array();
        for (auto& a : gw->apis()) out.push_back(to_json(a));
        return core::json_response(core::internal_protocol(), out.dump());
    });
    d.add_internal("DELETE", std::string(apis) + "/", [gw](const core::Request& r) {
        gw->remove(r.decoded_path().substr(apis.size() + 1));
        core::Response resp;
        resp.status = 204;
        return resp;
    });
}

}  // namespace stratus::gateway

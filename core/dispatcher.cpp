#include "core/dispatcher.hpp"

#include <atomic>
#include <charconv>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/log.hpp"
#include "core/sigv4.hpp"

namespace stratus::core {

const Protocol& internal_protocol() {
    static const Protocol p{Wire::internal, "", false};
    return p;
}

namespace {

bool ends_with_ci(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

// Wraps a Reply so that it runs at most once: a service that replies and then throws
// must not produce two responses.
struct OnceReply {
    Reply reply;
    std::atomic<bool> done{false};
    bool fire(Response&& r) {
        if (done.exchange(true)) return false;
        reply(std::move(r));
        return true;
    }
};

}  // namespace

Dispatcher::Dispatcher(DispatchOptions options)
    : options_(std::move(options)),
      started_(std::chrono::steady_clock::now()),
      health_version_(nlohmann::json(options_.version).dump()) {
    auto keys = std::make_shared<Credentials>();
    if (!options_.access_key_id.empty()) keys->add(options_.access_key_id, options_.secret_access_key);
    for (auto& [id, secret] : options_.credentials) keys->add(id, secret);
    keys_ = std::move(keys);
    add_internal("GET", "/_stratus/health", [this](const Request&) {
        // Written directly: health checks are polled hard, and bench/ measures stratus's
        // ceiling with them, so this endpoint must cost no more than any real request.
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_)
                      .count();
        std::string body;
        body.reserve(health_services_.size() + health_version_.size() + 48);
        body += R"({"services":)";
        body += health_services_;
        body += R"(,"uptime_seconds":)";
        char digits[24];
        auto end = std::to_chars(digits, digits + sizeof digits, ms / 1000).ptr;
        body.append(digits, end);
        const auto frac = static_cast<int>(ms % 1000);
        body += '.';
        body += static_cast<char>('0' + frac / 100);
        body += static_cast<char>('0' + frac / 10 % 10);
        body += static_cast<char>('0' + frac % 10);
        body += R"(,"version":)";
        body += health_version_;
        body += '}';
        return json_response(internal_protocol(), std::move(body));
    });
    add_internal("POST", "/_stratus/reset", [this](const Request&) {
        reset_all();
        return json_response(internal_protocol(), R"({"reset":true})");
    });
}

void Dispatcher::add(std::shared_ptr<Service> service) {
    Service* s = service.get();
    ServiceRoute r = s->route();
    for (auto& t : r.target_prefixes) targets_.emplace_back(t, s);
    for (auto& n : r.signing_names) signing_names_.emplace(n, s);
    for (auto& h : r.host_suffixes) host_suffixes_.emplace_back(h, s);
    for (auto& p : r.path_prefixes) path_prefixes_.emplace_back(p, s);
    if (r.fallback) fallback_ = s;
    if (options_.verify_signatures) s->use_credentials(keys_);
    services_.push_back(std::move(service));
    // Services are added at startup, before any request; health reads this unlocked.
    nlohmann::json names = nlohmann::json::object();
    for (auto& svc : services_) names[std::string(svc->name())] = "running";
    health_services_ = names.dump();
}

void Dispatcher::add_internal(std::string method, std::string path, InternalHandler handler) {
    internal_.push_back({std::move(method), std::move(path), std::move(handler)});
}

void Dispatcher::on_reset(std::function<void()> hook) { reset_hooks_.push_back(std::move(hook)); }

void Dispatcher::reset_all() {
    for (auto& s : services_) s->reset();
    for (auto& h : reset_hooks_) h();
    log::info("state reset");
}

Service* Dispatcher::select(const Request& head) const {
    if (auto target = head.headers.get("x-amz-target")) {
        for (auto& [prefix, s] : targets_)
            if (target->starts_with(prefix)) return s;
        return nullptr;
    }
    std::string_view scope = sigv4::scope_service(head);
    if (!scope.empty()) {
        auto it = signing_names_.find(scope);
        return it == signing_names_.end() ? nullptr : it->second;
    }
    std::string_view host = head.host();
    for (auto& [suffix, s] : host_suffixes_) {
        // "bucket.s3.localhost" and the bare "s3.localhost".
        if (ends_with_ci(host, suffix) || iequals(host, std::string_view(suffix).substr(1))) return s;
    }
    for (auto& [prefix, s] : path_prefixes_)
        if (head.path.starts_with(prefix)) return s;
    return fallback_;
}

Plan Dispatcher::plan(Request& head) {
    if (head.path.starts_with("/_stratus/")) return internal_plan(head);
    Service* s = select(head);
    if (s == nullptr) return unknown_plan(head);

    head.request_id = new_request_id(s->protocol().wire);
    Plan p;
    p.service = s->name();
    p.body = s->body_policy(head);
    p.too_large = [s, limit = p.body.limit](const Request& req) {
        return render_error(s->protocol(), s->body_too_large(limit), req);
    };
    p.run = [this, s](Request&& req, Reply reply) { run(*s, std::move(req), std::move(reply)); };
    return p;
}

Plan Dispatcher::internal_plan(Request& head) {
    head.request_id = new_request_id(Wire::internal);
    Plan p;
    p.service = "stratus";
    p.body.limit = 1024 * 1024;
    p.too_large = [](const Request& req) {
        return render_error(internal_protocol(), default_too_large(Wire::internal, 1024 * 1024), req);
    };
    p.run = [this](Request&& req, Reply reply) {
        const Internal* match = nullptr;
        bool path_known = false;
        for (auto& in : internal_) {
            bool hit = in.path.ends_with('/') ? req.path.starts_with(in.path) : req.path == in.path;
            if (!hit) continue;
            path_known = true;
            if (in.method == req.method) {
                match = &in;
                break;
            }
        }
        Response r;
        try {
            if (match)
                r = match->handler(req);
            else if (path_known)
                r = render_error(internal_protocol(), AwsError("MethodNotAllowed", "Method not allowed", 405), req);
            else
                r = render_error(internal_protocol(),
                                 AwsError("NotFound", "No internal endpoint " + req.path, 404), req);
        } catch (const AwsError& e) {
            r = render_error(internal_protocol(), e, req);
        } catch (const std::exception& e) {
            log::error("internal endpoint {} failed: {}", req.path, e.what());
            r = render_error(internal_protocol(), AwsError::internal(), req);
        }
        stamp_response(internal_protocol(), req, r);
        reply(std::move(r));
    };
    return p;
}

Plan Dispatcher::unknown_plan(Request& head) {
    // Nothing claims the request: an X-Amz-Target or JSON content type gets JSON 1.0's
    // UnknownOperationException (as DynamoDB answers an unknown target); anything else an
    // XML error naming the service we could not find.
    bool json = head.headers.has("x-amz-target") ||
                head.headers.get_or("content-type", "").find("json") != std::string_view::npos;
    head.request_id = new_request_id(json ? Wire::json10 : Wire::rest_xml);
    Plan p;
    p.service = "unknown";
    p.body.limit = 1024 * 1024;
    p.run = [json](Request&& req, Reply reply) {
        std::string_view scope = sigv4::scope_service(req);
        std::string what = !scope.empty() ? std::string(scope) : std::string(req.headers.get_or("x-amz-target", ""));
        Response r;
        if (json) {
            static const Protocol jp{Wire::json10, "com.amazon.coral.service#", false};
            r = render_error(jp, AwsError::unknown_operation(), req);
        } else {
            static const Protocol xp{Wire::rest_xml, "", false};
            r = render_error(xp,
                             AwsError("InvalidAction",
                                      "The action or operation requested is invalid: stratus does not emulate '" +
                                          what + "'.",
                                      400),
                             req);
        }
        reply(std::move(r));
    };
    p.too_large = [](const Request& req) {
        static const Protocol xp{Wire::rest_xml, "", false};
        return render_error(xp, default_too_large(Wire::rest_xml, 1024 * 1024), req);
    };
    return p;
}

void Dispatcher::run(Service& service, Request&& request, Reply reply) {
    const Protocol& protocol = service.protocol();
    if (options_.verify_signatures && !service.anonymous(request)) {
        if (auto problem = service.authenticate(request, *keys_)) {
            reply(render_error(protocol, service.auth_error(*problem), request));
            return;
        }
    }

    auto once = std::make_shared<OnceReply>();
    // The request moves into the service; keep what rendering an error needs.
    auto meta = std::make_shared<Request>();
    meta->method = request.method;
    meta->request_id = request.request_id;
    once->reply = [reply = std::move(reply), &protocol, meta](Response&& r) mutable {
        if (!r.headers.has("x-amzn-RequestId") && !r.headers.has("x-amz-request-id"))
            stamp_response(protocol, *meta, r);
        reply(std::move(r));
    };
    try {
        service.handle(std::move(request), [once](Response&& r) { once->fire(std::move(r)); });
    } catch (const AwsError& e) {
        once->fire(render_error(protocol, e, *meta));
    } catch (const std::exception& e) {
        log::error("{} request {} failed: {}", service.name(), meta->request_id, e.what());
        once->fire(render_error(protocol, AwsError::internal(), *meta));
    }
}

}  // namespace stratus::core

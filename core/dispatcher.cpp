#include "core/dispatcher.hpp"

#include <fmt/format.h>


#include <atomic>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/log.hpp"
#include "core/sigv2.hpp"
#include "core/crypto.hpp"
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

// Takes the SHA-256 of a streamed body (S3 uploads) on its way into the service's sink,
// so that x-amz-content-sha256 is checked for bodies that never sit in Request::body.
// Only the dispatcher sees it: run() hands the service its own sink back.
class HashingSink final : public BodySink {
public:
    explicit HashingSink(std::unique_ptr<BodySink> inner) : inner_(std::move(inner)) {}
    HashingSink(const HashingSink&) = delete;
    HashingSink& operator=(const HashingSink&) = delete;

    std::span<char> buffer() override { return inner_->buffer(); }
    bool pause(bool drain, std::function<void()>& resume) override { return inner_->pause(drain, resume); }
    void write(std::string_view bytes) override {
        sha_.update(bytes);
        inner_->write(bytes);
    }
    void finish() override {
        inner_->finish();
        digest_ = crypto::hex(sha_.final());
    }

    // Lowercase hex; empty unless finish() ran.
    const std::string& digest() const { return digest_; }
    std::unique_ptr<BodySink> release() { return std::move(inner_); }

private:
    std::unique_ptr<BodySink> inner_;
    crypto::Hasher sha_{crypto::Hash::sha256};
    std::string digest_;
};

bool is_sha256_hex(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
    return true;
}

// sigv4::verify() checks the signature over a streamed body's *claimed* hash but cannot
// see the body. Here the claim meets the bytes: the x-amz-content-sha256 hash, or without
// that header (and outside S3 presigned URLs, which sign UNSIGNED-PAYLOAD) the hash of an
// empty body, which is what verify() signed for a body it did not hold.
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD: each chunk signs the previous signature (the
// request's own for the first) and its data's hash, so the chain covers every byte.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// The -TRAILER variant signs the trailing headers last, chained to the final chunk.
std::optional<AuthProblem> check_signed_chunks(const Request& req, const sigv4::Auth& auth, std::string_view secret) {
    const auto* chunks = req.body_sink ? req.body_sink->signed_chunks() : nullptr;
    if (!chunks || chunks->empty()) return AuthProblem{AuthFailure::signature_mismatch, ""};
    std::string key = sigv4::signing_key(secret, auth.date, auth.region, auth.service);
    std::string scope = fmt::format("{}/{}/{}/aws4_request", auth.date, auth.region, auth.service);
    std::string previous = auth.signature;
    static const std::string empty_sha = crypto::sha256_hex("");
    for (const auto& c : *chunks) {
        std::string sts = fmt::format("AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}", auth.amz_date, scope, previous,
                                      empty_sha, c.sha256);
        std::string expected = crypto::hex(crypto::hmac_sha256(key, sts));
        if (!iequals(expected, c.signature)) return AuthProblem{AuthFailure::signature_mismatch, ""};
        previous = expected;
    }
    if (std::string_view(req.headers.get_or("x-amz-content-sha256", "")).ends_with("-TRAILER")) {
        auto trailer = req.body_sink->signed_trailer();
        if (!trailer) return AuthProblem{AuthFailure::signature_mismatch, ""};
        std::string sts = fmt::format("AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}", auth.amz_date, scope, previous,
                                      crypto::sha256_hex(trailer->first));
        if (!iequals(crypto::hex(crypto::hmac_sha256(key, sts)), trailer->second))
            return AuthProblem{AuthFailure::signature_mismatch, ""};
    }
    return std::nullopt;
}

std::optional<AuthProblem> check_streamed_body(const Request& req, const sigv4::Auth& auth, bool s3,
                                               const std::string& streamed_sha256, std::string_view secret) {
    std::string_view claimed;
    bool from_header = false;
    if (auto sent = req.headers.get("x-amz-content-sha256"); sent && sent->starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
        return check_signed_chunks(req, auth, secret);
    if (auto sent = req.headers.get("x-amz-content-sha256")) {
        if (!is_sha256_hex(*sent)) return std::nullopt;  // UNSIGNED-PAYLOAD, STREAMING-*: body not covered
        claimed = *sent;
        from_header = true;
    } else if (s3 && auth.kind == sigv4::Auth::Kind::query) {
        return std::nullopt;  // UNSIGNED-PAYLOAD
    } else {
        claimed = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    }
    // No digest (a sink we did not wrap): refuse rather than trust the claim.
    if (!streamed_sha256.empty() && iequals(claimed, streamed_sha256)) return std::nullopt;
    if (from_header)
        return AuthProblem{AuthFailure::content_sha_mismatch,
                           "The provided 'x-amz-content-sha256' header does not match what was computed."};
    return AuthProblem{AuthFailure::signature_mismatch, ""};
}

}  // namespace

Dispatcher::Dispatcher(DispatchOptions options)
    : options_(std::move(options)), started_(std::chrono::steady_clock::now()) {
    add_internal("GET", "/_stratus/health", [this](const Request&) {
        // Formatted directly: health checks are polled hard (and benchmarked).
        double uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        return json_response(internal_protocol(),
                             fmt::format(R"({{"services":{},"uptime_seconds":{:.3f},"version":{}}})",
                                         health_services_, uptime, nlohmann::json(options_.version).dump()));
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
    if (options_.verify_signatures && p.body.make_sink) {
        // Hash streamed bodies on the way in; run() checks the hash and unwraps the sink.
        p.body.make_sink = [inner = std::move(p.body.make_sink)]() -> std::unique_ptr<BodySink> {
            return std::make_unique<HashingSink>(inner());
        };
    }
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
    // The service gets its own sink back, never the hashing wrapper.
    std::string streamed_sha256;
    if (auto* hashing = dynamic_cast<HashingSink*>(request.body_sink.get())) {
        streamed_sha256 = hashing->digest();
        request.body_sink = hashing->release();
    }
    if (options_.verify_signatures && !service.anonymous(request)) {
        std::optional<AuthProblem> problem;
        try {
            auto auth = sigv4::parse(request);
            std::optional<sigv2::Auth> v2;
            if (!auth && protocol.wire == Wire::rest_xml) v2 = sigv2::parse(request);
            if (v2) {
                // S3 still takes SigV2 (AWS CLI v1 presigns with it).
                std::string_view host = request.host();
                std::string_view bucket;
                if (ends_with_ci(host, ".s3.localhost")) bucket = host.substr(0, host.size() - 13);
                if (v2->access_key != options_.access_key_id)
                    problem = AuthProblem{AuthFailure::unknown_access_key, ""};
                else
                    problem = sigv2::verify(request, *v2, options_.secret_access_key, std::chrono::system_clock::now(),
                                            bucket);
            } else if (!auth) {
                problem = AuthProblem{AuthFailure::missing, ""};
            } else if (auth->access_key != options_.access_key_id) {
                problem = AuthProblem{AuthFailure::unknown_access_key, ""};
            } else {
                sigv4::VerifyOptions vo;
                vo.secret_key = options_.secret_access_key;
                vo.now = std::chrono::system_clock::now();
                vo.s3 = protocol.wire == Wire::rest_xml;
                problem = sigv4::verify(request, *auth, vo);
                // A streamed body: the signature covered its claimed hash, now the bytes.
                if (!problem && request.body_sink)
                    problem = check_streamed_body(request, *auth, vo.s3, streamed_sha256, options_.secret_access_key);
            }
        } catch (const sigv4::ParseError& e) {
            problem = AuthProblem{AuthFailure::malformed, e.what()};
        }
        if (problem) {
            Response r = render_error(protocol, service.auth_error(*problem), request);
            reply(std::move(r));
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

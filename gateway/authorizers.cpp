#include "gateway/authorizers.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/log.hpp"

namespace stratus::gateway {

using json = nlohmann::json;

namespace {

constexpr std::size_t max_cached = 10000;

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

AuthOutcome fail(Failure f, std::string detail = {}) {
    AuthOutcome o;
    o.failure = GatewayFailure{f, std::move(detail), {}};
    return o;
}

std::string method_arn(const AuthRequest& r) {
    return execute_api_arn(r.api->spec.id, r.api->spec.stage, r.request->request->method, r.event_route->api_path);
}

// A header that explains a JWT rejection (RFC 6750 section 3), as HTTP APIs send it.
std::string www_authenticate(std::string_view scope, std::string_view error, std::string_view description) {
    return fmt::format("Bearer scope=\"{}\" error=\"{}\" error_description=\"{}\"", scope, error, description);
}

}  // namespace

std::optional<std::vector<std::string>> identity_values(const CompiledAuthorizer& a, const EventRequest& req,
                                                        const EventRoute& route) {
    std::vector<std::string> out;
    for (auto& s : a.sources) {
        std::optional<std::string> v;
        switch (s.kind) {
            case IdentitySource::Kind::header:
                if (auto h = req.request->headers.get(s.name)) v = std::string(*h);
                break;
            case IdentitySource::Kind::query:
                for (auto& p : req.request->query_params())
                    if (p.name == s.name) v = p.value;
                break;
            case IdentitySource::Kind::stage_variable:
                if (auto it = route.api->stage_variables.find(s.name); it != route.api->stage_variables.end())
                    v = it->second;
                break;
            case IdentitySource::Kind::context:
                if (s.name == "requestId") v = req.request_id;
                else if (s.name == "apiId") v = route.api->id;
                else if (s.name == "stage") v = route.stage;
                else if (s.name == "httpMethod") v = req.request->method;
                else if (s.name == "identity.sourceIp") v = req.source_ip;
                else if (s.name == "routeKey") v = route.route_key;
                else if (s.name == "domainName") v = req.domain_name;
                break;
        }
        if (!v || v->empty()) return std::nullopt;
        out.push_back(std::move(*v));
    }
    return out;
}

void Authorizers::authorize(const AuthRequest& r, std::function<void(AuthOutcome)> done) {
    if (r.route->authorizer->spec.kind == AuthorizerSpec::Kind::jwt) return jwt_authorizer(r, std::move(done));
    lambda_authorizer(r, std::move(done));
}

void Authorizers::clear_cache() {
    std::lock_guard lock(mutex_);
    cache_.clear();
}

std::shared_ptr<const AuthorizerAnswer> Authorizers::cached(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    if (it == cache_.end()) return nullptr;
    if (it->second.expires <= std::chrono::steady_clock::now()) {
        cache_.erase(it);
        return nullptr;
    }
    return it->second.answer;
}

void Authorizers::remember(const std::string& key, std::shared_ptr<const AuthorizerAnswer> answer, int ttl) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (cache_.size() >= max_cached) {
        std::erase_if(cache_, [now](auto& e) { return e.second.expires <= now; });
        if (cache_.size() >= max_cached) cache_.clear();
    }
    cache_[key] = Cached{std::move(answer), now + std::chrono::seconds(ttl)};
}

AuthOutcome apply_answer(const AuthorizerAnswer& answer, const AuthRequest& r, std::int64_t latency_ms) {
    bool rest = r.api->spec.type == ApiType::rest;
    if (answer.simple) {
        if (!answer.authorized) return fail(Failure::denied_explicitly, "the authorizer said isAuthorized: false");
    } else {
        switch (evaluate(answer.statements, method_arn(r))) {
            case PolicyDecision::explicit_deny:
                return fail(Failure::denied_explicitly, "the policy denies " + method_arn(r));
            case PolicyDecision::no_allow: return fail(Failure::not_allowed, "the policy does not allow " + method_arn(r));
            case PolicyDecision::allow: break;
        }
    }
    AuthOutcome o;
    if (!rest && r.route->payload_v2) {
        o.context = std::make_shared<json>(json{{"lambda", *answer.context}});
        return o;
    }
    json ctx;
    if (rest) {
        // REST APIs pass only strings (numbers and booleans stringified); an object or
        // list in the context fails the request as AWS does.
        auto s = stringify_context(*answer.context);
        if (!s) return fail(Failure::authorizer_error, "the authorizer's context holds an object or a list");
        ctx = std::move(*s);
    } else {
        ctx = *answer.context;
    }
    if (!answer.simple) ctx["principalId"] = answer.principal_id;
    ctx["integrationLatency"] = latency_ms;
    o.context = std::make_shared<json>(std::move(ctx));
    return o;
}

void Authorizers::lambda_authorizer(const AuthRequest& r, std::function<void(AuthOutcome)> done) {
    const CompiledAuthorizer& a = *r.route->authorizer;
    auto ids = identity_values(a, *r.request, *r.event_route);
    if (!ids) return done(fail(Failure::unauthorized, "identity source missing"));
    bool rest = r.api->spec.type == ApiType::rest;
    bool token = a.spec.kind == AuthorizerSpec::Kind::token;
    if (token && a.validation && !a.validation->full_match((*ids)[0]))
        return done(fail(Failure::unauthorized, "the token does not match the validation expression"));

    std::string key = r.api->spec.id + '\0' + a.spec.name;
    for (auto& v : *ids) key += '\0' + v;
    int ttl = a.spec.result_ttl_seconds;
    if (ttl > 0) {
        if (auto answer = cached(key)) return done(apply_answer(*answer, r, 0));
    }

    std::string arn = method_arn(r);
    lambda::InvokeInput in;
    if (token) in.payload = token_authorizer_event((*ids)[0], arn);
    else if (rest) in.payload = request_authorizer_event_v1(*r.request, *r.event_route, arn, nullptr);
    else if (a.spec.payload_format_version == "1.0")
        in.payload = request_authorizer_event_v1(*r.request, *r.event_route, arn, &*ids);
    else in.payload = request_authorizer_event_v2(*r.request, *r.event_route, arn, *ids);
    auto started = std::chrono::steady_clock::now();
    bool simple = a.spec.simple_responses;
    invoker_->invoke(a.spec.function, std::move(in),
                     [this, r, key = std::move(key), ttl, simple, started, done = std::move(done)](lambda::InvokeResult res) {
                         auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - started)
                                            .count();
                         if (res.error) {
                             core::log::warn("gateway: authorizer {} not invoked: {}: {}",
                                             r.route->authorizer->spec.function, res.error->code(), res.error->message());
                             return done(fail(Failure::authorizer_error, res.error->message()));
                         }
                         if (res.function_error) {
                             // A Lambda authorizer denies with the error "Unauthorized" (401);
                             // any other failure is the authorizer's own (500).
                             json err = json::parse(res.payload, nullptr, false);
                             if (err.is_object() && err.value("errorMessage", "") == "Unauthorized")
                                 return done(fail(Failure::unauthorized, "the authorizer answered Unauthorized"));
                             return done(fail(Failure::authorizer_error, "the authorizer failed: " + res.payload));
                         }
                         std::string why;
                         auto answer = parse_authorizer_answer(res.payload, simple, why);
                         if (!answer) {
                             core::log::warn("gateway: authorizer {} answered badly: {}",
                                             r.route->authorizer->spec.function, why);
                             return done(fail(Failure::authorizer_error, why));
                         }
                         auto shared = std::make_shared<const AuthorizerAnswer>(std::move(*answer));
                         if (ttl > 0) remember(key, shared, ttl);
                         done(apply_answer(*shared, r, latency));
                     });
}

void Authorizers::jwt_authorizer(const AuthRequest& r, std::function<void(AuthOutcome)> done) {
    const CompiledAuthorizer& a = *r.route->authorizer;
    auto ids = identity_values(a, *r.request, *r.event_route);
    if (!ids) {
        AuthOutcome o = fail(Failure::unauthorized, "no token");
        o.failure->headers.emplace_back("www-authenticate", "Bearer");
        return done(std::move(o));
    }
    std::string token(bearer_token((*ids)[0]));
    auto finish = [r](const JwtVerdict& v) {
        using Outcome = JwtVerdict::Outcome;
        AuthOutcome o;
        if (v.outcome == Outcome::insufficient_scope) {
            std::string scopes;
            for (auto& s : r.route->spec.scopes) scopes += (scopes.empty() ? "" : " ") + s;
            o = fail(Failure::insufficient_scope, v.description);
            o.failure->headers.emplace_back("www-authenticate", www_authenticate(scopes, "insufficient_scope", v.description));
            return o;
        }
        if (v.outcome != Outcome::ok) {
            o = fail(Failure::unauthorized, v.description);
            o.failure->headers.emplace_back("www-authenticate", www_authenticate("", "invalid_token", v.description));
            return o;
        }
        json jwt = {{"claims", *v.claims}, {"scopes", *v.scopes}};
        o.context = std::make_shared<json>(r.route->payload_v2 ? json{{"jwt", std::move(jwt)}} : std::move(jwt));
        return o;
    };
    auto no_keys = [](const std::string& error) {
        AuthOutcome o = fail(Failure::unauthorized, "no keys for the issuer: " + error);
        o.failure->headers.emplace_back("www-authenticate",
                                        www_authenticate("", "invalid_token", "unable to fetch the issuer's keys"));
        return o;
    };
    keys_->get(a.spec, false,
               [this, r, token, finish, no_keys, done = std::move(done)](std::shared_ptr<const KeySet> keys,
                                                                          std::string error) mutable {
                   if (!keys) return done(no_keys(error));
                   const CompiledAuthorizer& a = *r.route->authorizer;
                   auto v = validate_jwt(token, *keys, a.spec, r.route->spec.scopes, now_seconds());
                   if (v.outcome != JwtVerdict::Outcome::unknown_kid) return done(finish(v));
                   // A kid we do not know: the issuer may have rotated its keys.
                   keys_->get(a.spec, true,
                              [r, token, finish, no_keys, done = std::move(done)](std::shared_ptr<const KeySet> keys,
                                                                                   std::string error) {
                                  if (!keys) return done(no_keys(error));
                                  const CompiledAuthorizer& a = *r.route->authorizer;
                                  done(finish(validate_jwt(token, *keys, a.spec, r.route->spec.scopes, now_seconds())));
                              });
               });
}

}  // namespace stratus::gateway

// Running a route's authorizer: Lambda authorizers (REST TOKEN / REQUEST, HTTP API payload
// 1.0 / 2.0 and simple responses) with their result cache, and JWT authorizers against the
// issuers' keys. The outcome is a failure to render, or what the integration's event
// carries in requestContext.authorizer.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gateway/apis.hpp"
#include "gateway/errors.hpp"
#include "gateway/events.hpp"
#include "gateway/jwt.hpp"
#include "gateway/lambda_authorizer.hpp"
#include "lambda/invoker.hpp"

namespace stratus::gateway {

struct AuthRequest {
    const CompiledApi* api;
    const CompiledRoute* route;
    const EventRequest* request;
    const EventRoute* event_route;
};

struct AuthOutcome {
    std::optional<GatewayFailure> failure;
    // requestContext.authorizer in the integration's payload format.
    std::shared_ptr<nlohmann::json> context;
};

// The identity source values of a request (nullopt: one is missing or empty, and the
// request is refused with 401 without invoking anything).
std::optional<std::vector<std::string>> identity_values(const CompiledAuthorizer& authorizer,
                                                        const EventRequest& request, const EventRoute& route);

class Authorizers {
public:
    Authorizers(std::shared_ptr<lambda::Invoker> invoker, std::shared_ptr<KeyCache> keys)
        : invoker_(std::move(invoker)), keys_(std::move(keys)) {}

    // Runs the route's authorizer. What `request` points to stays alive until `done` (the
    // caller's `done` owns it); `done` runs once, inline or on another thread.
    void authorize(const AuthRequest& request, std::function<void(AuthOutcome)> done);

    // Cached Lambda authorizer answers are dropped (an API re-declared, or reset).
    void clear_cache();

private:
    struct Cached {
        std::shared_ptr<const AuthorizerAnswer> answer;
        std::chrono::steady_clock::time_point expires;
    };
    void lambda_authorizer(const AuthRequest& request, std::function<void(AuthOutcome)> done);
    void jwt_authorizer(const AuthRequest& request, std::function<void(AuthOutcome)> done);
    std::shared_ptr<const AuthorizerAnswer> cached(const std::string& key);
    void remember(const std::string& key, std::shared_ptr<const AuthorizerAnswer> answer, int ttl_seconds);

    std::shared_ptr<lambda::Invoker> invoker_;
    std::shared_ptr<KeyCache> keys_;
    std::mutex mutex_;
    std::unordered_map<std::string, Cached> cache_;
};

// What an authorizer's answer grants for this request (evaluated for each request, also
// when the answer came from the cache).
AuthOutcome apply_answer(const AuthorizerAnswer& answer, const AuthRequest& request, std::int64_t latency_ms);

}  // namespace stratus::gateway

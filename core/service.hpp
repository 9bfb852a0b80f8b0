// What a service (DynamoDB, S3, Lambda, ...) registers with the dispatcher. core/ knows
// services only through this interface; emulator/ creates and registers them.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth.hpp"
#include "core/error.hpp"
#include "core/http_types.hpp"
#include "core/protocol.hpp"

namespace stratus::core {

// How the dispatcher recognises a service's requests, tried in this order across all
// services (DESIGN.md): X-Amz-Target prefix, SigV4 scope service, Host suffix, path prefix,
// and finally the one fallback service (S3, which owns plain paths).
struct ServiceRoute {
    std::vector<std::string> target_prefixes;  // "DynamoDB_20120810."
    std::vector<std::string> signing_names;    // "dynamodb", "s3", "lambda"
    std::vector<std::string> host_suffixes;    // ".s3.localhost" (matches "b.s3.localhost")
    std::vector<std::string> path_prefixes;    // "/2015-03-31/"
    bool fallback = false;
};

class Service {
public:
    virtual ~Service() = default;

    // Short lowercase name for logs and health: "dynamodb".
    virtual std::string_view name() const = 0;
    virtual const Protocol& protocol() const = 0;
    virtual ServiceRoute route() const = 0;

    // How to read the body of this request (limit, or streamed into a sink), decided
    // from the head alone.
    virtual BodyPolicy body_policy(const Request& head) const {
        (void)head;
        return BodyPolicy{};
    }
    virtual AwsError body_too_large(std::uint64_t limit) const {
        return default_too_large(protocol().wire, limit);
    }
    virtual AwsError auth_error(const AuthProblem& problem) const {
        return default_auth_error(protocol().wire, problem);
    }

    // Runs one request. `reply` must be called exactly once, from any thread, possibly
    // later (asynchronous operations). An AwsError thrown before replying is rendered in
    // the service's protocol; any other exception becomes an InternalServerError.
    virtual void handle(Request&& request, Reply reply) = 0;

    // Requests the service answers without authentication even under
    // --verify-signatures (S3's CORS preflights and website endpoint).
    virtual bool anonymous(const Request& head) const {
        (void)head;
        return false;
    }

    // Under --verify-signatures: the dispatcher hands every service the accepted keys
    // once, before any request (a service whose body sinks must see the bytes, as S3's
    // streamed uploads, needs them in body_policy already).
    virtual void use_credentials(std::shared_ptr<const Credentials> keys) { (void)keys; }

    // Under --verify-signatures, before handle(): nullopt lets the request through (and
    // sets request.access_key to who signed it); an AuthProblem is answered with
    // auth_error(). The default is SigV4 (Authorization header or presigned query) with
    // the canonical rules of every service but S3; a service with rules of its own (S3:
    // SigV2, chunk signatures, anonymous requests its ACLs may allow) overrides it.
    virtual std::optional<AuthProblem> authenticate(Request& request, const Credentials& keys) const;

    // Wipes all of the service's state (POST /_stratus/reset).
    virtual void reset() {}
};

}  // namespace stratus::core

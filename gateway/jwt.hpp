// JWT authorizers (HTTP APIs): the token's parts, its validation as AWS describes it
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html:
// kid, signature, iss, aud / client_id, exp, nbf, iat, scope / scp), and the key sets it is
// checked against, fetched from the issuer's JWKS and cached.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.hpp"
#include "gateway/model.hpp"

namespace stratus::gateway {

// A JWKS document's usable keys, by kid.
struct KeySet {
    struct Key {
        core::crypto::PublicKey key;
        std::string alg;  // the JWK's "alg" when it names one
    };
    std::map<std::string, Key, std::less<>> keys;
    std::chrono::steady_clock::time_point fetched_at{};

    // Keys of a JWKS document ({"keys": [...]}); keys that are not signature keys, have
    // no kid or cannot be read are skipped. Throws std::invalid_argument when the document
    // is not a JWKS at all.
    static KeySet parse(std::string_view jwks_json);
};

struct JwtVerdict {
    enum class Outcome { ok, unauthorized, unknown_kid, insufficient_scope } outcome = Outcome::unauthorized;
    std::string description;           // www-authenticate's error_description
    std::shared_ptr<nlohmann::json> claims;  // as requestContext.authorizer.jwt.claims shows them
    std::shared_ptr<nlohmann::json> scopes;  // the token's scopes, or null
};

// The token from an Authorization-style value ("Bearer x" or just "x").
std::string_view bearer_token(std::string_view value);

// The tolerance for clocks that disagree, on exp, nbf and iat alike. AWS documents none
// for HTTP API JWT authorizers ("exp: must be after the current time in UTC"; nbf and
// iat "before"), yet a token minted the very second it is checked would then fail at
// random on iat; we allow 5 minutes, AWS's usual tolerance (SigV4's, for one). Our
// choice, not verified against AWS.
constexpr std::int64_t jwt_clock_skew_seconds = 300;

// Everything but fetching keys: the token's structure, algorithm (RS*, PS*, ES*; never
// none or HS*), kid, signature, issuer, audience, times (within jwt_clock_skew_seconds),
// and the route's scopes (any one of them).
JwtVerdict validate_jwt(std::string_view token, const KeySet& keys, const AuthorizerSpec& authorizer,
                        const std::vector<std::string>& route_scopes, std::int64_t now_seconds);

// Claims as HTTP APIs put them in the event: every value a string (numbers as their
// digits, lists as "[a b]", objects as "map[k:v]", the way AWS's Go code prints them).
nlohmann::json event_claims(const nlohmann::json& claims);

// Fetches a URL (http://...) or reads a file (a path, or file://...) off the I/O threads;
// calls back once with the body, or nullopt and why.
using Fetcher = std::function<void(const std::string& url,
                                   std::function<void(std::optional<std::string> body, std::string error)> done)>;

// The key sets of the JWT authorizers' issuers, shared by every API. A set is fetched when
// first needed (concurrent requests wait for the same fetch, no thread waits), kept two
// hours as AWS does, and fetched again early when a token names an unknown kid (at most
// every 30 s). The built-in issuer's keys come from `builtin` in-process.
class KeyCache {
public:
    using Done = std::function<void(std::shared_ptr<const KeySet> keys, std::string error)>;
    // `builtin`: the built-in issuer's keys when `issuer_or_uri` is one of its URLs.
    using Builtin = std::function<std::shared_ptr<const KeySet>(std::string_view issuer_or_uri)>;

    KeyCache(Fetcher fetch, Builtin builtin) : fetch_(std::move(fetch)), builtin_(std::move(builtin)) {}

    // `done` runs inline when the set is cached, else on the fetching thread.
    // `refresh`: a token named a kid the cached set lacks.
    void get(const AuthorizerSpec& authorizer, bool refresh, Done done);
    void clear();

private:
    struct Entry {
        std::shared_ptr<const KeySet> keys;
        bool fetching = false;
        std::vector<Done> waiters;
    };
    void fetch(const std::string& source, const std::string& issuer, bool discover);
    void finish(const std::string& source, std::shared_ptr<const KeySet> keys, const std::string& error);

    Fetcher fetch_;
    Builtin builtin_;
    std::mutex mutex_;
    std::map<std::string, Entry> entries_;
};

}  // namespace stratus::gateway

// The built-in token issuer: JWT flows offline with nothing else running. One RSA key,
// kept in the data directory (made on first use, mode 0600) and published as OIDC
// discovery and JWKS under /_stratus/ on the AWS port; tokens minted on request
// (POST /_stratus/token, `stratus token`). A JWT authorizer naming this issuer gets its
// keys in-process.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.hpp"

namespace stratus::gateway {

struct KeySet;

class Issuer {
public:
    // `key_file`: where the PEM key lives. `url`: the issuer URL tokens carry
    // ("http://127.0.0.1:4566/_stratus"); `aliases`: other spellings of it that name this
    // issuer too (localhost for 127.0.0.1, ...).
    Issuer(std::string key_file, std::string url, std::vector<std::string> aliases = {});

    const std::string& url() const { return url_; }
    std::string jwks_url() const { return url_ + "/.well-known/jwks.json"; }
    // Whether an authorizer's issuer or jwks_uri names this issuer.
    bool owns(std::string_view issuer_or_jwks_url) const;

    // The key, loaded or made on first use. Throws std::runtime_error when the key file
    // cannot be read or written.
    std::shared_ptr<const KeySet> keys();
    std::string discovery_json();
    std::string jwks_json();

    // Mints a token from a request body {sub, aud, scope, claims, ttl, iss}: sub defaults
    // to "stratus-user", ttl to 3600 s ("1h", "30m", "90s" or seconds); claims are merged
    // last. Throws core::AwsError (ValidationException) for a bad request.
    std::string mint(const nlohmann::json& request, std::int64_t now_seconds);

private:
    struct Loaded {
        core::crypto::PrivateKey key;
        std::string kid;
        std::string jwks;
        std::shared_ptr<const KeySet> keys;
    };
    const Loaded& load();

    std::string key_file_;
    std::string url_;
    std::vector<std::string> names_;  // url_, aliases, and their jwks URLs
    std::mutex mutex_;
    std::unique_ptr<Loaded> loaded_;
};

// "1h" -> 3600, "30m", "45s", "2d", "3600" -> seconds; nullopt when malformed.
std::optional<std::int64_t> parse_duration(std::string_view text);

}  // namespace stratus::gateway

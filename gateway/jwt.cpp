#include "gateway/jwt.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "core/base64.hpp"
#include "core/http_types.hpp"
#include "core/log.hpp"

namespace stratus::gateway {

using json = nlohmann::json;
using Outcome = JwtVerdict::Outcome;

namespace {

constexpr auto key_lifetime = std::chrono::hours(2);
constexpr auto refresh_after = std::chrono::seconds(30);

JwtVerdict reject(std::string description) {
    JwtVerdict v;
    v.outcome = Outcome::unauthorized;
    v.description = std::move(description);
    return v;
}

std::optional<json> decode_part(std::string_view part) {
    auto bytes = core::base64url_decode(part);
    if (!bytes) return std::nullopt;
    json j = json::parse(*bytes, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    return j;
}

// A NumericDate claim: nullopt when absent; false in `ok` when present but not a number.
std::optional<double> numeric(const json& claims, const char* name, bool& ok) {
    auto it = claims.find(name);
    if (it == claims.end()) return std::nullopt;
    if (!it->is_number()) {
        ok = false;
        return std::nullopt;
    }
    return it->get<double>();
}

std::vector<std::string> token_scopes(const json& claims) {
    std::vector<std::string> out;
    auto split = [&out](const std::string& s) {
        std::size_t i = 0;
        while (i < s.size()) {
            std::size_t j = s.find(' ', i);
            if (j == std::string::npos) j = s.size();
            if (j > i) out.push_back(s.substr(i, j - i));
            i = j + 1;
        }
    };
    for (const char* name : {"scope", "scp"}) {
        auto it = claims.find(name);
        if (it == claims.end()) continue;
        if (it->is_string()) split(it->get<std::string>());
        else if (it->is_array())
            for (auto& v : *it)
                if (v.is_string()) out.push_back(v.get<std::string>());
        if (!out.empty()) break;
    }
    return out;
}

std::string go_print(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_null()) return "<nil>";
    if (v.is_number()) return v.dump();
    std::string out = v.is_array() ? "[" : "map[";
    bool first = true;
    if (v.is_array()) {
        for (auto& e : v) {
            out += (first ? "" : " ") + go_print(e);
            first = false;
        }
    } else {
        for (auto& [k, e] : v.items()) {  // sorted keys, as Go prints maps
            out += (first ? "" : " ") + k + ":" + go_print(e);
            first = false;
        }
    }
    return out + "]";
}

}  // namespace

KeySet KeySet::parse(std::string_view text) {
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
        throw std::invalid_argument("not a JWKS document (no \"keys\" list)");
    KeySet set;
    set.fetched_at = std::chrono::steady_clock::now();
    for (auto& jwk : doc["keys"]) {
        if (!jwk.is_object()) continue;
        auto kid = jwk.find("kid");
        if (kid == jwk.end() || !kid->is_string()) continue;
        if (auto use = jwk.find("use"); use != jwk.end() && *use != "sig") continue;
        try {
            Key k{core::crypto::PublicKey::from_jwk(jwk), {}};
            if (auto alg = jwk.find("alg"); alg != jwk.end() && alg->is_string()) k.alg = alg->get<std::string>();
            set.keys.insert_or_assign(kid->get<std::string>(), std::move(k));
        } catch (const std::invalid_argument& e) {
            core::log::debug("gateway: skipping JWK {}: {}", kid->get<std::string>(), e.what());
        }
    }
    return set;
}

std::string_view bearer_token(std::string_view value) {
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (value.size() > 7 && core::iequals(value.substr(0, 7), "bearer ")) value.remove_prefix(7);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    return value;
}

JwtVerdict validate_jwt(std::string_view token, const KeySet& keys, const AuthorizerSpec& authorizer,
                        const std::vector<std::string>& route_scopes, std::int64_t now) {
    auto dot1 = token.find('.');
    auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
        return reject("token is malformed");
    auto header = decode_part(token.substr(0, dot1));
    if (!header) return reject("token is malformed: invalid header");
    std::string alg_name = header->value("alg", "");
    auto alg = core::crypto::jws_alg(alg_name);
    if (!alg) return reject(fmt::format("signing method {} is invalid", alg_name.empty() ? "(none)" : alg_name));
    auto kid = header->find("kid");
    if (kid == header->end() || !kid->is_string()) return reject("kid header parameter is missing");
    auto key = keys.keys.find(kid->get<std::string>());
    if (key == keys.keys.end()) {
        JwtVerdict v = reject("unable to find an appropriate key in the issuer's JWKS");
        v.outcome = Outcome::unknown_kid;
        return v;
    }
    if (!key->second.alg.empty() && key->second.alg != alg_name)
        return reject(fmt::format("signing method {} does not match the key's {}", alg_name, key->second.alg));
    auto signature = core::base64url_decode(token.substr(dot2 + 1));
    if (!signature || !key->second.key.verify(*alg, token.substr(0, dot2), *signature))
        return reject("signature is invalid");
    auto claims = decode_part(token.substr(dot1 + 1, dot2 - dot1 - 1));
    if (!claims) return reject("token is malformed: invalid claims");

    auto iss = claims->find("iss");
    if (iss == claims->end() || !iss->is_string() || *iss != authorizer.issuer)
        return reject("the token does not have a valid issuer");
    auto audience_ok = [&](const json& v) {
        return v.is_string() && std::find(authorizer.audiences.begin(), authorizer.audiences.end(),
                                          v.get_ref<const std::string&>()) != authorizer.audiences.end();
    };
    bool aud_ok = false;
    if (auto aud = claims->find("aud"); aud != claims->end()) {
        // aud wins over client_id when both are there.
        if (aud->is_array()) aud_ok = std::any_of(aud->begin(), aud->end(), audience_ok);
        else aud_ok = audience_ok(*aud);
    } else if (auto cid = claims->find("client_id"); cid != claims->end()) {
        aud_ok = audience_ok(*cid);
    }
    if (!aud_ok) return reject("the token does not have a valid audience");
    bool ok = true;
    auto exp = numeric(*claims, "exp", ok);
    auto nbf = numeric(*claims, "nbf", ok);
    auto iat = numeric(*claims, "iat", ok);
    if (!ok) return reject("token is malformed: a time claim is not a number");
    double t = static_cast<double>(now), skew = static_cast<double>(jwt_clock_skew_seconds);
    if (!exp) return reject("the token has no expiry");
    if (*exp + skew <= t) return reject("the token has expired");
    if (nbf && *nbf - skew > t) return reject("the token is not valid yet");
    if (iat && *iat - skew > t) return reject("the token was issued in the future");

    auto scopes = token_scopes(*claims);
    JwtVerdict v;
    if (!route_scopes.empty()) {
        bool any = std::any_of(route_scopes.begin(), route_scopes.end(), [&](const std::string& s) {
            return std::find(scopes.begin(), scopes.end(), s) != scopes.end();
        });
        if (!any) {
            std::string expected;
            for (auto& s : route_scopes) expected += (expected.empty() ? "" : " ") + s;
            v.outcome = Outcome::insufficient_scope;
            v.description = fmt::format("expected scopes: [{}]", expected);
            return v;
        }
    }
    v.outcome = Outcome::ok;
    v.claims = std::make_shared<json>(event_claims(*claims));
    v.scopes = std::make_shared<json>(scopes.empty() ? json(nullptr) : json(scopes));
    return v;
}

json event_claims(const json& claims) {
    json out = json::object();
    for (auto& [k, v] : claims.items()) out[k] = go_print(v);
    return out;
}

void KeyCache::get(const AuthorizerSpec& a, bool refresh, Done done) {
    const std::string& source_url = a.jwks_uri.empty() ? a.issuer : a.jwks_uri;
    if (builtin_) {
        if (auto keys = builtin_(source_url)) return done(std::move(keys), {});
    }
    bool discover = a.jwks_uri.empty();
    std::string source = (discover ? "issuer " : "jwks ") + source_url;
    auto now = std::chrono::steady_clock::now();
    bool start = false;
    std::shared_ptr<const KeySet> cached;
    {
        std::lock_guard lock(mutex_);
        Entry& e = entries_[source];
        if (e.keys && now - e.keys->fetched_at < key_lifetime &&
            !(refresh && now - e.keys->fetched_at > refresh_after)) {
            cached = e.keys;
        } else {
            e.waiters.push_back(std::move(done));
            start = !e.fetching;
            e.fetching = true;
        }
    }
    if (cached) return done(std::move(cached), {});
    if (start) fetch(source, source_url, discover);
}

void KeyCache::clear() {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->second.fetching) {
            it->second.keys.reset();
            ++it;
        } else {
            it = entries_.erase(it);
        }
    }
}

void KeyCache::fetch(const std::string& source, const std::string& url, bool discover) {
    auto got_jwks = [this, source](std::optional<std::string> body, std::string error) {
        if (!body) return finish(source, nullptr, error);
        try {
            finish(source, std::make_shared<const KeySet>(KeySet::parse(*body)), {});
        } catch (const std::invalid_argument& e) {
            finish(source, nullptr, e.what());
        }
    };
    if (!discover) return fetch_(url, std::move(got_jwks));
    std::string base = url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    fetch_(base + "/.well-known/openid-configuration",
           [this, source, got_jwks](std::optional<std::string> body, std::string error) {
               if (!body) return finish(source, nullptr, "OpenID discovery failed: " + error);
               json doc = json::parse(*body, nullptr, false);
               if (doc.is_discarded() || !doc.is_object() || !doc.contains("jwks_uri") || !doc["jwks_uri"].is_string())
                   return finish(source, nullptr, "the OpenID configuration has no jwks_uri");
               std::string jwks_uri = doc["jwks_uri"].get<std::string>();
               if (builtin_) {
                   if (auto keys = builtin_(jwks_uri)) return finish(source, std::move(keys), {});
               }
               fetch_(jwks_uri, got_jwks);
           });
}

void KeyCache::finish(const std::string& source, std::shared_ptr<const KeySet> keys, const std::string& error) {
    std::vector<Done> waiters;
    {
        std::lock_guard lock(mutex_);
        Entry& e = entries_[source];
        e.fetching = false;
        if (keys) e.keys = keys;
        else keys = e.keys;  // a failed refresh keeps the keys we had
        waiters.swap(e.waiters);
    }
    if (!error.empty()) core::log::warn("gateway: JWKS of {}: {}", source, error);
    for (auto& w : waiters) w(keys, error);
}

}  // namespace stratus::gateway

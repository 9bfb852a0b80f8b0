#include "gateway/issuer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/base64.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/protocol.hpp"
#include "gateway/jwt.hpp"

namespace stratus::gateway {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Written to a temporary file (0600 from the start) and renamed into place, so a crash
// never leaves half a key, and a second writer cannot interleave.
void write_private(const fs::path& p, const std::string& data) {
    fs::create_directories(p.parent_path());
    fs::path tmp = p;
    tmp += ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
    ::fchmod(fd, 0600);
    std::size_t off = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            throw std::runtime_error("cannot write " + tmp.string());
        }
        off += static_cast<std::size_t>(n);
    }
    ::fsync(fd);
    ::close(fd);
    fs::rename(tmp, p);
}

core::AwsError bad(std::string message) { return core::AwsError::validation(std::move(message)); }

}  // namespace

std::optional<std::int64_t> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::int64_t unit = 1;
    switch (text.back()) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: unit = 0;
    }
    if (unit != 0) text.remove_suffix(1);
    else unit = 1;
    if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    return std::stoll(std::string(text)) * unit;
}

Issuer::Issuer(std::string key_file, std::string url, std::vector<std::string> aliases)
    : key_file_(std::move(key_file)), url_(std::move(url)) {
    names_.push_back(url_);
    for (auto& a : aliases) names_.push_back(std::move(a));
    std::size_t n = names_.size();
    for (std::size_t i = 0; i < n; ++i) {
        names_.push_back(names_[i] + "/");
        names_.push_back(names_[i] + "/.well-known/jwks.json");
    }
}

bool Issuer::owns(std::string_view name) const {
    return std::find(names_.begin(), names_.end(), name) != names_.end();
}

const Issuer::Loaded& Issuer::load() {
    std::lock_guard lock(mutex_);
    if (loaded_) return *loaded_;
    fs::path p(key_file_);
    std::optional<core::crypto::PrivateKey> key;
    if (fs::exists(p)) {
        try {
            key = core::crypto::PrivateKey::from_pem(read_file(p));
        } catch (const std::invalid_argument&) {
            throw std::runtime_error("the token issuer's key " + p.string() + " is not a PEM private key");
        }
    } else {
        key = core::crypto::PrivateKey::generate_rsa(2048);
        write_private(p, key->to_pem());
        core::log::info("gateway: made the token issuer's RSA key {}", p.string());
    }
    json jwk = key->public_key().jwk();
    std::string kid = core::crypto::jwk_thumbprint(jwk);
    jwk["kid"] = kid;
    jwk["alg"] = "RS256";
    jwk["use"] = "sig";
    std::string jwks = json{{"keys", json::array({jwk})}}.dump();
    auto keys = std::make_shared<const KeySet>(KeySet::parse(jwks));
    loaded_ = std::make_unique<Loaded>(Loaded{std::move(*key), std::move(kid), std::move(jwks), std::move(keys)});
    return *loaded_;
}

std::shared_ptr<const KeySet> Issuer::keys() { return load().keys; }

std::string Issuer::jwks_json() { return load().jwks; }

std::string Issuer::discovery_json() {
    return json{{"issuer", url_},
                {"jwks_uri", jwks_url()},
                {"token_endpoint", url_ + "/token"},
                {"response_types_supported", {"token"}},
                {"subject_types_supported", {"public"}},
                {"id_token_signing_alg_values_supported", {"RS256"}},
                {"scopes_supported", json::array()},
                {"claims_supported", {"iss", "sub", "aud", "exp", "iat", "nbf", "scope"}}}
        .dump();
}

std::string Issuer::mint(const json& in, std::int64_t now) {
    if (!in.is_object()) throw bad("the token request must be a JSON object");
    json claims = json::object();
    claims["iss"] = url_;
    if (auto it = in.find("iss"); it != in.end()) {
        if (!it->is_string()) throw bad("iss must be a string");
        claims["iss"] = *it;
    }
    claims["sub"] = "stratus-user";
    if (auto it = in.find("sub"); it != in.end()) {
        if (!it->is_string() || it->get_ref<const std::string&>().empty()) throw bad("sub must be a non-empty string");
        claims["sub"] = *it;
    }
    if (auto it = in.find("aud"); it != in.end() && !it->is_null()) {
        bool ok = it->is_string() || (it->is_array() && std::all_of(it->begin(), it->end(), [](auto& v) { return v.is_string(); }));
        if (!ok) throw bad("aud must be a string or a list of strings");
        if (it->is_array() && it->size() == 1) claims["aud"] = (*it)[0];
        else claims["aud"] = *it;
    }
    if (auto it = in.find("scope"); it != in.end() && !it->is_null()) {
        if (it->is_array()) {
            std::string joined;
            for (auto& s : *it) {
                if (!s.is_string()) throw bad("scope must be a string or a list of strings");
                joined += (joined.empty() ? "" : " ") + s.get<std::string>();
            }
            claims["scope"] = joined;
        } else if (it->is_string()) {
            if (!it->get_ref<const std::string&>().empty()) claims["scope"] = *it;
        } else {
            throw bad("scope must be a string or a list of strings");
        }
    }
    std::int64_t ttl = 3600;
    if (auto it = in.find("ttl"); it != in.end() && !it->is_null()) {
        std::optional<std::int64_t> t;
        if (it->is_number_integer()) t = it->get<std::int64_t>();
        else if (it->is_string()) t = parse_duration(it->get<std::string>());
        // Negative TTLs mint expired tokens: tests of the expiry check need them.
        if (!t) throw bad("ttl must be seconds or a duration like 30m, 1h, 7d");
        ttl = *t;
    }
    claims["iat"] = now;
    claims["nbf"] = now;
    claims["exp"] = now + ttl;
    claims["jti"] = core::random_uuid();
    if (auto it = in.find("claims"); it != in.end() && !it->is_null()) {
        if (!it->is_object()) throw bad("claims must be a JSON object");
        for (auto& [k, v] : it->items()) claims[k] = v;
    }
    const Loaded& l = load();
    json header = {{"alg", "RS256"}, {"kid", l.kid}, {"typ", "JWT"}};
    std::string input = core::base64url_encode(header.dump()) + "." + core::base64url_encode(claims.dump());
    return input + "." + core::base64url_encode(l.key.sign(core::crypto::SignatureAlg::rs256, input));
}

}  // namespace stratus::gateway

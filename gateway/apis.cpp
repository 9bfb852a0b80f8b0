#include "gateway/apis.hpp"

#include <fmt/format.h>

#include <random>
#include <set>

#include "core/crypto.hpp"
#include "core/error.hpp"

namespace stratus::gateway {

namespace {

using core::AwsError;

AwsError bad_request(std::string message) { return AwsError("BadRequestException", std::move(message), 400); }
AwsError conflict(std::string message) { return AwsError("ConflictException", std::move(message), 409); }

bool all_of_chars(std::string_view s, std::string_view extra, bool upper_ok) {
    if (s.empty()) return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (upper_ok && c >= 'A' && c <= 'Z') ||
                  extra.find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::string new_api_id() {
    static constexpr char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string id(10, 'a');
    for (char& c : id) c = chars[rng() % 36];
    return id;
}

namespace {

// Six characters derived from the API and the path: stable across restarts and
// re-declarations, as a REST resource's id is across deployments.
std::string resource_id(std::string_view api_id, std::string_view path) {
    static constexpr char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string digest = core::crypto::sha256(std::string(api_id) + "\n" + std::string(path));
    std::string out;
    for (int i = 0; i < 6; ++i) out += chars[static_cast<unsigned char>(digest[static_cast<std::size_t>(i)]) % 36];
    return out;
}

bool known_method(std::string_view m) {
    for (auto k : {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"})
        if (m == k) return true;
    return false;
}

// "method.request.header.Authorization" (REST) / "$request.header.Authorization" (HTTP).
IdentitySource parse_identity_source(std::string_view text, ApiType type, std::string_view authorizer) {
    auto fail = [&] {
        return bad_request(fmt::format("Invalid identity source {} for authorizer {}", text, authorizer));
    };
    IdentitySource s;
    auto take = [&](std::string_view prefix, IdentitySource::Kind kind) {
        if (!text.starts_with(prefix) || text.size() == prefix.size()) return false;
        s.kind = kind;
        s.name = std::string(text.substr(prefix.size()));
        return true;
    };
    if (type == ApiType::rest) {
        if (take("method.request.header.", IdentitySource::Kind::header) ||
            take("method.request.querystring.", IdentitySource::Kind::query) ||
            take("stageVariables.", IdentitySource::Kind::stage_variable) ||
            take("context.", IdentitySource::Kind::context))
            return s;
    } else {
        if (take("$request.header.", IdentitySource::Kind::header) ||
            take("$request.querystring.", IdentitySource::Kind::query) ||
            take("$stageVariables.", IdentitySource::Kind::stage_variable) ||
            take("$context.", IdentitySource::Kind::context))
            return s;
    }
    throw fail();
}

std::unique_ptr<CompiledAuthorizer> compile_authorizer(const AuthorizerSpec& a, const ApiSpec& api) {
    using Kind = AuthorizerSpec::Kind;
    auto c = std::make_unique<CompiledAuthorizer>();
    c->spec = a;
    if (a.name.empty()) throw bad_request("An authorizer needs a name");
    bool rest = api.type == ApiType::rest;
    if (rest && a.kind == Kind::jwt) throw bad_request(fmt::format("Authorizer {}: JWT authorizers are for HTTP APIs", a.name));
    if (!rest && a.kind == Kind::token)
        throw bad_request(fmt::format("Authorizer {}: TOKEN authorizers are for REST APIs", a.name));
    if (a.kind != Kind::jwt && a.function.empty())
        throw bad_request(fmt::format("Authorizer {}: a Lambda authorizer needs a function", a.name));
    if (a.kind == Kind::jwt) {
        if (a.issuer.empty()) throw bad_request(fmt::format("Authorizer {}: a JWT authorizer needs an issuer", a.name));
        if (a.audiences.empty())
            throw bad_request(fmt::format("Authorizer {}: a JWT authorizer needs at least one audience", a.name));
    }
    if (a.result_ttl_seconds < 0 || a.result_ttl_seconds > 3600)
        throw bad_request(fmt::format("Authorizer {}: resultTtlInSeconds must be between 0 and 3600", a.name));
    if (a.payload_format_version != "1.0" && a.payload_format_version != "2.0")
        throw bad_request(fmt::format("Authorizer {}: payload format version must be 1.0 or 2.0", a.name));
    if (a.simple_responses && (rest || a.payload_format_version != "2.0"))
        throw bad_request(fmt::format("Authorizer {}: simple responses need payload format version 2.0", a.name));
    for (auto& text : a.identity_sources) c->sources.push_back(parse_identity_source(text, api.type, a.name));
    if (c->sources.empty()) c->sources.push_back({IdentitySource::Kind::header, "Authorization"});
    if (a.kind == Kind::token && (c->sources.size() != 1 || c->sources[0].kind != IdentitySource::Kind::header))
        throw bad_request(fmt::format("Authorizer {}: a TOKEN authorizer takes one header as its identity source", a.name));
    if (!a.validation_expression.empty()) {
        if (a.kind != Kind::token)
            throw bad_request(fmt::format("Authorizer {}: only TOKEN authorizers have a validation expression", a.name));
        try {
            c->validation.emplace(a.validation_expression);
        } catch (const std::invalid_argument&) {
            throw bad_request(fmt::format("Authorizer {}: invalid identity validation expression", a.name));
        }
    }
    return c;
}

}  // namespace

bool at_root(const ApiSpec& spec) { return spec.type == ApiType::http && spec.stage == "$default"; }

std::shared_ptr<const CompiledApi> compile_api(ApiSpec spec) {
    auto api = std::make_shared<CompiledApi>();
    bool rest = spec.type == ApiType::rest;
    if (spec.id.empty()) spec.id = new_api_id();
    if (spec.id.size() > 63 || !all_of_chars(spec.id, "-", false))
        throw bad_request("An API id is lowercase letters, digits and hyphens (at most 63)");
    if (rest) {
        if (spec.stage.empty()) spec.stage = "dev";
        if (!all_of_chars(spec.stage, "-_", true))
            throw bad_request("Stage name only allows a-zA-Z0-9_-: " + spec.stage);
    } else {
        // $default is served at the root, a named stage at /{stage}/..., as on AWS.
        if (spec.stage.empty()) spec.stage = "$default";
        if (spec.stage != "$default" && !all_of_chars(spec.stage, "-_", true))
            throw bad_request("Stage name only allows a-zA-Z0-9_-, or is $default: " + spec.stage);
    }
    for (auto& [k, v] : spec.stage_variables)
        if (!all_of_chars(k, "_", true)) throw bad_request("Stage variable names only allow a-zA-Z0-9_: " + k);
    if (!rest && (!spec.api_keys.empty() || !spec.gateway_responses.empty() || !spec.binary_media_types.empty()))
        throw bad_request("API keys, gateway responses and binary media types are REST API settings");
    if (rest && spec.cors) throw bad_request("A REST API configures CORS per route");

    std::set<std::string> names;
    for (auto& a : spec.authorizers) {
        if (!names.insert(a.name).second) throw conflict("Authorizer " + a.name + " is declared twice");
        api->authorizers.push_back(compile_authorizer(a, spec));
    }

    std::set<std::string> keys;
    std::map<std::string, std::string> variable_names;  // REST: "/items/{}" -> "id"
    for (auto& r : spec.routes) {
        CompiledRoute c;
        c.spec = r;
        bool is_default = !rest && r.method == "$default";
        if (!is_default && !known_method(r.method))
            throw bad_request(fmt::format("Invalid HTTP method {} (GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS or ANY{})",
                                          r.method, rest ? "" : ", or $default"));
        if (is_default) {
            if (!r.path.empty() && r.path != "$default") throw bad_request("The $default route has no path");
            c.path = PathTemplate::parse("/");
            c.route_key = "$default";
        } else {
            c.path = PathTemplate::parse(r.path);
            c.route_key = r.method + " " + c.path.text;
        }
        if (r.function.empty()) throw bad_request("Route " + c.route_key + " has no function");
        std::string key = is_default ? "$default" : r.method + " " + c.path.shape();
        if (!keys.insert(key).second) throw conflict("Route with key " + c.route_key + " already exists for this API");
        if (rest) {
            // One variable name per position in a REST resource tree.
            std::string prefix;
            for (auto& s : c.path.segments) {
                prefix += '/';
                if (s.kind == Segment::Kind::literal) {
                    prefix += s.text;
                    continue;
                }
                prefix += "{}";
                auto [it, fresh] = variable_names.emplace(prefix, s.text);
                if (!fresh && it->second != s.text)
                    throw bad_request(fmt::format(
                        "A sibling ({{{}}}) of this resource already has a variable path part -- only one is allowed",
                        it->second));
            }
        }
        if (!r.authorizer.empty()) {
            for (auto& a : api->authorizers)
                if (a->spec.name == r.authorizer) c.authorizer = a.get();
            if (!c.authorizer)
                throw bad_request(fmt::format("Route {} names authorizer {}, which the API does not declare",
                                              c.route_key, r.authorizer));
        }
        if (!r.scopes.empty() && (!c.authorizer || c.authorizer->spec.kind != AuthorizerSpec::Kind::jwt))
            throw bad_request("Route " + c.route_key + ": authorization scopes need a JWT authorizer");
        if (r.api_key_required && !rest) throw bad_request("API keys are a REST API setting");
        if (r.cors && !rest) throw bad_request("An HTTP API configures CORS for the whole API");
        int max_timeout = rest ? 29000 : 30000;
        if (r.timeout_ms != 0 && (r.timeout_ms < 50 || r.timeout_ms > max_timeout))
            throw bad_request(fmt::format("Timeout must be between 50 ms and {} ms", max_timeout));
        c.timeout_ms = r.timeout_ms == 0 ? max_timeout : r.timeout_ms;
        if (rest) {
            if (!r.payload_format_version.empty() && r.payload_format_version != "1.0")
                throw bad_request("REST APIs send payload format 1.0");
        } else {
            if (!r.payload_format_version.empty() && r.payload_format_version != "1.0" && r.payload_format_version != "2.0")
                throw bad_request("Payload format version must be 1.0 or 2.0");
            c.payload_v2 = r.payload_format_version != "1.0";
        }
        c.resource_id = resource_id(spec.id, c.path.text);
        api->routes.push_back(std::move(c));
    }
    if (spec.cors && spec.cors->allow_credentials)
        for (auto& o : spec.cors->allow_origins)
            if (o == "*") throw bad_request("allowCredentials cannot be combined with allowOrigins *");
    for (std::size_t i = 0; i < api->routes.size(); ++i)
        api->table.add(api->routes[i].spec.method, api->routes[i].path, static_cast<int>(i));
    api->spec = std::move(spec);
    return api;
}

std::shared_ptr<Snapshot> Snapshot::build(std::map<std::string, std::shared_ptr<const CompiledApi>> apis) {
    auto s = std::make_shared<Snapshot>();
    s->apis = std::move(apis);
    for (auto& [id, api] : s->apis)
        for (auto& r : api->routes) {
            int payload = static_cast<int>(s->targets.size());
            s->targets.push_back({api.get(), &r});
            if (at_root(api->spec)) s->http.add(r.spec.method, r.path, payload);
            else s->stages[api->spec.stage].add(r.spec.method, r.path, payload);
        }
    return s;
}

std::shared_ptr<const Snapshot> Snapshot::with(std::shared_ptr<const CompiledApi> api) const {
    const ApiSpec& mine = api->spec;
    auto route_keys = [](const CompiledApi& a) {
        std::map<std::string, std::string> keys;  // shape key -> route key
        for (auto& r : a.routes)
            keys.emplace(r.spec.method == "$default" ? "$default" : r.spec.method + " " + r.path.shape(), r.route_key);
        return keys;
    };
    auto first_literal = [](const CompiledRoute& r) -> std::string {
        return !r.path.segments.empty() && r.path.segments[0].kind == Segment::Kind::literal ? r.path.segments[0].text
                                                                                              : std::string();
    };
    auto my_keys = route_keys(*api);
    for (auto& [id, other] : apis) {
        if (id == mine.id) continue;
        const ApiSpec& theirs = other->spec;
        if (at_root(theirs) == at_root(mine) && (at_root(mine) || theirs.stage == mine.stage)) {
            for (auto& [k, route_key] : route_keys(*other))
                if (my_keys.count(k))
                    throw conflict(fmt::format("Route {} of API {} is also declared by API {} ({})", my_keys[k], mine.id,
                                               theirs.id, route_key));
        }
        // A named stage owns its first path segment on the shared listener.
        if (at_root(mine) == at_root(theirs)) continue;
        const CompiledApi* staged = at_root(mine) ? other.get() : api.get();
        const CompiledApi* root = at_root(mine) ? api.get() : other.get();
        for (auto& r : root->routes)
            if (first_literal(r) == staged->spec.stage)
                throw conflict(fmt::format("Route {} of HTTP API {} lies under stage /{} of {} API {}", r.route_key,
                                           root->spec.id, staged->spec.stage,
                                           staged->spec.type == ApiType::rest ? "REST" : "HTTP", staged->spec.id));
    }
    auto next = apis;
    next[mine.id] = std::move(api);
    return build(std::move(next));
}

std::shared_ptr<const Snapshot> Snapshot::without(const std::string& id) const {
    auto next = apis;
    next.erase(id);
    return build(std::move(next));
}

}  // namespace stratus::gateway

// Declared APIs, validated and compiled for serving: routes parsed into tables, identity
// sources and validation expressions parsed, conflicts with the other declared APIs found.
// A Snapshot is immutable: declaring swaps in a new one, and a request keeps the one it
// started with.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/regex.hpp"
#include "gateway/model.hpp"
#include "gateway/router.hpp"

namespace stratus::gateway {

struct IdentitySource {
    enum class Kind { header, query, stage_variable, context } kind = Kind::header;
    std::string name;
};

struct CompiledAuthorizer {
    AuthorizerSpec spec;
    std::vector<IdentitySource> sources;  // at least one
    std::optional<core::Regex> validation;  // TOKEN's validation expression (RE2: linear in the token)
};

struct CompiledRoute {
    RouteSpec spec;
    PathTemplate path;                          // "/" for HTTP's $default
    const CompiledAuthorizer* authorizer = nullptr;
    std::string route_key;                      // HTTP: "GET /items/{id}", "$default"
    std::string resource_id;                    // REST: 6 characters, stable per path
    bool payload_v2 = false;
    int timeout_ms = 0;                         // the integration timeout in effect
};

struct CompiledApi {
    ApiSpec spec;
    std::vector<std::unique_ptr<CompiledAuthorizer>> authorizers;
    std::vector<CompiledRoute> routes;
    RouteTable table;  // payload: index into routes
};

// A fresh API id: 10 random lowercase letters and digits, as AWS makes them.
std::string new_api_id();

// Validates `spec` (BadRequestException with AWS-like messages) and compiles it. Fills in
// the id (10 random lowercase letters / digits) and the stage when empty.
std::shared_ptr<const CompiledApi> compile_api(ApiSpec spec);

// Whether the API is served at the root (/{path}: an HTTP API's $default stage) rather than
// under its stage (/{stage}/{path}: REST APIs, and HTTP APIs with a named stage).
bool at_root(const ApiSpec& spec);

// Everything declared, and the merged route tables the listener serves from when no Host
// names an API: REST APIs and HTTP APIs with a named stage by stage (/{stage}/...), HTTP
// APIs on their $default stage at the root.
struct Snapshot {
    struct Target {
        const CompiledApi* api;
        const CompiledRoute* route;
    };
    std::map<std::string, std::shared_ptr<const CompiledApi>> apis;
    std::vector<Target> targets;  // payloads of the merged tables
    std::map<std::string, RouteTable, std::less<>> stages;  // named stages, of either type
    RouteTable http;                                        // $default HTTP APIs

    // A new snapshot with `api` added or replaced; ConflictException when one of its
    // routes is also another API's at the same place (the root, or one named stage), or
    // a root route lies under a named stage's first segment.
    std::shared_ptr<const Snapshot> with(std::shared_ptr<const CompiledApi> api) const;
    std::shared_ptr<const Snapshot> without(const std::string& id) const;

private:
    static std::shared_ptr<Snapshot> build(std::map<std::string, std::shared_ptr<const CompiledApi>> apis);
};

}  // namespace stratus::gateway

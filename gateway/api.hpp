// The API Gateway service: serves the declared APIs on its own listener (--api-port), and
// implements the Gateway interface the app model declares APIs through.
//
// Request flow: route (host, stage, path, method) -> CORS preflight -> authorizer ->
// API key -> event (payload 1.0 / 2.0) -> Lambda invoke under the integration timeout ->
// response mapping. Every failure on the way is a gateway::Failure rendered in one place
// (gateway/errors.hpp) in the API type's words.
//
// Mounting under another listener: the site port (emulator/site) serves the SPA and
// routes a path prefix to the API so both share one origin. Its handler calls
// plan_mounted(head, "/api") from its own plan() for requests under the prefix and
// returns that Plan: the gateway routes the path after the prefix (as a custom domain's
// base path mapping does). With an api_id, that API is served without its stage segment
// (/api/items -> the REST API's /items); without one, the remainder is routed as on the
// API port (/api/dev/items for a REST API at stage dev, /api/items for an HTTP API). The
// events carry the request as the browser sent it: `path` / `rawPath` and
// requestContext.path are the full path ("/api/items"), `resource` / `routeKey` the route,
// domainName the site's Host; ARNs (authorizers' methodArn) use the path within the API.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_handler.hpp"
#include "gateway/model.hpp"
#include "lambda/invoker.hpp"

namespace stratus::core {
class Runtime;
class Dispatcher;
}  // namespace stratus::core

namespace stratus::gateway {

class Issuer;

struct GatewayOptions {
    std::string data_dir;  // the token issuer's key: <data_dir>/gateway/issuer-key.pem
    // The built-in issuer's URL ("http://127.0.0.1:4566/_stratus") and other spellings of
    // it (localhost for 127.0.0.1) that JWT authorizers may name.
    std::string issuer_url;
    std::vector<std::string> issuer_aliases;
    // JWKS / OpenID discovery fetches give up after this long (the requests waiting for
    // them get 401).
    int jwks_timeout_ms = 5000;
};

class GatewayService : public Gateway, public core::HttpHandler {
public:
    // plan() (core::HttpHandler) serves the API listener.
    // A request whose path starts with `prefix`, routed below it (see above).
    virtual core::Plan plan_mounted(core::Request& head, std::string_view prefix, std::string_view api_id = {}) = 0;
    // The API listener's "host:port", once bound (base_url() builds on it).
    virtual void set_endpoint(std::string host_port) = 0;
    virtual Issuer& issuer() = 0;
    // POST /_stratus/reset: cached authorizer answers and keys are dropped (APIs stay:
    // they are configuration, like functions).
    virtual void reset() = 0;
};

std::shared_ptr<GatewayService> make_gateway(core::Runtime& runtime, std::shared_ptr<lambda::Invoker> invoker,
                                             GatewayOptions options);

// stratus's own endpoints on the AWS port: the built-in issuer's
// GET /_stratus/.well-known/openid-configuration and /_stratus/.well-known/jwks.json, and
// POST /_stratus/token (CORS-enabled, so a page on the site port can sign in with it).
// With `test_api`: POST /_stratus/test/gateway/apis (an ApiSpec as JSON, see
// gateway/spec_json.hpp), GET (all of them), DELETE /_stratus/test/gateway/apis/{id}.
void add_internal_endpoints(core::Dispatcher& dispatcher, std::shared_ptr<GatewayService> gateway, bool test_api);

}  // namespace stratus::gateway

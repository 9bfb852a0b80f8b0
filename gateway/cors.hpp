// CORS as each API type does it. REST: a resource with `cors` gets an OPTIONS method whose
// mock integration answers preflights (what the Serverless Framework and SAM configure);
// every other response carries what the function returned. HTTP APIs: the gateway answers
// preflights itself and sets the CORS headers on every response (integration answers,
// authorizer denials and gateway errors alike), replacing any the integration sent.
#pragma once

#include <string>
#include <vector>

#include "core/http_types.hpp"
#include "gateway/model.hpp"

namespace stratus::gateway {

// The headers the Serverless Framework allows when a route says `cors: true`.
const std::vector<std::string>& default_cors_headers();

// REST: the OPTIONS answer of a resource. `specs` are the CORS settings of the resource's
// routes (merged), `methods` their methods.
core::Response rest_preflight(const std::vector<const CorsSpec*>& specs, const std::vector<std::string>& methods,
                              const core::Request& request);

// HTTP: an OPTIONS request with Origin and Access-Control-Request-Method.
bool is_preflight(const core::Request& request);
core::Response http_preflight(const CorsSpec& cors, const core::Request& request);
// HTTP: CORS headers on any other response.
void http_cors_headers(const CorsSpec& cors, const core::Request& request, core::Response& response);

}  // namespace stratus::gateway

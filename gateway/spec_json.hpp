// ApiSpec as JSON: what the test-only endpoint POST /_stratus/test/gateway/apis takes and
// GET answers. Member names are the struct's fields ("id", "type": "rest" | "http",
// "routes": [{"method", "path", "function", "authorizer", "scopes", "api_key_required",
// "cors", "timeout_ms", "payload_format_version"}], "authorizers": [{"name", "kind":
// "token" | "request" | "jwt", "function", "identity_sources", "validation_expression",
// "result_ttl_seconds", "payload_format_version", "simple_responses", "issuer",
// "audiences", "jwks_uri"}], "stage", "stage_variables", "api_keys",
// "binary_media_types", "cors": {"allow_origins", "allow_methods", "allow_headers",
// "expose_headers", "allow_credentials", "max_age"}, "gateway_responses": [{"type",
// "status", "headers", "templates"}]).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "gateway/model.hpp"

namespace stratus::gateway {

// Throws core::AwsError BadRequestException for a member of the wrong type.
ApiSpec api_spec_from_json(const nlohmann::json& j);
nlohmann::json to_json(const ApiSpec& api);

}  // namespace stratus::gateway

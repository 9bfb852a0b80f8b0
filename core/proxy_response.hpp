// What a Lambda proxy result becomes as an HTTP answer: payload format 1.0 (statusCode,
// headers, multiValueHeaders, body, isBase64Encoded) and 2.0 (the same with cookies, or any
// other JSON value, which becomes a 200 application/json answer). Shared by API Gateway's
// integrations (gateway/) and Lambda's function URLs (lambda/), which sit on different
// floors: the rules are pure, so they live here (moved from gateway/responses.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/http_types.hpp"

namespace stratus::core {

// nullopt when the result is malformed (`why` says how, for the log): the gateway then
// answers 502 (REST) / 500 (HTTP). `decode_base64`: whether isBase64Encoded bodies go out
// as bytes (HTTP APIs always; REST only when the request's Accept matches a binary media
// type, else the base64 text goes out as is, as AWS does).
std::optional<Response> response_v1(std::string_view payload, bool decode_base64, std::string& why);
std::optional<Response> response_v2(std::string_view payload, std::string& why);

}  // namespace stratus::core

#pragma once
// Request-body helpers shared by Lambda's JSON APIs (functions, event source mappings).

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/error.hpp"

namespace stratus::lambda::api_json {

// The body as a JSON object (an empty body is an empty object), or AWS's serialization error.
inline nlohmann::json parse_body(const std::string& body) {
    if (body.empty()) return nlohmann::json::object();
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw core::AwsError::serialization("Malformed JSON in request body");
    return j;
}

// `key` of `j` as a T when present and not null; a wrong type is a serialization error.
template <class T>
std::optional<T> opt(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    try {
        return it->get<T>();
    } catch (const nlohmann::json::exception&) {
        throw core::AwsError::serialization(fmt::format("{} has the wrong type", key));
    }
}

}  // namespace stratus::lambda::api_json

// The legacy (pre-expression) parameters still used by older code — Expected,
// AttributesToGet, AttributeUpdates, KeyConditions, QueryFilter, ScanFilter,
// ConditionalOperator — translated into expression text with generated #name / :value
// placeholders, so one evaluator serves both styles. Each result carries `in`: a copy of
// the request whose ExpressionAttributeNames/Values hold the generated placeholders; it
// is empty when the request has no legacy parameter. Mixing the styles is AWS's
// ValidationException ("Can not use both expression and non-expression parameters ...").
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace stratus::dynamo {

struct LegacyCondition {
    std::optional<nlohmann::json> in;
    std::string expression;
};
// `legacy_key`: "Expected", "QueryFilter" or "ScanFilter".
LegacyCondition legacy_condition(const nlohmann::json& in, const char* legacy_key);

struct LegacyProjection {
    std::optional<nlohmann::json> in;
    std::string expression;
};
LegacyProjection legacy_projection(const nlohmann::json& in);

struct LegacyUpdate {
    std::optional<nlohmann::json> in;
    std::string update;     // from AttributeUpdates
    std::string condition;  // from Expected
};
LegacyUpdate legacy_update(const nlohmann::json& in);

// Query: KeyConditions (+ QueryFilter, AttributesToGet) -> KeyConditionExpression (+ ...).
struct LegacyQuery {
    std::optional<nlohmann::json> in;
    std::string key_condition;
    std::string filter;
    std::string projection;
};
LegacyQuery legacy_query(const nlohmann::json& in, const char* filter_key);

}  // namespace stratus::dynamo

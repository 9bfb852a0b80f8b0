// Lambda authorizers' answers: the IAM policy form ({principalId, policyDocument,
// context, usageIdentifierKey}) and HTTP APIs' simple form ({isAuthorized, context}),
// parsed once (what the authorizer cache keeps) and evaluated against each request's
// method / route ARN with IAM's wildcards.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::gateway {

struct PolicyStatement {
    bool allow = false;
    std::vector<std::string> actions;    // "execute-api:Invoke", "execute-api:*", "*"
    std::vector<std::string> resources;  // ARN patterns with * and ?
};

struct AuthorizerAnswer {
    bool simple = false;
    bool authorized = false;  // simple answers
    std::string principal_id;
    std::vector<PolicyStatement> statements;
    std::shared_ptr<const nlohmann::json> context;  // an object, never null
};

enum class PolicyDecision { allow, explicit_deny, no_allow };

// nullopt (and `why`) when the answer is not what AWS accepts: not an object; the simple
// form without a boolean isAuthorized; the policy form without principalId or a valid
// policyDocument (Version, Statement with Effect Allow / Deny, Action, Resource); a
// context that is not an object.
std::optional<AuthorizerAnswer> parse_authorizer_answer(std::string_view payload, bool simple, std::string& why);

// IAM evaluation: a matching Deny wins, else a matching Allow, else no access.
PolicyDecision evaluate(const std::vector<PolicyStatement>& statements, std::string_view arn);

// IAM's wildcards: '*' any run of characters (slashes included), '?' one character.
bool wildcard_match(std::string_view pattern, std::string_view text) noexcept;

// REST APIs pass the context's values as strings (numbers and booleans as their text);
// an object or array in it is an authorizer configuration error (nullopt).
std::optional<nlohmann::json> stringify_context(const nlohmann::json& context);

}  // namespace stratus::gateway

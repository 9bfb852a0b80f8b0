#include "gateway/lambda_authorizer.hpp"

#include <cctype>
#include <nlohmann/json.hpp>

namespace stratus::gateway {

using json = nlohmann::json;

namespace {

// A string or a list of strings (IAM allows both for Action and Resource).
bool string_list(const json& j, std::vector<std::string>& out) {
    if (j.is_string()) {
        out.push_back(j.get<std::string>());
        return true;
    }
    if (!j.is_array() || j.empty()) return false;
    for (auto& v : j) {
        if (!v.is_string()) return false;
        out.push_back(v.get<std::string>());
    }
    return true;
}

bool iequal_ascii(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

bool action_matches(const std::string& action) {
    // Actions are case-insensitive in IAM.
    std::string lower;
    for (char c : action) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return wildcard_match(lower, "execute-api:invoke");
}

}  // namespace

bool wildcard_match(std::string_view p, std::string_view t) noexcept {
    // Iterative glob with backtracking to the last '*': linear for the usual patterns.
    std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
    while (ti < t.size()) {
        if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
            ++pi;
            ++ti;
        } else if (pi < p.size() && p[pi] == '*') {
            star = pi++;
            mark = ti;
        } else if (star != std::string_view::npos) {
            pi = star + 1;
            ti = ++mark;
        } else {
            return false;
        }
    }
    while (pi < p.size() && p[pi] == '*') ++pi;
    return pi == p.size();
}

std::optional<AuthorizerAnswer> parse_authorizer_answer(std::string_view payload, bool simple, std::string& why) {
    json in = json::parse(payload, nullptr, false);
    if (in.is_discarded() || !in.is_object()) {
        why = "the authorizer's answer is not a JSON object";
        return std::nullopt;
    }
    AuthorizerAnswer a;
    if (auto c = in.find("context"); c != in.end() && !c->is_null()) {
        if (!c->is_object()) {
            why = "context is not an object";
            return std::nullopt;
        }
        a.context = std::make_shared<const json>(std::move(*c));
    } else {
        a.context = std::make_shared<const json>(json::object());
    }
    if (simple) {
        auto it = in.find("isAuthorized");
        if (it == in.end() || !it->is_boolean()) {
            why = "isAuthorized is missing or not a boolean";
            return std::nullopt;
        }
        a.simple = true;
        a.authorized = it->get<bool>();
        return a;
    }
    auto pid = in.find("principalId");
    if (pid == in.end() || !(pid->is_string() || pid->is_number())) {
        why = "principalId is missing";
        return std::nullopt;
    }
    a.principal_id = pid->is_string() ? pid->get<std::string>() : pid->dump();
    auto doc = in.find("policyDocument");
    if (doc == in.end() || !doc->is_object()) {
        why = "policyDocument is missing";
        return std::nullopt;
    }
    auto st = doc->find("Statement");
    if (st == doc->end() || !(st->is_array() || st->is_object())) {
        why = "policyDocument.Statement is missing";
        return std::nullopt;
    }
    json statements = st->is_array() ? *st : json::array({*st});
    for (auto& s : statements) {
        if (!s.is_object()) {
            why = "a Statement is not an object";
            return std::nullopt;
        }
        PolicyStatement ps;
        auto effect = s.find("Effect");
        if (effect == s.end() || !effect->is_string()) {
            why = "a Statement has no Effect";
            return std::nullopt;
        }
        if (iequal_ascii(effect->get_ref<const std::string&>(), "Allow")) ps.allow = true;
        else if (!iequal_ascii(effect->get_ref<const std::string&>(), "Deny")) {
            why = "a Statement's Effect is neither Allow nor Deny";
            return std::nullopt;
        }
        auto action = s.find("Action");
        auto resource = s.find("Resource");
        if (action == s.end() || !string_list(*action, ps.actions) || resource == s.end() ||
            !string_list(*resource, ps.resources)) {
            why = "a Statement lacks Action or Resource";
            return std::nullopt;
        }
        a.statements.push_back(std::move(ps));
    }
    return a;
}

PolicyDecision evaluate(const std::vector<PolicyStatement>& statements, std::string_view arn) {
    bool allowed = false;
    for (auto& s : statements) {
        bool action = false;
        for (auto& a : s.actions)
            if (action_matches(a)) action = true;
        if (!action) continue;
        bool resource = false;
        for (auto& r : s.resources)
            if (wildcard_match(r, arn)) resource = true;
        if (!resource) continue;
        if (!s.allow) return PolicyDecision::explicit_deny;
        allowed = true;
    }
    return allowed ? PolicyDecision::allow : PolicyDecision::no_allow;
}

std::optional<json> stringify_context(const json& context) {
    json out = json::object();
    for (auto& [k, v] : context.items()) {
        if (v.is_string()) out[k] = v;
        else if (v.is_boolean()) out[k] = v.get<bool>() ? "true" : "false";
        else if (v.is_number()) out[k] = v.dump();
        else if (v.is_null()) continue;
        else return std::nullopt;
    }
    return out;
}

}  // namespace stratus::gateway

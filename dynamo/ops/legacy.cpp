#include "dynamo/ops/legacy.hpp"

#include <fmt/format.h>

#include <vector>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;

namespace {

constexpr const char* expression_params[] = {"ConditionExpression", "FilterExpression", "KeyConditionExpression",
                                             "ProjectionExpression", "UpdateExpression", "ExpressionAttributeNames",
                                             "ExpressionAttributeValues"};

// Collects generated placeholders while translating.
class Builder {
public:
    std::string name(const std::string& attr) {
        std::string key = fmt::format("#lg{}", names_.size());
        names_[key] = attr;
        return key;
    }
    std::string value(const json& v) {
        std::string key = fmt::format(":lg{}", values_.size());
        values_[key] = v;
        return key;
    }
    // The request with the generated placeholders, beside the request's own (Query's
    // KeyConditions may come with a FilterExpression and its placeholders).
    json request(const json& in) const {
        json out = in;
        merge(out, "ExpressionAttributeNames", names_);
        merge(out, "ExpressionAttributeValues", values_);
        return out;
    }

private:
    static void merge(json& out, const char* key, const json& generated) {
        bool own = out.contains(key) && out[key].is_object() && !out[key].empty();
        if (!own) {
            if (generated.empty()) out.erase(key);
            else out[key] = generated;
            return;
        }
        for (auto& [k, v] : generated.items()) out[key][k] = v;
    }

public:

private:
    json names_ = json::object();
    json values_ = json::object();
};

// "Can not use both expression and non-expression parameters in the same request:
// Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}"
// AWS lists the expressions the request has; the placeholder maps only when they are all
// it has.
void check_not_mixed(const json& in, const std::vector<std::string>& legacy_present) {
    std::vector<std::string> expr_present;
    for (auto* k : expression_params)
        if (in.contains(k) && !in[k].is_null() && std::string_view(k).ends_with("Expression")) expr_present.push_back(k);
    if (expr_present.empty())
        for (auto* k : expression_params)
            if (in.contains(k) && !in[k].is_null()) expr_present.push_back(k);
    if (legacy_present.empty() || expr_present.empty()) return;
    auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (auto& x : v) s += (s.empty() ? "" : ", ") + x;
        return "{" + s + "}";
    };
    throw core::AwsError::validation(fmt::format(
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: "
        "{} Expression parameters: {}",
        join(legacy_present), join(expr_present)));
}

// The botocore model's AttributeNameList: 1..255 names.
void check_attributes_to_get(const json* attrs) {
    if (!attrs || !attrs->empty()) return;
    input::Violations v;
    v.add("[]", "attributesToGet", "Member must have length greater than or equal to 1");
    v.throw_if_any();
}

std::vector<std::string> present(const json& in, std::initializer_list<const char*> keys) {
    std::vector<std::string> out;
    for (auto* k : keys)
        if (in.contains(k) && !in[k].is_null()) out.push_back(k);
    return out;
}

const json& attribute_value_list(const json& cond, std::size_t expected, const std::string& op) {
    static const json empty = json::array();
    const json* list = input::opt_array(cond, "AttributeValueList");
    const json& l = list ? *list : empty;
    if (l.size() != expected)
        throw core::AwsError::validation(fmt::format(
            "One or more parameter values were invalid: Invalid number of argument(s) for the {} ComparisonOperator", op));
    return l;
}

// One attribute's legacy condition ({ComparisonOperator, AttributeValueList} or
// {Value, Exists}) as an expression.
std::string translate_condition(Builder& b, const std::string& attr, const json& cond, bool allow_exists) {
    if (!cond.is_object()) throw core::AwsError::serialization("Unexpected value in condition");
    std::string n = b.name(attr);
    auto op = input::opt_string(cond, "ComparisonOperator");
    // Exists (or Value) belongs to the older form; with a ComparisonOperator AWS refuses
    // it. Its wording is not documented.
    if (op && cond.contains("Exists") && !cond["Exists"].is_null())
        throw core::AwsError::validation(
            "One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for "
            "Attribute: " + attr);
    if (!op) {
        if (!allow_exists)
            throw core::AwsError::validation("One or more parameter values were invalid: ComparisonOperator is required");
        auto exists = input::opt_bool(cond, "Exists");
        const json* value = cond.contains("Value") && !cond["Value"].is_null() ? &cond["Value"] : nullptr;
        if (exists && !*exists) {
            if (value)
                throw core::AwsError::validation(
                    "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: " + attr);
            return fmt::format("attribute_not_exists({})", n);
        }
        if (!value)
            throw core::AwsError::validation(
                "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: " + attr);
        return fmt::format("{} = {}", n, b.value(*value));
    }
    const std::string& o = *op;
    // The operand types each ComparisonOperator takes (developer guide, "Legacy
    // conditional parameters": EQ / NE take any type, CONTAINS / NOT_CONTAINS / the
    // orderings a scalar, BEGINS_WITH a string or binary), with AWS's message.
    if (const json* list = input::opt_array(cond, "AttributeValueList")) {
        std::string first_type;
        for (const json& v : *list) {
            if (!v.is_object() || v.size() != 1) continue;  // value_from_json reports it
            std::string t = v.begin().key();
            bool scalar = t == "S" || t == "N" || t == "B";
            bool ok = o == "EQ" || o == "NE" || (o == "BEGINS_WITH" ? (t == "S" || t == "B") : scalar);
            if (!ok)
                throw core::AwsError::validation(fmt::format(
                    "One or more parameter values were invalid: ComparisonOperator {} is not valid for {} "
                    "AttributeValue type",
                    o, t));
            if (o == "IN" || o == "BETWEEN") {
                if (first_type.empty()) first_type = t;
                else if (t != first_type)
                    throw core::AwsError::validation(
                        "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of "
                        "same type");
            }
        }
    }
    auto one = [&]() { return b.value(attribute_value_list(cond, 1, o)[0]); };
    if (o == "EQ") return fmt::format("{} = {}", n, one());
    if (o == "NE") return fmt::format("{} <> {}", n, one());
    if (o == "LT") return fmt::format("{} < {}", n, one());
    if (o == "LE") return fmt::format("{} <= {}", n, one());
    if (o == "GT") return fmt::format("{} > {}", n, one());
    if (o == "GE") return fmt::format("{} >= {}", n, one());
    if (o == "NOT_NULL") {
        attribute_value_list(cond, 0, o);
        return fmt::format("attribute_exists({})", n);
    }
    if (o == "NULL") {
        attribute_value_list(cond, 0, o);
        return fmt::format("attribute_not_exists({})", n);
    }
    if (o == "CONTAINS") return fmt::format("contains({}, {})", n, one());
    if (o == "NOT_CONTAINS") return fmt::format("(attribute_exists({0}) AND NOT contains({0}, {1}))", n, one());
    if (o == "BEGINS_WITH") return fmt::format("begins_with({}, {})", n, one());
    if (o == "BETWEEN") {
        auto& l = attribute_value_list(cond, 2, o);
        return fmt::format("{} BETWEEN {} AND {}", n, b.value(l[0]), b.value(l[1]));
    }
    if (o == "IN") {
        const json* list = input::opt_array(cond, "AttributeValueList");
        if (!list || list->empty())
            throw core::AwsError::validation(
                "One or more parameter values were invalid: Invalid number of argument(s) for the IN ComparisonOperator");
        std::string s;
        for (auto& v : *list) s += (s.empty() ? "" : ", ") + b.value(v);
        return fmt::format("{} IN ({})", n, s);
    }
    input::Violations v;
    v.add(o, "comparisonOperator",
          "Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, "
          "BEGINS_WITH, GE, CONTAINS]");
    v.throw_if_any();
    return {};
}

std::string translate_conditions(Builder& b, const json& in, const json& conditions, bool allow_exists) {
    if (!conditions.is_object()) throw core::AwsError::serialization("Unexpected value for conditions");
    auto op = input::opt_string(in, "ConditionalOperator").value_or("AND");
    if (op != "AND" && op != "OR") {
        input::Violations v;
        v.add(op, "conditionalOperator", "Member must satisfy enum value set: [OR, AND]");
        v.throw_if_any();
    }
    std::string out;
    for (auto& [attr, cond] : conditions.items()) {
        if (!out.empty()) out += " " + op + " ";
        out += "(" + translate_condition(b, attr, cond, allow_exists) + ")";
    }
    return out;
}

}  // namespace

LegacyCondition legacy_condition(const json& in, const char* legacy_key) {
    LegacyCondition out;
    auto legacy = present(in, {legacy_key});
    if (legacy.empty()) {
        if (in.contains("ConditionalOperator") && !in["ConditionalOperator"].is_null() && !in.contains("QueryFilter") &&
            !in.contains("ScanFilter") && !in.contains("Expected"))
            throw core::AwsError::validation(
                "ConditionalOperator can only be used when Filter or Expected has two or more elements");
        return out;
    }
    check_not_mixed(in, legacy);
    Builder b;
    out.expression = translate_conditions(b, in, in[legacy_key], std::string(legacy_key) == "Expected");
    if (out.expression.empty()) return out;
    out.in = b.request(in);
    return out;
}

LegacyProjection legacy_projection(const json& in) {
    LegacyProjection out;
    auto legacy = present(in, {"AttributesToGet"});
    if (legacy.empty()) return out;
    check_not_mixed(in, legacy);
    const json* attrs = input::opt_array(in, "AttributesToGet");
    check_attributes_to_get(attrs);
    Builder b;
    for (auto& a : *attrs) {
        if (!a.is_string()) throw core::AwsError::serialization("Unexpected value in AttributesToGet");
        out.expression += (out.expression.empty() ? "" : ", ") + b.name(a.get<std::string>());
    }
    if (out.expression.empty()) return out;
    out.in = b.request(in);
    return out;
}

LegacyUpdate legacy_update(const json& in) {
    LegacyUpdate out;
    if (in.contains("ConditionalOperator") && !in["ConditionalOperator"].is_null() && !in.contains("Expected"))
        throw core::AwsError::validation(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements");
    auto legacy = present(in, {"AttributeUpdates", "Expected"});
    if (legacy.empty()) return out;
    check_not_mixed(in, legacy);
    Builder b;
    if (const json* updates = input::opt_object(in, "AttributeUpdates")) {
        std::string set, remove, add, del;
        for (auto& [attr, u] : updates->items()) {
            if (!u.is_object()) throw core::AwsError::serialization("Unexpected value in AttributeUpdates");
            auto action = input::opt_string(u, "Action").value_or("PUT");
            const json* value = u.contains("Value") && !u["Value"].is_null() ? &u["Value"] : nullptr;
            std::string n = b.name(attr);
            auto append = [](std::string& clause, const std::string& part) { clause += (clause.empty() ? "" : ", ") + part; };
            if (action == "PUT") {
                if (!value)
                    throw core::AwsError::validation(
                        "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is "
                        "specified");
                append(set, n + " = " + b.value(*value));
            } else if (action == "DELETE") {
                if (value) append(del, n + " " + b.value(*value));
                else append(remove, n);
            } else if (action == "ADD") {
                if (!value)
                    throw core::AwsError::validation(
                        "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is "
                        "specified");
                append(add, n + " " + b.value(*value));
            } else {
                input::Violations v;
                v.add(action, "attributeUpdates.action", "Member must satisfy enum value set: [ADD, PUT, DELETE]");
                v.throw_if_any();
            }
        }
        if (!set.empty()) out.update += "SET " + set + " ";
        if (!remove.empty()) out.update += "REMOVE " + remove + " ";
        if (!add.empty()) out.update += "ADD " + add + " ";
        if (!del.empty()) out.update += "DELETE " + del + " ";
    }
    if (const json* expected = input::opt_object(in, "Expected")) out.condition = translate_conditions(b, in, *expected, true);
    out.in = b.request(in);
    return out;
}

LegacyQuery legacy_query(const json& in, const char* filter_key) {
    LegacyQuery out;
    if (in.contains("ConditionalOperator") && !in["ConditionalOperator"].is_null() && !in.contains(filter_key))
        throw core::AwsError::validation(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements");
    auto legacy = present(in, {"KeyConditions", filter_key, "AttributesToGet"});
    if (legacy.empty()) return out;
    // KeyConditions goes with FilterExpression and ProjectionExpression (AWS accepts them
    // together); only a KeyConditionExpression conflicts with it. The filter and
    // AttributesToGet conflict with every expression.
    if (legacy.size() == 1 && legacy[0] == "KeyConditions") {
        if (in.contains("KeyConditionExpression") && !in["KeyConditionExpression"].is_null())
            check_not_mixed(json{{"KeyConditionExpression", in["KeyConditionExpression"]}}, legacy);
    } else {
        check_not_mixed(in, legacy);
    }
    Builder b;
    if (const json* kc = input::opt_object(in, "KeyConditions")) {
        for (auto& [attr, cond] : kc->items()) {
            if (!out.key_condition.empty()) out.key_condition += " AND ";
            out.key_condition += translate_condition(b, attr, cond, false);
        }
    }
    if (const json* f = input::opt_object(in, filter_key)) out.filter = translate_conditions(b, in, *f, false);
    if (const json* attrs = input::opt_array(in, "AttributesToGet")) {
        check_attributes_to_get(attrs);
        for (auto& a : *attrs) {
            if (!a.is_string()) throw core::AwsError::serialization("Unexpected value in AttributesToGet");
            out.projection += (out.projection.empty() ? "" : ", ") + b.name(a.get<std::string>());
        }
    }
    out.in = b.request(in);
    return out;
}

}  // namespace stratus::dynamo

#include "dynamo/ops/items_common.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/legacy.hpp"
#include "dynamo/store/store.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;

namespace {

// DynamoDB's key size limits (developer guide, "Service, account, and table quotas":
// partition key values up to 2048 bytes, sort key values up to 1024 bytes), with its
// messages (the missing space in "limit of2048" is AWS's).
void check_key_size(const AttributeValue& v, bool range) {
    std::size_t size = value_size(v);
    if (!range && size > 2048)
        throw core::AwsError::validation(
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes");
    if (range && size > 1024)
        throw core::AwsError::validation(
            "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of "
            "1024 bytes");
}

void check_key_value(const Item& item, const KeyElement& k, bool is_table_key, bool range) {
    auto it = item.find(k.name);
    if (it == item.end()) {
        if (is_table_key)
            throw core::AwsError::validation("One or more parameter values were invalid: Missing the key " + k.name +
                                             " in the item");
        return;
    }
    if (it->second.type != k.type)
        throw core::AwsError::validation(fmt::format(
            "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}", k.name,
            type_name(k.type), type_name(it->second.type)));
    if ((k.type == Type::S || k.type == Type::B) && it->second.s.empty())
        throw core::AwsError::validation(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
            "empty " + std::string(k.type == Type::S ? "string" : "binary") + " value. Key: " + k.name);
    check_key_size(it->second, range);
}

}  // namespace

Item parse_key(const json& key_json, const TableDef& table) {
    if (!key_json.is_object()) throw core::AwsError::serialization("Start of structure or map found where not expected.");
    Item key = item_from_json(key_json);
    validate_key(key, table);
    return key;
}

void validate_key(const Item& key, const TableDef& table) {
    std::size_t expected = table.key.range ? 2 : 1;
    auto matches = [&](const KeyElement& k) {
        auto it = key.find(k.name);
        return it != key.end() && it->second.type == k.type;
    };
    if (key.size() != expected || !matches(table.key.hash) || (table.key.range && !matches(*table.key.range)))
        throw core::AwsError::validation("The provided key element does not match the schema");
    check_key_value(key, table.key.hash, true, false);
    if (table.key.range) check_key_value(key, *table.key.range, true, true);
}

std::size_t validate_item(const Item& item, const TableDef& table, ItemSource source) {
    check_key_value(item, table.key.hash, true, false);
    if (table.key.range) check_key_value(item, *table.key.range, true, true);
    for (auto& index : table.indexes) {
        for (const KeyElement* k : {&index.key.hash, index.key.range ? &*index.key.range : nullptr}) {
            if (!k) continue;
            auto it = item.find(k->name);
            if (it == item.end()) continue;  // sparse index: fine
            if (it->second.type != k->type)
                throw core::AwsError::validation(fmt::format(
                    "One or more parameter values were invalid: Type mismatch for Index Key {} Expected: {} Actual: {} "
                    "IndexName: {}",
                    k->name, type_name(k->type), type_name(it->second.type), index.name));
            if ((k->type == Type::S || k->type == Type::B) && it->second.s.empty())
                throw core::AwsError::validation(fmt::format(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not "
                    "supported. The AttributeValue for a key attribute cannot contain an empty {} value. IndexName: "
                    "{}, IndexKey: {}",
                    k->type == Type::S ? "string" : "binary", index.name, k->name));
            // Not confirmed against AWS: index key values are taken to have the table's
            // limits and messages.
            check_key_size(it->second, k != &index.key.hash);
        }
    }
    // Naming rules (developer guide, "Supported data types and naming rules"): an attribute
    // name is 1 to 65535 bytes. AWS's wording for a breach is not documented; ours follows
    // its "One or more parameter values were invalid" family.
    for (const auto& [name, value] : item) {
        if (name.empty())
            throw core::AwsError::validation("One or more parameter values were invalid: An attribute name cannot be empty");
        if (name.size() > 65535)
            throw core::AwsError::validation(
                "One or more parameter values were invalid: An attribute name exceeds the maximum length of 65535 bytes");
    }
    std::size_t size = item_size(item);
    if (size > max_item_size)
        throw core::AwsError::validation(source == ItemSource::update
                                             ? "Item size to update has exceeded the maximum allowed size"
                                             : "Item size has exceeded the maximum allowed size");
    return size;
}

CapacityMode parse_capacity_mode(const json& in) {
    auto mode = input::opt_string(in, "ReturnConsumedCapacity");
    if (!mode || *mode == "NONE") return CapacityMode::none;
    if (*mode == "TOTAL") return CapacityMode::total;
    if (*mode == "INDEXES") return CapacityMode::indexes;
    input::Violations v;
    v.add(*mode, "returnConsumedCapacity", "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]");
    v.throw_if_any();
    return CapacityMode::none;
}

double write_units(std::size_t bytes) { return std::max(1.0, std::ceil(static_cast<double>(bytes) / 1024.0)); }

double read_units(std::size_t bytes, bool consistent) {
    double units = std::max(1.0, std::ceil(static_cast<double>(bytes) / 4096.0));
    return consistent ? units : units / 2;
}

json capacity_json(CapacityMode mode, const TableDef& table, double table_units,
                   const std::vector<std::pair<const IndexDef*, double>>& index_units) {
    double total = table_units;
    for (auto& [i, u] : index_units) total += u;
    json c = {{"TableName", table.name}, {"CapacityUnits", total}};
    if (mode == CapacityMode::indexes) {
        c["Table"] = {{"CapacityUnits", table_units}};
        json gsi = json::object(), lsi = json::object();
        for (auto& [i, u] : index_units) {
            json& target = i->global ? gsi : lsi;
            double prev = target.contains(i->name) ? target[i->name]["CapacityUnits"].get<double>() : 0.0;
            target[i->name] = {{"CapacityUnits", prev + u}};
        }
        if (!gsi.empty()) c["GlobalSecondaryIndexes"] = gsi;
        if (!lsi.empty()) c["LocalSecondaryIndexes"] = lsi;
    }
    return c;
}

void add_capacity(json& out, CapacityMode mode, const TableDef& table, double table_units,
                  const std::vector<std::pair<const IndexDef*, double>>& index_units) {
    if (mode == CapacityMode::none) return;
    out["ConsumedCapacity"] = capacity_json(mode, table, table_units, index_units);
}

std::vector<std::pair<const IndexDef*, double>> index_write_units(const TableDef& table, const std::optional<Item>& old,
                                                                  const std::optional<Item>& item) {
    std::vector<std::pair<const IndexDef*, double>> out;
    for (auto& index : table.indexes) {
        auto before = old ? Store::project_for_index(table, index, *old) : std::nullopt;
        auto after = item ? Store::project_for_index(table, index, *item) : std::nullopt;
        double units = 0;
        if (before) units += write_units(item_size(*before));
        if (after) units += write_units(item_size(*after));
        if (units > 0) out.emplace_back(&index, units);
    }
    return out;
}

void add_collection_metrics(json& out, const std::string& mode, const TableDef& table, const Item& key) {
    if (mode != "SIZE") return;
    bool has_lsi = false;
    for (auto& i : table.indexes) has_lsi |= !i.global;
    auto hash = key.find(table.key.hash.name);
    if (!has_lsi || hash == key.end()) return;
    out["ItemCollectionMetrics"] = {{"ItemCollectionKey", {{table.key.hash.name, value_to_json(hash->second)}}},
                                    {"SizeEstimateRangeGB", {0.0, 1.0}}};
}

std::map<std::string, AttributeValue> parse_expression_values(const json& in) {
    std::map<std::string, AttributeValue> out;
    const json* values = input::opt_object(in, "ExpressionAttributeValues");
    if (!values) return out;
    if (values->empty())
        throw core::AwsError::validation("ExpressionAttributeValues must not be empty");
    for (auto& [k, v] : values->items()) {
        // A bad value is named with its key, as AWS does (dynalite and moto have the same
        // wording): "ExpressionAttributeValues contains invalid value: <why> for key :v".
        try {
            out.emplace(k, value_from_json(v));
        } catch (const core::AwsError& e) {
            if (e.code() != "ValidationException") throw;
            throw core::AwsError::validation(
                fmt::format("ExpressionAttributeValues contains invalid value: {} for key {}", e.message(), k));
        }
    }
    return out;
}

std::map<std::string, std::string> parse_expression_names(const json& in) {
    std::map<std::string, std::string> out;
    const json* names = input::opt_object(in, "ExpressionAttributeNames");
    if (!names) return out;
    if (names->empty())
        throw core::AwsError::validation("ExpressionAttributeNames must not be empty");
    for (auto& [k, v] : names->items()) {
        if (!v.is_string()) throw core::AwsError::serialization("Unexpected value in ExpressionAttributeNames");
        out.emplace(k, v.get<std::string>());
    }
    return out;
}

expr::Context expression_context(const json& in, bool uses_expressions, std::string_view null_expressions) {
    auto names = parse_expression_names(in);
    auto values = parse_expression_values(in);
    if (!uses_expressions) {
        if (input::opt_object(in, "ExpressionAttributeNames"))
            throw core::AwsError::validation(
                fmt::format("ExpressionAttributeNames can only be specified when using expressions: {}", null_expressions));
        if (input::opt_object(in, "ExpressionAttributeValues"))
            throw core::AwsError::validation(
                fmt::format("ExpressionAttributeValues can only be specified when using expressions: {}", null_expressions));
    }
    return expr::Context(std::move(names), std::move(values));
}

void condition_failed(const std::optional<Item>& old, bool return_old) {
    core::AwsError e("ConditionalCheckFailedException", "The conditional request failed", 400);
    if (return_old && old) e.with_json(json{{"Item", item_to_json(*old)}}.dump());
    throw e;
}

bool parse_return_old_on_failure(const json& in) {
    auto v = input::opt_string(in, "ReturnValuesOnConditionCheckFailure");
    if (!v || *v == "NONE") return false;
    if (*v == "ALL_OLD") return true;
    input::Violations vs;
    vs.add(*v, "returnValuesOnConditionCheckFailure", "Member must satisfy enum value set: [ALL_OLD, NONE]");
    vs.throw_if_any();
    return false;
}

const json& require_member(const json& in, const char* key, const char* member) {
    const json* v = input::opt_object(in, key);
    if (!v) {
        input::Violations vs;
        vs.add_null(member);
        vs.throw_if_any();
    }
    return *v;
}

std::string parse_return_values(const json& in, std::initializer_list<std::string_view> allowed) {
    auto rv = input::opt_string(in, "ReturnValues").value_or("NONE");
    for (auto a : allowed)
        if (rv == a) return rv;
    throw core::AwsError::validation("Return values set to invalid value");
}

expr::Condition parse_write_condition(const json& in) {
    LegacyCondition legacy = legacy_condition(in, "Expected");
    auto text = input::opt_string(in, "ConditionExpression");
    expr::Context ec = expression_context(legacy.in ? *legacy.in : in, text.has_value() || legacy.in,
                                          "ConditionExpression is null");
    expr::Condition cond;
    if (legacy.in) cond = ec.condition(legacy.expression);
    else if (text) cond = ec.condition(*text);
    ec.check_unused();
    return cond;
}

void check_members(const json& in, std::initializer_list<std::string_view> members) {
    if (!in.is_object()) return;  // require_object reports it
    input::Violations v;
    auto enum_member = [&](std::string_view key, const char* member, const char* set,
                           std::initializer_list<std::string_view> allowed) {
        auto it = in.find(key);
        if (it == in.end() || !it->is_string()) return;
        std::string value = it->get<std::string>();
        for (auto a : allowed)
            if (value == a) return;
        v.add(value, member, std::string("Member must satisfy enum value set: ") + set);
    };
    auto int_member = [&](std::string_view key, const char* member, std::int64_t lo, std::int64_t hi) {
        auto it = in.find(key);
        if (it == in.end() || !it->is_number()) return;
        auto n = it->is_number_float() ? static_cast<std::int64_t>(it->get<double>()) : it->get<std::int64_t>();
        if (n < lo) v.add(std::to_string(n), member, fmt::format("Member must have value greater than or equal to {}", lo));
        else if (n > hi) v.add(std::to_string(n), member, fmt::format("Member must have value less than or equal to {}", hi));
    };
    for (std::string_view m : members) {
        if (m == "TableName") {
            auto name = in.find("TableName");
            std::optional<std::string> n;
            if (name != in.end() && name->is_string()) n = input::table_name_from(name->get<std::string>());
            if (name == in.end() || name->is_null() || n) input::check_table_name(v, n, "tableName");
        } else if (m == "IndexName") {
            auto it = in.find("IndexName");
            if (it != in.end() && it->is_string()) input::check_table_name(v, it->get<std::string>(), "indexName", false);
        } else if (m == "Key" || m == "Item") {
            auto it = in.find(m);
            if (it == in.end() || it->is_null()) v.add_null(m == "Key" ? "key" : "item");
        } else if (m == "Select") {
            enum_member(m, "select", "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]",
                        {"SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"});
        } else if (m == "Limit") {
            int_member(m, "limit", 1, std::numeric_limits<std::int64_t>::max());
        } else if (m == "ReturnValues") {
            enum_member(m, "returnValues", "[ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]",
                        {"ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"});
        } else if (m == "ReturnConsumedCapacity") {
            enum_member(m, "returnConsumedCapacity", "[INDEXES, TOTAL, NONE]", {"INDEXES", "TOTAL", "NONE"});
        } else if (m == "ReturnItemCollectionMetrics") {
            enum_member(m, "returnItemCollectionMetrics", "[SIZE, NONE]", {"SIZE", "NONE"});
        } else if (m == "ConditionalOperator") {
            enum_member(m, "conditionalOperator", "[OR, AND]", {"OR", "AND"});
        } else if (m == "ReturnValuesOnConditionCheckFailure") {
            enum_member(m, "returnValuesOnConditionCheckFailure", "[ALL_OLD, NONE]", {"ALL_OLD", "NONE"});
        } else if (m == "TotalSegments") {
            int_member(m, "totalSegments", 1, 1000000);
        } else if (m == "Segment") {
            int_member(m, "segment", 0, 999999);
        }
    }
    v.throw_if_any();
}

bool plain_table_name(std::string_view name) {
    if (name.size() < 3 || name.size() > 255) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            return false;
    return true;
}

std::string parse_table_name(const json& in) {
    input::Violations v;
    auto name = input::opt_string(in, "TableName");
    if (name) name = input::table_name_from(*name);
    input::check_table_name(v, name, "tableName");
    v.throw_if_any();
    return *name;
}

}  // namespace stratus::dynamo

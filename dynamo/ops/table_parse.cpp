#include "dynamo/ops/table_parse.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;

namespace {

[[noreturn]] void invalid(std::string_view what) {
    throw core::AwsError::validation(fmt::format("One or more parameter values were invalid: {}", what));
}

std::string join_names(const std::vector<std::string>& names) {
    std::string s;
    for (auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return "[" + s + "]";
}

}  // namespace

std::vector<KeyElement> parse_attribute_definitions(const json* defs, input::Violations* shared) {
    std::vector<KeyElement> out;
    if (!defs) return out;
    // AWS reports every member constraint of the request together, with 1-based positions
    // ("attributeDefinitions.2.member.attributeType").
    input::Violations own;
    input::Violations& v = shared ? *shared : own;
    std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> read;
    for (std::size_t i = 0; i < defs->size(); ++i) {
        const json& d = (*defs)[i];
        if (!d.is_object()) throw core::AwsError::serialization("Unexpected value in AttributeDefinitions");
        auto name = input::opt_string(d, "AttributeName");
        auto type = input::opt_string(d, "AttributeType");
        std::string at = fmt::format("attributeDefinitions.{}.member.", i + 1);
        if (!name) v.add_null(at + "attributeName");
        if (!type) v.add_null(at + "attributeType");
        else if (*type != "S" && *type != "N" && *type != "B")
            v.add(*type, at + "attributeType", "Member must satisfy enum value set: [B, N, S]");
        read.emplace_back(name, type);
    }
    if (!shared) v.throw_if_any();
    if (!v.empty()) return out;  // the caller throws them with its own
    std::set<std::string> seen;
    for (auto& [name, type] : read) {
        if (!seen.insert(*name).second) invalid("Duplicate AttributeName in AttributeDefinitions: " + *name);
        out.push_back({*name, *type == "S" ? Type::S : *type == "N" ? Type::N : Type::B});
    }
    return out;
}

namespace {
// AWS shows a key schema in messages as Java prints its elements.
std::string key_schema_text(const json& ks) {
    std::string out = "[";
    for (std::size_t i = 0; i < ks.size(); ++i) {
        const json& e = ks[i];
        auto field = [&](const char* k) {
            return e.is_object() && e.contains(k) && e[k].is_string() ? e[k].get<std::string>() : std::string("null");
        };
        out += (i ? ", " : "") + fmt::format("KeySchemaElement(attributeName={}, keyType={})", field("AttributeName"),
                                            field("KeyType"));
    }
    return out + "]";
}
}  // namespace

// The member constraints of a KeySchema (length, each element's name and KeyType), added
// to `v` with AWS's member paths.
void check_key_schema_members(input::Violations& v, const json& ks, std::string_view member) {
    if (!ks.is_array()) throw core::AwsError::serialization("Unexpected value for KeySchema");
    if (ks.empty()) v.add("[]", member, "Member must have length greater than or equal to 1");
    if (ks.size() > 2) v.add(key_schema_text(ks), member, "Member must have length less than or equal to 2");
    for (std::size_t i = 0; i < ks.size(); ++i) {
        const json& e = ks[i];
        if (!e.is_object()) throw core::AwsError::serialization("Unexpected value in KeySchema");
        auto name = input::opt_string(e, "AttributeName");
        auto kind = input::opt_string(e, "KeyType");
        std::string at = fmt::format("{}.{}.member.", member, i + 1);
        if (!name) v.add_null(at + "attributeName");
        else if (name->size() > 255) v.add(*name, at + "attributeName", "Member must have length less than or equal to 255");
        else if (name->empty()) v.add(*name, at + "attributeName", "Member must have length greater than or equal to 1");
        if (!kind) v.add_null(at + "keyType");
        else if (*kind != "HASH" && *kind != "RANGE")
            v.add(*kind, at + "keyType", "Member must satisfy enum value set: [HASH, RANGE]");
    }
}

KeySchema parse_key_schema(const json& ks, const std::vector<KeyElement>& defs, std::string_view member) {
    input::Violations v;
    check_key_schema_members(v, ks, member);
    v.throw_if_any();
    KeySchema out;
    for (std::size_t i = 0; i < ks.size(); ++i) {
        auto& e = ks[i];
        if (!e.is_object()) throw core::AwsError::serialization("Unexpected value in KeySchema");
        auto name = input::opt_string(e, "AttributeName");
        auto kind = input::opt_string(e, "KeyType");

        auto def = std::find_if(defs.begin(), defs.end(), [&](const KeyElement& d) { return d.name == *name; });
        if (def == defs.end()) {
            std::vector<std::string> def_names;
            for (auto& d : defs) def_names.push_back(d.name);
            std::vector<std::string> keys;
            for (auto& k : ks)
                if (k.is_object() && k.contains("AttributeName") && k["AttributeName"].is_string())
                    keys.push_back(k["AttributeName"].get<std::string>());
            invalid(fmt::format("Some index key attributes are not defined in AttributeDefinitions. Keys: {}, "
                                "AttributeDefinitions: {}",
                                join_names(keys), join_names(def_names)));
        }
        if (i == 0) {
            if (*kind != "HASH") throw core::AwsError::validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
            out.hash = *def;
        } else {
            if (*kind != "RANGE")
                throw core::AwsError::validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type");
            if (*name == out.hash.name)
                throw core::AwsError::validation("Both the Hash Key and the Range Key element in the KeySchema have the same name");
            out.range = *def;
        }
    }
    return out;
}

IndexDef parse_index(const json& j, bool global, const std::vector<KeyElement>& defs, std::size_t position,
                     std::string_view list) {
    if (!j.is_object()) throw core::AwsError::serialization("Unexpected value in index list");
    IndexDef idx;
    idx.global = global;
    auto name = input::opt_string(j, "IndexName");
    input::Violations v;
    std::string at = list.empty() ? std::string(global ? "globalSecondaryIndexes" : "localSecondaryIndexes") : std::string(list);
    at += position ? fmt::format(".{}.member.", position) : std::string(".member.");
    input::check_table_name(v, name, at + "indexName");
    const json* ks = input::opt_array(j, "KeySchema");
    if (!ks) v.add_null(at + "keySchema");
    else check_key_schema_members(v, *ks, at + "keySchema");
    const json* proj = input::opt_object(j, "Projection");
    if (!proj) v.add_null(at + "projection");
    v.throw_if_any();
    idx.name = *name;
    idx.key = parse_key_schema(*ks, defs, at + "keySchema");
    auto type = input::opt_string(*proj, "ProjectionType");
    // A Projection without ProjectionType is refused by AWS; its wording is not documented.
    if (!type) invalid("Unknown ProjectionType: null");
    const json* non_key = input::opt_array(*proj, "NonKeyAttributes");
    if (*type == "ALL") {
        idx.projection = ProjectionType::all;
    } else if (*type == "KEYS_ONLY") {
        idx.projection = ProjectionType::keys_only;
    } else if (*type == "INCLUDE") {
        idx.projection = ProjectionType::include;
    } else {
        input::Violations pv;
        pv.add(*type, "projection.projectionType", "Member must satisfy enum value set: [INCLUDE, ALL, KEYS_ONLY]");
        pv.throw_if_any();
    }
    if (non_key) {
        if (idx.projection != ProjectionType::include)
            invalid("ProjectionType is " + *type +
                    ", but NonKeyAttributes is specified");
        for (auto& n : *non_key) {
            if (!n.is_string()) throw core::AwsError::serialization("Unexpected value in NonKeyAttributes");
            std::string a = n.get<std::string>();
            // AWS refuses a repeated NonKeyAttribute; its wording is not documented.
            if (std::find(idx.non_key_attributes.begin(), idx.non_key_attributes.end(), a) != idx.non_key_attributes.end())
                invalid("Duplicate NonKeyAttribute: " + a);
            idx.non_key_attributes.push_back(std::move(a));
        }
    } else if (idx.projection == ProjectionType::include) {
        invalid("NonKeyAttributes must be specified when ProjectionType is INCLUDE");  // AWS wording unsure
    }
    if (const json* pt = input::opt_object(j, "ProvisionedThroughput")) {
        idx.read_capacity = input::opt_int(*pt, "ReadCapacityUnits").value_or(0);
        idx.write_capacity = input::opt_int(*pt, "WriteCapacityUnits").value_or(0);
    }
    return idx;
}

void check_tags(input::Violations& v, const json& tags) {
    for (std::size_t i = 0; i < tags.size(); ++i) {
        const json& tag = tags[i];
        if (!tag.is_object()) throw core::AwsError::serialization("Unexpected value in Tags");
        auto k = input::opt_string(tag, "Key");
        auto val = input::opt_string(tag, "Value");
        std::string at = fmt::format("tags.{}.member.", i + 1);
        // The botocore model's TagKeyString (1..128) and TagValueString (0..256).
        if (!k) v.add_null(at + "key");
        else if (k->empty()) v.add(*k, at + "key", "Member must have length greater than or equal to 1");
        else if (k->size() > 128) v.add(*k, at + "key", "Member must have length less than or equal to 128");
        if (!val) v.add_null(at + "value");
        else if (val->size() > 256) v.add(*val, at + "value", "Member must have length less than or equal to 256");
        // DynamoDB's tag restrictions: letters, numbers, spaces and + - = . _ : / @. AWS's
        // wording for other characters is not documented.
        auto allowed = [](const std::string& s) {
            for (unsigned char c : s)
                if (c < 0x80 && !std::isalnum(c) && std::string_view(" +-=._:/@").find(static_cast<char>(c)) == std::string_view::npos)
                    return false;
            return true;
        };
        if (v.empty() && ((k && !allowed(*k)) || (val && !allowed(*val))))
            invalid("Tag keys and values may only contain letters, numbers, spaces and the characters + - = . _ : / @");
    }
}

TableDef parse_table_spec(const json& in) {
    TableDef t;
    input::Violations v;
    auto name = input::opt_string(in, "TableName");
    if (name) name = input::table_name_from(*name);
    input::check_table_name(v, name, "tableName");
    const json* ks = input::opt_array(in, "KeySchema");
    if (!ks) v.add_null("keySchema");
    const json* defs_json = input::opt_array(in, "AttributeDefinitions");
    if (!defs_json) v.add_null("attributeDefinitions");
    auto billing = input::opt_string(in, "BillingMode");
    if (billing && *billing != "PROVISIONED" && *billing != "PAY_PER_REQUEST")
        v.add(*billing, "billingMode", "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]");
    auto table_class = input::opt_string(in, "TableClass");
    if (table_class && *table_class != "STANDARD" && *table_class != "STANDARD_INFREQUENT_ACCESS")
        v.add(*table_class, "tableClass", "Member must satisfy enum value set: [STANDARD, STANDARD_INFREQUENT_ACCESS]");
    if (ks) check_key_schema_members(v, *ks, "keySchema");
    t.attribute_definitions = parse_attribute_definitions(defs_json, &v);
    if (const json* tags = input::opt_array(in, "Tags")) check_tags(v, *tags);
    v.throw_if_any();

    t.name = *name;
    t.key = parse_key_schema(*ks, t.attribute_definitions, "keySchema");
    t.table_class = table_class.value_or("STANDARD");
    t.deletion_protection = input::opt_bool(in, "DeletionProtectionEnabled").value_or(false);

    // Billing: PROVISIONED (AWS's default) needs throughput; PAY_PER_REQUEST forbids it.
    const json* pt = input::opt_object(in, "ProvisionedThroughput");
    t.pay_per_request = billing && *billing == "PAY_PER_REQUEST";
    if (t.pay_per_request) {
        if (pt) invalid("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
    } else {
        if (!pt) throw core::AwsError::validation("No provisioned throughput specified for the table");
        auto r = input::opt_int(*pt, "ReadCapacityUnits");
        auto w = input::opt_int(*pt, "WriteCapacityUnits");
        input::Violations pv;
        if (!r) pv.add_null("provisionedThroughput.readCapacityUnits");
        else if (*r < 1) pv.add(std::to_string(*r), "provisionedThroughput.readCapacityUnits", "Member must have value greater than or equal to 1");
        if (!w) pv.add_null("provisionedThroughput.writeCapacityUnits");
        else if (*w < 1) pv.add(std::to_string(*w), "provisionedThroughput.writeCapacityUnits", "Member must have value greater than or equal to 1");
        pv.throw_if_any();
        t.read_capacity = *r;
        t.write_capacity = *w;
    }

    std::set<std::string> index_names;
    if (const json* gsis = input::opt_array(in, "GlobalSecondaryIndexes")) {
        if (gsis->size() > 20) invalid("GlobalSecondaryIndex count exceeds the per-table limit of 20");
        for (auto& g : *gsis) {
            IndexDef idx = parse_index(g, true, t.attribute_definitions, static_cast<std::size_t>(&g - &(*gsis)[0]) + 1);
            if (!t.pay_per_request && idx.read_capacity == 0)
                invalid("ProvisionedThroughput should not be empty for index: " + idx.name);  // AWS wording unsure
            if (!index_names.insert(idx.name).second) invalid("Duplicate index name: " + idx.name);
            t.indexes.push_back(std::move(idx));
        }
    }
    if (const json* lsis = input::opt_array(in, "LocalSecondaryIndexes")) {
        if (!t.key.range) invalid("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex");
        if (lsis->size() > 5) invalid("LocalSecondaryIndex count exceeds the per-table limit of 5");
        for (auto& l : *lsis) {
            IndexDef idx = parse_index(l, false, t.attribute_definitions, static_cast<std::size_t>(&l - &(*lsis)[0]) + 1);
            if (idx.key.hash.name != t.key.hash.name)
                invalid("Index KeySchema does not have the same leading hash key as table KeySchema for index: " + idx.name +
                        ". index hash key: " + idx.key.hash.name + ", table hash key: " + t.key.hash.name);
            if (!idx.key.range) invalid("Index KeySchema does not have a range key for index: " + idx.name);
            if (!index_names.insert(idx.name).second) invalid("Duplicate index name: " + idx.name);
            t.indexes.push_back(std::move(idx));
        }
    }
    // Every attribute definition must be used by a key of the table or an index.
    for (auto& d : t.attribute_definitions) {
        if (!t.key_attribute_type(d.name))
            invalid("Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions");
    }
    if (const json* tags = input::opt_array(in, "Tags")) {
        for (auto& tag : *tags) t.tags.emplace_back(*input::opt_string(tag, "Key"), *input::opt_string(tag, "Value"));
        // AWS allows 50 tags per resource; its wording at creation is not documented.
        if (t.tags.size() > 50) invalid("Too many tags");
    }
    if (const json* ss = input::opt_object(in, "StreamSpecification")) {
        bool enabled = input::opt_bool(*ss, "StreamEnabled").value_or(false);
        auto view = input::opt_string(*ss, "StreamViewType");
        if (enabled && !view) invalid("You must specify a StreamViewType when enabling a stream");  // AWS wording unsure
        t.stream_enabled = enabled;
        t.stream_view_type = view.value_or("");
    }
    return t;
}

}  // namespace stratus::dynamo

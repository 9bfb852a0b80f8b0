#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/legacy.hpp"
#include "dynamo/ops/ops.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

namespace {

// GetItem's answer for the whole item, no capacity asked: the stored bytes (if the item
// exists) written straight as JSON, no item built.
std::string whole_item_answer(std::optional<std::string_view> bytes) {
    std::string out = "{";
    if (bytes) {
        out.reserve(bytes->size() * 2 + 16);
        out += "\"Item\":";
        append_encoded_item_json(out, *bytes);
    }
    out += '}';
    return out;
}

// The answer as a JSON tree or as response text; Item written straight (no tree) in text.
template <bool Text>
auto get_item_as(Context& ctx, const json& in) {
    input::require_object(in);
    check_members(in, {"TableName", "Key", "ReturnConsumedCapacity"});
    std::string table_name = parse_table_name(in);
    const json& key_json = require_member(in, "Key", "key");
    bool consistent = input::opt_bool(in, "ConsistentRead").value_or(false);
    CapacityMode capacity = parse_capacity_mode(in);
    // Legacy AttributesToGet becomes a ProjectionExpression.
    LegacyProjection legacy = legacy_projection(in);
    auto proj_text = input::opt_string(in, "ProjectionExpression");
    expr::Context ec = expression_context(legacy.in ? *legacy.in : in, proj_text.has_value() || legacy.in,
                                          "ProjectionExpression is null");
    expr::Projection projection;
    if (legacy.in) projection = ec.projection(legacy.expression);
    else if (proj_text) projection = ec.projection(*proj_text);
    ec.check_unused();

    return ctx.store.env().read([&](lmdb::ReadTxn& txn) {
        auto t_ref = require_table_ref(ctx, txn, table_name);
        const TableDef& t = *t_ref;
        Item key = parse_key(key_json, t);
        if constexpr (Text) {
            // The common case: the whole item, no capacity asked.
            if (projection.empty() && capacity == CapacityMode::none)
                return whole_item_answer(ctx.store.get_encoded(txn, t, key));
        }
        auto item = ctx.store.get(txn, t, key);
        json out = json::object();
        add_capacity(out, capacity, t, read_units(item ? item_size(*item) : 0, consistent));
        if constexpr (Text) {
            std::string body = "{";
            if (item) {
                body += "\"Item\":";
                append_item_json(body, projection.empty() ? *item : projection.apply(*item));
            }
            if (!out.empty()) {
                std::string extras = out.dump(-1, ' ', false, json::error_handler_t::replace);
                if (item) body += ',';
                body.append(extras, 1, extras.size() - 2);
            }
            body += '}';
            return body;
        } else {
            if (item) out["Item"] = item_to_json(projection.empty() ? *item : projection.apply(*item));
            return out;
        }
    });
}

}  // namespace

json get_item(Context& ctx, const json& in) { return get_item_as<false>(ctx, in); }

std::string get_item_text(Context& ctx, const json& in) { return get_item_as<true>(ctx, in); }

namespace {

struct KeyPart {
    std::string_view name;
    bool number = false;
    std::string_view text;
};

// {"S": "..."} or {"N": "..."}, nothing else.
bool key_part(simdjson::dom::element e, KeyPart& part) {
    simdjson::dom::object v;
    if (e.get_object().get(v) != simdjson::SUCCESS || v.size() != 1) return false;
    auto m = *v.begin();
    if (m.key != "S" && m.key != "N") return false;
    part.number = m.key == "N";
    return m.value.get_string().get(part.text) == simdjson::SUCCESS;
}

}  // namespace

std::optional<std::string> get_item_fast(Context& ctx, std::string_view body) {
    if (body.size() > 8192) return std::nullopt;
    thread_local simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(body.data(), body.size()).get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;
    std::string_view table_name;
    simdjson::dom::object key_obj;
    bool have_table = false, have_key = false, have_consistent = false, have_capacity = false;
    for (auto field : obj) {
        if (field.key == "TableName" && !have_table) {
            if (field.value.get_string().get(table_name) != simdjson::SUCCESS) return std::nullopt;
            have_table = true;
        } else if (field.key == "Key" && !have_key) {
            if (field.value.get_object().get(key_obj) != simdjson::SUCCESS) return std::nullopt;
            have_key = true;
        } else if (field.key == "ConsistentRead" && !have_consistent) {
            if (!field.value.is_bool()) return std::nullopt;
            have_consistent = true;
        } else if (field.key == "ReturnConsumedCapacity" && !have_capacity) {
            std::string_view mode;
            if (field.value.get_string().get(mode) != simdjson::SUCCESS || mode != "NONE") return std::nullopt;
            have_capacity = true;
        } else {
            return std::nullopt;  // anything else, or a member given twice
        }
    }
    if (!have_table || !have_key || !plain_table_name(table_name)) return std::nullopt;
    KeyPart parts[2];
    std::size_t n = 0;
    for (auto field : key_obj) {
        if (n == 2) return std::nullopt;
        parts[n].name = field.key;
        if (!key_part(field.value, parts[n])) return std::nullopt;
        ++n;
    }
    if (n == 2 && parts[0].name == parts[1].name) return std::nullopt;
    try {
        return ctx.store.env().read([&](lmdb::ReadTxn& txn) -> std::optional<std::string> {
            auto t = ctx.store.table(txn, table_name);
            if (!t) return std::nullopt;
            // Exactly the schema's attributes with the schema's types (validate_key's rule),
            // the key built from them with no Item in between. An empty or long string key
            // goes to the general path, which words its error.
            if (n != (t->key.range ? 2u : 1u)) return std::nullopt;
            const KeyPart* hash = nullptr;
            const KeyPart* range = nullptr;
            for (std::size_t i = 0; i < n; ++i) {
                if (parts[i].name == t->key.hash.name) hash = &parts[i];
                else if (t->key.range && parts[i].name == t->key.range->name) range = &parts[i];
            }
            if (!hash || (t->key.range && !range)) return std::nullopt;
            auto value = [](const KeyPart& p, const KeyElement& k) -> std::optional<AttributeValue> {
                if (p.number) {
                    if (k.type != Type::N) return std::nullopt;
                    return AttributeValue::number(Number::parse(p.text));
                }
                if (k.type != Type::S || p.text.empty() || p.text.size() > 1024) return std::nullopt;
                return AttributeValue::string(std::string(p.text));
            };
            auto hash_value = value(*hash, t->key.hash);
            if (!hash_value) return std::nullopt;
            std::optional<AttributeValue> range_value;
            if (range && !(range_value = value(*range, *t->key.range))) return std::nullopt;
            return whole_item_answer(
                ctx.store.get_encoded(txn, *t, *hash_value, range_value ? &*range_value : nullptr));
        });
    } catch (const core::AwsError&) {
        return std::nullopt;  // a bad number, a key not matching the schema: get_item_text words it
    }
}

}  // namespace stratus::dynamo

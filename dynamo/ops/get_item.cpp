#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/legacy.hpp"
#include "dynamo/ops/ops.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

namespace {

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
            // The common case, the whole item and no capacity asked: its stored bytes
            // written straight as JSON, no item built.
            if (projection.empty() && capacity == CapacityMode::none) {
                std::string body = "{";
                if (auto bytes = ctx.store.get_encoded(txn, t, key)) {
                    body.reserve(bytes->size() * 2 + 16);
                    body += "\"Item\":";
                    append_encoded_item_json(body, *bytes);
                }
                body += '}';
                return body;
            }
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

}  // namespace stratus::dynamo

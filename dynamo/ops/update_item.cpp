#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/legacy.hpp"
#include "dynamo/ops/ops.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

json update_item(Context& ctx, const json& in) {
    input::require_object(in);
    check_members(in, {"TableName", "Key", "ConditionalOperator", "ReturnValues", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ReturnValuesOnConditionCheckFailure"});
    std::string table_name = parse_table_name(in);
    const json& key_json = require_member(in, "Key", "key");
    std::string return_values = parse_return_values(in, {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"});
    bool return_old_on_failure = parse_return_old_on_failure(in);
    CapacityMode capacity = parse_capacity_mode(in);
    auto collection_metrics = input::opt_string(in, "ReturnItemCollectionMetrics").value_or("NONE");

    // Legacy AttributeUpdates / Expected are translated into expressions (legacy.hpp); the
    // two styles cannot be mixed.
    LegacyUpdate legacy = legacy_update(in);
    auto update_text = input::opt_string(in, "UpdateExpression");
    auto cond_text = input::opt_string(in, "ConditionExpression");
    const json& src = legacy.in ? *legacy.in : in;
    bool uses = legacy.in || update_text || cond_text;
    expr::Context ec = expression_context(src, uses, "UpdateExpression and ConditionExpression are null");
    expr::Update update;
    expr::Condition cond;
    if (legacy.in) {
        if (!legacy.update.empty()) update = ec.update(legacy.update);
        if (!legacy.condition.empty()) cond = ec.condition(legacy.condition);
    } else {
        if (update_text) update = ec.update(*update_text);
        if (cond_text) cond = ec.condition(*cond_text);
    }
    ec.check_unused();

    return ctx.store.env().write([&](lmdb::WriteTxn& txn) {
        auto t_ref = require_table_ref(ctx, txn, table_name);
        const TableDef& t = *t_ref;
        Item key = parse_key(key_json, t);
        for (auto& name : update.attribute_names())
            if (key.count(name))
                throw core::AwsError::validation(fmt::format(
                    "One or more parameter values were invalid: Cannot update attribute {}. This attribute is part of the key",
                    name));
        auto old = ctx.store.get(txn, t, key);
        if (!cond.empty() && !cond.evaluate(old.value_or(Item{}))) condition_failed(old, return_old_on_failure);
        json out = json::object();
        // An update that only REMOVEs or DELETEs leaves a missing item missing (and
        // returns no attributes), as DynamoDB does.
        if (!old && !update.empty() && !update.creates()) {
            (void)update.apply(key);  // its errors still count
            add_capacity(out, capacity, t, write_units(0));
            return out;
        }
        // The item is created if absent: its key plus the update's effects.
        Item base = old.value_or(key);
        Item next = update.empty() ? base : update.apply(base).item;
        std::size_t next_size = validate_item(next, t, ItemSource::update);
        ctx.store.put(txn, t, next, old);
        if (return_values == "ALL_OLD" && old) out["Attributes"] = item_to_json(*old);
        if (return_values == "ALL_NEW") out["Attributes"] = item_to_json(next);
        if (return_values == "UPDATED_OLD" && old && !update.empty()) {
            Item part = update.updated_paths().apply(*old);
            if (!part.empty()) out["Attributes"] = item_to_json(part);
        }
        if (return_values == "UPDATED_NEW" && !update.empty()) {
            Item part = update.updated_paths().apply(next);
            if (!part.empty()) out["Attributes"] = item_to_json(part);
        }
        std::size_t bytes = std::max(next_size, old ? item_size(*old) : 0);
        add_capacity(out, capacity, t, write_units(bytes), index_write_units(t, old, next));
        add_collection_metrics(out, collection_metrics, t, key);
        return out;
    });
}

}  // namespace stratus::dynamo

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/legacy.hpp"
#include "dynamo/ops/ops.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

json delete_item(Context& ctx, const json& in) {
    input::require_object(in);
    check_members(in, {"TableName", "Key", "ConditionalOperator", "ReturnValues", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ReturnValuesOnConditionCheckFailure"});
    std::string table_name = parse_table_name(in);
    const json& key_json = require_member(in, "Key", "key");
    std::string return_values = parse_return_values(in, {"NONE", "ALL_OLD"});
    bool return_old_on_failure = parse_return_old_on_failure(in);
    CapacityMode capacity = parse_capacity_mode(in);
    auto collection_metrics = input::opt_string(in, "ReturnItemCollectionMetrics").value_or("NONE");
    expr::Condition cond = parse_write_condition(in);

    return ctx.store.env().write([&](lmdb::WriteTxn& txn) {
        auto t_ref = require_table_ref(ctx, txn, table_name);
        const TableDef& t = *t_ref;
        Item key = parse_key(key_json, t);
        auto old = ctx.store.get(txn, t, key);
        if (!cond.empty() && !cond.evaluate(old.value_or(Item{}))) condition_failed(old, return_old_on_failure);
        if (old) ctx.store.erase(txn, t, *old);
        json out = json::object();
        if (return_values == "ALL_OLD" && old) out["Attributes"] = item_to_json(*old);
        add_capacity(out, capacity, t, write_units(old ? item_size(*old) : 0), index_write_units(t, old, std::nullopt));
        add_collection_metrics(out, collection_metrics, t, key);
        return out;
    });
}

}  // namespace stratus::dynamo

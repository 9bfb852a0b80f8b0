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

// A PutItem request, parsed and validated as far as it can be without the table.
struct PutInput {
    std::string table_name;
    Item item;
    std::string return_values = "NONE";
    bool return_old_on_failure = false;
    CapacityMode capacity = CapacityMode::none;
    std::string collection_metrics = "NONE";
    expr::Condition cond;
};

json put_parsed(Context& ctx, const PutInput& in) {
    return ctx.store.env().write([&](lmdb::WriteTxn& txn) {
        auto t_ref = require_table_ref(ctx, txn, in.table_name);
        const TableDef& t = *t_ref;
        std::size_t size = validate_item(in.item, t);
        auto old = ctx.store.get(txn, t, key_of(in.item, t.key));
        if (!in.cond.empty() && !in.cond.evaluate(old.value_or(Item{}))) condition_failed(old, in.return_old_on_failure);
        ctx.store.put(txn, t, in.item, old);
        json out = json::object();
        if (in.return_values == "ALL_OLD" && old) out["Attributes"] = item_to_json(*old);
        std::size_t bytes = std::max(size, old ? item_size(*old) : 0);
        add_capacity(out, in.capacity, t, write_units(bytes), index_write_units(t, old, in.item));
        add_collection_metrics(out, in.collection_metrics, t, in.item);
        return out;
    });
}

// {"S": "..."}, {"N": "..."}, {"BOOL": b} or {"NULL": true}, nothing else.
bool simple_value(simdjson::dom::element e, AttributeValue& out) {
    simdjson::dom::object v;
    if (e.get_object().get(v) != simdjson::SUCCESS || v.size() != 1) return false;
    auto m = *v.begin();
    std::string_view text;
    bool flag;
    if (m.key == "S" && m.value.get_string().get(text) == simdjson::SUCCESS) {
        out = AttributeValue::string(std::string(text));
    } else if (m.key == "N" && m.value.get_string().get(text) == simdjson::SUCCESS) {
        out = AttributeValue::number(Number::parse(text));  // a bad number throws: the general path words it
    } else if (m.key == "BOOL" && m.value.get_bool().get(flag) == simdjson::SUCCESS) {
        out = AttributeValue::boolean_value(flag);
    } else if (m.key == "NULL" && m.value.get_bool().get(flag) == simdjson::SUCCESS && flag) {
        out = AttributeValue::null();
    } else {
        return false;
    }
    return true;
}

std::optional<PutInput> put_input_fast(std::string_view body) {
    if (body.size() > 64 * 1024) return std::nullopt;
    thread_local simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(body.data(), body.size()).get_object().get(obj) != simdjson::SUCCESS) return std::nullopt;
    PutInput in;
    bool have_table = false, have_item = false, have_values = false, have_capacity = false, have_metrics = false;
    for (auto field : obj) {
        std::string_view text;
        if (field.key == "TableName" && !have_table) {
            if (field.value.get_string().get(text) != simdjson::SUCCESS || !plain_table_name(text)) return std::nullopt;
            in.table_name = text;
            have_table = true;
        } else if (field.key == "Item" && !have_item) {
            simdjson::dom::object item;
            if (field.value.get_object().get(item) != simdjson::SUCCESS) return std::nullopt;
            for (auto attr : item) {
                AttributeValue v;
                if (!simple_value(attr.value, v)) return std::nullopt;
                if (!in.item.emplace(std::string(attr.key), std::move(v)).second) return std::nullopt;  // a name twice
            }
            have_item = true;
        } else if ((field.key == "ReturnValues" && !std::exchange(have_values, true)) ||
                   (field.key == "ReturnConsumedCapacity" && !std::exchange(have_capacity, true)) ||
                   (field.key == "ReturnItemCollectionMetrics" && !std::exchange(have_metrics, true))) {
            if (field.value.get_string().get(text) != simdjson::SUCCESS || text != "NONE") return std::nullopt;
        } else {
            return std::nullopt;  // anything else, or a member given twice
        }
    }
    if (!have_table || !have_item) return std::nullopt;
    return in;
}

}  // namespace

json put_item(Context& ctx, const json& in) {
    input::require_object(in);
    check_members(in, {"TableName", "Item", "ReturnValues", "ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "ConditionalOperator", "ReturnValuesOnConditionCheckFailure"});
    PutInput put;
    put.table_name = parse_table_name(in);
    const json& item_json = require_member(in, "Item", "item");
    put.return_values = parse_return_values(in, {"NONE", "ALL_OLD"});
    put.return_old_on_failure = parse_return_old_on_failure(in);
    put.capacity = parse_capacity_mode(in);
    put.collection_metrics = input::opt_string(in, "ReturnItemCollectionMetrics").value_or("NONE");
    put.cond = parse_write_condition(in);
    put.item = item_from_json(item_json);
    return put_parsed(ctx, put);
}

std::function<json(Context&)> put_item_fast(std::string_view body) {
    std::optional<PutInput> in;
    try {
        in = put_input_fast(body);
    } catch (const core::AwsError&) {
        return {};
    }
    if (!in) return {};
    return [in = std::make_shared<const PutInput>(std::move(*in))](Context& ctx) { return put_parsed(ctx, *in); };
}

}  // namespace stratus::dynamo

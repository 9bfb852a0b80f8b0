// ExecuteStatement: one PartiQL statement. SELECT reads as GetItem / Query / Scan;
// INSERT, UPDATE and DELETE run as PutItem / UpdateItem / DeleteItem (partiql.hpp).
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/ops.hpp"
#include "dynamo/ops/partiql.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

json execute_statement(Context& ctx, const json& in) {
    input::require_object(in);
    // The member checks botocore's model makes (and AWS reports together).
    input::Violations v;
    auto limit = input::opt_int(in, "Limit");
    if (limit && *limit < 1) v.add(std::to_string(*limit), "limit", "Member must have value greater than or equal to 1");
    auto token = input::opt_string(in, "NextToken");
    if (token && token->empty()) v.add(*token, "nextToken", "Member must have length greater than or equal to 1");
    if (token && token->size() > 32768) v.add(*token, "nextToken", "Member must have length less than or equal to 32768");
    v.throw_if_any();
    bool consistent = input::opt_bool(in, "ConsistentRead").value_or(false);
    CapacityMode capacity = parse_capacity_mode(in);
    bool return_old_on_failure = parse_return_old_on_failure(in);
    partiql::Statement st = pql::prepare(in, false);

    if (st.kind == partiql::Kind::select) {
        pql::ReadOptions o;
        o.consistent = consistent;
        if (limit) o.limit = static_cast<std::size_t>(*limit);
        o.capacity = capacity;
        o.next_token = token;
        o.statement_text = input::opt_string(in, "Statement").value_or("");
        return ctx.store.env().read([&](lmdb::ReadTxn& txn) { return pql::select(ctx, txn, st, o); });
    }

    TableDef table = pql::statement_table(ctx, st);
    pql::WriteRequest w = pql::translate_write(st, table, false);
    if (capacity != CapacityMode::none) w.body["ReturnConsumedCapacity"] = in["ReturnConsumedCapacity"];
    if (return_old_on_failure) w.body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD";
    json out;
    try {
        if (st.kind == partiql::Kind::insert) out = put_item(ctx, w.body);
        else if (st.kind == partiql::Kind::update) out = update_item(ctx, w.body);
        else out = delete_item(ctx, w.body);
    } catch (const core::AwsError& e) {
        if (w.insert && e.code() == "ConditionalCheckFailedException") pql::duplicate_item();
        throw;
    }
    json result = {{"Items", json::array()}};
    if (out.contains("Attributes")) result["Items"].push_back(out["Attributes"]);
    if (out.contains("ConsumedCapacity")) result["ConsumedCapacity"] = out["ConsumedCapacity"];
    return result;
}

}  // namespace stratus::dynamo

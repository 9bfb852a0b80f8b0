#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/ops.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

json transact_get_items(Context& ctx, const json& in) {
    input::require_object(in);
    const json* items = input::opt_array(in, "TransactItems");
    input::Violations v;
    if (!items) v.add_null("transactItems");
    else if (items->empty()) v.add("[]", "transactItems", "Member must have length greater than or equal to 1");
    else if (items->size() > 100)
        v.add("[...]", "transactItems", "Member must have length less than or equal to 100");
    v.throw_if_any();
    CapacityMode capacity = parse_capacity_mode(in);
    struct Get {
        std::string table;
        const json* key;
        expr::Projection projection;
    };
    std::vector<Get> gets;
    for (auto& ti : *items) {
        const json* get = input::opt_object(ti, "Get");
        if (!get) throw core::AwsError::validation("1 validation error detected: Value null at 'transactItems.member.get' "
                                                   "failed to satisfy constraint: Member must not be null");
        Get g;
        g.table = parse_table_name(*get);
        g.key = input::opt_object(*get, "Key");
        if (!g.key) throw core::AwsError::validation("1 validation error detected: Value null at 'transactItems.member.get.key' "
                                                     "failed to satisfy constraint: Member must not be null");
        auto proj = input::opt_string(*get, "ProjectionExpression");
        expr::Context ec = expression_context(*get, proj.has_value(), "ProjectionExpression is null");
        if (proj) g.projection = ec.projection(*proj);
        ec.check_unused();
        gets.push_back(std::move(g));
    }
    // One read transaction: every item from the same snapshot.
    return ctx.store.env().read([&](lmdb::ReadTxn& txn) {
        json responses = json::array();
        std::map<std::string, std::pair<TableDef, double>> tables;
        std::set<std::string> seen;
        // A key that fails validation cancels the transaction with a ValidationError at
        // its position (as AWS does), after every key was looked at.
        json reasons = json::array();
        bool cancelled = false;
        std::vector<Item> keys;
        for (auto& g : gets) {
            auto [it, fresh] = tables.try_emplace(g.table);
            if (fresh) it->second.first = require_table(ctx, txn, g.table);
            try {
                keys.push_back(parse_key(*g.key, it->second.first));
                reasons.push_back({{"Code", "None"}});
            } catch (const core::AwsError& e) {
                if (e.code() != "ValidationException") throw;
                keys.emplace_back();
                reasons.push_back({{"Code", "ValidationError"}, {"Message", e.message()}});
                cancelled = true;
            }
        }
        if (cancelled) {
            std::string list;
            for (auto& r : reasons) list += (list.empty() ? "" : ", ") + r["Code"].get<std::string>();
            throw core::AwsError("TransactionCanceledException",
                                 "Transaction cancelled, please refer cancellation reasons for specific reasons [" + list + "]",
                                 400)
                .with_json(json{{"CancellationReasons", reasons}}.dump());
        }
        for (std::size_t i = 0; i < gets.size(); ++i) {
            auto& g = gets[i];
            auto it = tables.find(g.table);
            const TableDef& t = it->second.first;
            Item& key = keys[i];
            if (!seen.insert(t.name + '\0' + ctx.store.item_key(t, key)).second)
                throw core::AwsError::validation("Transaction request cannot include multiple operations on one item");
            auto item = ctx.store.get(txn, t, key);
            it->second.second += 2 * read_units(item ? item_size(*item) : 0, true);
            json r = json::object();
            if (item) r["Item"] = item_to_json(g.projection.empty() ? *item : g.projection.apply(*item));
            responses.push_back(std::move(r));
        }
        json out = {{"Responses", responses}};
        if (capacity != CapacityMode::none) {
            json list = json::array();
            for (auto& [name, tu] : tables) list.push_back(capacity_json(capacity, tu.first, tu.second));
            out["ConsumedCapacity"] = list;
        }
        return out;
    });
}

}  // namespace stratus::dynamo

// ExecuteTransaction: up to 100 PartiQL statements applied all or nothing. SELECTs read
// one item each from one snapshot (as TransactGetItems); INSERT / UPDATE / DELETE and
// EXISTS(SELECT ...) become one TransactWriteItems request (Put, Update, Delete,
// ConditionCheck) and run through it, ClientRequestToken included.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/ops.hpp"
#include "dynamo/ops/partiql.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

json execute_transaction(Context& ctx, const json& in) {
    input::require_object(in);
    const json* statements = input::opt_array(in, "TransactStatements");
    input::Violations v;
    if (!statements) v.add_null("transactStatements");
    else if (statements->empty()) v.add("[]", "transactStatements", "Member must have length greater than or equal to 1");
    else if (statements->size() > 100)
        v.add("[...]", "transactStatements", "Member must have length less than or equal to 100");
    auto token = input::opt_string(in, "ClientRequestToken");
    if (token && token->empty()) v.add(*token, "clientRequestToken", "Member must have length greater than or equal to 1");
    if (token && token->size() > 36) v.add(*token, "clientRequestToken", "Member must have length less than or equal to 36");
    v.throw_if_any();
    CapacityMode capacity = parse_capacity_mode(in);

    std::vector<partiql::Statement> parsed;
    bool reads = false, writes = false;
    for (std::size_t i = 0; i < statements->size(); ++i) {
        parsed.push_back(pql::prepare((*statements)[i], true, "transactStatements." + std::to_string(i + 1) + ".member."));
        (parsed.back().kind == partiql::Kind::select ? reads : writes) = true;
    }
    // AWS documents that a transaction is all reads or all writes (EXISTS counts as a
    // write's condition); its message is not documented.
    if (reads && writes)
        throw core::AwsError::validation("ExecuteTransaction can not contain both read and write statements");

    if (reads) {
        return ctx.store.env().read([&](lmdb::ReadTxn& txn) {
            json responses = json::array();
            std::map<std::string, double> units;
            std::set<std::string> seen;
            for (auto& st : parsed) {
                double u = 0;
                std::string key;
                auto item = pql::select_one(ctx, txn, st, true, u,
                                            "Select statements within ExecuteTransaction must specify the primary key "
                                            "in the where clause.",  // AWS wording unknown
                                            &key);
                if (!key.empty() && !seen.insert(key).second)
                    throw core::AwsError::validation("Transaction request cannot include multiple operations on one item");
                units[st.table] += 2 * u;  // transactional reads cost twice
                json r = json::object();
                if (item) r["Item"] = item_to_json(*item);
                responses.push_back(std::move(r));
            }
            json out = {{"Responses", std::move(responses)}};
            if (capacity != CapacityMode::none) {
                json list = json::array();
                for (auto& [name, u] : units) list.push_back(capacity_json(capacity, require_table(ctx, txn, name), u));
                out["ConsumedCapacity"] = list;
            }
            return out;
        });
    }

    std::map<std::string, TableDef> tables;
    json items = json::array();
    std::vector<bool> inserts;
    for (std::size_t i = 0; i < parsed.size(); ++i) {
        auto& st = parsed[i];
        auto it = tables.find(st.table);
        if (it == tables.end()) it = tables.emplace(st.table, pql::statement_table(ctx, st)).first;
        pql::WriteRequest w = pql::translate_write(st, it->second, true);
        if (parse_return_old_on_failure((*statements)[i])) w.body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD";
        items.push_back({{w.action, std::move(w.body)}});
        inserts.push_back(w.insert);
    }
    json request = {{"TransactItems", std::move(items)}};
    if (token) request["ClientRequestToken"] = *token;
    if (capacity != CapacityMode::none) request["ReturnConsumedCapacity"] = in["ReturnConsumedCapacity"];
    try {
        return transact_write_items(ctx, request);
    } catch (const core::AwsError& e) {
        if (e.code() != "TransactionCanceledException" || e.json_extra().empty()) throw;
        // An INSERT whose key exists is DuplicateItem, not a failed condition.
        json extra = json::parse(e.json_extra());
        json& reasons = extra["CancellationReasons"];
        std::string codes;
        for (std::size_t i = 0; i < reasons.size(); ++i) {
            if (i < inserts.size() && inserts[i] && reasons[i].value("Code", "") == "ConditionalCheckFailed")
                reasons[i] = {{"Code", "DuplicateItem"}, {"Message", pql::duplicate_item_message}};
            codes += (codes.empty() ? "" : ", ") + reasons[i].value("Code", "None");
        }
        throw core::AwsError("TransactionCanceledException",
                             "Transaction cancelled, please refer cancellation reasons for specific reasons [" + codes + "]",
                             400)
            .with_json(extra.dump());
    }
}

}  // namespace stratus::dynamo

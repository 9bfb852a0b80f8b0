// BatchExecuteStatement: up to 25 PartiQL statements, all reads or all writes, each
// answered on its own (an error is that statement's Error, never the request's). Reads
// must name a full primary key (one item each) and come from one snapshot; writes run
// one by one through PutItem / UpdateItem / DeleteItem, as a batch is not a transaction.
#include <nlohmann/json.hpp>

#include <map>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/ops.hpp"
#include "dynamo/ops/partiql.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

namespace {

// BatchStatementErrorCodeEnum names for the exceptions a statement can meet.
std::string batch_code(const std::string& exception) {
    if (exception == "ConditionalCheckFailedException") return "ConditionalCheckFailed";
    if (exception == "ValidationException" || exception == "SerializationException") return "ValidationError";
    if (exception == "ResourceNotFoundException") return "ResourceNotFound";
    if (exception == "DuplicateItemException") return "DuplicateItem";
    if (exception == "TransactionConflictException") return "TransactionConflict";
    if (exception == "ItemCollectionSizeLimitExceededException") return "ItemCollectionSizeLimitExceeded";
    return "InternalServerError";
}

json error_json(const core::AwsError& e) {
    json err = {{"Code", batch_code(e.code())}, {"Message", e.message()}};
    if (!e.json_extra().empty()) {
        json extra = json::parse(e.json_extra(), nullptr, false);
        if (extra.is_object() && extra.contains("Item")) err["Item"] = extra["Item"];
    }
    return err;
}

struct Entry {
    std::optional<partiql::Statement> st;
    const json* request = nullptr;
    json response = json::object();
};

}  // namespace

json batch_execute_statement(Context& ctx, const json& in) {
    input::require_object(in);
    const json* statements = input::opt_array(in, "Statements");
    input::Violations v;
    if (!statements) v.add_null("statements");
    else if (statements->empty()) v.add("[]", "statements", "Member must have length greater than or equal to 1");
    else if (statements->size() > 25) v.add("[...]", "statements", "Member must have length less than or equal to 25");
    v.throw_if_any();
    CapacityMode capacity = parse_capacity_mode(in);

    std::vector<Entry> entries(statements->size());
    bool reads = false, writes = false;
    for (std::size_t i = 0; i < statements->size(); ++i) {
        Entry& e = entries[i];
        e.request = &(*statements)[i];
        input::require_object(*e.request);
        // Member errors of the request's shape fail the whole request, as AWS validates
        // the input first; a statement that does not parse or bind is that statement's error.
        if (!input::opt_string(*e.request, "Statement")) {
            input::Violations sv;
            sv.add_null("statements." + std::to_string(i + 1) + ".member.statement");
            sv.throw_if_any();
        }
        try {
            e.st = pql::prepare(*e.request, false, "statements." + std::to_string(i + 1) + ".member.");
            (e.st->kind == partiql::Kind::select ? reads : writes) = true;
        } catch (const core::AwsError& err) {
            if (err.message().find("failed to satisfy constraint") != std::string::npos) throw;
            e.response["Error"] = error_json(err);
        }
    }
    // AWS documents that a batch is all reads or all writes; its message is not.
    if (reads && writes)
        throw core::AwsError::validation("BatchExecuteStatement can not contain both read and write statements");

    std::map<std::string, double> units;
    if (reads) {
        ctx.store.env().read([&](lmdb::ReadTxn& txn) {
            for (Entry& e : entries) {
                if (!e.st) continue;
                bool consistent = input::opt_bool(*e.request, "ConsistentRead").value_or(false);
                try {
                    double u = 0;
                    auto item = pql::select_one(ctx, txn, *e.st, consistent, u,
                                                "Select statements within BatchExecuteStatement must specify the "
                                                "primary key in the where clause.");
                    e.response["TableName"] = e.st->table;
                    if (item) e.response["Item"] = item_to_json(*item);
                    units[e.st->table] += u;
                } catch (const core::AwsError& err) {
                    if (err.code() != "ResourceNotFoundException") e.response["TableName"] = e.st->table;
                    e.response["Error"] = error_json(err);
                }
            }
        });
    } else {
        for (Entry& e : entries) {
            if (!e.st) continue;
            pql::WriteRequest w;
            try {
                TableDef table = pql::statement_table(ctx, *e.st);
                e.response["TableName"] = table.name;
                w = pql::translate_write(*e.st, table, false);
                w.body.erase("ReturnValues");  // RETURNING has nowhere to go in a batch answer
                if (capacity != CapacityMode::none) w.body["ReturnConsumedCapacity"] = "TOTAL";
                if (parse_return_old_on_failure(*e.request)) w.body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD";
                json out;
                try {
                    if (e.st->kind == partiql::Kind::insert) out = put_item(ctx, w.body);
                    else if (e.st->kind == partiql::Kind::update) out = update_item(ctx, w.body);
                    else out = delete_item(ctx, w.body);
                } catch (const core::AwsError& err) {
                    if (w.insert && err.code() == "ConditionalCheckFailedException") pql::duplicate_item();
                    throw;
                }
                if (out.contains("ConsumedCapacity"))
                    units[table.name] += out["ConsumedCapacity"]["CapacityUnits"].get<double>();
            } catch (const core::AwsError& err) {
                e.response["Error"] = error_json(err);
            }
        }
    }
    json responses = json::array();
    for (Entry& e : entries) responses.push_back(std::move(e.response));
    json result = {{"Responses", std::move(responses)}};
    if (capacity != CapacityMode::none) {
        json list = json::array();
        for (auto& [name, u] : units) {
            TableDef t;
            t.name = name;
            list.push_back(capacity_json(capacity, t, u));
        }
        result["ConsumedCapacity"] = list;
    }
    return result;
}

}  // namespace stratus::dynamo

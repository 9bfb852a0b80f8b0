#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/ops.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

namespace {
struct WriteRequest {
    std::string table;
    bool put = true;
    Item item;  // the item (put) or the key (delete)
};
}  // namespace

json batch_write_item(Context& ctx, const json& in) {
    input::require_object(in);
    const json* request_items = &require_member(in, "RequestItems", "requestItems");
    CapacityMode capacity = parse_capacity_mode(in);
    std::vector<WriteRequest> writes;
    // The model's constraint on each table's list (1..25 requests) is checked on the whole
    // map, and AWS prints the whole map in its message; more than 25 requests over several
    // tables is the custom check below.
    bool list_out_of_range = false;
    for (auto& [table, list] : request_items->items())
        if (list.is_array() && (list.empty() || list.size() > 25)) list_out_of_range = true;
    if (list_out_of_range) {
        std::string shown = "{";
        bool first_table = true;
        for (auto& [table, list] : request_items->items()) {
            shown += (first_table ? "" : ", ") + table + "=[";
            first_table = false;
            if (list.is_array())
                for (std::size_t i = 0; i < list.size(); ++i)
                    shown += (i ? ", " : "") + input::java_object("WriteRequest", list[i]);
            shown += "]";
        }
        throw core::AwsError::validation(
            "1 validation error detected: Value '" + shown + "}' at 'requestItems' failed to satisfy constraint: "
            "Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have "
            "length greater than or equal to 1]");
    }
    for (auto& [table, list] : request_items->items()) {
        if (!list.is_array()) throw core::AwsError::serialization("Unexpected value for RequestItems");
        for (auto& req : list) {
            if (!req.is_object()) throw core::AwsError::serialization("Unexpected value in RequestItems");
            const json* put = input::opt_object(req, "PutRequest");
            const json* del = input::opt_object(req, "DeleteRequest");
            if ((put != nullptr) == (del != nullptr))
                throw core::AwsError::validation(
                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes");
            WriteRequest w;
            w.table = input::table_name_from(table);
            w.put = put != nullptr;
            const json* body = put ? input::opt_object(*put, "Item") : input::opt_object(*del, "Key");
            if (!body) throw core::AwsError::validation("1 validation error detected: Value null at 'requestItems." + table +
                                                        ".member." + (put ? "putRequest.item" : "deleteRequest.key") +
                                                        "' failed to satisfy constraint: Member must not be null");
            w.item = item_from_json(*body);
            writes.push_back(std::move(w));
        }
    }
    if (writes.size() > 25)
        throw core::AwsError::validation("Too many items requested for the BatchWriteItem call");
    if (writes.empty())
        throw core::AwsError::validation(
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have "
            "length greater than or equal to 1");

    return ctx.store.env().write([&](lmdb::WriteTxn& txn) {
        std::map<std::string, TableDef> tables;
        std::set<std::string> keys;
        std::map<std::string, double> units;
        // Validate every request before writing any: a rejected batch changes nothing.
        for (auto& w : writes) {
            auto [it, fresh] = tables.try_emplace(w.table);
            if (fresh) it->second = require_table(ctx, txn, w.table);
            const TableDef& t = it->second;
            if (w.put) validate_item(w.item, t);
            else validate_key(w.item, t);
            if (!keys.insert(ctx.store.item_key(t, key_of(w.item, t.key))).second)
                throw core::AwsError::validation("Provided list of item keys contains duplicates");
        }
        for (auto& w : writes) {
            const TableDef& t = tables.at(w.table);
            Item key = key_of(w.item, t.key);
            auto old = ctx.store.get(txn, t, key);
            if (w.put) {
                ctx.store.put(txn, t, w.item, old);
                units[t.name] += write_units(std::max(item_size(w.item), old ? item_size(*old) : 0));
            } else if (old) {
                ctx.store.erase(txn, t, *old);
                units[t.name] += write_units(item_size(*old));
            } else {
                units[t.name] += 1;
            }
        }
        json out = {{"UnprocessedItems", json::object()}};
        if (capacity != CapacityMode::none) {
            json list = json::array();
            for (auto& [name, u] : units) list.push_back(capacity_json(capacity, tables.at(name), u));
            out["ConsumedCapacity"] = list;
        }
        return out;
    });
}

}  // namespace stratus::dynamo

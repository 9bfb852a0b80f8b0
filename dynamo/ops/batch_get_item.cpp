#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/legacy.hpp"
#include "dynamo/ops/ops.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

namespace {
constexpr std::size_t max_response_bytes = 16 * 1024 * 1024;  // BatchGetItem's 16 MB

struct TableRequest {
    std::string name;
    const json* original = nullptr;
    std::vector<Item> keys;
    std::vector<const json*> key_json;
    expr::Projection projection;
    bool consistent = false;
};
// A list of keys as the Java front end prints it: [{pk=...AttributeValue@hash}, ...].
std::string key_list(const json& keys) {
    std::string out = "[";
    for (std::size_t i = 0; i < keys.size(); ++i) {
        out += i ? ", {" : "{";
        bool first = true;
        if (keys[i].is_object())
            for (auto& [name, v] : keys[i].items()) {
                out += (first ? "" : ", ") + name + "=" + input::java_object("AttributeValue", v);
                first = false;
            }
        out += "}";
    }
    return out + "]";
}
}  // namespace

json batch_get_item(Context& ctx, const json& in) {
    input::require_object(in);
    const json* request_items = &require_member(in, "RequestItems", "requestItems");
    CapacityMode capacity = parse_capacity_mode(in);
    std::vector<TableRequest> requests;
    std::size_t total = 0;
    input::Violations violations;
    for (auto& [table, spec] : request_items->items()) {
        if (!spec.is_object()) throw core::AwsError::serialization("Unexpected value for RequestItems");
        TableRequest r;
        r.name = input::table_name_from(table);
        r.original = &spec;
        const json* keys = input::opt_array(spec, "Keys");
        // The model's constraints on Keys (1..100 per table), reported as AWS words them;
        // more than 100 keys over several tables is the custom check below.
        std::string member = "requestItems." + table + ".member.keys";
        if (!keys) violations.add_null(member);
        else if (keys->empty()) violations.add("[]", member, "Member must have length greater than or equal to 1");
        else if (keys->size() > 100) violations.add(key_list(*keys), member, "Member must have length less than or equal to 100");
        if (!keys) continue;
        for (auto& k : *keys) {
            if (!k.is_object()) throw core::AwsError::serialization("Unexpected value in Keys");
            r.keys.push_back(item_from_json(k));
            r.key_json.push_back(&k);
        }
        total += r.keys.size();
        r.consistent = input::opt_bool(spec, "ConsistentRead").value_or(false);
        LegacyProjection legacy = legacy_projection(spec);
        auto proj_text = input::opt_string(spec, "ProjectionExpression");
        expr::Context ec = expression_context(legacy.in ? *legacy.in : spec, proj_text || legacy.in,
                                              "ProjectionExpression is null");
        if (legacy.in) r.projection = ec.projection(legacy.expression);
        else if (proj_text) r.projection = ec.projection(*proj_text);
        ec.check_unused();
        requests.push_back(std::move(r));
    }
    if (request_items->empty())
        violations.add("{}", "requestItems", "Member must have length greater than or equal to 1");
    violations.throw_if_any();
    if (total > 100) throw core::AwsError::validation("Too many items requested for the BatchGetItem call");
    if (requests.empty())
        throw core::AwsError::validation(
            "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have "
            "length greater than or equal to 1");

    return ctx.store.env().read([&](lmdb::ReadTxn& txn) {
        std::vector<TableDef> tables;
        for (auto& r : requests) {
            tables.push_back(require_table(ctx, txn, r.name));
            std::set<std::string> seen;
            for (auto& k : r.keys) {
                validate_key(k, tables.back());
                if (!seen.insert(ctx.store.item_key(tables.back(), k)).second)
                    throw core::AwsError::validation("Provided list of item keys contains duplicates");
            }
        }
        json responses = json::object(), unprocessed = json::object(), consumed = json::array();
        std::size_t bytes = 0;
        for (std::size_t i = 0; i < requests.size(); ++i) {
            auto& r = requests[i];
            const TableDef& t = tables[i];
            json items = json::array();
            double units = 0;
            for (std::size_t k = 0; k < r.keys.size(); ++k) {
                if (bytes >= max_response_bytes) {
                    // Past 16 MB the rest comes back as UnprocessedKeys, as DynamoDB does.
                    json& u = unprocessed[r.name];
                    if (u.is_null()) {
                        u = *r.original;
                        u["Keys"] = json::array();
                    }
                    u["Keys"].push_back(*r.key_json[k]);
                    continue;
                }
                auto item = ctx.store.get(txn, t, r.keys[k]);
                units += read_units(item ? item_size(*item) : 0, r.consistent);
                if (!item) continue;
                bytes += item_size(*item);
                items.push_back(item_to_json(r.projection.empty() ? *item : r.projection.apply(*item)));
            }
            responses[r.name] = std::move(items);
            if (capacity != CapacityMode::none) consumed.push_back(capacity_json(capacity, t, units));
        }
        json out = {{"Responses", responses}, {"UnprocessedKeys", unprocessed}};
        if (capacity != CapacityMode::none) out["ConsumedCapacity"] = consumed;
        return out;
    });
}

}  // namespace stratus::dynamo

// CreateTable, DescribeTable, ListTables, DeleteTable and the DescribeTable shape.
// (Grouped: they share the key-schema and index parsing; the item operations have a file each.)
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "core/protocol.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/ops.hpp"
#include "dynamo/ops/table_parse.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

namespace {


json key_schema_json(const KeySchema& k) {
    json j = json::array({{{"AttributeName", k.hash.name}, {"KeyType", "HASH"}}});
    if (k.range) j.push_back({{"AttributeName", k.range->name}, {"KeyType", "RANGE"}});
    return j;
}

json projection_json(const IndexDef& i) {
    json p = {{"ProjectionType", i.projection == ProjectionType::all         ? "ALL"
                                 : i.projection == ProjectionType::keys_only ? "KEYS_ONLY"
                                                                             : "INCLUDE"}};
    if (i.projection == ProjectionType::include) p["NonKeyAttributes"] = i.non_key_attributes;
    return p;
}

json throughput_json(bool pay_per_request, std::int64_t rcu, std::int64_t wcu) {
    return {{"NumberOfDecreasesToday", 0},
            {"ReadCapacityUnits", pay_per_request ? 0 : rcu},
            {"WriteCapacityUnits", pay_per_request ? 0 : wcu}};
}

}  // namespace

TableDef require_table(Context& ctx, const lmdb::Txn& txn, std::string_view name) {
    return *require_table_ref(ctx, txn, name);
}

std::shared_ptr<const TableDef> require_table_ref(Context& ctx, const lmdb::Txn& txn, std::string_view name) {
    auto t = ctx.store.table(txn, name);
    if (!t) throw core::AwsError::resource_not_found("Requested resource not found");
    return t;
}

json describe(Context& ctx, const lmdb::Txn& txn, const TableDef& t, const char* status) {
    Stats s = ctx.store.stats(txn, t.id);
    json attrs = json::array();
    for (auto& a : t.attribute_definitions)
        attrs.push_back({{"AttributeName", a.name}, {"AttributeType", std::string(type_name(a.type))}});
    json d = {
        {"AttributeDefinitions", attrs},
        {"TableName", t.name},
        {"KeySchema", key_schema_json(t.key)},
        {"TableStatus", status},
        {"CreationDateTime", t.created},
        {"ProvisionedThroughput", throughput_json(t.pay_per_request, t.read_capacity, t.write_capacity)},
        {"TableSizeBytes", s.bytes},
        {"ItemCount", s.count},
        {"TableArn", t.arn},
        {"TableId", t.table_id},
        {"DeletionProtectionEnabled", t.deletion_protection},
    };
    if (t.pay_per_request)
        d["BillingModeSummary"] = {{"BillingMode", "PAY_PER_REQUEST"},
                                   {"LastUpdateToPayPerRequestDateTime", t.billing_changed}};
    if (t.table_class != "STANDARD")
        d["TableClassSummary"] = {{"TableClass", t.table_class}};
    json gsis = json::array(), lsis = json::array();
    for (auto& i : t.indexes) {
        Stats is = ctx.store.stats(txn, i.id);
        json j = {{"IndexName", i.name},
                  {"KeySchema", key_schema_json(i.key)},
                  {"Projection", projection_json(i)},
                  {"IndexSizeBytes", is.bytes},
                  {"ItemCount", is.count},
                  {"IndexArn", i.arn}};
        if (i.global) {
            j["IndexStatus"] = i.backfilling ? "CREATING" : "ACTIVE";
            if (i.backfilling) j["Backfilling"] = true;
            j["ProvisionedThroughput"] = throughput_json(t.pay_per_request, i.read_capacity, i.write_capacity);
            gsis.push_back(std::move(j));
        } else {
            lsis.push_back(std::move(j));
        }
    }
    if (!gsis.empty()) d["GlobalSecondaryIndexes"] = gsis;
    if (!lsis.empty()) d["LocalSecondaryIndexes"] = lsis;
    if (t.stream_enabled)
        d["StreamSpecification"] = {{"StreamEnabled", true}, {"StreamViewType", t.stream_view_type}};
    // The latest stream stays named after it is disabled (it is readable for 24 hours).
    if (!t.stream_label.empty()) {
        d["LatestStreamLabel"] = t.stream_label;
        d["LatestStreamArn"] = t.arn + "/stream/" + t.stream_label;
    }
    return d;
}

json create_table(Context& ctx, const json& in) {
    input::require_object(in);
    TableDef t = parse_table_spec(in);
    double now = ctx.now();
    t.created = now;
    t.billing_changed = now;
    t.table_id = core::random_uuid();
    t.arn = fmt::format("arn:aws:dynamodb:{}:{}:table/{}", ctx.region, ctx.account, t.name);
    for (auto& i : t.indexes) i.arn = t.arn + "/index/" + i.name;
    return ctx.store.env().write([&](lmdb::WriteTxn& txn) {
        if (ctx.store.find_table(txn, t.name))
            throw core::AwsError("ResourceInUseException", "Table already exists: " + t.name, 400);
        t.id = ctx.store.allocate_id(txn);
        for (auto& i : t.indexes) i.id = ctx.store.allocate_id(txn);
        if (t.stream_enabled)
            ctx.store.streams().create(txn, t, *streams::parse_view_type(t.stream_view_type), ctx.store.allocate_id(txn));
        ctx.store.save_table(txn, t);
        // Tables are ACTIVE at once (waiters in the SDKs and CLI see it on the first poll);
        // CreateTable itself reports CREATING, as AWS does.
        return json{{"TableDescription", describe(ctx, txn, t, "CREATING")}};
    });
}

json describe_table(Context& ctx, const json& in) {
    input::require_object(in);
    std::optional<std::string> name = parse_table_name(in);
    return ctx.store.env().read([&](lmdb::ReadTxn& txn) {
        TableDef t = require_table(ctx, txn, *name);
        return json{{"Table", describe(ctx, txn, t)}};
    });
}

json list_tables(Context& ctx, const json& in) {
    input::require_object(in);
    input::Violations v;
    auto start = input::opt_string(in, "ExclusiveStartTableName");
    input::check_table_name(v, start, "exclusiveStartTableName", false);
    auto limit = input::opt_int(in, "Limit");
    if (limit && *limit < 1)
        v.add(std::to_string(*limit), "limit", "Member must have value greater than or equal to 1");
    if (limit && *limit > 100)
        v.add(std::to_string(*limit), "limit", "Member must have value less than or equal to 100");
    v.throw_if_any();
    std::size_t max = limit ? static_cast<std::size_t>(*limit) : 100;
    auto names = ctx.store.env().read([&](lmdb::ReadTxn& txn) { return ctx.store.table_names(txn); });
    json out_names = json::array();
    auto it = start ? std::upper_bound(names.begin(), names.end(), *start) : names.begin();
    for (; it != names.end() && out_names.size() < max; ++it) out_names.push_back(*it);
    json out = {{"TableNames", out_names}};
    if (it != names.end() && !out_names.empty()) out["LastEvaluatedTableName"] = out_names.back();
    return out;
}

json delete_table(Context& ctx, const json& in) {
    input::require_object(in);
    std::optional<std::string> name = parse_table_name(in);
    return ctx.store.env().write([&](lmdb::WriteTxn& txn) {
        TableDef t = require_table(ctx, txn, *name);
        if (t.deletion_protection)
            throw core::AwsError::validation("Resource cannot be deleted as it is currently protected against deletion. "
                                             "Disable deletion protection first.");
        // AWS answers DeleteTable with a short description (the developer guide's and the
        // CLI reference's examples): no key schema, attributes, indexes or creation time.
        json full = describe(ctx, txn, t, "DELETING");
        json d = json::object();
        for (const char* k : {"TableName", "TableStatus", "ProvisionedThroughput", "TableSizeBytes", "ItemCount",
                              "TableArn", "TableId", "BillingModeSummary"})
            if (full.contains(k)) d[k] = full[k];
        ctx.store.drop_table(txn, t);  // the items go in bounded steps (maintenance)
        txn.after_commit([wake = ctx.wake_maintenance] {
            if (wake) wake();
        });
        return json{{"TableDescription", d}};
    });
}

}  // namespace stratus::dynamo

// UpdateTable, tags, TTL, continuous backups, DescribeLimits, DescribeEndpoints.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/ops.hpp"
#include "dynamo/ops/table_parse.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

namespace {

std::string required_table_name(const json& in) {
    input::require_object(in);
    return parse_table_name(in);
}

// Tag operations take a table ARN.
std::string table_from_arn(const json& in) {
    input::require_object(in);
    auto arn = input::opt_string(in, "ResourceArn");
    input::Violations v;
    if (!arn) v.add_null("resourceArn");
    v.throw_if_any();
    // A table's ARN only: an index ARN (".../table/t/index/i") cannot be tagged.
    auto at = arn->find(":table/");
    if (!arn->starts_with("arn:aws:dynamodb:") || at == std::string::npos ||
        arn->find('/', at + 7) != std::string::npos)
        throw core::AwsError::validation("Invalid TableArn: Invalid ResourceArn provided as input " + *arn);
    return input::table_name_from(*arn);
}

}  // namespace

json update_table(Context& ctx, const json& in) {
    std::string name = required_table_name(in);
    auto billing = input::opt_string(in, "BillingMode");
    const json* pt = input::opt_object(in, "ProvisionedThroughput");
    auto protection = input::opt_bool(in, "DeletionProtectionEnabled");
    auto table_class = input::opt_string(in, "TableClass");
    const json* gsi_updates = input::opt_array(in, "GlobalSecondaryIndexUpdates");
    const json* stream = input::opt_object(in, "StreamSpecification");
    std::optional<StreamSpec> stream_spec;
    if (stream) stream_spec = parse_stream_spec(*stream);
    auto new_defs = parse_attribute_definitions(input::opt_array(in, "AttributeDefinitions"));
    // Each GlobalSecondaryIndexUpdates entry holds exactly one of Create, Update, Delete.
    // AWS's wording for two in one entry is not documented.
    if (gsi_updates)
        for (auto& u : *gsi_updates) {
            int n = 0;
            for (const char* k : {"Create", "Update", "Delete"}) n += input::opt_object(u, k) ? 1 : 0;
            if (n > 1)
                throw core::AwsError::validation(
                    "One or more parameter values were invalid: Only one of GlobalSecondaryIndexUpdate.Update, "
                    "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete can be specified");
        }
    if (billing && *billing != "PROVISIONED" && *billing != "PAY_PER_REQUEST") {
        input::Violations v;
        v.add(*billing, "billingMode", "Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]");
        v.throw_if_any();
    }
    return ctx.store.env().write([&](lmdb::WriteTxn& txn) {
        TableDef t = require_table(ctx, txn, name);
        bool changed = false;
        const bool switching_to_provisioned = billing && *billing == "PROVISIONED" && t.pay_per_request;
        if (billing) {
            bool ppr = *billing == "PAY_PER_REQUEST";
            if (ppr && pt)
                throw core::AwsError::validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                                                 "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
            if (!ppr && !pt && t.pay_per_request)
                throw core::AwsError::validation("One or more parameter values were invalid: ProvisionedThroughput must be "
                                                 "specified when BillingMode is PROVISIONED");
            if (ppr != t.pay_per_request) {
                t.pay_per_request = ppr;
                t.billing_changed = ctx.now();
            }
            // PAY_PER_REQUEST on a PAY_PER_REQUEST table is accepted as it is (AWS), while
            // PROVISIONED with the current throughput is refused below.
            changed = true;
        }
        if (pt) {
            if (t.pay_per_request)
                throw core::AwsError::validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                                                 "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST");
            auto r = input::opt_int(*pt, "ReadCapacityUnits");
            auto w = input::opt_int(*pt, "WriteCapacityUnits");
            if (!r || !w || *r < 1 || *w < 1)
                throw core::AwsError::validation("One or more parameter values were invalid: ReadCapacityUnits and "
                                                 "WriteCapacityUnits must both be specified and positive");
            if (!switching_to_provisioned && *r == t.read_capacity && *w == t.write_capacity)
                throw core::AwsError::validation(fmt::format(
                    "The provisioned throughput for the table will not change. The requested value equals the current "
                    "value. Current ReadCapacityUnits provisioned for the table: {0}. Requested ReadCapacityUnits: {0}. "
                    "Current WriteCapacityUnits provisioned for the table: {1}. Requested WriteCapacityUnits: {1}. Refer "
                    "to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits.",
                    *r, *w));
            t.read_capacity = *r;
            t.write_capacity = *w;
            changed = true;
        }
        if (protection) {
            t.deletion_protection = *protection;
            changed = true;
        }
        if (table_class) {
            t.table_class = *table_class;
            changed = true;
        }
        if (stream_spec) {
            // Enabling a second stream, or changing the view type of the enabled one, is
            // refused: the stream must be disabled first (a new one then gets a new ARN).
            // AWS wording unsure for both messages.
            if (stream_spec->enabled && t.stream_enabled)
                throw core::AwsError::validation("Table already has an enabled stream: TableName: " + t.name);
            if (!stream_spec->enabled && !t.stream_enabled)
                throw core::AwsError::validation("Table already has no stream enabled: TableName: " + t.name);
            if (stream_spec->enabled)
                ctx.store.streams().create(txn, t, *streams::parse_view_type(stream_spec->view_type),
                                           ctx.store.allocate_id(txn));
            else
                ctx.store.streams().disable(txn, t);
            changed = true;
        }
        if (gsi_updates) {
            for (auto& u : *gsi_updates) {
                if (const json* create = input::opt_object(u, "Create")) {
                    std::vector<KeyElement> defs = t.attribute_definitions;
                    for (auto& d : new_defs) {
                        // An attribute the table already keys cannot change its type.
                        // AWS's wording is not documented.
                        auto known = t.key_attribute_type(d.name);
                        if (known && *known != d.type)
                            throw core::AwsError::validation(fmt::format(
                                "One or more parameter values were invalid: Cannot change the type of attribute {} "
                                "from {} to {}",
                                d.name, type_name(*known), type_name(d.type)));
                        if (!known) defs.push_back(d);
                    }
                    IndexDef idx = parse_index(*create, true, defs, static_cast<std::size_t>(&u - &(*gsi_updates)[0]) + 1,
                                               "globalSecondaryIndexUpdates");
                    if (t.index(idx.name))
                        throw core::AwsError::validation("One or more parameter values were invalid: Index already exists: " + idx.name);
                    for (auto* k : {&idx.key.hash, idx.key.range ? &*idx.key.range : nullptr}) {
                        if (!k) continue;
                        bool known = false;
                        for (auto& d : t.attribute_definitions) known |= d.name == k->name;
                        if (!known) t.attribute_definitions.push_back(*k);
                    }
                    idx.id = ctx.store.allocate_id(txn);
                    idx.arn = t.arn + "/index/" + idx.name;
                    // A table of a few items: the new index is filled in this transaction,
                    // ACTIVE (and complete) when UpdateTable returns, as local tools make
                    // it. A bigger one: CREATING with Backfilling as on AWS, built in
                    // bounded steps off the I/O threads while reads and writes go on.
                    idx.backfilling = ctx.store.stats(txn, t.id).count > sync_backfill_items;
                    t.indexes.push_back(idx);
                    if (idx.backfilling) {
                        ctx.store.schedule_backfill(txn, t, t.indexes.back());
                        txn.after_commit([wake = ctx.wake_maintenance] {
                            if (wake) wake();
                        });
                    } else {
                        ctx.store.backfill_index(txn, t, t.indexes.back());
                    }
                    changed = true;
                } else if (const json* del = input::opt_object(u, "Delete")) {
                    auto idx_name = input::opt_string(*del, "IndexName").value_or("");
                    auto it = std::find_if(t.indexes.begin(), t.indexes.end(),
                                           [&](const IndexDef& i) { return i.global && i.name == idx_name; });
                    if (it == t.indexes.end())
                        throw core::AwsError::resource_not_found("Requested resource not found: Index: " + idx_name +
                                                                 " not found for table: " + t.name);
                    ctx.store.drop_index(txn, *it);
                    txn.after_commit([wake = ctx.wake_maintenance] {
                        if (wake) wake();
                    });
                    t.indexes.erase(it);
                    // Drop attribute definitions no key uses any more.
                    std::erase_if(t.attribute_definitions,
                                  [&](const KeyElement& d) { return !t.key_attribute_type(d.name); });
                    changed = true;
                } else if (const json* upd = input::opt_object(u, "Update")) {
                    auto idx_name = input::opt_string(*upd, "IndexName").value_or("");
                    auto it = std::find_if(t.indexes.begin(), t.indexes.end(),
                                           [&](const IndexDef& i) { return i.global && i.name == idx_name; });
                    if (it == t.indexes.end())
                        throw core::AwsError::resource_not_found("Requested resource not found: Index: " + idx_name +
                                                                 " not found for table: " + t.name);
                    if (const json* ipt = input::opt_object(*upd, "ProvisionedThroughput")) {
                        it->read_capacity = input::opt_int(*ipt, "ReadCapacityUnits").value_or(it->read_capacity);
                        it->write_capacity = input::opt_int(*ipt, "WriteCapacityUnits").value_or(it->write_capacity);
                    }
                    changed = true;
                }
            }
        }
        if (!changed)
            throw core::AwsError::validation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates "
                "or SSESpecification or ReplicaUpdates is required");
        ctx.store.save_table(txn, t);
        return json{{"TableDescription", describe(ctx, txn, t)}};
    });
}

json tag_resource(Context& ctx, const json& in) {
    std::string name = table_from_arn(in);
    const json* tags = input::opt_array(in, "Tags");
    if (!tags) {
        input::Violations v;
        v.add_null("tags");
        v.throw_if_any();
    }
    input::Violations v;
    check_tags(v, *tags);
    v.throw_if_any();
    std::vector<std::pair<std::string, std::string>> add;
    for (auto& tag : *tags) add.emplace_back(*input::opt_string(tag, "Key"), *input::opt_string(tag, "Value"));
    ctx.store.env().write([&](lmdb::WriteTxn& txn) {
        TableDef t = require_table(ctx, txn, name);
        for (auto& [k, val] : add) {
            auto it = std::find_if(t.tags.begin(), t.tags.end(), [&](auto& p) { return p.first == k; });
            if (it != t.tags.end())
                it->second = val;
            else
                t.tags.emplace_back(k, val);
        }
        if (t.tags.size() > 50) throw core::AwsError::validation("One or more parameter values were invalid: Too many tags");
        ctx.store.save_table(txn, t);
    });
    return nullptr;  // AWS answers TagResource with an empty body
}

json untag_resource(Context& ctx, const json& in) {
    std::string name = table_from_arn(in);
    const json* keys = input::opt_array(in, "TagKeys");
    if (!keys) {
        input::Violations v;
        v.add_null("tagKeys");
        v.throw_if_any();
    }
    ctx.store.env().write([&](lmdb::WriteTxn& txn) {
        TableDef t = require_table(ctx, txn, name);
        for (auto& k : *keys) {
            if (!k.is_string()) throw core::AwsError::serialization("Unexpected value in TagKeys");
            std::erase_if(t.tags, [&](auto& p) { return p.first == k.get<std::string>(); });
        }
        ctx.store.save_table(txn, t);
    });
    return nullptr;  // AWS answers UntagResource with an empty body
}

json list_tags_of_resource(Context& ctx, const json& in) {
    std::string name = table_from_arn(in);
    return ctx.store.env().read([&](lmdb::ReadTxn& txn) {
        TableDef t = require_table(ctx, txn, name);
        json tags = json::array();
        for (auto& [k, v] : t.tags) tags.push_back({{"Key", k}, {"Value", v}});
        return json{{"Tags", tags}};
    });
}

json update_time_to_live(Context& ctx, const json& in) {
    std::string name = required_table_name(in);
    const json* spec = input::opt_object(in, "TimeToLiveSpecification");
    input::Violations v;
    if (!spec) v.add_null("timeToLiveSpecification");
    v.throw_if_any();
    auto enabled = input::opt_bool(*spec, "Enabled");
    auto attr = input::opt_string(*spec, "AttributeName");
    if (!enabled) v.add_null("timeToLiveSpecification.enabled");
    // The botocore model's TimeToLiveAttributeName: 1..255 characters.
    if (!attr) v.add_null("timeToLiveSpecification.attributeName");
    else if (attr->empty())
        v.add(*attr, "timeToLiveSpecification.attributeName", "Member must have length greater than or equal to 1");
    else if (attr->size() > 255)
        v.add(*attr, "timeToLiveSpecification.attributeName", "Member must have length less than or equal to 255");
    v.throw_if_any();
    ctx.store.env().write([&](lmdb::WriteTxn& txn) {
        TableDef t = require_table(ctx, txn, name);
        if (*enabled && !t.ttl_attribute.empty())
            throw core::AwsError::validation("TimeToLive is already enabled");
        if (!*enabled && t.ttl_attribute.empty())
            throw core::AwsError::validation("TimeToLive is already disabled");
        if (!*enabled && t.ttl_attribute != *attr)
            throw core::AwsError::validation("TimeToLive is active on a different AttributeName: current AttributeName is " +
                                             t.ttl_attribute);
        t.ttl_attribute = *enabled ? *attr : "";
        ctx.store.save_table(txn, t);
        // A big table's TTL entries are built in bounded steps off the I/O threads (its
        // items expire once their entry exists); a small one's now. Disabling erases them
        // now.
        if (*enabled && ctx.store.stats(txn, t.id).count > sync_backfill_items) {
            ctx.store.schedule_ttl_build(txn, t);
            txn.after_commit([wake = ctx.wake_maintenance] {
                if (wake) wake();
            });
        } else {
            ctx.store.rebuild_ttl(txn, t);
        }
    });
    return {{"TimeToLiveSpecification", {{"Enabled", *enabled}, {"AttributeName", *attr}}}};
}

json describe_time_to_live(Context& ctx, const json& in) {
    std::string name = required_table_name(in);
    return ctx.store.env().read([&](lmdb::ReadTxn& txn) {
        TableDef t = require_table(ctx, txn, name);
        json d = {{"TimeToLiveStatus", t.ttl_attribute.empty() ? "DISABLED" : "ENABLED"}};
        if (!t.ttl_attribute.empty()) d["AttributeName"] = t.ttl_attribute;
        return json{{"TimeToLiveDescription", d}};
    });
}

namespace {
json backups_json(Context& ctx, const TableDef& t) {
    json pitr = {{"PointInTimeRecoveryStatus", t.pitr ? "ENABLED" : "DISABLED"}};
    if (t.pitr) {
        double now = ctx.now();
        pitr["EarliestRestorableDateTime"] = t.created;
        pitr["LatestRestorableDateTime"] = now - 300;
        pitr["RecoveryPeriodInDays"] = 35;
    }
    return {{"ContinuousBackupsStatus", "ENABLED"}, {"PointInTimeRecoveryDescription", pitr}};
}
}  // namespace

json describe_continuous_backups(Context& ctx, const json& in) {
    std::string name = required_table_name(in);
    return ctx.store.env().read([&](lmdb::ReadTxn& txn) {
        // AWS answers TableNotFoundException here, not ResourceNotFoundException.
        auto t = ctx.store.find_table(txn, name);
        if (!t) throw core::AwsError("TableNotFoundException", "Table not found: " + name, 400);
        return json{{"ContinuousBackupsDescription", backups_json(ctx, *t)}};
    });
}

json update_continuous_backups(Context& ctx, const json& in) {
    std::string name = required_table_name(in);
    const json* spec = input::opt_object(in, "PointInTimeRecoverySpecification");
    input::Violations v;
    if (!spec) v.add_null("pointInTimeRecoverySpecification");
    v.throw_if_any();
    auto enabled = input::opt_bool(*spec, "PointInTimeRecoveryEnabled");
    if (!enabled) v.add_null("pointInTimeRecoverySpecification.pointInTimeRecoveryEnabled");
    v.throw_if_any();
    return ctx.store.env().write([&](lmdb::WriteTxn& txn) {
        auto t = ctx.store.find_table(txn, name);
        if (!t) throw core::AwsError("TableNotFoundException", "Table not found: " + name, 400);
        t->pitr = *enabled;
        ctx.store.save_table(txn, *t);
        return json{{"ContinuousBackupsDescription", backups_json(ctx, *t)}};
    });
}

json describe_limits(Context&, const json& in) {
    input::require_object(in);
    // AWS's default account quotas.
    return {{"AccountMaxReadCapacityUnits", 80000},
            {"AccountMaxWriteCapacityUnits", 80000},
            {"TableMaxReadCapacityUnits", 40000},
            {"TableMaxWriteCapacityUnits", 40000}};
}

json describe_endpoints(Context& ctx, const json& in) {
    input::require_object(in);
    return {{"Endpoints", json::array({{{"Address", ctx.endpoint_address}, {"CachePeriodInMinutes", 1440}}})}};
}

}  // namespace stratus::dynamo

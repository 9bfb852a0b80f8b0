#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/legacy.hpp"
#include "dynamo/ops/ops.hpp"
#include "dynamo/ops/read_page.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

namespace {

// The LMDB key range holding exactly the entries with this hash key and range condition.
void key_range(Store& store, const TableDef& table, const IndexDef* index, const expr::KeyCondition& kc,
               Store::Range& range) {
    range.prefix = store.id_prefix(index ? index->id : table.id) + encode_key_part(kc.hash);
    if (!kc.range) return;
    const auto& rc = *kc.range;
    std::string at = range.prefix + (rc.op == expr::RangeOp::begins_with && rc.value.type != Type::N
                                         ? encode_key_prefix(rc.value.s)
                                         : encode_key_part(rc.value));
    switch (rc.op) {
        case expr::RangeOp::eq: range.lower = at; range.upper = Store::successor(at); break;
        case expr::RangeOp::lt: range.upper = at; break;
        case expr::RangeOp::le: range.upper = Store::successor(at); break;
        case expr::RangeOp::gt: range.lower = Store::successor(at); break;
        case expr::RangeOp::ge: range.lower = at; break;
        case expr::RangeOp::between:
            range.lower = at;
            range.upper = Store::successor(range.prefix + encode_key_part(rc.upper));
            break;
        case expr::RangeOp::begins_with: range.lower = at; range.upper = Store::successor(at); break;
    }
}

void check_key_types(const expr::KeyCondition& kc, const KeySchema& key) {
    auto mismatch = [] {
        throw core::AwsError::validation(
            "One or more parameter values were invalid: Condition parameter type does not match schema type");
    };
    if (kc.hash.type != key.hash.type) mismatch();
    if (kc.range && key.range) {
        if (kc.range->value.type != key.range->type) mismatch();
        if (kc.range->op == expr::RangeOp::between && kc.range->upper.type != key.range->type) mismatch();
        if (kc.range->op == expr::RangeOp::begins_with && key.range->type == Type::N)
            throw core::AwsError::validation(
                "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: "
                "begins_with, operand type: N");
    }
}

}  // namespace

json query(Context& ctx, const json& in) {
    input::require_object(in);
    std::string table_name = parse_table_name(in);
    LegacyQuery legacy = legacy_query(in, "QueryFilter");
    const json& src = legacy.in ? *legacy.in : in;
    auto kc_text = legacy.in ? std::optional<std::string>(legacy.key_condition) : input::opt_string(in, "KeyConditionExpression");
    auto filter_text = legacy.in ? (legacy.filter.empty() ? std::nullopt : std::optional<std::string>(legacy.filter))
                                 : input::opt_string(in, "FilterExpression");
    auto proj_text = legacy.in ? (legacy.projection.empty() ? std::nullopt : std::optional<std::string>(legacy.projection))
                               : input::opt_string(in, "ProjectionExpression");
    if (!kc_text || kc_text->empty())
        throw core::AwsError::validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.");
    bool forward = input::opt_bool(in, "ScanIndexForward").value_or(true);

    return ctx.store.env().read([&](lmdb::ReadTxn& txn) {
        TableDef t = require_table(ctx, txn, table_name);
        const IndexDef* index = find_index(in, t);
        const KeySchema& schema = index ? index->key : t.key;
        expr::Context ec = expression_context(src, true, "");
        expr::KeyCondition kc = ec.key_condition(*kc_text, schema);
        expr::Condition filter;
        if (filter_text) filter = ec.filter(*filter_text);
        expr::Projection projection;
        if (proj_text) projection = ec.projection(*proj_text);
        ec.check_unused();
        check_key_types(kc, schema);
        for (auto& name : filter.attribute_names()) {
            if (name == schema.hash.name || (schema.range && name == schema.range->name))
                throw core::AwsError::validation("Filter Expression can only contain non-primary key attributes: Primary key attribute: " + name);
        }
        PageRequest page = make_page(ctx, in, t, index, std::move(filter), std::move(projection));
        key_range(ctx.store, t, index, kc, page.range);
        page.range.forward = forward;
        page.matches_key = [&kc](const Item& item) { return kc.matches(item); };
        return read_page(ctx, txn, page);
    });
}

}  // namespace stratus::dynamo

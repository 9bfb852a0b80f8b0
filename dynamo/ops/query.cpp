#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/legacy.hpp"
#include "dynamo/ops/ops.hpp"
#include "dynamo/ops/read_page.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

// The LMDB key range holding every entry with this hash key and range condition (see
// "Long keys" in store.hpp): a bound value whose encoding is longer than the part every
// stored long key keeps (budget - 34 bytes) widens to all keys sharing that much of it;
// read_page re-checks the condition on each item, so only the range is approximate.
void query_key_range(const IndexDef* index, std::uint32_t id, const expr::KeyCondition& kc, Store::Range& range) {
    range.prefix = Store::partition_prefix(id, kc.hash);
    if (!kc.range) return;
    const auto& rc = *kc.range;
    const std::size_t budget = Store::range_budget(range.prefix.size(), index != nullptr);
    const std::size_t exact = budget - Store::long_part_extra - 1;
    if (rc.op == expr::RangeOp::eq) {
        // The stored form of one value is deterministic, long or not.
        range.lower = range.prefix + Store::stored_part(rc.value, budget);
        range.upper = Store::successor(range.lower);
        return;
    }
    struct Bound {
        std::string key;
        bool exact;
    };
    auto bound = [&](const AttributeValue& v, bool as_prefix) {
        std::string e = as_prefix ? encode_key_prefix(v.s) : encode_key_part(v);
        // A normal encoding ends with its terminator 00 00; compare the value bytes.
        std::size_t value_bytes = as_prefix ? e.size() : e.size() - (v.type == Type::N ? 0 : 2);
        if (value_bytes <= exact) return Bound{range.prefix + e, true};
        return Bound{range.prefix + e.substr(0, exact), false};
    };
    // Lower bound "key >= v" (or > v), upper bound "key < v" (or <= v), widened when inexact.
    auto lower_from = [&](const Bound& b, bool strict) { return b.exact && strict ? Store::successor(b.key) : b.key; };
    auto upper_from = [&](const Bound& b, bool inclusive) {
        return b.exact && !inclusive ? b.key : Store::successor(b.key);
    };
    switch (rc.op) {
        case expr::RangeOp::eq: break;
        case expr::RangeOp::lt: range.upper = upper_from(bound(rc.value, false), false); break;
        case expr::RangeOp::le: range.upper = upper_from(bound(rc.value, false), true); break;
        case expr::RangeOp::gt: range.lower = lower_from(bound(rc.value, false), true); break;
        case expr::RangeOp::ge: range.lower = lower_from(bound(rc.value, false), false); break;
        case expr::RangeOp::between:
            range.lower = lower_from(bound(rc.value, false), false);
            range.upper = upper_from(bound(rc.upper, false), true);
            break;
        case expr::RangeOp::begins_with: {
            Bound b = bound(rc.value, true);
            range.lower = b.key;
            range.upper = Store::successor(b.key);
            break;
        }
    }
}

namespace {

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

namespace {

// Page: read_page (a JSON tree) or read_page_body (the response text).
template <class Page>
auto query_with(Context& ctx, const json& in, Page page_fn) {
    input::require_object(in);
    check_members(in, {"TableName", "IndexName", "Select", "Limit", "ConditionalOperator", "ReturnConsumedCapacity"});
    std::string table_name = parse_table_name(in);
    LegacyQuery legacy = legacy_query(in, "QueryFilter");
    const json& src = legacy.in ? *legacy.in : in;
    auto kc_text = legacy.in ? std::optional<std::string>(legacy.key_condition) : input::opt_string(in, "KeyConditionExpression");
    // Legacy QueryFilter / AttributesToGet, or the request's own expressions (which may
    // come with legacy KeyConditions).
    auto filter_text = legacy.in && !legacy.filter.empty() ? std::optional<std::string>(legacy.filter)
                                                           : input::opt_string(in, "FilterExpression");
    auto proj_text = legacy.in && !legacy.projection.empty() ? std::optional<std::string>(legacy.projection)
                                                             : input::opt_string(in, "ProjectionExpression");
    // An empty KeyConditionExpression is "Invalid KeyConditionExpression: The expression
    // can not be empty;" (from the expression parser), as AWS answers.
    if (!kc_text || (legacy.in && kc_text->empty()))
        throw core::AwsError::validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.");
    bool forward = input::opt_bool(in, "ScanIndexForward").value_or(true);

    return ctx.store.env().read([&](lmdb::ReadTxn& txn) {
        auto t_ref = require_table_ref(ctx, txn, table_name);
        const TableDef& t = *t_ref;
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
        // The starting key must lie within the queried partition and range (AWS).
        if (page.range.exclusive_start) {
            Item start = item_from_json(*input::opt_object(in, "ExclusiveStartKey"));
            auto h = start.find(schema.hash.name);
            bool inside = h != start.end() && h->second == kc.hash;
            if (inside && kc.range && schema.range) {
                auto r = start.find(schema.range->name);
                inside = r != start.end() && kc.range->matches(r->second);
            }
            if (!inside)
                throw core::AwsError::validation(
                    "The provided starting key is outside query boundaries based on provided conditions");
        }
        query_key_range(index, index ? index->id : t.id, kc, page.range);
        page.range.forward = forward;
        page.matches_key = [&kc](const Item& item) { return kc.matches(item); };
        return page_fn(ctx, txn, page);
    });
}

}  // namespace

json query(Context& ctx, const json& in) { return query_with(ctx, in, read_page); }

std::string query_text(Context& ctx, const json& in) { return query_with(ctx, in, read_page_body); }

}  // namespace stratus::dynamo

#include <fmt/format.h>

#include <algorithm>

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

namespace {
// FNV-1a over the encoded hash key: stable, so a segment holds the same items on every page.
std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}
}  // namespace

namespace {

// Page: read_page (a JSON tree) or read_page_body (the response text).
template <class Page>
auto scan_with(Context& ctx, const json& in, Page page_fn) {
    input::require_object(in);
    check_members(in, {"TableName", "IndexName", "Limit", "Select", "ConditionalOperator", "ReturnConsumedCapacity", "TotalSegments", "Segment"});
    std::string table_name = parse_table_name(in);
    LegacyQuery legacy = legacy_query(in, "ScanFilter");
    const json& src = legacy.in ? *legacy.in : in;
    if (legacy.in && !legacy.key_condition.empty())
        throw core::AwsError::validation("KeyConditions cannot be used with Scan");
    auto filter_text = legacy.in ? (legacy.filter.empty() ? std::nullopt : std::optional<std::string>(legacy.filter))
                                 : input::opt_string(in, "FilterExpression");
    auto proj_text = legacy.in ? (legacy.projection.empty() ? std::nullopt : std::optional<std::string>(legacy.projection))
                               : input::opt_string(in, "ProjectionExpression");
    input::Violations v;
    auto segment = input::opt_int(in, "Segment");
    auto total = input::opt_int(in, "TotalSegments");
    if (segment && *segment < 0) v.add(std::to_string(*segment), "segment", "Member must have value greater than or equal to 0");
    if (segment && *segment > 999999) v.add(std::to_string(*segment), "segment", "Member must have value less than or equal to 999999");
    if (total && *total < 1) v.add(std::to_string(*total), "totalSegments", "Member must have value greater than or equal to 1");
    if (total && *total > 1000000) v.add(std::to_string(*total), "totalSegments", "Member must have value less than or equal to 1000000");
    v.throw_if_any();
    if (segment.has_value() != total.has_value())
        throw core::AwsError::validation(segment ? "The TotalSegments parameter is required but was not present in the request when Segment parameter is present"
                                                 : "The Segment parameter is required but was not present in the request when parameter TotalSegments is present");
    if (segment && *segment >= *total)
        throw core::AwsError::validation(fmt::format("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {} is not less than TotalSegments: {}", *segment, *total));
    expr::Context ec = expression_context(src, filter_text || proj_text, "FilterExpression and ProjectionExpression are null");
    expr::Condition filter;
    if (filter_text) filter = ec.filter(*filter_text);
    expr::Projection projection;
    if (proj_text) projection = ec.projection(*proj_text);
    ec.check_unused();

    return ctx.store.env().read([&](lmdb::ReadTxn& txn) {
        auto t_ref = require_table_ref(ctx, txn, table_name);
        const TableDef& t = *t_ref;
        const IndexDef* index = find_index(in, t);
        PageRequest page = make_page(ctx, in, t, index, std::move(filter), std::move(projection));
        page.range.prefix = ctx.store.id_prefix(index ? index->id : t.id);
        // A Scan without a filter returns what it reads, up to a 1 MB page: its size is
        // known from the table's statistics. (JSON text is about 1.3x DynamoDB's item
        // size; 1.5x leaves room.)
        if (page.filter.empty() && page.select != Select::count) {
            Stats st = ctx.store.stats(txn, index ? index->id : t.id);
            if (st.count > 0 && st.bytes > 0) {
                double avg = static_cast<double>(st.bytes) / static_cast<double>(st.count);
                double items = std::min(static_cast<double>(st.count) / static_cast<double>(total.value_or(1)),
                                        static_cast<double>(page_bytes) / avg + 1);
                if (page.limit) items = std::min(items, static_cast<double>(*page.limit));
                page.expected_bytes = static_cast<std::size_t>(std::min(items * (avg * 1.5 + 16), 2.0 * page_bytes));
            }
        }
        if (total && *total > 1) {
            const KeyElement& hash = index ? index->key.hash : t.key.hash;
            auto seg = static_cast<std::uint64_t>(*segment), n = static_cast<std::uint64_t>(*total);
            page.in_segment = [&hash, seg, n](const Item& item) {
                auto it = item.find(hash.name);
                if (it == item.end()) return seg == 0;
                return fnv1a(encode_key_part(it->second)) % n == seg;
            };
            // A starting key from another segment is refused, as AWS does.
            if (page.range.exclusive_start && !page.in_segment(item_from_json(*input::opt_object(in, "ExclusiveStartKey"))))
                throw core::AwsError::validation("The provided Exclusive start key does not map to the provided segment");
        }
        return page_fn(ctx, txn, page);
    });
}

}  // namespace

json scan(Context& ctx, const json& in) { return scan_with(ctx, in, read_page); }

std::string scan_text(Context& ctx, const json& in) { return scan_with(ctx, in, read_page_body); }

}  // namespace stratus::dynamo

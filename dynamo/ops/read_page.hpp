// What Query and Scan share: reading one page of a table or index in key order, applying
// Limit (items evaluated), the 1 MB page limit, the filter and the projection, and
// building LastEvaluatedKey.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "dynamo/expr/expr.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/ops.hpp"
#include "dynamo/store/store.hpp"

namespace stratus::dynamo {

inline constexpr std::size_t page_bytes = 1024 * 1024;  // DynamoDB's 1 MB page

enum class Select { all_attributes, all_projected, specific, count };

struct PageRequest {
    const TableDef* table = nullptr;
    const IndexDef* index = nullptr;
    Store::Range range;
    std::optional<std::size_t> limit;
    expr::Condition filter;
    expr::Projection projection;
    Select select = Select::all_attributes;
    bool consistent = false;
    CapacityMode capacity = CapacityMode::none;
    // Scan segments: keep only items whose hash key falls in this segment.
    std::function<bool(const Item&)> in_segment;
    // Query: the key condition still checked item by item (begins_with on N cannot be a
    // byte range, and it keeps the bounds honest).
    std::function<bool(const Item&)> matches_key;
    // What the response text will likely need, reserved up front (0: unknown): growing a
    // 1 MB page's string by doubling cost ~1/8 of a Scan's CPU in copies and page faults.
    std::size_t expected_bytes = 0;
};

nlohmann::json read_page(Context& ctx, const core::lmdb::Txn& txn, const PageRequest& request);
// The same page as the response body's JSON text, written without a tree (a 1 MB page
// costs little more than its bytes): what Query and Scan answer on the wire.
std::string read_page_body(Context& ctx, const core::lmdb::Txn& txn, const PageRequest& request);

// The parts of a page request Query and Scan read alike from their input: Select, filter,
// projection, ConsistentRead (refused on GSIs), capacity, Limit, ExclusiveStartKey. The
// caller sets the key range (prefix, bounds) and its own extras.
PageRequest make_page(Context& ctx, const nlohmann::json& in, const TableDef& table, const IndexDef* index,
                      expr::Condition&& filter, expr::Projection&& projection);

// Parses Select, checks it against the projection and the index, returns it.
Select parse_select(const nlohmann::json& in, const TableDef& table, const IndexDef* index, bool has_projection);
// ExclusiveStartKey as an LMDB key of the table / index (AWS's "The provided starting key
// is invalid" otherwise).
std::optional<std::string> parse_start_key(const nlohmann::json& in, Store& store, const TableDef& table,
                                           const IndexDef* index);
// Query's key range: the LMDB keys of the partition `kc.hash` of the table or index `id`
// that can match kc's range condition (read_page still checks the condition per item).
void query_key_range(const IndexDef* index, std::uint32_t id, const expr::KeyCondition& kc, Store::Range& range);

// The index named by IndexName, or ValidationException "The table does not have the
// specified index: X".
const IndexDef* find_index(const nlohmann::json& in, const TableDef& table);

}  // namespace stratus::dynamo

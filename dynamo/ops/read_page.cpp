#include "dynamo/ops/read_page.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/ops.hpp"

namespace stratus::dynamo {

using json = nlohmann::json;

namespace {

// The attributes LastEvaluatedKey holds: the table key, plus the index key for indexes.
Item last_key(const TableDef& table, const IndexDef* index, const Item& item) {
    Item k = key_of(item, table.key);
    if (index) {
        Item ik = key_of(item, index->key);
        k.insert(ik.begin(), ik.end());
    }
    return k;
}
}  // namespace

const IndexDef* find_index(const json& in, const TableDef& table) {
    auto name = input::opt_string(in, "IndexName");
    if (!name) return nullptr;
    input::Violations v;
    input::check_table_name(v, name, "indexName");
    v.throw_if_any();
    const IndexDef* index = table.index(*name);
    if (!index) throw core::AwsError::validation("The table does not have the specified index: " + *name);
    if (index->backfilling)
        throw core::AwsError::validation("Cannot read from backfilling global secondary index: " + *name);
    return index;
}

Select parse_select(const json& in, const TableDef& table, const IndexDef* index, bool has_projection) {
    auto s = input::opt_string(in, "Select");
    Select select;
    if (!s) {
        select = has_projection ? Select::specific : index ? Select::all_projected : Select::all_attributes;
    } else if (*s == "ALL_ATTRIBUTES") {
        select = Select::all_attributes;
    } else if (*s == "ALL_PROJECTED_ATTRIBUTES") {
        select = Select::all_projected;
    } else if (*s == "SPECIFIC_ATTRIBUTES") {
        select = Select::specific;
    } else if (*s == "COUNT") {
        select = Select::count;
    } else {
        input::Violations v;
        v.add(*s, "select", "Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]");
        v.throw_if_any();
        return Select::all_attributes;
    }
    if (has_projection && s && select != Select::specific)
        throw core::AwsError::validation(fmt::format(
            "Cannot specify the AttributesToGet or ProjectionExpression when choosing to get {}", *s));
    if (select == Select::specific && !has_projection)
        throw core::AwsError::validation(
            "One or more parameter values were invalid: Select type SPECIFIC_ATTRIBUTES requires "
            "ProjectionExpression or AttributesToGet");  // AWS wording unsure
    if (select == Select::all_projected && !index)
        throw core::AwsError::validation(
            "One or more parameter values were invalid: Select type ALL_PROJECTED_ATTRIBUTES is not supported for base "
            "table " + table.name);  // AWS wording unsure
    if (select == Select::all_attributes && index && index->global && index->projection != ProjectionType::all)
        throw core::AwsError::validation(fmt::format(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary "
            "index {} because its projection type is not ALL",
            index->name));
    return select;
}

std::optional<std::string> parse_start_key(const json& in, Store& store, const TableDef& table, const IndexDef* index) {
    const json* start = input::opt_object(in, "ExclusiveStartKey");
    if (!start) return std::nullopt;
    Item key;
    try {
        key = item_from_json(*start);
    } catch (const core::AwsError& e) {
        // AWS prefixes a bad starting key's value error, except the number and set
        // messages (dynalite, written against DynamoDB, keeps the same exceptions).
        const std::string& m = e.message();
        bool bare = e.code() != "ValidationException";
        for (const char* s : {"contains duplicates", "number set", "numeric value", "significant digits",
                              "number with magnitude"})
            bare = bare || m.find(s) != std::string::npos;
        if (bare) throw;
        throw core::AwsError::validation("The provided starting key is invalid: " + m);
    }
    std::size_t expected = 1 + (table.key.range ? 1 : 0);
    auto has = [&](const KeyElement& k) {
        auto it = key.find(k.name);
        return it != key.end() && it->second.type == k.type;
    };
    bool ok = has(table.key.hash) && (!table.key.range || has(*table.key.range));
    if (index) {
        for (const KeyElement* k : {&index->key.hash, index->key.range ? &*index->key.range : nullptr}) {
            if (!k) continue;
            if (k->name != table.key.hash.name && (!table.key.range || k->name != table.key.range->name)) ++expected;
            ok = ok && has(*k);
        }
    }
    if (!ok || key.size() != expected)
        throw core::AwsError::validation("The provided starting key is invalid: The provided key element does not match the schema");
    return store.entry_key(table, index, key);
}

PageRequest make_page(Context& ctx, const json& in, const TableDef& table, const IndexDef* index,
                      expr::Condition&& filter, expr::Projection&& projection) {
    PageRequest page;
    page.table = &table;
    page.index = index;
    page.consistent = input::opt_bool(in, "ConsistentRead").value_or(false);
    if (index && index->global && page.consistent)
        throw core::AwsError::validation("Consistent reads are not supported on global secondary indexes");
    page.select = parse_select(in, table, index, !projection.empty());
    page.filter = std::move(filter);
    page.projection = std::move(projection);
    page.capacity = parse_capacity_mode(in);
    auto limit = input::opt_int(in, "Limit");
    if (limit && *limit < 1) {
        input::Violations v;
        v.add(std::to_string(*limit), "limit", "Member must have value greater than or equal to 1");
        v.throw_if_any();
    }
    if (limit) page.limit = static_cast<std::size_t>(*limit);
    page.range.index = index;
    page.range.exclusive_start = parse_start_key(in, ctx.store, table, index);
    return page;
}

namespace {

struct PageTally {
    std::size_t count = 0, scanned = 0, bytes = 0;
    std::optional<Item> last;  // the last evaluated item's key, when there is more
};

// Reads the page, handing every returned item (projected) to emit.
template <class Emit>
PageTally walk_page(Context& ctx, const core::lmdb::Txn& txn, const PageRequest& r, Emit&& emit) {
    PageTally p;
    const TableDef& table = *r.table;
    ctx.store.scan(txn, r.range, [&](Item&& entry) {
        if (r.matches_key && !r.matches_key(entry)) return true;  // outside the key condition: not evaluated
        if (r.in_segment && !r.in_segment(entry)) return true;
        p.bytes += item_size(entry);
        ++p.scanned;
        // An LSI entry may hold a projection; ALL_ATTRIBUTES (and projections reaching
        // beyond it) read the item from the table, as DynamoDB fetches it. So does a
        // filter, which may name attributes the index does not hold; the item returned is
        // then still the index's projection unless more was asked for.
        Item full;
        const Item* item = &entry;     // what the page returns
        const Item* filtered = &entry; // what the filter sees
        bool wants_full = r.select == Select::all_attributes || r.select == Select::specific;
        if (r.index && !r.index->global && r.index->projection != ProjectionType::all &&
            (wants_full || !r.filter.empty())) {
            if (auto t = ctx.store.get(txn, table, key_of(entry, table.key))) {
                full = std::move(*t);
                filtered = &full;
                if (wants_full) item = &full;
            }
        }
        if (r.filter.empty() || r.filter.evaluate(*filtered)) {
            ++p.count;
            if (r.select != Select::count) {
                if (r.projection.empty()) emit(*item);
                else emit(r.projection.apply(*item));
            }
        }
        // DynamoDB stops once Limit items were evaluated or the page passed 1 MB, and then
        // returns LastEvaluatedKey even when nothing is left (one more, empty, page).
        if ((r.limit && p.scanned >= *r.limit) || p.bytes >= page_bytes) {
            p.last = last_key(table, r.index, entry);
            return false;
        }
        return true;
    });
    return p;
}

// LastEvaluatedKey and ConsumedCapacity.
void add_page_extras(json& out, const PageRequest& r, const PageTally& p) {
    if (p.last) out["LastEvaluatedKey"] = item_to_json(*p.last);
    if (r.capacity != CapacityMode::none) {
        double units = read_units(p.bytes, r.consistent);
        std::vector<std::pair<const IndexDef*, double>> idx;
        if (r.index) idx.emplace_back(r.index, units);
        add_capacity(out, r.capacity, *r.table, r.index ? 0.0 : units, idx);
    }
}

}  // namespace

json read_page(Context& ctx, const core::lmdb::Txn& txn, const PageRequest& r) {
    json items = json::array();
    PageTally p = walk_page(ctx, txn, r, [&](const Item& item) { items.push_back(item_to_json(item)); });
    json out = json::object();
    if (r.select != Select::count) out["Items"] = std::move(items);
    out["Count"] = p.count;
    out["ScannedCount"] = p.scanned;
    add_page_extras(out, r, p);
    return out;
}

std::string read_page_body(Context& ctx, const core::lmdb::Txn& txn, const PageRequest& r) {
    std::string body;
    body.reserve(std::max<std::size_t>(r.expected_bytes, 256));
    body += r.select != Select::count ? "{\"Items\":[" : "{";
    bool first = true;
    PageTally p = walk_page(ctx, txn, r, [&](const Item& item) {
        if (!first) body += ',';
        first = false;
        append_item_json(body, item);
    });
    if (r.select != Select::count) body += "],";
    body += fmt::format("\"Count\":{},\"ScannedCount\":{}", p.count, p.scanned);
    json extras = json::object();
    add_page_extras(extras, r, p);
    if (!extras.empty()) {
        std::string text = extras.dump(-1, ' ', false, json::error_handler_t::replace);
        body += ',';
        body.append(text, 1, text.size() - 2);  // the members, without the braces
    }
    body += '}';
    return body;
}

}  // namespace stratus::dynamo

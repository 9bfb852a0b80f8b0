#include "dynamo/ops/partiql.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/base64.hpp"
#include "core/crypto.hpp"
#include "core/error.hpp"
#include "dynamo/ops/input.hpp"
#include "dynamo/ops/read_page.hpp"

namespace stratus::dynamo::pql {

namespace lmdb = core::lmdb;
using partiql::Expr;
using partiql::ExprKind;
using partiql::Statement;

namespace {

json names_json(const expr::Names& names) {
    json out = json::object();
    for (const auto& [k, v] : names) out[k] = v;
    return out;
}

json values_json(const expr::Values& values) {
    json out = json::object();
    for (const auto& [k, v] : values) out[k] = value_to_json(v);
    return out;
}

// Adds the placeholders a Renderer collected to a request.
void add_placeholders(json& body, const partiql::Renderer& r) {
    if (!r.names().empty()) body["ExpressionAttributeNames"] = names_json(r.names());
    if (!r.values().empty()) body["ExpressionAttributeValues"] = values_json(r.values());
}

bool scalar_key_value(const AttributeValue& v, Type t) {
    if (v.type != t) return false;
    return t == Type::N || !v.s.empty();  // an empty S / B is never stored as a key
}

// What WHERE says about the key of the table or index read.
struct KeyPlan {
    std::vector<AttributeValue> hashes;       // hash = v, or hash IN (...): the partitions
    std::optional<AttributeValue> range_eq;   // range = v
    std::optional<expr::RangeCondition> range;  // any range key condition a Query can use
};

std::optional<expr::RangeCondition> range_condition(const Expr& e, const KeyElement& range) {
    auto is_range = [&](const Expr& x) {
        return x.kind == ExprKind::path && x.path.size() == 1 && x.path[0].name == range.name;
    };
    auto literal = [&](const Expr& x) { return x.kind == ExprKind::literal && scalar_key_value(x.value, range.type); };
    expr::RangeCondition rc;
    rc.name = range.name;
    if (e.kind == ExprKind::compare && e.cmp != partiql::Cmp::ne) {
        using partiql::Cmp;
        static constexpr expr::RangeOp ops[] = {expr::RangeOp::eq, expr::RangeOp::eq, expr::RangeOp::lt,
                                                expr::RangeOp::le, expr::RangeOp::gt, expr::RangeOp::ge};
        static constexpr expr::RangeOp flipped[] = {expr::RangeOp::eq, expr::RangeOp::eq, expr::RangeOp::gt,
                                                    expr::RangeOp::ge, expr::RangeOp::lt, expr::RangeOp::le};
        const auto c = static_cast<std::size_t>(e.cmp);
        if (is_range(e.children[0]) && literal(e.children[1])) {
            rc.op = ops[c];
            rc.value = e.children[1].value;
            return rc;
        }
        if (is_range(e.children[1]) && literal(e.children[0])) {
            rc.op = flipped[c];
            rc.value = e.children[0].value;
            return rc;
        }
        return std::nullopt;
    }
    if (e.kind == ExprKind::between && !e.negated && is_range(e.children[0]) && literal(e.children[1]) &&
        literal(e.children[2])) {
        rc.op = expr::RangeOp::between;
        rc.value = e.children[1].value;
        rc.upper = e.children[2].value;
        return rc;
    }
    if (e.kind == ExprKind::function && e.name == "begins_with" && range.type != Type::N &&
        is_range(e.children[0]) && literal(e.children[1])) {
        rc.op = expr::RangeOp::begins_with;
        rc.value = e.children[1].value;
        return rc;
    }
    return std::nullopt;
}

KeyPlan plan_keys(const Statement& st, const KeySchema& schema) {
    KeyPlan plan;
    if (!st.where) return plan;
    bool hash_eq = false;
    for (const Expr* c : partiql::conjuncts(*st.where)) {
        if (auto eq = partiql::equality(*c)) {
            if (eq->first == schema.hash.name && !hash_eq) {
                hash_eq = true;
                plan.hashes.clear();
                // A value of another type matches nothing: no partition to read.
                if (scalar_key_value(eq->second->value, schema.hash.type)) plan.hashes.push_back(eq->second->value);
                continue;
            }
            if (schema.range && eq->first == schema.range->name && !plan.range_eq) {
                plan.range_eq = eq->second->value;
                continue;
            }
        }
        if (!hash_eq && c->kind == ExprKind::in && !c->negated && c->children[0].kind == ExprKind::path &&
            c->children[0].path.size() == 1 && c->children[0].path[0].name == schema.hash.name && plan.hashes.empty()) {
            for (std::size_t k = 1; k < c->children.size(); ++k) {
                const Expr& v = c->children[k];
                if (v.kind != ExprKind::literal || !scalar_key_value(v.value, schema.hash.type)) continue;
                if (std::none_of(plan.hashes.begin(), plan.hashes.end(), [&](auto& h) { return h == v.value; }))
                    plan.hashes.push_back(v.value);
            }
            hash_eq = true;  // IN names the partitions too
            continue;
        }
        if (schema.range && !plan.range)
            if (auto rc = range_condition(*c, *schema.range)) plan.range = std::move(rc);
    }
    if (!hash_eq) plan.hashes.clear();
    if (plan.range_eq && !plan.range) {
        expr::RangeCondition rc;
        rc.name = schema.range->name;
        rc.value = *plan.range_eq;
        plan.range = rc;
    }
    // Without a hash condition there is no partition: plan.hashes empty and no hash_eq
    // means Scan. With one whose values all had the wrong type, nothing can match.
    plan.range_eq = plan.range_eq && scalar_key_value(*plan.range_eq, schema.range->type) ? plan.range_eq : std::nullopt;
    return plan;
}

bool has_hash_condition(const Statement& st, const KeySchema& schema) {
    if (!st.where) return false;
    for (const Expr* c : partiql::conjuncts(*st.where)) {
        if (auto eq = partiql::equality(*c); eq && eq->first == schema.hash.name) return true;
        if (c->kind == ExprKind::in && !c->negated && c->children[0].kind == ExprKind::path &&
            c->children[0].path.size() == 1 && c->children[0].path[0].name == schema.hash.name)
            return true;
    }
    return false;
}

// NextToken: the statement's digest, the partition reached (IN) and the LastEvaluatedKey.
std::string make_token(const std::string& statement, std::size_t partition, const json& last_key) {
    json t = {{"s", core::crypto::sha256_hex(statement).substr(0, 16)}, {"p", partition}, {"k", last_key}};
    return core::base64_encode(t.dump());
}

struct Resume {
    std::size_t partition = 0;
    json last_key;  // null: from the start of the partition
};

Resume read_token(const std::string& token, const std::string& statement) {
    // AWS's message for a token it cannot use is not documented.
    auto bad = [] { return core::AwsError::validation("Invalid NextToken"); };
    auto raw = core::base64_decode(token);
    if (!raw) throw bad();
    json t = json::parse(*raw, nullptr, false);
    if (!t.is_object() || !t.contains("s") || !t["s"].is_string() || !t.contains("p") ||
        !t["p"].is_number_unsigned() || !t.contains("k"))
        throw bad();
    if (t["s"].get<std::string>() != core::crypto::sha256_hex(statement).substr(0, 16)) throw bad();
    return {t["p"].get<std::size_t>(), t["k"]};
}

[[noreturn]] void missing_key_equality() {
    throw core::AwsError::validation("Where clause does not contain a mandatory equality on all key attributes");
}

// UPDATE / DELETE / EXISTS: the key from WHERE's equalities, and the conjuncts left over
// (the write's condition).
std::pair<Item, std::vector<const Expr*>> key_and_rest(const Statement& st, const KeySchema& schema) {
    Item key;
    std::vector<const Expr*> rest;
    if (!st.where) missing_key_equality();
    for (const Expr* c : partiql::conjuncts(*st.where)) {
        auto eq = partiql::equality(*c);
        bool is_key = eq && (eq->first == schema.hash.name || (schema.range && eq->first == schema.range->name));
        if (is_key && !key.count(eq->first)) {
            key.emplace(eq->first, eq->second->value);
            continue;
        }
        rest.push_back(c);
    }
    if (!key.count(schema.hash.name) || (schema.range && !key.count(schema.range->name))) missing_key_equality();
    return {std::move(key), std::move(rest)};
}

std::string and_all(partiql::Renderer& r, const std::vector<const Expr*>& parts, const std::string& first = {}) {
    std::string out = first;
    for (const Expr* p : parts) {
        if (!out.empty()) out += " AND ";
        bool group = p->kind == ExprKind::logical_or || p->kind == ExprKind::is_null;
        out += group ? "(" + r.condition(*p) + ")" : r.condition(*p);
    }
    return out;
}

void check_order_by(const Statement& st, const KeySchema& schema, bool query_plan) {
    if (st.order_by.empty()) return;
    if (!st.where) throw core::AwsError::validation("Must have WHERE clause in the statement when using ORDER BY clause.");
    for (const auto& o : st.order_by) {
        bool key = o.name == schema.hash.name || (schema.range && o.name == schema.range->name);
        // AWS's wording for these two is not documented.
        if (!key)
            throw core::AwsError::validation(fmt::format("ORDER BY is only supported on key attributes; attribute: {}", o.name));
    }
    if (!query_plan)
        throw core::AwsError::validation(
            "ORDER BY requires an equality or IN condition on the partition key in the WHERE clause");
}

}  // namespace

void duplicate_item() { throw core::AwsError("DuplicateItemException", duplicate_item_message, 400); }

Statement prepare(const json& req, bool allow_exists, const std::string& member) {
    if (!req.is_object()) throw core::AwsError::serialization("Start of structure or map found where not expected.");
    auto text = input::opt_string(req, "Statement");
    const json* params = input::opt_array(req, "Parameters");
    input::Violations v;
    if (!text) v.add_null(member + "statement");
    else if (text->empty()) v.add(*text, member + "statement", "Member must have length greater than or equal to 1");
    else if (text->size() > partiql::max_statement_bytes)
        v.add(*text, member + "statement", "Member must have length less than or equal to 8192");
    if (params && params->empty()) v.add("[]", member + "parameters", "Member must have length greater than or equal to 1");
    v.throw_if_any();
    Statement st = partiql::parse(*text, allow_exists);
    std::vector<AttributeValue> values;
    if (params)
        for (const json& p : *params) values.push_back(value_from_json(p));
    partiql::bind(st, values);
    return st;
}

TableDef statement_table(Context& ctx, const Statement& st) {
    // Only writes ask, and writes run in the group commit's transaction (dynamo/api.cpp),
    // which env.write joins: the table as the group's earlier writes left it.
    return ctx.store.env().write([&](lmdb::WriteTxn& txn) { return require_table(ctx, txn, st.table); });
}

json select(Context& ctx, const lmdb::Txn& txn, const Statement& st, const ReadOptions& o) {
    auto table_ref = require_table_ref(ctx, txn, st.table);
    const TableDef& table = *table_ref;
    const IndexDef* index = nullptr;
    if (st.index) {
        index = table.index(*st.index);
        if (!index) throw core::AwsError::validation("The table does not have the specified index: " + *st.index);
        if (index->backfilling)
            throw core::AwsError::validation("Cannot read from backfilling global secondary index: " + *st.index);
    }
    const KeySchema& schema = index ? index->key : table.key;

    // WHERE and the projection in the expression language, evaluated by its evaluator.
    partiql::Renderer r;
    std::string where_text = st.where ? r.condition(*st.where) : std::string();
    std::string proj_text;
    for (const auto& p : st.projection) proj_text += (proj_text.empty() ? "" : ", ") + r.path(p);
    expr::Context ec(r.take_names(), r.take_values());
    expr::Condition filter = st.where ? ec.filter(where_text) : expr::Condition();
    expr::Projection projection = st.select_all ? expr::Projection() : ec.projection(proj_text);

    KeyPlan plan = plan_keys(st, schema);
    const bool by_partition = has_hash_condition(st, schema);
    check_order_by(st, schema, by_partition);
    bool descending = false;
    bool hash_descending = false;
    for (const auto& ob : st.order_by) {
        if (ob.name == schema.hash.name) hash_descending = ob.descending;
        else descending = ob.descending;
    }
    if (!st.order_by.empty())
        std::stable_sort(plan.hashes.begin(), plan.hashes.end(), [&](const AttributeValue& a, const AttributeValue& b) {
            auto c = expr::compare_values(a, b);
            return c && (hash_descending ? *c > 0 : *c < 0);
        });

    Resume resume;
    if (o.next_token) resume = read_token(*o.next_token, o.statement_text);

    json items = json::array();
    double units = 0;
    std::size_t evaluated = 0;
    std::optional<std::string> token;
    json last_key;

    const bool get_plan = !index && by_partition && (!table.key.range || plan.range_eq);
    if (get_plan) {
        // GetItem per key (one per IN value).
        for (std::size_t p = resume.partition; p < plan.hashes.size(); ++p) {
            if (o.limit && evaluated >= *o.limit) {
                token = make_token(o.statement_text, p, nullptr);
                break;
            }
            Item key{{table.key.hash.name, plan.hashes[p]}};
            if (table.key.range) key.emplace(table.key.range->name, *plan.range_eq);
            auto item = ctx.store.get(txn, table, key);
            ++evaluated;
            units += read_units(item ? item_size(*item) : 0, o.consistent);
            if (item && filter.evaluate(*item))
                items.push_back(item_to_json(projection.empty() ? *item : projection.apply(*item)));
        }
    } else {
        // Query per partition, or one Scan: read_page does Limit, the 1 MB page, the
        // filter and the projection as for Query and Scan.
        const std::size_t partitions = by_partition ? plan.hashes.size() : 1;
        for (std::size_t p = resume.partition; p < partitions; ++p) {
            json in = json::object();
            if (o.consistent) in["ConsistentRead"] = true;
            if (o.limit) {
                if (evaluated >= *o.limit) {
                    token = make_token(o.statement_text, p, nullptr);
                    break;
                }
                in["Limit"] = *o.limit - evaluated;
            }
            if (p == resume.partition && !resume.last_key.is_null()) in["ExclusiveStartKey"] = resume.last_key;
            if (o.capacity != CapacityMode::none) in["ReturnConsumedCapacity"] = "TOTAL";
            expr::Condition f = filter;
            expr::Projection pr = projection;
            PageRequest page = make_page(ctx, in, table, index, std::move(f), std::move(pr));
            expr::KeyCondition kc;
            if (by_partition) {
                kc.hash_name = schema.hash.name;
                kc.hash = plan.hashes[p];
                kc.range = plan.range;
                query_key_range(index, index ? index->id : table.id, kc, page.range);
                page.matches_key = [&kc](const Item& item) { return kc.matches(item); };
                page.range.forward = !descending;
            } else {
                page.range.prefix = ctx.store.id_prefix(index ? index->id : table.id);
            }
            json out = read_page(ctx, txn, page);
            for (auto& it : out["Items"]) items.push_back(std::move(it));
            evaluated += out["ScannedCount"].get<std::size_t>();
            if (out.contains("ConsumedCapacity")) units += out["ConsumedCapacity"]["CapacityUnits"].get<double>();
            if (out.contains("LastEvaluatedKey")) {
                last_key = out["LastEvaluatedKey"];
                token = make_token(o.statement_text, p, last_key);
                break;
            }
        }
    }
    json result = {{"Items", std::move(items)}};
    if (token) result["NextToken"] = *token;
    if (!last_key.is_null()) result["LastEvaluatedKey"] = last_key;
    if (o.capacity != CapacityMode::none) {
        std::vector<std::pair<const IndexDef*, double>> idx;
        if (index) idx.emplace_back(index, units);
        add_capacity(result, o.capacity, table, index ? 0.0 : units, idx);
    }
    return result;
}

std::optional<Item> select_one(Context& ctx, const lmdb::Txn& txn, const Statement& st, bool consistent, double& units,
                               const char* not_full_key, std::string* item_key) {
    auto table_ref = require_table_ref(ctx, txn, st.table);
    const TableDef& table = *table_ref;
    if (st.index || !st.where) throw core::AwsError::validation(not_full_key);
    // The key must be given by equalities (an IN is several items, not one read).
    const Expr* hash = nullptr;
    const Expr* range = nullptr;
    for (const Expr* c : partiql::conjuncts(*st.where)) {
        auto eq = partiql::equality(*c);
        if (!eq) continue;
        if (eq->first == table.key.hash.name && !hash) hash = eq->second;
        else if (table.key.range && eq->first == table.key.range->name && !range) range = eq->second;
    }
    if (!hash || (table.key.range && !range)) throw core::AwsError::validation(not_full_key);
    partiql::Renderer r;
    std::string where_text = r.condition(*st.where);
    std::string proj_text;
    for (const auto& p : st.projection) proj_text += (proj_text.empty() ? "" : ", ") + r.path(p);
    expr::Context ec(r.take_names(), r.take_values());
    expr::Condition filter = ec.filter(where_text);
    expr::Projection projection = st.select_all ? expr::Projection() : ec.projection(proj_text);
    // A key value of another type names no item.
    if (!scalar_key_value(hash->value, table.key.hash.type) ||
        (range && !scalar_key_value(range->value, table.key.range->type))) {
        units += read_units(0, consistent);
        return std::nullopt;
    }
    Item key{{table.key.hash.name, hash->value}};
    if (range) key.emplace(table.key.range->name, range->value);
    if (item_key) *item_key = table.name + '\0' + ctx.store.item_key(table, key);
    auto item = ctx.store.get(txn, table, key);
    units += read_units(item ? item_size(*item) : 0, consistent);
    if (!item || !filter.evaluate(*item)) return std::nullopt;
    return projection.empty() ? std::move(*item) : projection.apply(*item);
}

WriteRequest translate_write(const Statement& st, const TableDef& table, bool for_transaction) {
    WriteRequest w;
    partiql::Renderer r;
    w.body = {{"TableName", table.name}};
    if (st.index) throw core::AwsError::validation("Writes to an index are not supported");  // parser refuses them first
    if (for_transaction && st.returning != partiql::Returning::none)
        throw core::AwsError::validation("RETURNING is not supported in transactions");  // AWS wording unknown
    switch (st.kind) {
    case partiql::Kind::insert: {
        w.action = "Put";
        w.insert = true;
        w.body["Item"] = item_to_json(*st.value.value.m);
        w.body["ConditionExpression"] = "attribute_not_exists(" + r.name(table.key.hash.name) + ")";
        break;
    }
    case partiql::Kind::update: {
        w.action = "Update";
        auto [key, rest] = key_and_rest(st, table.key);
        w.body["Key"] = item_to_json(key);
        w.body["UpdateExpression"] = r.update(st.actions);
        // UPDATE never creates an item: the item must exist (ConditionalCheckFailed).
        w.body["ConditionExpression"] = and_all(r, rest, "attribute_exists(" + r.name(table.key.hash.name) + ")");
        static constexpr const char* rv[] = {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"};
        if (!for_transaction) w.body["ReturnValues"] = rv[static_cast<int>(st.returning)];
        break;
    }
    case partiql::Kind::del: {
        w.action = "Delete";
        auto [key, rest] = key_and_rest(st, table.key);
        w.body["Key"] = item_to_json(key);
        if (!rest.empty()) w.body["ConditionExpression"] = and_all(r, rest);
        if (!for_transaction && st.returning == partiql::Returning::all_old) w.body["ReturnValues"] = "ALL_OLD";
        break;
    }
    case partiql::Kind::exists: {
        w.action = "ConditionCheck";
        auto [key, rest] = key_and_rest(st, table.key);
        w.body["Key"] = item_to_json(key);
        w.body["ConditionExpression"] = and_all(r, rest, "attribute_exists(" + r.name(table.key.hash.name) + ")");
        break;
    }
    case partiql::Kind::select: throw std::logic_error("translate_write: a SELECT");
    }
    add_placeholders(w.body, r);
    return w;
}

}  // namespace stratus::dynamo::pql

// DynamoDB's expression language: ConditionExpression, FilterExpression,
// KeyConditionExpression, UpdateExpression and ProjectionExpression, with
// ExpressionAttributeNames (#n) and ExpressionAttributeValues (:v).
//
// One tokenizer and parser build an AST for every kind; #n and :v are then resolved
// against the request's maps and every statically known error is reported (syntax,
// reserved words, undefined or unused placeholders, overlapping update paths, operand
// types of :values, limits). What comes back is self-contained (it shares the :values,
// immutable, and does not refer to the Context), so an operation validates everything up
// front, with no I/O, and in its
// write transaction only evaluates; Update::apply computes the whole new item or throws,
// so an update applies fully or not at all (STYLE.md, "Expressions").
//
//   using namespace stratus::dynamo;
//   expr::Context ctx(std::move(in.names), std::move(in.values));   // one per request
//   auto cond = ctx.condition(in.condition_expression);            // ConditionExpression
//   auto upd  = ctx.update(in.update_expression);                  // UpdateExpression
//   ctx.check_unused();        // "Value provided in ExpressionAttributeValues unused ..."
//   // ... later, in the write transaction:
//   Item old = store.get(txn, table, key).value_or(Item{});
//   if (!cond.evaluate(old)) throw conditional_check_failed();
//   expr::UpdateResult r = upd.apply(old);   // r.item is the new item; old is untouched
//   Item updated_new = upd.updated_paths().apply(r.item);   // ReturnValues UPDATED_NEW
//
// Every error is a core::AwsError ValidationException carrying DynamoDB's message
// ("Invalid UpdateExpression: Syntax error; token: \"=\", near: \"SET = :v\"").
//
// Left to the operations (they need the request or the table): "ExpressionAttributeNames
// can only be specified when using expressions", empty-map checks
// ("ExpressionAttributeValues must not be empty"), "Cannot update attribute id. This
// attribute is part of the key" (use Update::attribute_names()), FilterExpression on key
// attributes in Query, the final 400 KB item check, and "The conditional request failed".
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dynamo/model/table.hpp"
#include "dynamo/model/value.hpp"

namespace stratus::dynamo::expr {

// Which expression a text is: it names the expression in messages
// ("Invalid FilterExpression: ...") and selects the grammar.
enum class Kind : std::uint8_t { condition, filter, key_condition, update, projection };
std::string_view kind_name(Kind k);  // "ConditionExpression", ...

// AWS's documented limits ("Expression parameters" in the DynamoDB developer guide).
inline constexpr std::size_t max_expression_bytes = 4096;  // "4 KB"
inline constexpr std::size_t max_operators = 300;          // operators or functions
inline constexpr std::size_t max_in_operands = 100;        // IN (...) list
inline constexpr std::size_t max_path_depth = 32;          // document path nesting levels
// Parentheses, NOT chains and nested function calls deeper than this fail before the parser
// recurses further, so hostile input cannot exhaust the stack. AWS documents no nesting
// limit, only the 300 operators; every level of a valid expression holds an operator or a
// function (redundant parentheses are refused), so 300 levels plus a margin accept every
// expression AWS accepts.
inline constexpr std::size_t max_nesting = max_operators + 10;

// One step of a document path: a map key, or a list index ("a.b[2]" is a, b, [2]).
struct PathStep {
    bool is_index = false;
    std::string name;         // when !is_index: the attribute name (after #n resolution)
    std::uint32_t index = 0;  // when is_index
    bool operator==(const PathStep&) const = default;
};
using Path = std::vector<PathStep>;
// As DynamoDB prints paths in messages: "[a, b, [2]]".
std::string format_path(const Path& p);

// The attribute-value placeholders as the request sends them.
using Names = std::map<std::string, std::string>;       // "#n" -> attribute name
using Values = std::map<std::string, AttributeValue>;   // ":v" -> value

namespace detail {
struct Node;
struct UpdateAst;
struct ProjectionTree;
}  // namespace detail

// ConditionExpression or FilterExpression. A default-constructed Condition (the request
// had none) is always true.
class Condition {
public:
    Condition() = default;
    bool empty() const { return !root_; }
    // `item` is the stored item; pass an empty Item when there is none.
    bool evaluate(const Item& item) const;
    // Top-level attributes the expression reads (for "Filter Expression can only contain
    // non-primary key attributes").
    const std::vector<std::string>& attribute_names() const { return names_; }

private:
    friend class Context;
    std::shared_ptr<const detail::Node> root_;
    std::vector<std::string> names_;
};

// ProjectionExpression (also built from an update's paths for ReturnValues).
class Projection {
public:
    Projection() = default;
    // Paths must be free of overlaps and conflicts (as Context and Update guarantee).
    explicit Projection(std::vector<Path>&& paths);
    bool empty() const { return paths_.empty(); }
    // The projected item: nested paths keep their structure; list elements keep their
    // order and collapse (a[1], a[3] of [x0, x1, x2, x3] give a: [x1, x3]); paths that
    // are absent from the item are left out, and so are maps and lists left empty.
    Item apply(const Item& item) const;
    const std::vector<Path>& paths() const { return paths_; }
    std::vector<std::string> attribute_names() const;  // top-level, in first-use order

private:
    std::vector<Path> paths_;
    std::shared_ptr<const detail::ProjectionTree> tree_;
};

struct UpdateResult {
    Item item;  // the complete new item
    // Top-level attributes whose value changed, was added or was removed, in name order.
    std::vector<std::string> changed_attributes;
};

// UpdateExpression.
class Update {
public:
    Update() = default;
    bool empty() const { return !ast_; }
    // Computes the new item from `old` (empty Item when the item does not exist yet).
    // Every right-hand side reads `old`, as in DynamoDB. Throws AwsError on runtime
    // errors ("An operand in the update expression has an incorrect data type", "The
    // provided expression refers to an attribute that does not exist in the item", "The
    // document path provided in the update expression is invalid for update", Number's
    // overflow, "Item size to update has exceeded the maximum allowed size" when the SET
    // values alone pass 400 KB) before anything is visible: `old` is never modified.
    UpdateResult apply(const Item& old) const;
    // Top-level attributes named by SET/REMOVE/ADD/DELETE targets, in first-use order
    // (for "Cannot update attribute ...; This attribute is part of the key").
    const std::vector<std::string>& attribute_names() const { return names_; }
    // The target paths as a projection. As we understand DynamoDB, ReturnValues
    // UPDATED_OLD / UPDATED_NEW return only the updated paths (a nested SET a.b returns
    // {a: {b: ...}}, not all of a), so updated_paths().apply(old) / .apply(new) give
    // exactly those. (A SET a[9] that appended at a[3] is not found again at a[9].)
    const Projection& updated_paths() const { return targets_; }
    // Whether the update can create an item: it has a SET or an ADD. One that only
    // REMOVEs or DELETEs leaves a missing item missing (as DynamoDB does).
    bool creates() const { return creates_; }

private:
    friend class Context;
    std::shared_ptr<const detail::UpdateAst> ast_;
    std::vector<std::string> names_;
    Projection targets_;
    bool creates_ = false;
};

// KeyConditionExpression, checked against the key schema of the table or index queried.
enum class RangeOp : std::uint8_t { eq, lt, le, gt, ge, between, begins_with };
struct RangeCondition {
    std::string name;      // the range key attribute
    RangeOp op = RangeOp::eq;
    AttributeValue value;  // the operand; BETWEEN's lower bound
    AttributeValue upper;  // BETWEEN's upper bound
    bool matches(const AttributeValue& v) const;
};
struct KeyCondition {
    std::string hash_name;
    AttributeValue hash;  // hash = :v, the only form DynamoDB accepts
    std::optional<RangeCondition> range;
    bool matches(const Item& item) const;
};

// All expressions of one request share one Context: it validates the placeholder maps,
// resolves #n and :v in each expression, remembers which ones were used, and
// check_unused() reports the leftovers.
class Context {
public:
    // Throws "ExpressionAttributeNames contains invalid key: Syntax error; key: \"n\""
    // (and the same for values) when a key is not #word / :word, and "...contains invalid
    // value: Empty attribute name for key #n" for an empty name.
    Context(Names&& names, Values&& values);
    Context() = default;

    // Call these only for expressions the request has: a present but empty (or blank)
    // text is "Invalid ...Expression: The expression can not be empty;", as in DynamoDB.
    // An absent expression is a default-constructed Condition / Update / Projection.
    // `kind` is Kind::condition or Kind::filter (it names the expression in messages).
    Condition condition(std::string_view text, Kind kind = Kind::condition);
    Condition filter(std::string_view text) { return condition(text, Kind::filter); }
    Update update(std::string_view text);
    Projection projection(std::string_view text);
    KeyCondition key_condition(std::string_view text, const KeySchema& key);

    // "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}",
    // then the same for values.
    void check_unused() const;

    // Placeholders used so far.
    const std::set<std::string>& used_names() const { return used_names_; }
    const std::set<std::string>& used_values() const { return used_values_; }

private:
    Names names_;
    // Each value once, shared by every node that uses it.
    std::map<std::string, std::shared_ptr<const AttributeValue>> values_;
    std::set<std::string> used_names_;
    std::set<std::string> used_values_;
};

// DynamoDB's reserved words (the 573 of "Reserved words in DynamoDB"), any case.
bool is_reserved_word(std::string_view word);
std::size_t reserved_word_count();

// Comparison semantics shared by conditions, key conditions and Query/Scan callers.
// Values of different types, or of types without an order, are not ordered (nullopt).
std::optional<std::strong_ordering> compare_values(const AttributeValue& a, const AttributeValue& b);

}  // namespace stratus::dynamo::expr

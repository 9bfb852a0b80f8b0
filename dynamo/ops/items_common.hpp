// What the item operations share: reading keys and items from a request and validating
// them against the table, the 400 KB limit, consumed capacity, ReturnValues.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "dynamo/expr/expr.hpp"
#include "dynamo/model/table.hpp"
#include "dynamo/model/value.hpp"

namespace stratus::dynamo {

constexpr std::size_t max_item_size = 400 * 1024;

// A request's Key: exactly the table's key attributes with their types
// ("The provided key element does not match the schema" otherwise).
Item parse_key(const nlohmann::json& key_json, const TableDef& table);
void validate_key(const Item& key, const TableDef& table);

// A full item to store: has the key attributes with the right, non-empty values; the
// index keys it has are of the index's type and not empty; at most 400 KB. The result of
// an update says so in its message ("Item size to update has exceeded ..."), as AWS does.
// Returns the item's size.
enum class ItemSource { put, update };
std::size_t validate_item(const Item& item, const TableDef& table, ItemSource source = ItemSource::put);

// ReturnConsumedCapacity: NONE / TOTAL / INDEXES.
enum class CapacityMode { none, total, indexes };
CapacityMode parse_capacity_mode(const nlohmann::json& in);
// Write capacity of storing `item` (1 KB units, at least 1), and read capacity of reading
// it (4 KB units; half for eventually consistent reads).
double write_units(std::size_t bytes);
double read_units(std::size_t bytes, bool consistent);
// Adds "ConsumedCapacity" to `out` when asked; `index_units` for INDEXES mode.
void add_capacity(nlohmann::json& out, CapacityMode mode, const TableDef& table, double table_units,
                  const std::vector<std::pair<const IndexDef*, double>>& index_units = {});
nlohmann::json capacity_json(CapacityMode mode, const TableDef& table, double table_units,
                             const std::vector<std::pair<const IndexDef*, double>>& index_units = {});
// Index write units for a put replacing `old` with `item` (each index an item enters or
// leaves costs a write).
std::vector<std::pair<const IndexDef*, double>> index_write_units(const TableDef& table, const std::optional<Item>& old,
                                                                  const std::optional<Item>& item);

// ReturnItemCollectionMetrics SIZE on a table with a local secondary index: the item
// collection (the item's partition) and its size estimate, as PutItem, UpdateItem and
// DeleteItem answer it.
void add_collection_metrics(nlohmann::json& out, const std::string& mode, const TableDef& table, const Item& key);

// The ExpressionAttributeValues map of a request (validated values), empty if absent.
std::map<std::string, AttributeValue> parse_expression_values(const nlohmann::json& in);
std::map<std::string, std::string> parse_expression_names(const nlohmann::json& in);

// The expression machinery of one request: the names/values maps validated, every
// expression the request has parsed, and (after the caller parsed all of them)
// check_unused(). `uses_expressions` says whether the request has any expression; when
// not, names or values are an error with AWS's message, which names the expressions
// that were null (`null_expressions`, e.g. "ConditionExpression is null").
expr::Context expression_context(const nlohmann::json& in, bool uses_expressions, std::string_view null_expressions);

// ConditionalCheckFailedException, with the old item when ReturnValuesOnConditionCheckFailure
// is ALL_OLD.
[[noreturn]] void condition_failed(const std::optional<Item>& old, bool return_old);
// Reads ReturnValuesOnConditionCheckFailure (NONE / ALL_OLD).
bool parse_return_old_on_failure(const nlohmann::json& in);

// A required object member ("Key", "Item"): absent is AWS's "Value null at '<member>'".
const nlohmann::json& require_member(const nlohmann::json& in, const char* key, const char* member);
// ReturnValues, checked against the values the operation allows (AWS answers "Return
// values set to invalid value" for the others).
std::string parse_return_values(const nlohmann::json& in, std::initializer_list<std::string_view> allowed);
// The ConditionExpression of PutItem / DeleteItem (or legacy Expected), fully validated
// with its names and values.
expr::Condition parse_write_condition(const nlohmann::json& in);

// The member constraints of an item operation's request (TableName, IndexName, Key /
// Item present, the enums, Limit, Segment / TotalSegments), checked together in the
// operation's member order (`members`, the botocore model's) so several are reported in
// one "N validation errors detected: ..." as AWS does.
void check_members(const nlohmann::json& in, std::initializer_list<std::string_view> members);

// Loads a table by the request's TableName (name or ARN), with AWS's validation.
// A table name as check_table_name accepts it, ARNs excluded (the fast paths' test).
bool plain_table_name(std::string_view name);
std::string parse_table_name(const nlohmann::json& in);

}  // namespace stratus::dynamo

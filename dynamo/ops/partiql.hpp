// What ExecuteStatement, BatchExecuteStatement and ExecuteTransaction share: reading a
// statement and its parameters from a request, planning a SELECT as DynamoDB does (a full
// key in WHERE is a GetItem, a partition key (= or IN) a Query, anything else a Scan) and
// running it, and turning INSERT / UPDATE / DELETE / EXISTS into the PutItem / UpdateItem /
// DeleteItem / ConditionCheck requests that the write operations then execute, so every
// PartiQL write goes through the one write path (indexes, capacity, stream records).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dynamo/expr/partiql.hpp"
#include "dynamo/ops/items_common.hpp"
#include "dynamo/ops/ops.hpp"

namespace stratus::dynamo::pql {

using json = nlohmann::json;

// Statement and Parameters of `req` (an ExecuteStatementInput, a BatchStatementRequest or
// a ParameterizedStatement), parsed and bound. `member` prefixes the botocore-style
// violation paths ("" for ExecuteStatement, "statements.1.member." in a batch).
partiql::Statement prepare(const json& req, bool allow_exists, const std::string& member = "");

struct ReadOptions {
    bool consistent = false;
    std::optional<std::size_t> limit;
    CapacityMode capacity = CapacityMode::none;
    std::optional<std::string> next_token;
    std::string statement_text;  // ties a NextToken to its statement
};

// A SELECT as ExecuteStatement answers it: Items, NextToken / LastEvaluatedKey, capacity.
json select(Context& ctx, const core::lmdb::Txn& txn, const partiql::Statement& st, const ReadOptions& o);

// A SELECT whose WHERE names the full primary key (BatchExecuteStatement and
// ExecuteTransaction reads): the item, if it exists and matches the rest of WHERE,
// projected. `units` gets the read capacity. Throws ValidationException `not_full_key`
// when WHERE does not give the full key.
std::optional<Item> select_one(Context& ctx, const core::lmdb::Txn& txn, const partiql::Statement& st,
                               bool consistent, double& units, const char* not_full_key, std::string* item_key = nullptr);

// A write statement as the request of a write operation.
struct WriteRequest {
    const char* action = "";  // TransactWriteItems' name: Put, Update, Delete, ConditionCheck
    json body;                // the PutItem / UpdateItem / DeleteItem / ConditionCheck request
    bool insert = false;      // INSERT: a failed condition is DuplicateItem
};
// `table` is the statement's table (loaded by the caller). `for_transaction`: no
// ReturnValues (RETURNING is refused).
WriteRequest translate_write(const partiql::Statement& st, const TableDef& table, bool for_transaction);

// The table a statement names, or ResourceNotFoundException.
TableDef statement_table(Context& ctx, const partiql::Statement& st);

// DuplicateItemException, as AWS answers an INSERT of an existing key.
[[noreturn]] void duplicate_item();
inline constexpr const char* duplicate_item_message = "Duplicate primary key exists in table";

}  // namespace stratus::dynamo::pql

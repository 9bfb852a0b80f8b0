// DynamoDB operations: one function per operation (one file each), JSON in, JSON out.
// Each parses and validates its whole input before touching storage, then runs in one
// LMDB transaction, so a rejected request changes nothing.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "dynamo/store/store.hpp"

namespace stratus::dynamo {

// TransactWriteItems' (and ExecuteTransaction's) ClientRequestToken memory: a token seen in
// the last 10 minutes with the same request returns the same (successful) answer again
// without writing; with a different request it is IdempotentParameterMismatchException.
// It keeps a digest of each request, never the request (a 4 MB transaction would stay in
// memory for 10 minutes), and at most `max_entries` tokens (the oldest go first).
struct TransactionTokens {
    struct Entry {
        std::string request_digest;  // SHA-256 of the request as canonical JSON
        std::string response;        // the (small) answer: no items, at most capacity
        double at = 0;
    };
    static constexpr std::size_t max_entries = 10000;
    std::mutex mutex;
    std::map<std::string, Entry, std::less<>> entries;
    // (at, token) in insertion order, to expire and evict without walking `entries`.
    std::deque<std::pair<double, std::string>> order;

    // Drops tokens older than `lifetime` seconds, then the oldest beyond max_entries - 1.
    void expire(double now, double lifetime);
    // Records a token's answer (the caller holds `mutex`).
    void remember(const std::string& token, std::string&& digest, std::string&& response, double now);
};

struct Context {
    Store& store;
    std::string region = "us-east-1";
    std::string account = "000000000000";
    // What DescribeEndpoints answers: stratus's own address, not AWS's.
    std::string endpoint_address = "localhost:4566";
    std::function<double()> now;  // epoch seconds; injectable for tests
    std::shared_ptr<TransactionTokens> tokens = std::make_shared<TransactionTokens>();
    // Tells the service's maintenance thread that long work was recorded (Store::
    // maintenance_step); empty where nobody runs it (tests drive the steps themselves).
    std::function<void()> wake_maintenance = {};
};

// UpdateTable builds a new GSI at once on a table of at most this many items; on a
// bigger one it is CREATING (Backfilling) until the maintenance thread has built it.
inline constexpr std::int64_t sync_backfill_items = 1000;

using Operation = nlohmann::json (*)(Context&, const nlohmann::json& input);

// Operation name ("PutItem") -> implementation.
const std::map<std::string, Operation, std::less<>>& operations();

// Operations whose response body is written as text without a JSON tree (Query and Scan
// pages of up to 1 MB, GetItem); operations() has them too, for callers that want the tree.
using TextOperation = std::string (*)(Context&, const nlohmann::json& input);
const std::map<std::string, TextOperation, std::less<>>& text_operations();

// Control plane
nlohmann::json create_table(Context&, const nlohmann::json&);
nlohmann::json describe_table(Context&, const nlohmann::json&);
nlohmann::json list_tables(Context&, const nlohmann::json&);
nlohmann::json delete_table(Context&, const nlohmann::json&);
nlohmann::json update_table(Context&, const nlohmann::json&);
nlohmann::json tag_resource(Context&, const nlohmann::json&);
nlohmann::json untag_resource(Context&, const nlohmann::json&);
nlohmann::json list_tags_of_resource(Context&, const nlohmann::json&);
nlohmann::json update_time_to_live(Context&, const nlohmann::json&);
nlohmann::json describe_time_to_live(Context&, const nlohmann::json&);
nlohmann::json describe_continuous_backups(Context&, const nlohmann::json&);
nlohmann::json update_continuous_backups(Context&, const nlohmann::json&);
nlohmann::json describe_limits(Context&, const nlohmann::json&);
nlohmann::json describe_endpoints(Context&, const nlohmann::json&);

// Items
nlohmann::json put_item(Context&, const nlohmann::json&);
nlohmann::json get_item(Context&, const nlohmann::json&);
nlohmann::json delete_item(Context&, const nlohmann::json&);
nlohmann::json update_item(Context&, const nlohmann::json&);
nlohmann::json query(Context&, const nlohmann::json&);
nlohmann::json scan(Context&, const nlohmann::json&);
std::string get_item_text(Context&, const nlohmann::json&);
// GetItem's common request answered from its text, with no tree built: a table named
// plainly, a key of S / N values, optionally ConsistentRead and ReturnConsumedCapacity
// NONE, nothing else. Answers exactly what get_item_text answers, or nullopt whenever the
// request is anything else or anything is wrong with it (get_item_text then answers,
// errors included).
std::optional<std::string> get_item_fast(Context&, std::string_view body);
// PutItem's common request (a plainly named table, an item of S / N / BOOL / NULL values,
// ReturnValues / ReturnConsumedCapacity / ReturnItemCollectionMetrics NONE, nothing else)
// parsed from its text with no tree built: the write to run (in a write transaction, or
// the group committer's), which answers what put_item answers for the same request, or
// an empty function when the request is anything else (put_item then parses it).
std::function<nlohmann::json(Context&)> put_item_fast(std::string_view body);
std::string query_text(Context&, const nlohmann::json&);
std::string scan_text(Context&, const nlohmann::json&);
nlohmann::json batch_get_item(Context&, const nlohmann::json&);
nlohmann::json batch_write_item(Context&, const nlohmann::json&);
nlohmann::json transact_get_items(Context&, const nlohmann::json&);
nlohmann::json transact_write_items(Context&, const nlohmann::json&);

// PartiQL
nlohmann::json execute_statement(Context&, const nlohmann::json&);
nlohmann::json batch_execute_statement(Context&, const nlohmann::json&);
nlohmann::json execute_transaction(Context&, const nlohmann::json&);

// Deletes the items whose TTL has passed (see ttl.cpp); returns how many.
std::size_t sweep_expired(Context& ctx, double now);

// The DescribeTable shape of a table, with live item counts and sizes.
nlohmann::json describe(Context& ctx, const core::lmdb::Txn& txn, const TableDef& table, const char* status = "ACTIVE");
// Loads a table or throws ResourceNotFoundException ("Requested resource not found").
TableDef require_table(Context& ctx, const core::lmdb::Txn& txn, std::string_view name);
// The same without a copy (item reads and writes).
std::shared_ptr<const TableDef> require_table_ref(Context& ctx, const core::lmdb::Txn& txn, std::string_view name);

}  // namespace stratus::dynamo

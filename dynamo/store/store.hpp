// DynamoDB's storage on LMDB. One write transaction holds an item, all its index entries,
// its table statistics and its stream record (dynamo/streams/stream_store.hpp), so each
// write is atomic.
//
// Databases (opened once at startup):
//   ddb_catalog  table name -> catalog JSON (TableDef::to_catalog)
//   ddb_items    u32be(table id) + key_part(hash) [+ key_part(range)] -> encode_item(item)
//   ddb_index    u32be(index id) + key_part(index hash) [+ key_part(index range)]
//                + key_part(table hash) [+ key_part(table range)] -> encode_item(projection)
//   ddb_meta     "next_id" -> u32be; "stats" + u32be(id) -> i64be(count) + i64be(bytes);
//                "format" -> "2" (data dirs without it are upgraded at startup)
//   ddb_ttl      u32be(table id) + key_part(TTL number) + digest(item key) (128 bits of SHA-256 as 32 hex characters)
//                -> item key: the items of a table with TTL enabled, by expiry time, so
//                the sweeper reads only what has expired (the hash keeps the LMDB key
//                short and fixed-size whatever the item key's length)
//
// Long keys. LMDB keys are at most 511 bytes; DynamoDB allows 2048-byte hash and
// 1024-byte range keys. A key part whose encoding E does not fit its budget is stored as
// E[0:c] 00 01 digest(E) (stored_part): a deterministic, prefix-free stand-in that sorts
// exactly like E against every value that differs from it in the first c bytes. Hash
// parts get 256 bytes (their order does not matter, only grouping); range parts get the
// rest of the 511 (an index keeps 32 bytes back for the table key, or its digest).
// So Query order is exact except among range values longer than ~200 bytes that share
// their first ~200 encoded bytes (those come in digest order among themselves); Query
// re-checks its key condition on every item, so results are exact.
#pragma once

#include <cstdint>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/lmdb.hpp"
#include "dynamo/model/table.hpp"
#include "dynamo/model/value.hpp"
#include "dynamo/streams/stream_store.hpp"

namespace stratus::dynamo {

struct Stats {
    std::int64_t count = 0;
    std::int64_t bytes = 0;
};

class Store {
public:
    explicit Store(core::lmdb::Env& env);

    core::lmdb::Env& env() { return env_; }

    // --- catalog
    std::optional<TableDef> find_table(const core::lmdb::Txn& txn, std::string_view name) const;
    // The same definition without a copy: the parsed catalog entry the cache holds (hot
    // paths: every item read and write looks its table up).
    std::shared_ptr<const TableDef> table(const core::lmdb::Txn& txn, std::string_view name) const;
    std::vector<std::string> table_names(const core::lmdb::Txn& txn) const;  // sorted
    void save_table(core::lmdb::WriteTxn& txn, const TableDef& table);
    std::uint32_t allocate_id(core::lmdb::WriteTxn& txn);
    // Removes the table, its items, index entries and statistics; disables its stream
    // (readable for 24 hours more, as AWS keeps it).
    void drop_table(core::lmdb::WriteTxn& txn, const TableDef& table);

    // --- items. A key is an Item holding exactly the key attributes (validated by the caller).
    std::string item_key(const TableDef& table, const Item& key) const;
    // The same from the key's values (the range one null for a hash-only table), checked
    // against the schema by the caller.
    std::string item_key(const TableDef& table, const AttributeValue& hash, const AttributeValue* range) const;
    std::optional<Item> get(const core::lmdb::Txn& txn, const TableDef& table, const Item& key) const;
    // The stored bytes of the item (encode_item's form), valid while `txn` lives.
    std::optional<std::string_view> get_encoded(const core::lmdb::Txn& txn, const TableDef& table,
                                                const Item& key) const;
    std::optional<std::string_view> get_encoded(const core::lmdb::Txn& txn, const TableDef& table,
                                                const AttributeValue& hash, const AttributeValue* range) const;
    // Stores `item`, replacing `old` (the item currently stored under the same key, if any),
    // and keeps every index, the statistics and the table's stream in step (a stream
    // record when the item changed).
    void put(core::lmdb::WriteTxn& txn, const TableDef& table, const Item& item, const std::optional<Item>& old);
    // `by_service`: a TTL deletion (its stream record names the DynamoDB service).
    void erase(core::lmdb::WriteTxn& txn, const TableDef& table, const Item& old, bool by_service = false);

    streams::StreamStore& streams() { return streams_; }

    // Builds a new index's entries from the table's items now, in txn (UpdateTable GSI
    // create on a small table).
    void backfill_index(core::lmdb::WriteTxn& txn, const TableDef& table, const IndexDef& index);
    // Records that `index` (in table's definition, with backfilling set, saved in the
    // same txn) is to be built from the table's items by maintenance_step.
    void schedule_backfill(core::lmdb::WriteTxn& txn, const TableDef& table, const IndexDef& index);
    // Removes the index's statistics now and its entries through maintenance_step.
    void drop_index(core::lmdb::WriteTxn& txn, const IndexDef& index);

    // --- long work in bounded steps. Backfills of new indexes and the removal of dropped
    // tables' and indexes' entries are recorded in ddb_meta (so a restart resumes them)
    // and done by maintenance_step, one bounded piece per write transaction, so no
    // transaction holds the writer for long. Ids are never reused, so a dropped table's
    // leftovers are invisible while they wait.
    // Does one piece (at most `budget` items) of pending work; false when none is pending.
    bool maintenance_step(core::lmdb::WriteTxn& txn, std::size_t budget);
    bool maintenance_pending(const core::lmdb::Txn& txn) const;

    Stats stats(const core::lmdb::Txn& txn, std::uint32_t id) const;

    // --- TTL. Rebuilds the table's TTL entries after its TTL attribute changed (none
    // when TTL is disabled), now, in txn; drops a pending build of them.
    void rebuild_ttl(core::lmdb::WriteTxn& txn, const TableDef& table);
    // The same for a big table: its entries erased now, built from its items by
    // maintenance_step (writes maintain the entries of the items they touch meanwhile, as
    // the definition, saved in the same txn, names the attribute already).
    void schedule_ttl_build(core::lmdb::WriteTxn& txn, const TableDef& table);
    // Item keys (as item_key gives them) of items whose TTL attribute is a number in
    // [from, to], in expiry order, at most `limit`.
    std::vector<std::string> ttl_due(const core::lmdb::Txn& txn, const TableDef& table, const Number& from,
                                     const Number& to, std::size_t limit) const;
    std::optional<Item> get_by_item_key(const core::lmdb::Txn& txn, std::string_view item_key) const;

    // --- ordered reads for Query and Scan.
    struct Range {
        const IndexDef* index = nullptr;  // nullptr: the table
        std::string prefix;   // every visited LMDB key starts with this
        std::string lower;    // visit keys >= lower; empty: from the start of prefix
        std::string upper;    // visit keys < upper; empty: to the end of prefix
        bool forward = true;
        std::optional<std::string> exclusive_start;  // resume after this LMDB key
    };
    // Calls visit(item) in order until it returns false.
    void scan(const core::lmdb::Txn& txn, const Range& range, const std::function<bool(Item&&)>& visit) const;
    // The LMDB key of `item` in the table or in `index` (for LastEvaluatedKey resumption).
    std::string entry_key(const TableDef& table, const IndexDef* index, const Item& item) const;
    std::string id_prefix(std::uint32_t id) const;

    // --- key layout (see "Long keys" above).
    static constexpr std::size_t max_key = 511;
    static constexpr std::size_t hash_part_budget = 256;
    static constexpr std::size_t suffix_reserve = 32;
    static constexpr std::size_t long_part_extra = 34;  // 00 01 + 32-byte digest
    // The stored form of a key part within `budget` bytes.
    static std::string stored_part(const AttributeValue& v, std::size_t budget);
    static void append_stored_part(std::string& out, const AttributeValue& v, std::size_t budget);
    // Table or index id + stored hash part: every entry of one partition starts with it.
    static std::string partition_prefix(std::uint32_t id, const AttributeValue& hash);
    // The budget of the range part that follows a partition prefix of this size.
    static std::size_t range_budget(std::size_t prefix_size, bool index);
    // The smallest string greater than every string that starts with `prefix`; empty when
    // there is none (all 0xFF). Turns "<= X" into an exclusive bound.
    static std::string successor(std::string prefix);

    void reset(core::lmdb::WriteTxn& txn);

    // The projection of `item` stored in `index`, or nullopt when the item lacks one of the
    // index's key attributes (sparse index) or has it with another type.
    static std::optional<Item> project_for_index(const TableDef& table, const IndexDef& index, const Item& item);

private:
    // A table's (or index's) statistics change once per write transaction, however many
    // items it writes (a group of PutItems, a BatchWriteItem): add_stats gathers the
    // changes, write_stats stores them just before the commit (WriteTxn::before_commit).
    void add_stats(core::lmdb::WriteTxn& txn, std::uint32_t id, std::int64_t count, std::int64_t bytes);
    void write_stats(core::lmdb::WriteTxn& txn);
    void drop_stats(core::lmdb::WriteTxn& txn, std::uint32_t id);
    Stats stored_stats(const core::lmdb::Txn& txn, std::uint32_t id) const;
    void put_index_entries(core::lmdb::WriteTxn& txn, const TableDef& table, const Item& item);
    void erase_index_entries(core::lmdb::WriteTxn& txn, const TableDef& table, const Item& item);
    // Erases the entries of dbi starting with prefix, at most `limit`; returns how many.
    std::size_t erase_prefix(core::lmdb::WriteTxn& txn, core::lmdb::Dbi dbi, const std::string& prefix,
                             std::size_t limit = SIZE_MAX);
    void schedule_purge(core::lmdb::WriteTxn& txn, char db, std::uint32_t id);
    void backfill_step(core::lmdb::WriteTxn& txn, std::string_view meta_key, std::string_view state,
                       std::size_t budget);
    void ttl_build_step(core::lmdb::WriteTxn& txn, std::string_view meta_key, std::string_view state,
                        std::size_t budget);
    // Whether the index can hold the item's entry: writes refuse items whose index key is
    // empty or too long, so a backfill leaves such items out (as AWS's does).
    static bool indexable(const IndexDef& index, const Item& item);
    // Format upgrade of one table: re-keys its items, rebuilds its indexes and TTL index.
    void upgrade_table(core::lmdb::WriteTxn& txn, const TableDef& table);
    // The ddb_ttl key of `item` stored under `key`, or nullopt when TTL is off for the
    // table or the item's TTL attribute is missing or not a number.
    std::optional<std::string> ttl_key(const TableDef& table, const Item& item, std::string_view key) const;

    core::lmdb::Env& env_;
    // Parsed catalog entries, keyed by table name, each with the raw catalog bytes it was
    // parsed from: a lookup compares those bytes with what its own transaction sees, so
    // the cache can never show a definition from another snapshot.
    mutable std::mutex cache_mutex_;
    mutable std::map<std::string, std::pair<std::string, std::shared_ptr<const TableDef>>, std::less<>> cache_;
    // Tells this Store from one made later at the same address (the per-thread last-table
    // memo in table() is keyed by it and by the read transaction's snapshot id).
    const std::uint64_t serial_;
    // The statistics changes of the write transaction with this write_serial(); only the
    // holder of LMDB's writer lock touches them.
    std::uint64_t pending_stats_txn_ = 0;
    std::map<std::uint32_t, Stats> pending_stats_;
    core::lmdb::Dbi catalog_;
    core::lmdb::Dbi items_;
    core::lmdb::Dbi index_;
    core::lmdb::Dbi meta_;
    core::lmdb::Dbi ttl_;
    streams::StreamStore streams_;
};

}  // namespace stratus::dynamo

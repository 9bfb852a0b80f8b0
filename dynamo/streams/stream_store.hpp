// DynamoDB Streams' storage on LMDB: each table's stream (metadata and shards) and the
// records of every change, written in the write transaction of the change itself, so there
// is no change without its record and no record without its change.
//
// Databases (opened once at startup):
//   ddb_streams         stream ARN -> stream metadata (JSON: table, view type, status,
//                       shards with their sequence ranges, trim horizon)
//   ddb_stream_records  u32be(stream id) + u64be(sequence number) -> encoded record
//   (the counter DBI)   "stream_seq" -> u64be: the next sequence number (one counter for
//                       every stream, read and bumped in the writing transaction, so numbers
//                       grow in commit order, with no gaps, across restarts). It lives in
//                       ddb_meta, whose page every item write dirties anyway (the table's
//                       statistics): a record then costs its commit one more page, not two.
//
// Shards: a stream has one open shard at a time. Every `rotation` (4 hours, as AWS rolls
// them) the open shard is closed (its EndingSequenceNumber set) and a child shard opened
// with the closed one as its parent, so readers meet the lineage AWS documents: a parent
// is read to its end before its child. A shard covers a range of sequence numbers; the
// records of a stream are ordered by sequence number across its shards.
//
// Retention: records older than 24 hours are deleted in the background (maintain());
// the stream's trim horizon is then the first sequence number still readable. A disabled
// stream (UpdateTable, DeleteTable) stays readable for 24 hours, then goes.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/lmdb.hpp"
#include "dynamo/model/table.hpp"
#include "dynamo/model/value.hpp"
#include "dynamo/streams/tokens.hpp"

namespace stratus::dynamo::streams {

// Stored on disk in every record: do not reorder.
enum class EventName : std::uint8_t { insert = 1, modify = 2, remove = 3 };
std::string_view event_name(EventName e);  // "INSERT", "MODIFY", "REMOVE"

enum class ViewType { keys_only, new_image, old_image, new_and_old_images };
std::optional<ViewType> parse_view_type(std::string_view name);
std::string_view view_type_name(ViewType v);

// One change of one item, as stored: its images as the stream's view type keeps them.
struct Record {
    SequenceNumber seq;
    EventName event = EventName::insert;
    std::int64_t created_ms = 0;
    bool by_service = false;  // a TTL deletion (userIdentity: the DynamoDB service)
    Item keys;
    std::optional<Item> new_image;
    std::optional<Item> old_image;

    // SizeBytes: the keys and images the record carries, by DynamoDB's item size rules.
    std::size_t size_bytes() const;
};

std::string encode_record(const Record& r);  // without its sequence number (the LMDB key)
Record decode_record(SequenceNumber seq, std::string_view bytes);

// How a record is rendered: GetRecords' Record shape, or a record of the {"Records": [...]}
// event a stream's subscribers receive (which adds eventSourceARN and spells userIdentity's
// members in lower camel case, as AWS's stream events do).
enum class Form { streams_api, event };
nlohmann::json record_json(const Record& r, ViewType view, std::string_view region, Form form,
                           std::string_view stream_arn);

struct Shard {
    std::string id;
    std::string parent;  // empty: the stream's first shard
    SequenceNumber start;
    std::optional<SequenceNumber> end;  // set when closed
    std::int64_t created_ms = 0;
    std::int64_t closed_ms = 0;
};

struct Stream {
    std::uint32_t id = 0;  // key prefix of its records; never reused
    std::string arn, label, table;
    ViewType view = ViewType::keys_only;
    std::vector<std::string> key_names;  // hash [, range]
    std::int64_t created_ms = 0;
    bool enabled = true;
    std::int64_t disabled_ms = 0;
    SequenceNumber trim_horizon;  // records below it are gone
    std::vector<Shard> shards;    // oldest first; at most the last is open

    const Shard* shard(std::string_view shard_id) const;
    nlohmann::json to_json() const;
    static Stream from_json(const nlohmann::json& j);
};

struct StreamOptions {
    std::int64_t retention_ms = 24LL * 3600 * 1000;
    std::int64_t rotation_ms = 4LL * 3600 * 1000;
    std::string region = "us-east-1";
    std::string account = "000000000000";
};

class StreamStore {
public:
    // `counter_db`: where the sequence counter is kept (ddb_meta; see above).
    StreamStore(core::lmdb::Env& env, core::lmdb::Dbi counter_db, StreamOptions options = {});

    const StreamOptions& options() const { return options_; }
    // Epoch milliseconds; injectable for tests.
    std::function<std::int64_t()> now_ms;

    // ---- in the writing transaction of the table change
    // A new stream for `table` (CreateTable, or UpdateTable enabling one): sets the table's
    // stream_* fields (the caller saves the table).
    void create(core::lmdb::WriteTxn& txn, TableDef& table, ViewType view, std::uint32_t id);
    // Disables the table's stream (UpdateTable, DeleteTable): its open shard closes, it stays
    // readable for the retention period. Clears table.stream_enabled.
    void disable(core::lmdb::WriteTxn& txn, TableDef& table);
    // The record of one change of an item of `table`, if the table has an enabled stream
    // and something changed (AWS writes no record for a write that leaves the item as it
    // was, nor for deleting an absent item). `old_item` / `new_item`: the item before and
    // after (nullptr: absent); `new_bytes`: encode_item(*new_item), already made by the
    // caller. `by_service`: a TTL deletion.
    void append(core::lmdb::WriteTxn& txn, const TableDef& table, const Item* old_item, const Item* new_item,
                std::string_view new_bytes, bool by_service);

    // ---- reading
    std::optional<Stream> find(const core::lmdb::Txn& txn, std::string_view arn) const;
    std::vector<Stream> list(const core::lmdb::Txn& txn) const;  // by ARN
    // The sequence number the next record will get: LATEST.
    SequenceNumber next(const core::lmdb::Txn& txn) const;
    // Records of `stream` with from <= seq (<= to, when given), in order: at most `limit`
    // records and, past the first, at most `max_bytes` of SizeBytes.
    std::vector<Record> read(const core::lmdb::Txn& txn, const Stream& stream, SequenceNumber from,
                             std::optional<SequenceNumber> to, std::size_t limit, std::size_t max_bytes) const;

    // ---- background work (own transactions): trims records past the retention, closes
    // shards past the rotation period and opens their children, forgets disabled streams
    // whose retention has passed. Returns the number of records trimmed.
    std::size_t maintain();
    // Closes the stream's open shard and opens a child now (tests: shard lineage).
    bool rotate(std::string_view arn);

    // Called after each commit that appended records (any thread; must be quick).
    void subscribe(std::function<void()> fn);

    // Drops every stream and record (the counter stays: numbers never repeat).
    void reset(core::lmdb::WriteTxn& txn);

private:
    void notify();
    void put_stream(core::lmdb::WriteTxn& txn, const Stream& s);
    SequenceNumber take_seq(core::lmdb::WriteTxn& txn);
    void close_open_shard(core::lmdb::WriteTxn& txn, Stream& s, std::int64_t now);
    Shard new_shard(core::lmdb::WriteTxn& txn, const std::string& parent, std::int64_t now) const;
    std::string record_key(std::uint32_t stream, SequenceNumber seq) const;

    core::lmdb::Env& env_;
    StreamOptions options_;
    core::lmdb::Dbi streams_;
    core::lmdb::Dbi records_;
    core::lmdb::Dbi counter_;
    std::mutex subscribers_mutex_;
    std::vector<std::function<void()>> subscribers_;
};

}  // namespace stratus::dynamo::streams

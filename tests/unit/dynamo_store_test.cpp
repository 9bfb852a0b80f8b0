// DynamoDB's long work in bounded steps (Store::maintenance_step): a GSI added to a table
// of more than sync_backfill_items items is built piece by piece while writes keep it up
// to date, and a dropped table's or index's entries are erased piece by piece, leaving
// nothing behind.
#include <doctest/doctest.h>

#include "aws_error.hpp"
#include "dynamo_fixture.hpp"

#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.hpp"
#include "dynamo/ops/ops.hpp"

using namespace stratus::dynamo;
namespace lmdb = stratus::core::lmdb;
using stratus::test::message_of;
using json = nlohmann::json;

namespace {

struct Fixture : stratus::test::DynamoStore {
    int wakes = 0;
    Context ctx{store, "us-east-1", "000000000000", "localhost:4566", [] { return 1700000000.0; }, std::make_shared<TransactionTokens>(),
                [this] { ++wakes; }};

    void create(const std::string& name) {
        create_table(ctx, {{"TableName", name},
                           {"KeySchema", {{{"AttributeName", "pk"}, {"KeyType", "HASH"}}}},
                           {"AttributeDefinitions", {{{"AttributeName", "pk"}, {"AttributeType", "S"}}}},
                           {"BillingMode", "PAY_PER_REQUEST"}});
    }
    void put(const std::string& table, int i, const std::string& g) {
        put_item(ctx, {{"TableName", table},
                       {"Item", {{"pk", {{"S", "k" + std::to_string(i)}}}, {"g", {{"S", g}}}, {"ttl", {{"N", "1"}}}}}});
    }
    json add_gsi(const std::string& table) {
        return update_table(
            ctx, {{"TableName", table},
                  {"AttributeDefinitions", {{{"AttributeName", "g"}, {"AttributeType", "S"}}}},
                  {"GlobalSecondaryIndexUpdates",
                   {{{"Create",
                      {{"IndexName", "byg"},
                       {"KeySchema", {{{"AttributeName", "g"}, {"KeyType", "HASH"}}}},
                       {"Projection", {{"ProjectionType", "ALL"}}}}}}}}})["TableDescription"]["GlobalSecondaryIndexes"][0];
    }
    // DescribeTable's ItemCount and TableSizeBytes.
    std::pair<long, long> table_stats(const std::string& table) {
        json t = describe_table(ctx, {{"TableName", table}})["Table"];
        return std::pair{t["ItemCount"].get<long>(), t["TableSizeBytes"].get<long>()};
    }
    int steps(std::size_t budget) {
        int n = 0;
        while (env.write([&](lmdb::WriteTxn& txn) { return store.maintenance_step(txn, budget); })) ++n;
        return n;
    }
    std::size_t entries(const char* db) {
        lmdb::Dbi dbi = env.open_db(db);
        return env.read([&](lmdb::ReadTxn& txn) { return txn.entries(dbi); });
    }
    std::size_t query_count(const std::string& table, const std::string& g) {
        json out = query(ctx, {{"TableName", table},
                               {"IndexName", "byg"},
                               {"KeyConditionExpression", "g = :g"},
                               {"ExpressionAttributeValues", {{":g", {{"S", g}}}}}});
        return out["Count"].get<std::size_t>();
    }
};

}  // namespace

TEST_CASE("a GSI on a big table is backfilled in steps, writes kept in it meanwhile") {
    Fixture f;
    f.create("tbl");
    const int n = static_cast<int>(sync_backfill_items) + 200;
    for (int i = 0; i < n; ++i) f.put("tbl", i, i % 2 ? "odd" : "even");
    json gsi = f.add_gsi("tbl");
    CHECK(gsi["IndexStatus"] == "CREATING");
    CHECK(gsi["Backfilling"] == true);
    CHECK(f.wakes == 1);
    CHECK(message_of([&] { f.query_count("tbl", "odd"); }) == "Cannot read from backfilling global secondary index: byg");
    // One step, then writes: a new item, an item moved to another partition, a deletion.
    CHECK(f.env.write([&](lmdb::WriteTxn& txn) { return f.store.maintenance_step(txn, 100); }));
    f.put("tbl", n, "odd");
    f.put("tbl", 1, "even");  // k1 moves from "odd" to "even"
    delete_item(f.ctx, {{"TableName", "tbl"}, {"Key", {{"pk", {{"S", "k2"}}}}}});
    int steps = f.steps(100);
    CHECK(steps >= n / 100 - 1);
    CHECK(steps <= n / 100 + 1);
    json d = describe_table(f.ctx, {{"TableName", "tbl"}})["Table"]["GlobalSecondaryIndexes"][0];
    CHECK(d["IndexStatus"] == "ACTIVE");
    CHECK_FALSE(d.contains("Backfilling"));
    CHECK(d["ItemCount"] == n);  // n - 1 deleted + 1 new
    CHECK(f.query_count("tbl", "odd") == static_cast<std::size_t>(n / 2));   // the odd ones - k1 + k<n>
    CHECK(f.query_count("tbl", "even") == static_cast<std::size_t>(n / 2));  // the even ones - k2 + k1
    CHECK(f.entries("ddb_index") == static_cast<std::size_t>(n));
    CHECK_FALSE(f.env.read([&](lmdb::ReadTxn& txn) { return f.store.maintenance_pending(txn); }));
}

TEST_CASE("a GSI on a small table is built at once") {
    Fixture f;
    f.create("tbl");
    for (int i = 0; i < 10; ++i) f.put("tbl", i, "x");
    CHECK(f.add_gsi("tbl")["IndexStatus"] == "ACTIVE");
    CHECK(f.wakes == 0);
    CHECK(f.query_count("tbl", "x") == 10);
}

TEST_CASE("a dropped table's items, index entries and TTL entries are erased in steps") {
    Fixture f;
    f.create("tbl");
    for (int i = 0; i < 500; ++i) f.put("tbl", i, "x");
    f.add_gsi("tbl");
    update_time_to_live(f.ctx, {{"TableName", "tbl"}, {"TimeToLiveSpecification", {{"Enabled", true}, {"AttributeName", "ttl"}}}});
    CHECK(f.entries("ddb_items") == 500);
    CHECK(f.entries("ddb_index") == 500);
    CHECK(f.entries("ddb_ttl") == 500);
    delete_table(f.ctx, {{"TableName", "tbl"}});
    CHECK(f.wakes == 1);
    f.create("tbl");  // a new table of the same name is empty at once
    CHECK(scan(f.ctx, {{"TableName", "tbl"}})["Count"] == 0);
    CHECK(f.steps(64) >= 3 * 500 / 64);
    CHECK(f.entries("ddb_items") == 0);
    CHECK(f.entries("ddb_index") == 0);
    CHECK(f.entries("ddb_ttl") == 0);
}

TEST_CASE("a GSI deleted while it is being backfilled stops its backfill") {
    Fixture f;
    f.create("tbl");
    const int n = static_cast<int>(sync_backfill_items) + 1;
    for (int i = 0; i < n; ++i) f.put("tbl", i, "x");
    f.add_gsi("tbl");
    CHECK(f.env.write([&](lmdb::WriteTxn& txn) { return f.store.maintenance_step(txn, 100); }));
    update_table(f.ctx, {{"TableName", "tbl"}, {"GlobalSecondaryIndexUpdates", {{{"Delete", {{"IndexName", "byg"}}}}}}});
    f.steps(100);
    CHECK(f.entries("ddb_index") == 0);
    CHECK(f.entries("ddb_items") == static_cast<std::size_t>(n));
    CHECK_FALSE(describe_table(f.ctx, {{"TableName", "tbl"}})["Table"].contains("GlobalSecondaryIndexes"));
}

TEST_CASE("table statistics follow puts, replacements and deletions") {
    Fixture f;
    f.create("tbl");
    auto stats = [&] { return f.table_stats("tbl"); };
    put_item(f.ctx, {{"TableName", "tbl"}, {"Item", {{"pk", {{"S", "a"}}}, {"v", {{"S", "12345"}}}}}});
    CHECK(stats() == std::pair{1L, 2L + 1 + 1 + 5});  // "pk" + "a", "v" + "12345"
    put_item(f.ctx, {{"TableName", "tbl"}, {"Item", {{"pk", {{"S", "a"}}}, {"v", {{"S", "1234567890"}}}}}});
    CHECK(stats() == std::pair{1L, 3L + 1 + 10});  // replaced: one item, its new size
    put_item(f.ctx, {{"TableName", "tbl"}, {"Item", {{"pk", {{"S", "b"}}}}}});
    CHECK(stats() == std::pair{2L, 14L + 2 + 1});
    delete_item(f.ctx, {{"TableName", "tbl"}, {"Key", {{"pk", {{"S", "a"}}}}}});
    CHECK(stats() == std::pair{1L, 3L});
}

TEST_CASE("table statistics change once per transaction, and an aborted one changes nothing") {
    Fixture f;
    f.create("tbl");
    auto stats = [&] { return f.table_stats("tbl"); };
    auto item = [](const std::string& k, const std::string& v) {
        return json{{"TableName", "tbl"}, {"Item", {{"pk", {{"S", k}}}, {"v", {{"S", v}}}}}};
    };
    std::uint32_t id = f.env.read([&](lmdb::ReadTxn& txn) { return f.store.find_table(txn, "tbl")->id; });
    std::uint64_t writes_in_one = 0;
    // Many writes in one transaction (as a group commit or a BatchWriteItem makes): the
    // transaction sees its own changes, and the statistics are stored once.
    f.env.write([&](lmdb::WriteTxn& txn) {
        lmdb::JoinWrites join(txn);
        std::uint64_t before = txn.writes();
        put_item(f.ctx, item("a", "12345"));                   // +1, 2+1+1+5 = 9 bytes
        put_item(f.ctx, item("b", "1"));                       // +1, 5 bytes
        put_item(f.ctx, item("a", "1234567890"));              // replaced: 14 bytes instead of 9
        delete_item(f.ctx, {{"TableName", "tbl"}, {"Key", {{"pk", {{"S", "b"}}}}}});  // -1, -5
        Stats inside = f.store.stats(txn, id);
        CHECK(inside.count == 1);
        CHECK(inside.bytes == 14);
        writes_in_one = txn.writes() - before;
    });
    CHECK(stats() == std::pair{1L, 14L});
    // The four item writes only: the statistics were stored by the commit, once.
    CHECK(writes_in_one == 4);

    // A transaction that aborts: its changes, statistics included, are gone, and the next
    // transaction does not inherit them.
    CHECK_THROWS_AS(f.env.write([&](lmdb::WriteTxn& txn) {
        lmdb::JoinWrites join(txn);
        put_item(f.ctx, item("c", "x"));
        throw std::runtime_error("abort");
    }), std::runtime_error);
    CHECK(stats() == std::pair{1L, 14L});
    put_item(f.ctx, item("d", "x"));
    CHECK(stats() == std::pair{2L, 14L + 5});
}

TEST_CASE("a big table's TTL entries are built in steps when TTL is enabled, writes kept meanwhile") {
    Fixture f;
    f.create("tbl");
    const int n = static_cast<int>(sync_backfill_items) + 200;
    for (int i = 0; i < n; ++i) f.put("tbl", i, "g");
    auto ttl = [&](bool on) {
        update_time_to_live(f.ctx, {{"TableName", "tbl"}, {"TimeToLiveSpecification", {{"Enabled", on}, {"AttributeName", "ttl"}}}});
    };
    ttl(true);
    CHECK(f.wakes == 1);
    CHECK(f.entries("ddb_ttl") == 0);  // nothing built in UpdateTimeToLive's transaction
    CHECK(f.env.write([&](lmdb::WriteTxn& txn) { return f.store.maintenance_step(txn, 100); }));
    CHECK(f.entries("ddb_ttl") == 100);
    // Meanwhile: a new item (its entry written by the put), an item not yet reached deleted.
    f.put("tbl", n, "g");
    delete_item(f.ctx, {{"TableName", "tbl"}, {"Key", {{"pk", {{"S", "k" + std::to_string(n - 1)}}}}}});
    f.steps(100);
    CHECK(f.entries("ddb_ttl") == static_cast<std::size_t>(n));  // n - 1 old items + the new one
    CHECK_FALSE(f.env.read([&](lmdb::ReadTxn& txn) { return f.store.maintenance_pending(txn); }));

    // Disabled while a build is pending: the build is dropped, nothing is left.
    ttl(false);
    CHECK(f.entries("ddb_ttl") == 0);
    ttl(true);
    CHECK(f.env.write([&](lmdb::WriteTxn& txn) { return f.store.maintenance_step(txn, 100); }));
    ttl(false);
    CHECK(f.steps(100) == 0);
    CHECK(f.entries("ddb_ttl") == 0);
}

TEST_CASE("a table's definition is remembered per read snapshot, never across stores or changes") {
    // Store::table keeps, per thread, the definition it found last with the read snapshot's
    // id: two stores whose snapshots have the same id, a definition changed by a later
    // transaction and an older snapshot still open must each see their own.
    Fixture a, b;
    a.create("tbl");
    b.create("tbl");
    b.add_gsi("tbl");  // b's "tbl" has an index, a's has not
    auto snapshot = [](Fixture& f) { return f.env.read([](lmdb::ReadTxn& txn) { return txn.id(); }); };
    while (snapshot(a) < snapshot(b)) a.put("tbl", 0, "x");
    while (snapshot(b) < snapshot(a)) b.put("tbl", 0, "x");
    REQUIRE(snapshot(a) == snapshot(b));
    auto indexes = [](Fixture& f) {
        return f.env.read([&](lmdb::ReadTxn& txn) { return f.store.table(txn, "tbl")->indexes.size(); });
    };
    for (int i = 0; i < 3; ++i) {
        CHECK(indexes(a) == 0);
        CHECK(indexes(b) == 1);
    }
    // An older snapshot, open while another thread changes the table, keeps what it saw.
    auto old = lmdb::ReadTxn::begin(a.env);
    CHECK(a.store.table(old, "tbl")->indexes.empty());
    std::thread([&] { a.add_gsi("tbl"); }).join();
    CHECK(a.store.table(old, "tbl")->indexes.empty());
    CHECK(indexes(a) == 1);
    CHECK(a.store.table(old, "tbl")->indexes.empty());
    old.abort();
    // A write transaction sees its own changes, remembered or not.
    a.env.write([&](lmdb::WriteTxn& txn) {
        auto def = *a.store.table(txn, "tbl");
        def.indexes.clear();
        a.store.save_table(txn, def);
        CHECK(a.store.table(txn, "tbl")->indexes.empty());
    });
    CHECK(indexes(a) == 0);
    // A dropped table is gone from the next snapshot.
    delete_table(a.ctx, {{"TableName", "tbl"}});
    CHECK(a.env.read([&](lmdb::ReadTxn& txn) { return a.store.table(txn, "tbl") == nullptr; }));
}

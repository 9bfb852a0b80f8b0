// The LMDB wrapper (core/lmdb.hpp): RAII, cursors, map growth, snapshots and the
// kill -9 durability guarantee. Every test works in its own mkdtemp directory.
#include "core/lmdb.hpp"

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace lmdb = stratus::core::lmdb;

namespace {

using stratus::test::TempDir;

// Fixed-width big-endian keys sort numerically (STYLE.md, LMDB).
std::string be32(std::uint32_t n) {
    return {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
            static_cast<char>(n >> 8), static_cast<char>(n)};
}

std::string copy_of(const std::optional<std::string_view>& v) {
    REQUIRE(v.has_value());
    return std::string(*v);
}

std::optional<std::string> read_copy(lmdb::Env& env, lmdb::Dbi db, std::string_view key) {
    return env.read([&](lmdb::ReadTxn& txn) -> std::optional<std::string> {
        auto v = txn.get(db, key);
        if (!v) return std::nullopt;
        return std::string(*v);
    });
}

// Keys in cursor order, forward from first() or backward from last().
std::vector<std::string> keys_of(lmdb::Env& env, lmdb::Dbi db, bool backward = false) {
    return env.read([&](lmdb::ReadTxn& txn) {
        std::vector<std::string> out;
        auto c = lmdb::Cursor::open(txn, db);
        for (bool ok = backward ? c.last() : c.first(); ok; ok = backward ? c.prev() : c.next())
            out.emplace_back(c.key());
        return out;
    });
}

lmdb::EnvOptions tiny_map() {
    lmdb::EnvOptions o;
    o.map_size = 64 << 10;  // LMDB may round it up to its minimum / used size
    return o;
}

}  // namespace

TEST_CASE("put, get and del") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path);
    auto db = env.open_db("items");

    env.write([&](lmdb::WriteTxn& txn) {
        CHECK(txn.put(db, "a", "1"));
        CHECK(copy_of(txn.get(db, "a")) == "1");  // a write txn reads its own writes
    });
    CHECK(read_copy(env, db, "a") == "1");

    SUBCASE("put overwrites") {
        env.write([&](lmdb::WriteTxn& txn) { txn.put(db, "a", "2"); });
        CHECK(read_copy(env, db, "a") == "2");
    }
    SUBCASE("MDB_NOOVERWRITE leaves the old value and reports it") {
        bool written = env.write([&](lmdb::WriteTxn& txn) {
            return txn.put(db, "a", "2", MDB_NOOVERWRITE);
        });
        CHECK_FALSE(written);
        CHECK(read_copy(env, db, "a") == "1");
    }
    SUBCASE("del reports whether the key existed") {
        env.write([&](lmdb::WriteTxn& txn) {
            CHECK(txn.del(db, "a"));
            CHECK_FALSE(txn.del(db, "a"));
            CHECK_FALSE(txn.del(db, "never"));
        });
        CHECK_FALSE(read_copy(env, db, "a").has_value());
    }
    SUBCASE("empty values are values") {
        env.write([&](lmdb::WriteTxn& txn) { txn.put(db, "e", ""); });
        CHECK(read_copy(env, db, "e") == "");
    }
    SUBCASE("MDB_DUPSORT keeps sorted values per key; del(key, value) removes one") {
        auto dup = env.open_db("dup", MDB_CREATE | MDB_DUPSORT);
        env.write([&](lmdb::WriteTxn& txn) {
            txn.put(dup, "k", "b");
            txn.put(dup, "k", "a");
            CHECK_FALSE(txn.put(dup, "k", "a", MDB_NODUPDATA));
            CHECK(txn.entries(dup) == 2);
            CHECK(copy_of(txn.get(dup, "k")) == "a");  // get returns the first value
            CHECK(txn.del(dup, "k", "a"));
            CHECK_FALSE(txn.del(dup, "k", "a"));
            CHECK(copy_of(txn.get(dup, "k")) == "b");
        });
    }
}

TEST_CASE("get returns nullopt for a missing key") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path);
    auto db = env.open_db("items");
    env.read([&](lmdb::ReadTxn& txn) { CHECK_FALSE(txn.get(db, "missing").has_value()); });
    env.write([&](lmdb::WriteTxn& txn) {
        txn.put(db, "present", "x");
        CHECK_FALSE(txn.get(db, "missing").has_value());
    });
}

TEST_CASE("destroying an uncommitted write transaction discards its writes") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path);
    auto db = env.open_db("items");

    SUBCASE("raw WriteTxn going out of scope") {
        {
            auto txn = lmdb::WriteTxn::begin(env);
            txn.put(db, "k", "v");
        }
        CHECK_FALSE(read_copy(env, db, "k").has_value());
    }
    SUBCASE("moved-from WriteTxn does not abort the moved-to one") {
        auto a = lmdb::WriteTxn::begin(env);
        a.put(db, "k", "v");
        auto b = std::move(a);
        CHECK_FALSE(a.active());
        b.commit();
        CHECK(read_copy(env, db, "k") == "v");
    }
    SUBCASE("env.write whose fn throws") {
        CHECK_THROWS_AS(env.write([&](lmdb::WriteTxn& txn) {
            txn.put(db, "k", "v");
            throw std::runtime_error("handler failed");
        }), std::runtime_error);
        CHECK_FALSE(read_copy(env, db, "k").has_value());
    }
    SUBCASE("explicit abort") {
        auto txn = lmdb::WriteTxn::begin(env);
        txn.put(db, "k", "v");
        txn.abort();
        CHECK_FALSE(txn.active());
        CHECK_FALSE(read_copy(env, db, "k").has_value());
        CHECK_THROWS_AS(txn.commit(), std::logic_error);
    }
}

TEST_CASE("JoinWrites runs a nested env.write in the joined transaction, and writes() counts changes") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path);
    auto db = env.open_db("items");
    SUBCASE("the inner write sees and extends the outer transaction, committed once") {
        env.write([&](lmdb::WriteTxn& outer) {
            outer.put(db, "a", "1");
            lmdb::JoinWrites join(outer);
            std::uint64_t before = outer.writes();
            std::string seen = env.write([&](lmdb::WriteTxn& inner) {
                CHECK(&inner == &outer);
                inner.put(db, "b", "2");
                return std::string(*inner.get(db, "a"));
            });
            CHECK(seen == "1");
            CHECK(outer.writes() == before + 1);
            // A failing inner write that changed nothing leaves the count as it was.
            std::uint64_t mid = outer.writes();
            CHECK_THROWS_AS(env.write([&](lmdb::WriteTxn& inner) {
                                inner.get(db, "a");
                                throw std::runtime_error("condition failed");
                            }),
                            std::runtime_error);
            CHECK(outer.writes() == mid);
        });
        CHECK(read_copy(env, db, "a") == "1");
        CHECK(read_copy(env, db, "b") == "2");
    }
    SUBCASE("without a join, a nested env.write is still refused") {
        env.write([&](lmdb::WriteTxn&) {
            CHECK_THROWS_AS(env.write([&](lmdb::WriteTxn&) {}), std::logic_error);
        });
    }
    SUBCASE("the join ends with its scope, and joins another Env's writes not at all") {
        TempDir other_dir;
        auto other = lmdb::Env::open(other_dir.path);
        auto odb = other.open_db("items");
        env.write([&](lmdb::WriteTxn& outer) {
            {
                lmdb::JoinWrites join(outer);
                other.write([&](lmdb::WriteTxn& txn) { txn.put(odb, "x", "y"); });  // its own transaction
            }
            CHECK_THROWS_AS(env.write([&](lmdb::WriteTxn&) {}), std::logic_error);
        });
        CHECK(read_copy(other, odb, "x") == "y");
    }
}

TEST_CASE("committed writes persist across closing and reopening the env") {
    TempDir dir;
    lmdb::EnvOptions options;
    SUBCASE("Durability::normal") { options.durability = lmdb::Durability::normal; }
    SUBCASE("Durability::full") { options.durability = lmdb::Durability::full; }
    {
        auto env = lmdb::Env::open(dir.path, options);
        auto db = env.open_db("items");
        env.write([&](lmdb::WriteTxn& txn) { txn.put(db, "k", "v"); });
    }
    auto env = lmdb::Env::open(dir.path, options);
    auto db = env.open_db("items", 0);  // exists now: no MDB_CREATE needed
    CHECK(read_copy(env, db, "k") == "v");
}

TEST_CASE("cursors scan in key order, forward and backward") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path);
    auto db = env.open_db("items");
    // Inserted out of order; big-endian keys 10, 20, ..., 100.
    env.write([&](lmdb::WriteTxn& txn) {
        for (std::uint32_t n : {50u, 10u, 100u, 30u, 20u, 90u, 40u, 70u, 60u, 80u})
            txn.put(db, be32(n), std::to_string(n));
    });
    std::vector<std::string> ascending;
    for (std::uint32_t n = 10; n <= 100; n += 10) ascending.push_back(be32(n));

    SUBCASE("first/next ascends") { CHECK(keys_of(env, db) == ascending); }
    SUBCASE("last/prev descends") {
        std::vector<std::string> descending(ascending.rbegin(), ascending.rend());
        CHECK(keys_of(env, db, true) == descending);
    }
    SUBCASE("seek is a lower bound") {
        env.read([&](lmdb::ReadTxn& txn) {
            auto c = lmdb::Cursor::open(txn, db);
            REQUIRE(c.seek(be32(30)));
            CHECK(c.key() == be32(30));
            CHECK(c.value() == "30");
            REQUIRE(c.seek(be32(31)));
            CHECK(c.key() == be32(40));
            REQUIRE(c.seek(be32(0)));
            CHECK(c.key() == be32(10));
            CHECK_FALSE(c.seek(be32(101)));
        });
    }
    SUBCASE("range scan [25, 65) forward") {
        auto got = env.read([&](lmdb::ReadTxn& txn) {
            std::vector<std::string> out;
            auto c = lmdb::Cursor::open(txn, db);
            for (bool ok = c.seek(be32(25)); ok && c.key() < be32(65); ok = c.next())
                out.emplace_back(c.value());
            return out;
        });
        CHECK(got == std::vector<std::string>{"30", "40", "50", "60"});
    }
    SUBCASE("seek_le / seek_lt start backward scans") {
        env.read([&](lmdb::ReadTxn& txn) {
            auto c = lmdb::Cursor::open(txn, db);
            REQUIRE(c.seek_le(be32(60)));
            CHECK(c.key() == be32(60));
            REQUIRE(c.seek_lt(be32(60)));
            CHECK(c.key() == be32(50));
            REQUIRE(c.seek_le(be32(65)));
            CHECK(c.key() == be32(60));
            REQUIRE(c.seek_le(be32(1000)));  // past the end: the last key
            CHECK(c.key() == be32(100));
            REQUIRE(c.seek_le(be32(100)));  // the last key itself
            CHECK(c.key() == be32(100));
            CHECK_FALSE(c.seek_le(be32(5)));
            CHECK_FALSE(c.seek_lt(be32(10)));

            std::vector<std::string> got;  // range (25, 65] backward
            for (bool ok = c.seek_le(be32(65)); ok && c.key() > be32(25); ok = c.prev())
                got.emplace_back(c.value());
            CHECK(got == std::vector<std::string>{"60", "50", "40", "30"});
        });
    }
    SUBCASE("seek_le on MDB_DUPSORT lands on the key's last value") {
        auto dup = env.open_db("dup", MDB_CREATE | MDB_DUPSORT);
        env.write([&](lmdb::WriteTxn& txn) {
            for (const char* v : {"1", "2", "3"}) txn.put(dup, "b", v);
            txn.put(dup, "a", "0");
            txn.put(dup, "c", "9");
        });
        env.read([&](lmdb::ReadTxn& txn) {
            auto c = lmdb::Cursor::open(txn, dup);
            std::string walk;
            for (bool ok = c.seek_le("b"); ok; ok = c.prev()) walk += c.value();
            CHECK(walk == "3210");
            REQUIRE(c.seek_lt("c"));
            CHECK(c.value() == "3");
            REQUIRE(c.seek_le("c"));
            CHECK(c.value() == "9");
        });
    }
    SUBCASE("del while iterating visits every entry") {
        env.write([&](lmdb::WriteTxn& txn) {
            auto c = lmdb::Cursor::open(txn, db);
            int visited = 0;
            for (bool ok = c.first(); ok; ok = c.next()) {
                ++visited;
                if (std::stoi(std::string(c.value())) % 20 == 0) c.del();
            }
            CHECK(visited == 10);
        });
        CHECK(keys_of(env, db) ==
              std::vector<std::string>{be32(10), be32(30), be32(50), be32(70), be32(90)});
    }
    SUBCASE("an empty db has no first or last") {
        auto empty = env.open_db("empty");
        env.read([&](lmdb::ReadTxn& txn) {
            auto c = lmdb::Cursor::open(txn, empty);
            CHECK_FALSE(c.first());
            CHECK_FALSE(c.last());
            CHECK_FALSE(c.seek("x"));
            CHECK_FALSE(c.seek_le("x"));
        });
    }
}

TEST_CASE("the map grows instead of failing with MDB_MAP_FULL") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path, tiny_map());
    auto db = env.open_db("items");
    const std::size_t initial = env.stats().map_size;
    const std::string value(1000, 'v');

    SUBCASE("many transactions, several MB") {
        constexpr int txns = 40, per_txn = 100;  // ~4 MB of values
        for (int t = 0; t < txns; ++t)
            env.write([&](lmdb::WriteTxn& txn) {
                for (int i = 0; i < per_txn; ++i) txn.put(db, be32(t * per_txn + i), value);
            });
        env.read([&](lmdb::ReadTxn& txn) {
            CHECK(txn.entries(db) == txns * per_txn);
            for (int k = 0; k < txns * per_txn; ++k) {
                auto v = txn.get(db, be32(k));
                REQUIRE(v.has_value());
                CHECK(*v == value);
            }
        });
        auto stats = env.stats();
        CHECK(stats.map_size > initial);
        CHECK(stats.resizes >= 5);
        CHECK(stats.used_bytes <= stats.map_size);
    }
    SUBCASE("one transaction many times the map: fn is rerun from scratch") {
        int runs = 0;
        int result = env.write([&](lmdb::WriteTxn& txn) {
            ++runs;
            for (int i = 0; i < 3000; ++i) txn.put(db, be32(i), value);  // ~3 MB
            return 42;
        });
        CHECK(result == 42);
        CHECK(runs > 1);
        CHECK(read_copy(env, db, be32(2999)) == value);
    }
    SUBCASE("fn that swallows the MDB_MAP_FULL error still gets a bigger map") {
        env.write([&](lmdb::WriteTxn& txn) {
            try {
                for (int i = 0; i < 500; ++i) txn.put(db, be32(i), value);
            } catch (const lmdb::Error&) {
                // e.g. a handler's catch-all; the txn is unusable, env.write knows
            }
        });
        CHECK(read_copy(env, db, be32(499)) == value);
    }
    SUBCASE("concurrent writers and readers while the map grows") {
        std::atomic<int> failures{0};
        std::atomic<bool> writing{true};
        std::vector<std::thread> threads;
        for (int w = 0; w < 2; ++w)
            threads.emplace_back([&, w] {
                try {
                    for (int t = 0; t < 20; ++t)
                        env.write([&](lmdb::WriteTxn& txn) {
                            for (int i = 0; i < 50; ++i)
                                txn.put(db, be32(w * 100000 + t * 50 + i), value);
                        });
                } catch (...) {
                    ++failures;
                }
            });
        std::thread reader([&] {
            try {
                while (writing.load())
                    env.read([&](lmdb::ReadTxn& txn) { (void)txn.get(db, be32(0)); });
            } catch (...) {
                ++failures;
            }
        });
        for (auto& t : threads) t.join();
        writing = false;
        reader.join();
        CHECK(failures == 0);
        env.read([&](lmdb::ReadTxn& txn) { CHECK(txn.entries(db) == 2 * 20 * 50); });
        CHECK(env.stats().map_size > initial);
    }
}

TEST_CASE("a reader keeps its snapshot while a writer commits") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path);
    auto db = env.open_db("items");
    env.write([&](lmdb::WriteTxn& txn) { txn.put(db, "k", "old"); });

    auto snapshot = lmdb::ReadTxn::begin(env);
    CHECK(copy_of(snapshot.get(db, "k")) == "old");

    // The writer runs on another thread (a thread holds one txn at a time) and must
    // finish while our reader stays open: readers never block writers.
    std::thread writer([&] {
        env.write([&](lmdb::WriteTxn& txn) {
            txn.put(db, "k", "new");
            txn.put(db, "added", "x");
        });
    });
    writer.join();

    CHECK(copy_of(snapshot.get(db, "k")) == "old");
    CHECK_FALSE(snapshot.get(db, "added").has_value());

    std::string fresh;
    std::thread reader([&] { fresh = read_copy(env, db, "k").value_or(""); });
    reader.join();
    CHECK(fresh == "new");
    snapshot.abort();
    CHECK(read_copy(env, db, "k") == "new");
}

// The kill -9 guarantee of Durability::normal: commits reach the page cache before
// mdb_txn_commit returns, so a process killed right after still has them on disk. The
// child's flusher is set to an hour so that nothing was fsynced by us.
TEST_CASE("writes committed with Durability::normal survive SIGKILL of the writer") {
    TempDir dir;
    constexpr int commits = 200;

    // lmdb.h: no MDB_env across fork(); the parent opens only after the child is dead.
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // Child: no doctest here; any failure exits with 3.
        try {
            lmdb::EnvOptions o;
            o.durability = lmdb::Durability::normal;
            o.flush_interval = std::chrono::hours(1);
            o.map_size = 256 << 10;  // growth happens in the child too
            auto env = lmdb::Env::open(dir.path, o);
            auto db = env.open_db("items");
            for (int i = 0; i < commits; ++i)
                env.write([&](lmdb::WriteTxn& txn) {
                    txn.put(db, be32(i), std::string(500, static_cast<char>('a' + i % 26)));
                });
            // Die holding LMDB's writer lock with uncommitted writes.
            auto pending = lmdb::WriteTxn::begin(env);
            pending.put(db, "uncommitted", "x");
            raise(SIGKILL);
        } catch (...) {
        }
        _exit(3);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);

    auto env = lmdb::Env::open(dir.path);
    auto db = env.open_db("items", 0);
    env.read([&](lmdb::ReadTxn& txn) {
        CHECK(txn.entries(db) == commits);
        for (int i = 0; i < commits; ++i)
            CHECK(txn.get(db, be32(i)) ==
                  std::string(500, static_cast<char>('a' + i % 26)));
        CHECK_FALSE(txn.get(db, "uncommitted").has_value());
    });
    // And the dead writer's lock does not wedge us.
    env.write([&](lmdb::WriteTxn& txn) { txn.put(db, "after", "ok"); });
    CHECK(read_copy(env, db, "after") == "ok");
}

TEST_CASE("clear empties one db and keeps its handle") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path);
    auto a = env.open_db("a");
    auto b = env.open_db("b");
    env.write([&](lmdb::WriteTxn& txn) {
        for (int i = 0; i < 10; ++i) {
            txn.put(a, be32(i), "x");
            txn.put(b, be32(i), "y");
        }
    });
    env.write([&](lmdb::WriteTxn& txn) { txn.clear(a); });
    env.read([&](lmdb::ReadTxn& txn) {
        CHECK(txn.entries(a) == 0);
        CHECK(txn.entries(b) == 10);
    });
    CHECK(keys_of(env, a).empty());
    env.write([&](lmdb::WriteTxn& txn) { txn.put(a, "again", "1"); });
    CHECK(read_copy(env, a, "again") == "1");
}

TEST_CASE("Error carries the mdb return code") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path);
    auto db = env.open_db("items");

    SUBCASE("opening a missing db without MDB_CREATE") {
        try {
            env.open_db("absent", 0);
            FAIL("expected lmdb::Error");
        } catch (const lmdb::Error& e) {
            CHECK(e.code() == MDB_NOTFOUND);
            CHECK(std::string(e.what()).find("absent") != std::string::npos);
        }
    }
    SUBCASE("empty and oversized keys") {
        for (const std::string& key : {std::string(), std::string(512, 'k')}) {
            try {
                env.write([&](lmdb::WriteTxn& txn) { txn.put(db, key, "v"); });
                FAIL("expected lmdb::Error");
            } catch (const lmdb::Error& e) {
                CHECK(e.code() == MDB_BAD_VALSIZE);
                const std::runtime_error& base = e;  // catchable as runtime_error
                CHECK(std::string(base.what()).find(mdb_strerror(MDB_BAD_VALSIZE)) !=
                      std::string::npos);
            }
        }
    }
    SUBCASE("a cursor of a read transaction cannot delete") {
        env.write([&](lmdb::WriteTxn& txn) { txn.put(db, "k", "v"); });
        env.read([&](lmdb::ReadTxn& txn) {
            auto c = lmdb::Cursor::open(txn, db);
            REQUIRE(c.first());
            try {
                c.del();
                FAIL("expected lmdb::Error");
            } catch (const lmdb::Error& e) {
                CHECK(e.code() == EACCES);
            }
        });
    }
}

TEST_CASE("nested env.read/env.write on one thread is refused") {
    // A resize waits until no transaction is open; a thread holding one while it
    // triggers a resize would wait for itself.
    TempDir dir;
    auto env = lmdb::Env::open(dir.path);
    auto db = env.open_db("items");
    SUBCASE("write inside read") {
        CHECK_THROWS_AS(env.read([&](lmdb::ReadTxn&) {
            env.write([&](lmdb::WriteTxn& txn) { txn.put(db, "k", "v"); });
        }), std::logic_error);
    }
    SUBCASE("read inside write") {
        CHECK_THROWS_AS(env.write([&](lmdb::WriteTxn&) {
            env.read([](lmdb::ReadTxn&) {});
        }), std::logic_error);
    }
    SUBCASE("another env is fine") {
        TempDir other_dir;
        auto other = lmdb::Env::open(other_dir.path);
        auto odb = other.open_db("items");
        env.read([&](lmdb::ReadTxn&) {
            other.write([&](lmdb::WriteTxn& txn) { txn.put(odb, "k", "v"); });
        });
        CHECK(read_copy(other, odb, "k") == "v");
    }
    // Sequential use after a refusal still works.
    env.write([&](lmdb::WriteTxn& txn) { txn.put(db, "after", "1"); });
    CHECK(read_copy(env, db, "after") == "1");
}

TEST_CASE("Durability::normal flushes in the background and shuts down promptly") {
    TempDir dir;
    lmdb::EnvOptions o;
    o.flush_interval = std::chrono::milliseconds(20);
    auto env = lmdb::Env::open(dir.path, o);
    auto db = env.open_db("items");
    env.write([&](lmdb::WriteTxn& txn) { txn.put(db, "k", "v"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a few flush rounds
    CHECK(env.stats().flush_error == 0);
    env.sync();

    // The flusher waits on a condition variable: closing must not take a flush interval.
    lmdb::EnvOptions slow;
    slow.flush_interval = std::chrono::seconds(30);
    auto start = std::chrono::steady_clock::now();
    {
        TempDir d2;
        auto e2 = lmdb::Env::open(d2.path, slow);
        auto db2 = e2.open_db("items");
        e2.write([&](lmdb::WriteTxn& txn) { txn.put(db2, "k", "v"); });
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("Env is movable and refuses unsupported flags") {
    TempDir dir;
    SUBCASE("move") {
        auto env = lmdb::Env::open(dir.path);
        auto db = env.open_db("items");
        lmdb::Env moved = std::move(env);
        moved.write([&](lmdb::WriteTxn& txn) { txn.put(db, "k", "v"); });
        CHECK(read_copy(moved, db, "k") == "v");
    }
    SUBCASE("MDB_WRITEMAP") {
        lmdb::EnvOptions o;
        o.flags = MDB_WRITEMAP;
        CHECK_THROWS_AS(lmdb::Env::open(dir.path, o), std::invalid_argument);
    }
}

TEST_CASE("Durability::full: a commit counts as durable once its meta page is flushed") {
    TempDir dir;
    lmdb::EnvOptions o;
    o.durability = lmdb::Durability::full;
    std::uint64_t first = 0, deferred = 0, next = 0;
    {
        auto env = lmdb::Env::open(dir.path, o);
        auto db = env.open_db("items");
        CHECK(env.durable_through() >= 1);  // open_db committed, with its own flush
        first = env.write([&](lmdb::WriteTxn& txn) {
            txn.put(db, "a", "1");
            return txn.id();
        });
        CHECK(env.durable_through() == first);  // a plain commit flushes its meta page too

        deferred = env.write([&](lmdb::WriteTxn& txn) {
            txn.defer_meta_sync();
            txn.put(db, "b", "2");
            return txn.id();
        });
        CHECK(deferred == first + 1);
        CHECK(env.durable_through() == first);  // data flushed, meta page not yet

        env.write([&](lmdb::WriteTxn& txn) {  // changes nothing: no commit, no flush
            txn.defer_meta_sync();
            CHECK(txn.get(db, "b") == "2");
        });
        CHECK(env.durable_through() == first);

        next = env.write([&](lmdb::WriteTxn& txn) {
            txn.defer_meta_sync();
            txn.put(db, "c", "3");
            return txn.id();
        });
        CHECK(env.durable_through() == deferred);  // next's data flush covered deferred's meta page
        env.sync();
        CHECK(env.durable_through() == next);

        env.write([&](lmdb::WriteTxn& txn) {
            txn.defer_meta_sync();
            txn.put(db, "d", "4");
        });
        // Closing flushes what a deferred commit left.
    }
    auto env = lmdb::Env::open(dir.path, o);
    auto db = env.open_db("items", 0);
    CHECK(env.durable_through() == next + 1);
    CHECK(read_copy(env, db, "d") == "4");
}

TEST_CASE("Durability::normal: commits count as durable after a sync") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path);
    auto db = env.open_db("items");
    std::uint64_t before = env.durable_through();
    std::uint64_t id = env.write([&](lmdb::WriteTxn& txn) {
        txn.put(db, "a", "1");
        return txn.id();
    });
    CHECK(env.durable_through() >= before);
    env.sync();
    CHECK(env.durable_through() == id);
}

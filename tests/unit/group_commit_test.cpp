// Group commit (core/group_commit.hpp): jobs waiting together share one transaction, a
// failing job is left out without losing the others, a full map grows, and everything
// submitted runs before the committer stops.
#include "core/group_commit.hpp"

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace lmdb = stratus::core::lmdb;

namespace {

using stratus::test::TempDir;

std::optional<std::string> read_copy(lmdb::Env& env, lmdb::Dbi db, std::string_view key) {
    return env.read([&](lmdb::ReadTxn& txn) -> std::optional<std::string> {
        auto v = txn.get(db, key);
        if (!v) return std::nullopt;
        return std::string(*v);
    });
}

// Submits a job whose work waits for `release`: what is submitted meanwhile queues up
// and forms the next group.
void block_committer(lmdb::GroupCommit& group, std::shared_future<void> release, std::promise<void>& started) {
    group.submit(
        [release, &started](lmdb::WriteTxn&) {
            started.set_value();
            release.wait();
        },
        [](std::exception_ptr) {});
}

lmdb::Env open_full(const TempDir& dir) {
    lmdb::EnvOptions o;
    o.durability = lmdb::Durability::full;
    return lmdb::Env::open(dir.path, o);
}

}  // namespace

TEST_CASE("jobs that wait together commit as one group") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path);
    auto db = env.open_db("t");
    std::promise<void> release, started;
    std::atomic<int> done{0}, failed{0};
    {
        lmdb::GroupCommit group(env);
        block_committer(group, release.get_future().share(), started);
        started.get_future().wait();
        for (int i = 0; i < 10; ++i)
            group.submit([&, i](lmdb::WriteTxn& txn) { txn.put(db, "k" + std::to_string(i), "v"); },
                         [&](std::exception_ptr e) {
                             if (e) ++failed;
                             ++done;
                         });
        release.set_value();
        while (done.load() < 10) std::this_thread::yield();
        CHECK(group.jobs() == 11);
        CHECK(group.groups() == 2);
    }
    CHECK(failed.load() == 0);
    for (int i = 0; i < 10; ++i) CHECK(read_copy(env, db, "k" + std::to_string(i)) == "v");
}

TEST_CASE("a failing job is left out and the rest of its group commits") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path);
    auto db = env.open_db("t");
    std::promise<void> release, started;
    std::vector<std::exception_ptr> errors(4);
    std::atomic<int> done{0};
    std::atomic<int> runs_of_first{0};
    {
        lmdb::GroupCommit group(env);
        block_committer(group, release.get_future().share(), started);
        started.get_future().wait();
        for (int i = 0; i < 4; ++i)
            group.submit(
                [&, i](lmdb::WriteTxn& txn) {
                    if (i == 0) ++runs_of_first;
                    txn.put(db, "k" + std::to_string(i), "v");  // written, then undone for job 2
                    if (i == 2) throw std::runtime_error("job 2 fails");
                },
                [&, i](std::exception_ptr e) {
                    errors[static_cast<std::size_t>(i)] = e;
                    ++done;
                });
        release.set_value();
        while (done.load() < 4) std::this_thread::yield();
    }
    CHECK(errors[0] == nullptr);
    CHECK(errors[1] == nullptr);
    CHECK(errors[3] == nullptr);
    REQUIRE(errors[2] != nullptr);
    CHECK_THROWS_WITH_AS(std::rethrow_exception(errors[2]), "job 2 fails", std::runtime_error);
    CHECK(runs_of_first.load() == 2);  // the group ran again without job 2
    CHECK(read_copy(env, db, "k0") == "v");
    CHECK(read_copy(env, db, "k1") == "v");
    CHECK_FALSE(read_copy(env, db, "k2").has_value());
    CHECK(read_copy(env, db, "k3") == "v");
}

TEST_CASE("a group that fills the map grows it and commits") {
    TempDir dir;
    lmdb::EnvOptions o;
    o.map_size = 64 << 10;
    auto env = lmdb::Env::open(dir.path, o);
    auto db = env.open_db("t");
    std::promise<void> release, started;
    std::atomic<int> done{0}, failed{0};
    {
        lmdb::GroupCommit group(env);
        block_committer(group, release.get_future().share(), started);
        started.get_future().wait();
        for (int i = 0; i < 20; ++i)
            group.submit([&, i](lmdb::WriteTxn& txn) { txn.put(db, "k" + std::to_string(i), std::string(32 << 10, 'x')); },
                         [&](std::exception_ptr e) {
                             if (e) ++failed;
                             ++done;
                         });
        release.set_value();
        while (done.load() < 20) std::this_thread::yield();
    }
    CHECK(failed.load() == 0);
    for (int i = 0; i < 20; ++i) CHECK(read_copy(env, db, "k" + std::to_string(i))->size() == (32u << 10));
}

TEST_CASE("the committer runs everything submitted before it stops") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path);
    auto db = env.open_db("t");
    std::atomic<int> done{0}, failed{0};
    {
        lmdb::GroupCommit group(env, 4);
        for (int i = 0; i < 100; ++i)
            group.submit([&, i](lmdb::WriteTxn& txn) { txn.put(db, "k" + std::to_string(i), "v"); },
                         [&](std::exception_ptr e) {
                             if (e) ++failed;
                             ++done;
                         });
    }
    CHECK(done.load() == 100);
    CHECK(failed.load() == 0);
    for (int i = 0; i < 100; ++i) CHECK(read_copy(env, db, "k" + std::to_string(i)) == "v");
}

TEST_CASE("with Durability::full a job is done only once its commit is on disk") {
    TempDir dir;
    auto env = open_full(dir);
    auto db = env.open_db("t");
    std::promise<void> release, started;
    std::atomic<int> done{0}, not_durable{0}, failed{0};
    std::atomic<bool> third_ran{false}, third_submitted{false};
    std::atomic<int> done_before_third{0};
    auto check_durable = [&](std::shared_ptr<std::atomic<std::uint64_t>> id) {
        return [&, id](std::exception_ptr e) {
            if (e) ++failed;
            if (env.durable_through() < id->load()) ++not_durable;
            if (!third_ran.load()) ++done_before_third;
            ++done;
        };
    };
    {
        lmdb::GroupCommit group(env);
        block_committer(group, release.get_future().share(), started);
        started.get_future().wait();
        // The second group: ten writes, the first of which submits a third group while
        // the second runs. The second group's meta page is flushed by the third group's
        // commit, so none of its jobs may be done before the third group ran.
        for (int i = 0; i < 10; ++i) {
            auto id = std::make_shared<std::atomic<std::uint64_t>>(0);
            group.submit(
                [&, i, id](lmdb::WriteTxn& txn) {
                    txn.put(db, "k" + std::to_string(i), "v");
                    id->store(txn.id());
                    if (i == 0 && !third_submitted.exchange(true)) {
                        auto third_id = std::make_shared<std::atomic<std::uint64_t>>(0);
                        group.submit(
                            [&, third_id](lmdb::WriteTxn& t) {
                                t.put(db, "third", "v");
                                third_id->store(t.id());
                                third_ran.store(true);
                            },
                            check_durable(third_id));
                    }
                },
                check_durable(id));
        }
        release.set_value();
        while (done.load() < 11) std::this_thread::yield();
        CHECK(group.groups() == 3);
        // A lone job: nothing follows it, so the committer flushes at once.
        auto id = std::make_shared<std::atomic<std::uint64_t>>(0);
        group.submit(
            [&, id](lmdb::WriteTxn& txn) {
                txn.put(db, "lone", "v");
                id->store(txn.id());
            },
            check_durable(id));
        while (done.load() < 12) std::this_thread::yield();
    }
    CHECK(failed.load() == 0);
    CHECK(not_durable.load() == 0);
    CHECK(done_before_third.load() == 0);
    CHECK(read_copy(env, db, "third") == "v");
    CHECK(read_copy(env, db, "lone") == "v");
}

TEST_CASE("with Durability::full a group that writes nothing does not hold back the earlier group's answers") {
    TempDir dir;
    auto env = open_full(dir);
    auto db = env.open_db("t");
    std::promise<void> release, started;
    std::atomic<bool> first_done{false}, seen_by_third{false};
    std::atomic<int> done{0};
    {
        lmdb::GroupCommit group(env);
        block_committer(group, release.get_future().share(), started);
        started.get_future().wait();
        // Group 2 writes; while it runs, group 3 (a read-only job) is queued, and while
        // that runs, group 4, which waits for group 2's answer. Group 3 flushes nothing of
        // its own, so group 2's meta page must be flushed and its job answered before
        // group 4 runs: the committer never waits for a later writing group to do it.
        group.submit(
            [&](lmdb::WriteTxn& txn) {
                txn.put(db, "k", "v");
                group.submit(
                    [&](lmdb::WriteTxn& t) {
                        CHECK(t.get(db, "k") == "v");
                        group.submit(
                            [&](lmdb::WriteTxn&) {
                                auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
                                while (!first_done.load() && std::chrono::steady_clock::now() < until)
                                    std::this_thread::yield();
                                seen_by_third.store(first_done.load());
                            },
                            [&](std::exception_ptr) { ++done; });
                    },
                    [&](std::exception_ptr) { ++done; });
            },
            [&](std::exception_ptr e) {
                CHECK_FALSE(e);
                first_done.store(true);
                ++done;
            });
        release.set_value();
        while (done.load() < 3) std::this_thread::yield();
    }
    CHECK(seen_by_third.load());
}

// Group commit (core/group_commit.hpp): jobs waiting together share one transaction, a
// failing job is left out without losing the others, a full map grows, and everything
// submitted runs before the committer stops.
#include "core/group_commit.hpp"

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <string>
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

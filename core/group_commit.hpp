// Group commit: write transactions submitted from many request threads run on one
// committer thread, as many as are waiting put into one LMDB transaction and one commit.
//
// A small write's cost is mostly its commit (LMDB writes every page the transaction
// dirtied - leaf, branch, free-list and meta pages - with one pwrite each), and request
// threads that each open their own write transaction queue on LMDB's writer mutex,
// blocked, while their other connections wait. Submitting instead lets the request
// thread go back to its connections; the commit cost is shared by the group.
//
// Each job's work runs on the committer thread with the group's transaction. A job
// that throws is left out: the group's transaction is aborted and the others run again
// without it (work must tolerate reruns, as Env::write's fn must: it reruns after a map
// resize too). After the commit, each job's `done` runs on the committer thread with
// nullptr, or with the job's exception, or with the commit's failure; done must not
// block for long (it answers a request, removes files, ...) and must not throw.
//
// Under Durability::full a group's commit flushes its data pages but leaves its meta
// page unflushed (WriteTxn::defer_meta_sync); the next group's commit, whose data flush
// covers that meta page too, makes it durable, and only then are the earlier group's
// jobs done. With nothing more to commit, an Env::sync does it at once. So a busy
// committer pays one disk flush per group instead of two, and no client is answered
// before its write is on disk.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "core/lmdb.hpp"

namespace stratus::core::lmdb {

class GroupCommit {
public:
    using Work = std::function<void(WriteTxn&)>;
    using Done = std::function<void(std::exception_ptr)>;

    explicit GroupCommit(Env& env, std::size_t max_group = 64);
    // Runs what was submitted, then stops the thread.
    ~GroupCommit();
    GroupCommit(const GroupCommit&) = delete;
    GroupCommit& operator=(const GroupCommit&) = delete;

    void submit(Work work, Done done);

    // Groups formed and jobs taken into them so far (tests).
    std::size_t groups() const;
    std::size_t jobs() const;

private:
    struct Job {
        Work work;
        Done done;
        std::exception_ptr error = nullptr;  // set by run_group
    };
    void loop();
    // Runs the group in one transaction; returns the id it committed as, or 0 when it
    // changed nothing (or failed).
    std::uint64_t run_group(std::deque<Job>& group);
    // Finishes `jobs` once every commit up to `through` is on disk; with `flush`, syncs
    // the Env first if it is not (without, leaves them waiting).
    void settle(std::deque<Job>& jobs, std::uint64_t through, bool flush);
    static void finish(std::deque<Job>& jobs);

    Env& env_;
    std::size_t max_group_;
    // Durability::full: jobs are done only once a later flush covers their meta page.
    const bool deferred_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    std::size_t groups_ = 0;
    std::size_t jobs_ = 0;
    std::thread thread_;  // last: starts once the rest is built
};

}  // namespace stratus::core::lmdb

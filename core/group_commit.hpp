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
#pragma once

#include <condition_variable>
#include <cstddef>
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
    };
    void loop();
    void run_group(std::deque<Job>& group);

    Env& env_;
    std::size_t max_group_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    std::size_t groups_ = 0;
    std::size_t jobs_ = 0;
    std::thread thread_;  // last: starts once the rest is built
};

}  // namespace stratus::core::lmdb

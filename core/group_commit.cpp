#include "core/group_commit.hpp"

#include <algorithm>
#include <vector>

#include "core/log.hpp"

namespace stratus::core::lmdb {

namespace {

// Thrown out of the group's transaction when one job failed: the rest run again.
struct Rerun {};

}  // namespace

GroupCommit::GroupCommit(Env& env, std::size_t max_group)
    : env_(env),
      max_group_(max_group == 0 ? 1 : max_group),
      deferred_(env.options().durability == Durability::full),
      thread_([this] { loop(); }) {}

GroupCommit::~GroupCommit() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void GroupCommit::submit(Work work, Done done) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(Job{std::move(work), std::move(done)});
    }
    cv_.notify_one();
}

std::size_t GroupCommit::groups() const {
    std::lock_guard lock(mutex_);
    return groups_;
}

std::size_t GroupCommit::jobs() const {
    std::lock_guard lock(mutex_);
    return jobs_;
}

void GroupCommit::loop() {
    std::deque<Job> settling;  // committed, done once env_.durable_through() >= settle_at
    std::uint64_t settle_at = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || !settling.empty(); });
        if (queue_.empty()) {
            if (settling.empty()) return;  // stopping, and everything submitted has run
            // Nothing to commit next whose flush would cover the last meta page.
            lock.unlock();
            settle(settling, settle_at, true);
            lock.lock();
            continue;
        }
        std::deque<Job> group;
        while (!queue_.empty() && group.size() < max_group_) {
            group.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        ++groups_;
        jobs_ += group.size();
        lock.unlock();
        std::uint64_t committed = run_group(group);
        if (!deferred_) {
            finish(group);
        } else {
            // A group that wrote flushed the previous group's meta page with its own data;
            // one that wrote nothing did not, so the earlier jobs get a flush of their own
            // now rather than wait for a group that writes.
            settle(settling, settle_at, committed == 0);
            settle_at = std::max(settle_at, committed);
            for (Job& job : group) settling.push_back(std::move(job));
            if (committed == 0) settle(settling, settle_at, false);  // nothing of its own to flush
        }
        lock.lock();
    }
}

std::uint64_t GroupCommit::run_group(std::deque<Job>& group) {
    std::vector<bool> out(group.size(), false);  // failed: left out of the rerun
    std::uint64_t committed = 0;
    for (;;) {
        try {
            env_.write([&](WriteTxn& txn) {
                if (deferred_) txn.defer_meta_sync();
                std::uint64_t before = txn.writes();
                for (std::size_t i = 0; i < group.size(); ++i) {
                    if (out[i]) continue;
                    try {
                        group[i].work(txn);
                    } catch (const Error& e) {
                        // A full map is the group's problem: Env::write grows it and reruns.
                        if (e.code() == MDB_MAP_FULL) throw;
                        group[i].error = std::current_exception();
                        out[i] = true;
                        throw Rerun{};
                    } catch (...) {
                        if (txn.map_full()) throw;
                        group[i].error = std::current_exception();
                        out[i] = true;
                        throw Rerun{};
                    }
                }
                committed = txn.writes() != before ? txn.id() : 0;
            });
        } catch (const Rerun&) {
            continue;
        } catch (...) {
            // The commit (or the transaction's start) failed: every job still in it fails.
            committed = 0;
            for (std::size_t i = 0; i < group.size(); ++i)
                if (!out[i]) group[i].error = std::current_exception();
        }
        break;
    }
    return committed;
}

void GroupCommit::settle(std::deque<Job>& jobs, std::uint64_t through, bool flush) {
    if (jobs.empty()) return;
    if (env_.durable_through() < through) {
        if (!flush) return;
        try {
            env_.sync();
        } catch (...) {
            // Committed but not known to be on disk: not acknowledged as a success.
            for (Job& job : jobs)
                if (!job.error) job.error = std::current_exception();
        }
    }
    finish(jobs);
}

void GroupCommit::finish(std::deque<Job>& jobs) {
    for (Job& job : jobs) {
        try {
            job.done(job.error);
        } catch (const std::exception& e) {
            log::error("group commit: a completion failed: {}", e.what());
        } catch (...) {
            log::error("group commit: a completion failed");
        }
    }
    jobs.clear();
}

}  // namespace stratus::core::lmdb

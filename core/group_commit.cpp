#include "core/group_commit.hpp"

#include <vector>

#include "core/log.hpp"

namespace stratus::core::lmdb {

namespace {

// Thrown out of the group's transaction when one job failed: the rest run again.
struct Rerun {};

}  // namespace

GroupCommit::GroupCommit(Env& env, std::size_t max_group)
    : env_(env), max_group_(max_group == 0 ? 1 : max_group), thread_([this] { loop(); }) {}

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
    std::unique_lock lock(mutex_);
    for (;;) {
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything submitted has run
        std::deque<Job> group;
        while (!queue_.empty() && group.size() < max_group_) {
            group.push_back(std::move(queue_.front()));
            queue_.pop_front();
        }
        ++groups_;
        jobs_ += group.size();
        lock.unlock();
        run_group(group);
        lock.lock();
    }
}

void GroupCommit::run_group(std::deque<Job>& group) {
    std::vector<std::exception_ptr> errors(group.size());
    std::vector<bool> out(group.size(), false);  // failed: left out of the rerun
    for (;;) {
        try {
            env_.write([&](WriteTxn& txn) {
                for (std::size_t i = 0; i < group.size(); ++i) {
                    if (out[i]) continue;
                    try {
                        group[i].work(txn);
                    } catch (const Error& e) {
                        // A full map is the group's problem: Env::write grows it and reruns.
                        if (e.code() == MDB_MAP_FULL) throw;
                        errors[i] = std::current_exception();
                        out[i] = true;
                        throw Rerun{};
                    } catch (...) {
                        if (txn.map_full()) throw;
                        errors[i] = std::current_exception();
                        out[i] = true;
                        throw Rerun{};
                    }
                }
            });
        } catch (const Rerun&) {
            continue;
        } catch (...) {
            // The commit (or the transaction's start) failed: every job still in it fails.
            for (std::size_t i = 0; i < group.size(); ++i)
                if (!out[i]) errors[i] = std::current_exception();
        }
        break;
    }
    for (std::size_t i = 0; i < group.size(); ++i) {
        try {
            group[i].done(errors[i]);
        } catch (const std::exception& e) {
            log::error("group commit: a completion failed: {}", e.what());
        } catch (...) {
            log::error("group commit: a completion failed");
        }
    }
}

}  // namespace stratus::core::lmdb

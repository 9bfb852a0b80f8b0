// TriggerEngine's insides, shared by trigger_engine.cpp (threads, storage, schedules, S3)
// and esm_api.cpp (the Lambda API's *EventSourceMapping operations). Not for other code.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "lambda/event_filter.hpp"
#include "lambda/schedule_expr.hpp"
#include "lambda/trigger_engine.hpp"

namespace stratus::lambda {

// An event source mapping as stored (lambda_esm) and run.
struct Mapping {
    std::string uuid;
    EventSourceMappingSpec spec;  // spec.function: the function's name
    std::string function_arn;
    double last_modified = 0;  // epoch seconds
    std::string last_result = "No records processed";
    std::vector<EventPattern> patterns;  // spec.filter_patterns, parsed

    nlohmann::json configuration(std::string_view state) const;
    std::string to_json() const;
    static Mapping from_json(std::string_view text);
};

struct Schedule {
    ScheduleSpec spec;
    ScheduleExpression expression;
    std::int64_t anchor = 0;             // epoch seconds the rule was declared
    std::optional<std::int64_t> next;    // its next firing, epoch seconds
};

struct TriggerEngine::Impl {
    Impl(core::lmdb::Env& env, Invoker& invoker, TriggerOptions options);

    core::lmdb::Env& env;
    Invoker& invoker;
    TriggerOptions o;
    core::lmdb::Dbi esm_db, checkpoint_db, failure_db, schedule_db;

    std::mutex mutex;
    std::condition_variable cv;  // any of the generations below moved, or stopping
    bool started = false;
    bool stopping = false;
    std::uint64_t stream_gen = 0;  // bumped by the stream source after each commit
    std::uint64_t s3_gen = 0;
    std::uint64_t config_gen = 0;  // mappings or schedules changed
    std::map<std::string, Mapping> mappings;  // by uuid
    std::map<std::string, std::thread> pollers;
    std::vector<std::thread> retired;  // pollers of removed mappings, joined at stop()
    std::map<std::string, Schedule> schedules;
    std::thread s3_thread, schedule_thread;

    // ---- mappings
    // Validates the spec (AwsError with Lambda's codes); resolves the function.
    Mapping validate(const EventSourceMappingSpec& spec);
    // Stores a new mapping (StartingPosition LATEST: the checkpoints of "now") and starts it.
    void add(Mapping m);
    // Stores a changed mapping; its poller picks it up.
    void replace(Mapping m);
    void remove(const std::string& uuid);
    std::optional<Mapping> find(const std::string& uuid);
    void start_poller(const std::string& uuid);  // with the lock held
    void persist(const Mapping& m);

    // ---- the poller of one mapping
    void poll(const std::string& uuid);

    // ---- failures
    void record_failure(const Mapping& m, const std::string& shard, const std::vector<StreamRecordData>& batch,
                        const char* condition, int invocations, const std::optional<InvokeResult>& last);

    std::int64_t now_ms() const;
    void note(const std::string& function, const std::string& line) const;
};

}  // namespace stratus::lambda

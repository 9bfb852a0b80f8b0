// Runs what invokes functions besides direct calls (lambda/triggers.hpp): event source
// mappings over DynamoDB streams, S3 event notifications and schedules. Every invocation
// goes through the Invoker (lambda/invoker.hpp); events come from the sources emulator/
// attaches (lambda/event_sources.hpp).
//
// - Mappings: one poller thread each reads its stream shard by shard (a parent to its end
//   before its children), batches, filters, invokes synchronously and stores its checkpoint
//   in LMDB after each batch, so a restart (also after kill -9) resumes where it was: at
//   least once, in order per shard. Retries, bisection, ReportBatchItemFailures, record
//   age and the on-failure destination as Lambda does them. A failing function holds up
//   only its own mapping's shard.
// - S3: a dispatcher thread takes the outbox's events and hands each to invoke_event (which
//   stores it durably and retries it twice, as S3's asynchronous invocations are), then
//   acknowledges it: nothing is lost between S3's commit and the invocation.
// - Schedules: a timer thread fires rate() / cron() rules as Event invocations with the
//   Scheduled Event payload, or the rule's Input / InputPath / InputTransformer.
//
// Databases: lambda_esm (uuid -> mapping), lambda_esm_checkpoints (uuid NUL shard id ->
// checkpoint), lambda_esm_failures (uuid NUL u64be -> invocation record), lambda_schedules
// (name -> schedule).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/http_types.hpp"
#include "core/lmdb.hpp"
#include "lambda/event_sources.hpp"
#include "lambda/invoker.hpp"
#include "lambda/triggers.hpp"

namespace stratus::lambda {

struct TriggerOptions {
    std::shared_ptr<StreamEventSource> streams;  // unset: no stream mappings
    std::shared_ptr<S3EventSource> s3_events;    // unset: no S3 triggers
    // First delay before retrying a failed batch; doubles per attempt, at most max_retry_delay.
    std::chrono::milliseconds retry_delay{100};
    std::chrono::milliseconds max_retry_delay{std::chrono::seconds(10)};
    // A line in a function's log (the triggers' own notes: batches given up, events dropped).
    std::function<void(const std::string& function, const std::string& line)> log;
    // The clock (epoch milliseconds); injectable for tests.
    std::function<std::int64_t()> now_ms;
};

class TriggerEngine final : public Triggers {
public:
    TriggerEngine(core::lmdb::Env& env, Invoker& invoker, TriggerOptions options);
    ~TriggerEngine() override;
    TriggerEngine(const TriggerEngine&) = delete;
    TriggerEngine& operator=(const TriggerEngine&) = delete;

    // Starts the pollers of the stored mappings, the S3 dispatcher and the schedule timer.
    void start();
    // Stops every thread (daemon shutdown); invocations in flight are abandoned, their
    // batches run again at the next start.
    void stop();

    // Triggers
    std::string declare_mapping(const EventSourceMappingSpec& spec) override;
    void remove_mapping(const std::string& uuid) override;
    void declare_schedule(const ScheduleSpec& spec) override;
    void remove_schedule(const std::string& name) override;
    std::string run_schedule(const std::string& name) override;
    std::vector<ScheduleSpec> schedules() override;
    std::vector<std::string> failed_batches(const std::string& uuid) override;

    // The Lambda API's *EventSourceMapping operations (REST-JSON bodies; errors thrown as
    // AwsError). `path_uuid`: the {UUID} path parameter.
    core::Response create_mapping_api(const core::Request& request);
    core::Response get_mapping_api(const std::string& uuid);
    core::Response list_mappings_api(const core::Request& request);
    core::Response update_mapping_api(const core::Request& request, const std::string& uuid);
    core::Response delete_mapping_api(const std::string& uuid);

    // Wipes every mapping, checkpoint, failure record and schedule (POST /_stratus/reset).
    void reset();

    struct Impl;

private:
    // Shared so that the sources' wake-up callbacks (which may outlive the engine at
    // shutdown) hold it weakly.
    std::shared_ptr<Impl> impl_;
};

}  // namespace stratus::lambda

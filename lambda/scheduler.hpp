// Runs invocations in sandboxes: one process group per sandbox running the runtime's
// bootstrap, talking to its own Runtime API listener. Warm sandboxes are reused; more are
// started up to the function's concurrency; beyond it invocations queue, and are
// throttled when the queue is full. Up to `eager_sandboxes` (the number of cores) start as
// soon as invocations wait; more only once every running one has been busy for `grow_after`
// (handlers waiting on I/O), since more processes than cores running short handlers only
// compete for the CPU. Timeouts, memory limits and crashes fail only the
// invocation concerned. Everything runs on the daemon's main io_context.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "lambda/function.hpp"
#include "lambda/invoker.hpp"
#include "lambda/logs.hpp"

namespace stratus::core {
class Runtime;
}

namespace stratus::lambda {

struct SchedulerOptions {
    std::string runtimes_dir;   // holds node/bootstrap.cjs, python/bootstrap.py, node_modules/
    std::string endpoint_url;   // AWS_ENDPOINT_URL given to handlers
    unsigned default_concurrency = 10;
    std::size_t queue_size = 100;  // waiting RequestResponse invocations per function
    std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
    std::chrono::milliseconds rss_poll{50};
    // Event invocations: delays before the two retries (AWS waits about 1 and 2 minutes).
    std::chrono::milliseconds retry_delay{1000};
    // What an invocation reference ("f", "f:3", "f:live") names now: retries of Event
    // invocations run the current $LATEST / what the alias points at, and stop when it is
    // gone. Unset: the Function given to invoke_event is used throughout.
    std::function<std::optional<Function>(const std::string&)> lookup;
    // Where function logs persist (<data>/lambda/logs); empty: memory only.
    std::string logs_dir;
    unsigned eager_sandboxes = 0;  // 0: one per core
    std::chrono::milliseconds grow_after{10};
};

class Scheduler {
public:
    Scheduler(core::Runtime& runtime, SchedulerOptions options);
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // Runs one RequestResponse invocation; `done` is called once, on the main io_context.
    // `invoked_arn`: the ARN the caller named (the context's invokedFunctionArn: "...:f",
    // "...:f:3", "...:f:live"); empty: the version's own. Callable from any thread.
    // `on_chunk`: for response streaming, each piece the handler streams (and the stream's
    // Content-Type, as the runtime declared it), on the main io_context, before `done`;
    // the result's payload is then empty. Without it, streamed pieces make up the payload.
    void invoke(Function fn, InvokeInput input, std::function<void(InvokeResult)> done, std::string invoked_arn = {},
                std::function<void(std::string_view bytes, std::string_view content_type)> on_chunk = {});
    // Event invocation: queued, retried twice on a function error. Callable from any thread.
    // Every attempt runs under `request_id` (fresh when empty), as AWS keeps it across retries.
    // A function error is retried twice, a throttle up to 20 times; `finished` runs (on the
    // main io_context) when the event is done with: succeeded, failed for good, or its
    // function is gone. It does not run when stratus shuts down first.
    // `ref`: what the caller named ("f", "f:3", "f:live"; empty: fn.name), looked up again
    // for retries; `invoked_arn` as for invoke().
    void invoke_event(Function fn, std::string payload, std::string request_id = {},
                      std::function<void(const InvokeResult&)> finished = {}, std::string ref = {},
                      std::string invoked_arn = {});
    // The function changed (code or configuration) or is gone (nullopt): warm sandboxes
    // are retired, queued invocations use the new configuration. `key` is Function::key():
    // a function's name (its $LATEST; when gone, its versions go too) or "name:N" (a
    // published version, only ever removed). Any thread.
    void update(const std::string& key, std::optional<Function> fn);
    // Kills every sandbox (daemon shutdown, reset). On the main io_context.
    void shutdown();

    LogBook& logs();
    // Live sandboxes of a function (tests and health).
    std::size_t sandboxes(const std::string& name) const;

    struct Impl;  // opaque (scheduler.cpp)

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace stratus::lambda

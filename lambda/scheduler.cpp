#include "lambda/scheduler.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "core/base64.hpp"
#include "core/http_handler.hpp"
#include "core/json_parse.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "core/net.hpp"
#include "core/protocol.hpp"
#include "core/server.hpp"
#include "lambda/code_watch.hpp"
#include "lambda/layers.hpp"
#include "lambda/runtime_api.hpp"

extern char** environ;

namespace stratus::lambda {

namespace fs = std::filesystem;
using nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

// Lambda's invocation payload limit, request and response (6 MB).
// What a handler may answer: AWS says 6291556 bytes (6 MiB and 100 bytes) in its errors.
constexpr std::size_t max_payload = 6291556;
constexpr std::size_t max_line = 256 * 1024;
constexpr std::size_t tail_bytes = 4096;
// The runtime channel's frame heads are small JSON objects (method, path, a few headers).
constexpr std::uint32_t max_frame_head = 64 * 1024;

std::uint32_t get_le32(const char* p) {
    auto b = reinterpret_cast<const unsigned char*>(p);
    return std::uint32_t(b[0]) | std::uint32_t(b[1]) << 8 | std::uint32_t(b[2]) << 16 | std::uint32_t(b[3]) << 24;
}

void put_le32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::string iso_now() { return core::iso8601(now_ms()); }

std::string random_hex(std::size_t n) {
    std::string u;
    while (u.size() < n) {
        for (char c : core::random_uuid())
            if (c != '-' && u.size() < n) u.push_back(c);
    }
    return u;
}

std::string log_stream_name(const std::string& version) {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y/%m/%d", &tm);
    return fmt::format("{}/[{}]{}", buf, version, random_hex(32));
}

std::string trace_id() {
    return fmt::format("Root=1-{:08x}-{};Parent={};Sampled=0", static_cast<unsigned>(std::time(nullptr)),
                       random_hex(24), random_hex(16));
}

std::string function_error_json(std::string_view type, std::string_view message) {
    return json{{"errorType", type}, {"errorMessage", message}}.dump();
}

std::string exit_reason(int status) {
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        // As Go's os.ProcessState prints it (Lambda's init is written in Go).
        std::string_view name = sig == SIGKILL ? "killed" : sig == SIGSEGV ? "segmentation fault" : sig == SIGABRT ? "aborted"
                                : sig == SIGTERM ? "terminated" : sig == SIGBUS ? "bus error" : "";
        return name.empty() ? fmt::format("signal: {}", sig) : fmt::format("signal: {}", name);
    }
    return fmt::format("exit status {}", WEXITSTATUS(status));
}

std::string read_small(const char* path) {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// Nanoseconds the process's main thread spent on a CPU or waiting for one
// (/proc/PID/schedstat; the wait is added when the thread gets the CPU), and whether it is
// runnable now (/proc/PID/stat); nullopt when unreadable.
std::optional<std::pair<std::uint64_t, bool>> cpu_demand(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/schedstat", static_cast<int>(pid));
    std::string sched = read_small(path);
    unsigned long long run = 0, wait = 0;
    if (std::sscanf(sched.c_str(), "%llu %llu", &run, &wait) != 2) return std::nullopt;
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    std::string stat = read_small(path);
    auto paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size()) return std::nullopt;
    return std::pair<std::uint64_t, bool>(run + wait, stat[paren + 2] == 'R');
}

long rss_kb_of(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/statm", pid));
    long size = 0, resident = 0;
    if (!(in >> size >> resident)) return 0;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

// Resident memory of the sandbox: its bootstrap and every process below it (a handler's
// child processes count against MemorySize, as in Lambda's cgroup). Pages shared between
// a parent and its forked children are counted in each, so this errs high.
long rss_mb(pid_t pid) {
    long kb = 0;
    std::vector<pid_t> todo{pid};
    std::size_t seen = 0;
    while (!todo.empty() && seen < 256) {
        pid_t p = todo.back();
        todo.pop_back();
        ++seen;
        kb += rss_kb_of(p);
        // Children started by the main thread (node's and python's spawns run there); the
        // per-thread lists of other threads are not read, to keep this poll cheap.
        std::ifstream children(fmt::format("/proc/{}/task/{}/children", p, p));
        pid_t c;
        while (children >> c) todo.push_back(c);
    }
    return kb / 1024;
}

struct Invocation {
    std::string id;
    std::string invoked_arn;  // the context's invokedFunctionArn; empty: the version's own
    // Response streaming: where streamed pieces go; without it they are kept in `streamed`
    // and become the payload (a streaming handler invoked through Invoke).
    std::function<void(std::string_view, std::string_view)> on_chunk;
    std::string streamed;
    std::string stream_type;  // the Content-Type the runtime gave the stream
    InvokeInput input;
    std::function<void(InvokeResult)> done;
    std::string log;  // bounded: the tail is all we need
    steady::time_point started;
    bool finished = false;
    bool event = false;  // an Event invocation (never throttled by the queue's size)

    void add_log(std::string_view line) {
        log.append(line);
        log.push_back('\n');
        if (log.size() > 4 * tail_bytes) log.erase(0, log.size() - tail_bytes);
    }
};

}  // namespace

struct Sandbox;

// One per sandbox, alive as long as the scheduler (a closed listener may still ask it to
// plan a request that raced with the close).
class RuntimeApiHandler final : public core::HttpHandler {
public:
    RuntimeApiHandler(std::weak_ptr<Scheduler::Impl> impl, std::weak_ptr<Sandbox> sandbox)
        : impl_(std::move(impl)), sandbox_(std::move(sandbox)) {}
    core::Plan plan(core::Request& head) override;

private:
    std::weak_ptr<Scheduler::Impl> impl_;
    std::weak_ptr<Sandbox> sandbox_;
};

struct Sandbox {
    Sandbox(net::io_context& io) : out(io), exit_watch(io), deadline(io), idle(io), chan(io) {}
    Function fn;
    std::uint64_t generation = 0;
    pid_t pid = -1;
    net::posix::stream_descriptor out;
    net::posix::stream_descriptor exit_watch;  // a pidfd: readable when the process exits
    net::steady_timer deadline, idle;
    std::uint16_t port = 0;
    RuntimeApiState api;
    core::Reply pending_next;  // the held long poll
    std::shared_ptr<Invocation> current;
    steady::time_point spawned;
    std::optional<double> init_ms;  // set at the first /next; reported once
    bool reported_init = false;
    bool dead = false;
    bool retired = false;
    long max_rss_mb = 0;
    std::string partial;
    std::string init_log;
    std::string log_stream;  // AWS_LAMBDA_LOG_STREAM_NAME: the CloudWatch stream of its lines
    std::array<char, 64 * 1024> buffer{};
    steady::time_point rss_read_at{};  // when max_rss_mb was last read from /proc
    // What the scheduler last saw of this process's CPU (on it or waiting for it), to tell
    // a handler waiting on I/O from one that computes (see Impl::sleeping).
    std::string sched_id;  // the invocation it was running then
    std::uint64_t sched_ns = 0;
    steady::time_point sched_at{};

    // stratus's own runtimes (node, python) call the Runtime API over a socket pair with
    // framed messages instead of HTTP over loopback (the runtime channel): each frame is
    // a little-endian u32 head length, u32 body length, the head (JSON: method, path and
    // headers one way; status and headers the other), then the body. Same calls, same
    // state machine, same answers as the HTTP listener, which stays open for anything else,
    // except that a response or error call with the header x-stratus-noreply is not answered.
    net::posix::stream_descriptor chan;
    std::string chan_in;              // bytes read, not yet a whole frame
    std::uint64_t chan_discard = 0;   // bytes of an oversized body still to skip
    std::string chan_out, chan_queued;  // being written / waiting behind it
    bool chan_writing = false;
    std::array<char, 64 * 1024> chan_buffer{};
};

struct Pool {
    Function fn;
    std::uint64_t generation = 0;
    std::deque<std::shared_ptr<Invocation>> queue;
    std::vector<std::shared_ptr<Sandbox>> sandboxes;
    // Looks again whether to start more sandboxes (see SchedulerOptions::grow_after).
    std::unique_ptr<net::steady_timer> grow_timer;
    bool grow_armed = false;
};

struct Scheduler::Impl : std::enable_shared_from_this<Scheduler::Impl> {
    Impl(core::Runtime& rt, SchedulerOptions o) : runtime(rt), io(rt.io_context()), options(std::move(o)) {
        rss_timer.emplace(io);
        log_timer.emplace(io);
        watcher.emplace(io, [this](const std::string& name) { code_changed(name); });
    }

    core::Runtime& runtime;
    net::io_context& io;
    SchedulerOptions options;
    LogBook logs{1 << 20, options.logs_dir};
    std::map<std::string, Pool> pools;
    std::vector<std::unique_ptr<RuntimeApiHandler>> handlers;
    std::optional<net::steady_timer> rss_timer;  // reset at shutdown: it belongs to the io_context
    bool rss_running = false;
    bool stopped = false;
    bool logs_flush_posted = false;
    std::optional<net::steady_timer> log_timer;  // reset at shutdown, as rss_timer
    static constexpr std::chrono::milliseconds log_flush_delay{5};
    std::optional<CodeWatcher> watcher;  // hot reload
    static constexpr char layer_key_sep = '\x1f';  // never in a function name

    // What a function's watches cover: its code directory and its layer directories.
    static std::string watched_dirs(const Function& fn) {
        std::string out = fn.code_dir;
        for (auto& l : fn.layers)
            if (l.external) out += '\n' + l.dir;
        return out;
    }
    void unwatch_all(const std::string& name) {
        watcher->unwatch(name);
        for (int i = 0; i < 5; ++i) watcher->unwatch(name + layer_key_sep + std::to_string(i));
    }
    // The first sandbox since (re)declaring: the directories are watched from now on, and
    // the merged tree is remade (a layer directory may have changed while unwatched).
    void watch_all(const Function& fn) {
        if (watcher->watching(fn.name)) return;
        watcher->watch(fn.name, fn.code_dir);
        bool external = false;
        for (std::size_t i = 0; i < fn.layers.size(); ++i)
            if (fn.layers[i].external) {
                watcher->watch(fn.name + layer_key_sep + std::to_string(i), fn.layers[i].dir);
                external = true;
            }
        if (external) rebuild_merged(fn.opt_dir, fn.layers);
    }

    // ---- hot reload ----

    // A file under the function's code directory changed: warm sandboxes are retired (busy
    // ones after their invocation), the next invocation starts the new code.
    // A layer directory the function uses (watched as name + layer_key_sep + index) changed:
    // its merged /opt tree is remade first.
    void code_changed(const std::string& key) {
        auto sep = key.find(layer_key_sep);
        std::string name = key.substr(0, sep);
        auto it = pools.find(name);
        if (it == pools.end()) return;
        Pool& pool = it->second;
        if (sep != std::string::npos) {
            core::log::info("lambda: a layer directory of {} changed: its /opt remade", name);
            rebuild_merged(pool.fn.opt_dir, pool.fn.layers);
        }
        bool warm = false;
        for (auto& sb : pool.sandboxes)
            if (!sb->dead && !sb->retired && sb->generation == pool.generation) warm = true;
        if (!warm) return;
        core::log::info("lambda: code of {} changed: warm sandboxes retired", name);
        ++pool.generation;
        retire_old(pool);
        dispatch(pool);
    }

    // ---- invocations ----

    void enqueue(Function fn, std::shared_ptr<Invocation> inv, bool event) {
        if (stopped) return fail_now(inv, core::AwsError("ServiceException", "stratus is shutting down", 500, core::Fault::receiver));
        // Code written before this request arrived is what this invocation runs.
        watcher->poll();
        Pool& pool = pool_for(std::move(fn));
        unsigned limit = pool.fn.reserved_concurrency ? static_cast<unsigned>(*pool.fn.reserved_concurrency)
                                                      : options.default_concurrency;
        if (limit == 0) {
            auto e = core::AwsError("TooManyRequestsException", "Rate Exceeded.", 429);
            e.with("Reason", "ReservedFunctionConcurrentInvocationLimitExceeded");
            return fail_now(inv, std::move(e));
        }
        bool has_waiting = false;
        for (auto& sb : pool.sandboxes)
            if (!sb->dead && !sb->retired && sb->api.state() == RuntimeApiState::State::waiting) has_waiting = true;
        if (!event && !has_waiting) {
            // The queue holds RequestResponse invocations waiting for a sandbox (and Event
            // ones, which AWS queues apart and never throttles here): `queue_size` of them,
            // plus one per sandbox that may still start, plus one per sandbox still starting
            // (it takes the first of them when it is ready: a cold start under load must not
            // throttle the calls that fit in limit + queue).
            unsigned n = live(pool);
            std::size_t starting = std::count_if(pool.sandboxes.begin(), pool.sandboxes.end(), [](auto& sb) {
                return !sb->dead && !sb->retired && sb->api.state() == RuntimeApiState::State::initializing;
            });
            std::size_t room = options.queue_size + (limit > n ? limit - n : 0) + starting;
            std::size_t waiting = std::count_if(pool.queue.begin(), pool.queue.end(), [](auto& q) { return !q->event; });
            if (waiting >= room) {
                auto e = core::AwsError("TooManyRequestsException", "Rate Exceeded.", 429);
                e.with("Reason", pool.fn.reserved_concurrency ? "ReservedFunctionConcurrentInvocationLimitExceeded"
                                                              : "ConcurrentInvocationLimitExceeded");
                return fail_now(inv, std::move(e));
            }
        }
        inv->event = event;
        pool.queue.push_back(std::move(inv));
        dispatch(pool);
    }

    void fail_now(const std::shared_ptr<Invocation>& inv, core::AwsError e) {
        InvokeResult r;
        r.error = std::move(e);
        r.request_id = inv->id;
        inv->finished = true;
        inv->done(std::move(r));
    }

    Pool& pool_for(Function fn) {
        auto [it, fresh] = pools.try_emplace(fn.key());
        Pool& pool = it->second;
        if (fresh || pool.fn.revision_id != fn.revision_id || pool.fn.code_dir != fn.code_dir) {
            if (!fresh) ++pool.generation;
            if (watched_dirs(pool.fn) != watched_dirs(fn)) unwatch_all(fn.key());
            pool.fn = std::move(fn);
            retire_old(pool);
        } else {
            pool.fn.reserved_concurrency = fn.reserved_concurrency;
        }
        return pool;
    }

    unsigned live(const Pool& pool) const {
        unsigned n = 0;
        for (auto& sb : pool.sandboxes)
            if (!sb->dead) ++n;
        return n;
    }

    void dispatch(Pool& pool) {
        for (auto& sb : pool.sandboxes) {
            if (pool.queue.empty()) break;
            if (!sb->dead && !sb->retired && sb->api.state() == RuntimeApiState::State::waiting) {
                auto inv = std::move(pool.queue.front());
                pool.queue.pop_front();
                assign(pool, sb, std::move(inv));
            }
        }
        if (pool.queue.empty()) return;
        unsigned limit = pool.fn.reserved_concurrency ? static_cast<unsigned>(*pool.fn.reserved_concurrency)
                                                      : options.default_concurrency;
        std::size_t starting = 0;
        for (auto& sb : pool.sandboxes)
            if (!sb->dead && !sb->retired && sb->api.state() == RuntimeApiState::State::initializing) ++starting;
        unsigned n = live(pool);
        std::optional<bool> may_grow;
        while (pool.queue.size() > starting && n < limit) {
            if (n >= eager()) {
                if (!may_grow) may_grow = all_busy_long(pool) && all_sleeping(pool);
                if (!*may_grow) {
                    arm_grow(pool);
                    return;
                }
            }
            if (!spawn(pool)) return;
            ++starting;
            ++n;
        }
    }

    // ---- CPU policy of sandboxes ----
    //
    // While the sandboxes can fill every core, each runs SCHED_BATCH: woken with an
    // invocation it does not preempt the daemon's event loop, which goes on answering and
    // reading other requests, but takes the next free CPU; with every CPU busy that saves a
    // context switch per wake-up (the gateway under load: 0.85 involuntary switches per
    // request without, 0.14 with). Fewer sandboxes than cores leave a CPU free for each, and
    // there SCHED_BATCH only delays the wake-up: on a VM whose idle vCPUs are slow to wake, it
    // doubled the share of slow warm Invokes of a single sandbox. So those run SCHED_OTHER,
    // and all switch when the count crosses the number of cores. CPU shares are
    // SCHED_OTHER's either way. (Set from here: posix_spawn's POSIX_SPAWN_SETSCHEDULER is not
    // applied by this glibc.)
    std::size_t live_sandboxes = 0;  // spawned and not stopped, every function
    bool batch_sandboxes = false;

    // Every thread of the sandbox's process: a policy is per thread, and the helper threads
    // node and python start (libuv's pool, V8's platform workers) keep the one the main
    // thread had when they started. A process that is gone meanwhile is skipped.
    static void set_policy(pid_t pid, bool batch) {
        sched_param param{};
        const int policy = batch ? SCHED_BATCH : SCHED_OTHER;
        std::error_code ec;
        std::filesystem::directory_iterator it(fmt::format("/proc/{}/task", pid), ec), end;
        if (ec) {
            ::sched_setscheduler(pid, policy, &param);
            return;
        }
        for (; it != end; it.increment(ec)) {
            if (ec) break;
            pid_t tid = 0;
            const std::string name = it->path().filename().string();
            auto [ptr, err] = std::from_chars(name.data(), name.data() + name.size(), tid);
            if (err == std::errc{} && ptr == name.data() + name.size()) ::sched_setscheduler(tid, policy, &param);
        }
    }

    void update_policy() {
        bool batch = live_sandboxes >= cores();
        if (batch == batch_sandboxes) return;
        batch_sandboxes = batch;
        for (auto& [name, pool] : pools)
            for (auto& sb : pool.sandboxes)
                if (!sb->dead && sb->pid > 0) set_policy(sb->pid, batch);
    }

    static unsigned cores() {
        static const unsigned n = std::max(1u, std::thread::hardware_concurrency());
        return n;
    }

    unsigned eager() const {
        if (options.eager_sandboxes) return options.eager_sandboxes;
        return cores();
    }

    // Every sandbox running an invocation has run it for grow_after or longer, at least
    // one does, and none is free (starting ones do not count either way).
    bool all_busy_long(const Pool& pool) const {
        auto since = steady::now() - options.grow_after;
        bool any = false;
        for (auto& sb : pool.sandboxes) {
            if (sb->dead || sb->retired || sb->api.state() == RuntimeApiState::State::initializing) continue;
            if (!sb->current || sb->current->started > since) return false;
            any = true;
        }
        return any;
    }

    // Whether every busy sandbox mostly slept (neither ran nor waited for a CPU) since the
    // last look at its current invocation; the first look at an invocation only notes it.
    bool all_sleeping(const Pool& pool) const {
        bool all = true;
        auto now = steady::now();
        for (auto& sb : pool.sandboxes) {
            if (sb->dead || sb->retired || !sb->current) continue;
            auto demand = cpu_demand(sb->pid);
            if (!demand) continue;  // no schedstat: as before, more sandboxes
            auto [ns, runnable] = *demand;
            if (sb->sched_id == sb->current->id && now - sb->sched_at < options.grow_after) {
                all = false;  // looked too recently to tell: keep that look as the baseline
                continue;
            }
            if (sb->sched_id != sb->current->id || runnable) {
                all = false;
            } else {
                double wall = std::chrono::duration<double, std::nano>(now - sb->sched_at).count();
                if (double(ns - sb->sched_ns) > wall / 2) all = false;
            }
            sb->sched_id = sb->current->id;
            sb->sched_ns = ns;
            sb->sched_at = now;
        }
        return all;
    }

    void arm_grow(Pool& pool) {
        if (pool.grow_armed || stopped) return;
        if (!pool.grow_timer) pool.grow_timer = std::make_unique<net::steady_timer>(io);
        pool.grow_armed = true;
        pool.grow_timer->expires_after(options.grow_after);
        pool.grow_timer->async_wait([w = weak_from_this(), name = pool.fn.key()](const boost::system::error_code& ec) {
            auto self = w.lock();
            if (ec || !self || self->stopped) return;
            auto it = self->pools.find(name);
            if (it == self->pools.end()) return;
            it->second.grow_armed = false;
            self->dispatch(it->second);
        });
    }

    void assign(Pool& pool, const std::shared_ptr<Sandbox>& sb, std::shared_ptr<Invocation> inv) {
        sb->idle.cancel();
        sb->api.assign(inv->id);
        sb->current = inv;
        inv->started = steady::now();
        if (!sb->init_log.empty()) {
            inv->log += sb->init_log;
            sb->init_log.clear();
        }
        emit(*sb, fmt::format("START RequestId: {} Version: {}", inv->id, sb->fn.version));
        auto deadline_ms = now_ms() + std::int64_t(sb->fn.timeout) * 1000;
        core::Response r;
        r.status = 200;
        r.headers.set("Content-Type", "application/json");
        r.headers.set("Lambda-Runtime-Aws-Request-Id", inv->id);
        r.headers.set("Lambda-Runtime-Deadline-Ms", std::to_string(deadline_ms));
        r.headers.set("Lambda-Runtime-Invoked-Function-Arn", inv->invoked_arn.empty() ? sb->fn.version_arn() : inv->invoked_arn);
        r.headers.set("Lambda-Runtime-Trace-Id", trace_id());
        if (!inv->input.client_context.empty()) {
            // X-Amz-Client-Context is base64 JSON; the runtime gets the JSON.
            if (auto cc = core::base64_decode(inv->input.client_context))
                r.headers.set("Lambda-Runtime-Client-Context", *cc);
        }
        r.body = inv->input.payload;
        sb->deadline.expires_after(std::chrono::seconds(sb->fn.timeout));
        sb->deadline.async_wait([self = shared_from_this(), sb, inv](const boost::system::error_code& ec) {
            if (ec || sb->current != inv || inv->finished) return;
            self->timeout(sb);
        });
        auto reply = std::move(sb->pending_next);
        sb->pending_next = nullptr;
        start_rss_poll();
        (void)pool;
        reply(std::move(r));
    }

    // Ends the sandbox's current invocation: logs END / REPORT and answers the caller.
    void finish(Sandbox& sb, std::string payload, bool function_error, std::string_view status = {},
                std::string_view error_type = {}) {
        auto inv = std::move(sb.current);
        sb.current = nullptr;
        if (!inv || inv->finished) return;
        inv->finished = true;
        sb.deadline.cancel();
        drain(sb, inv.get());
        double ms = std::chrono::duration<double, std::milli>(steady::now() - inv->started).count();
        // Max Memory Used: read at the end of an invocation unless the memory poll (or a
        // previous invocation) read it within the poll interval, so back-to-back warm
        // invocations do not each walk /proc.
        auto now = steady::now();
        if (!sb.dead && now - sb.rss_read_at >= options.rss_poll) {
            sb.max_rss_mb = std::max(sb.max_rss_mb, rss_mb(sb.pid));
            sb.rss_read_at = now;
        }
        std::string line = fmt::format("END RequestId: {}", inv->id);
        emit_to(sb, inv.get(), line);
        std::string report = fmt::format(
            "REPORT RequestId: {}\tDuration: {:.2f} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
            inv->id, ms, static_cast<long>(std::ceil(ms)), sb.fn.memory_size, std::max(1L, sb.max_rss_mb));
        if (sb.init_ms && !sb.reported_init) {
            report += fmt::format("Init Duration: {:.2f} ms\t", *sb.init_ms);
            sb.reported_init = true;
        }
        if (!status.empty()) {
            report += fmt::format("Status: {}\t", status);
            if (!error_type.empty()) report += fmt::format("Error Type: {}\t", error_type);
        }
        emit_to(sb, inv.get(), report);
        InvokeResult r;
        r.payload = std::move(payload);
        r.function_error = function_error;
        r.request_id = inv->id;
        if (inv->input.tail) {
            std::string_view tail = inv->log;
            if (tail.size() > tail_bytes) tail = tail.substr(tail.size() - tail_bytes);
            r.log_tail = core::base64_encode(tail);
        }
        inv->done(std::move(r));
    }

    void timeout(const std::shared_ptr<Sandbox>& sb) {
        auto inv = sb->current;
        emit(*sb, fmt::format("{} {} Task timed out after {:.2f} seconds", iso_now(), inv->id, double(sb->fn.timeout)));
        kill(sb);
        finish(*sb,
               function_error_json("Sandbox.Timedout", fmt::format("RequestId: {} Error: Task timed out after {:.2f} seconds",
                                                                    inv->id, double(sb->fn.timeout))),
               true, "timeout");
        after_change(sb->fn.key());
    }

    // ---- processes ----

    bool spawn(Pool& pool) {
        const Function& fn = pool.fn;
        // Hot reload is for $LATEST; a published version's code never changes. Watched before
        // the sandbox reads its code and /opt.
        if (fn.version == "$LATEST") watch_all(fn);
        auto sb = std::make_shared<Sandbox>(io);
        sb->fn = fn;
        sb->generation = pool.generation;
        handlers.push_back(std::make_unique<RuntimeApiHandler>(weak_from_this(), sb));
        core::ListenerOptions lo;
        lo.host = "127.0.0.1";
        lo.port = 0;
        lo.access_log = false;
        lo.hold_shutdown = false;
        // The runtime's connection idles while its handler runs (up to 15 minutes).
        lo.idle_timeout = std::chrono::minutes(20);
        try {
            sb->port = runtime.listen(lo, *handlers.back());
        } catch (const std::exception& e) {
            core::log::error("lambda: cannot open a Runtime API listener: {}", e.what());
            fail_head(pool, "Runtime.Unknown", "cannot open a Runtime API endpoint");
            return false;
        }

        std::vector<std::string> argv;
        std::string runtime_name = fn.runtime;
        if (runtime_name.starts_with("nodejs")) {
            argv = {"node", (fs::path(options.runtimes_dir) / "node" / "bootstrap.cjs").string()};
        } else if (runtime_name.starts_with("python")) {
            argv = {"python3", "-u", (fs::path(options.runtimes_dir) / "python" / "bootstrap.py").string()};
        } else {
            std::string bootstrap = (fs::path(fn.code_dir) / "bootstrap").string();
            if (::access(bootstrap.c_str(), X_OK) != 0) {
                runtime.close_listener(sb->port);
                fail_head(pool, "Runtime.InvalidEntrypoint",
                          "Error: Couldn't find valid bootstrap(s): [" + bootstrap + "]");
                return false;
            }
            argv = {bootstrap};
        }

        std::map<std::string, std::string> env;
        for (const char* key : {"PATH", "LANG", "HOME"})
            if (const char* v = std::getenv(key)) env[key] = v;
        env["AWS_ACCESS_KEY_ID"] = std::getenv("AWS_ACCESS_KEY_ID") ? std::getenv("AWS_ACCESS_KEY_ID") : "test";
        env["AWS_SECRET_ACCESS_KEY"] =
            std::getenv("AWS_SECRET_ACCESS_KEY") ? std::getenv("AWS_SECRET_ACCESS_KEY") : "test";
        env["AWS_SESSION_TOKEN"] = "test";
        env["AWS_ENDPOINT_URL"] = options.endpoint_url;
        env["IS_OFFLINE"] = "true";
        env["NODE_PATH"] = (fs::path(options.runtimes_dir) / "node_modules").string();
        for (auto& [k, v] : fn.environment) env[k] = v;
        layer_environment(fn.opt_dir, fn.runtime, env, fn.environment);
        // Reserved: set by Lambda whatever the function says.
        env["AWS_LAMBDA_FUNCTION_NAME"] = fn.name;
        env["AWS_LAMBDA_FUNCTION_VERSION"] = fn.version;
        env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = std::to_string(fn.memory_size);
        env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + fn.name;
        sb->log_stream = log_stream_name(fn.version);
        env["AWS_LAMBDA_LOG_STREAM_NAME"] = sb->log_stream;
        env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand";
        env["AWS_REGION"] = std::string(region);
        env["AWS_DEFAULT_REGION"] = std::string(region);
        env["AWS_EXECUTION_ENV"] = "AWS_Lambda_" + fn.runtime;
        env["_HANDLER"] = fn.handler;
        env["LAMBDA_TASK_ROOT"] = fn.code_dir;
        env["LAMBDA_RUNTIME_DIR"] = options.runtimes_dir;
        env["TZ"] = ":UTC";
        env["AWS_LAMBDA_RUNTIME_API"] = fmt::format("127.0.0.1:{}", sb->port);
        if (runtime_name.starts_with("python")) {
            env["PYTHONUNBUFFERED"] = "1";
            env["PYTHONDONTWRITEBYTECODE"] = "1";
        }
        // Our own bootstraps get the runtime channel as fd 3 (they remove this variable
        // before loading the handler); custom runtimes speak HTTP to AWS_LAMBDA_RUNTIME_API.
        int chan[2] = {-1, -1};
        bool builtin = runtime_name.starts_with("nodejs") || runtime_name.starts_with("python");
        if (builtin && ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan) == 0) env["_STRATUS_RUNTIME_FD"] = "3";
        auto close_chan = [&chan] {
            for (int& fd : chan)
                if (fd >= 0) ::close(std::exchange(fd, -1));
        };
        std::vector<std::string> env_strings;
        for (auto& [k, v] : env) env_strings.push_back(k + "=" + v);
        std::vector<char*> envp, args;
        for (auto& s : env_strings) envp.push_back(s.data());
        envp.push_back(nullptr);
        for (auto& s : argv) args.push_back(s.data());
        args.push_back(nullptr);

        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            close_chan();
            runtime.close_listener(sb->port);
            fail_head(pool, "Runtime.Unknown", "pipe failed");
            return false;
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
        if (chan[1] >= 0) posix_spawn_file_actions_adddup2(&fa, chan[1], 3);
        posix_spawn_file_actions_addclosefrom_np(&fa, chan[1] >= 0 ? 4 : 3);
        posix_spawn_file_actions_addchdir_np(&fa, fn.code_dir.c_str());
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        pid_t pid = -1;
        int rc = ::posix_spawnp(&pid, args[0], &fa, &attr, args.data(), envp.data());
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        ::close(fds[1]);
        if (chan[1] >= 0) ::close(std::exchange(chan[1], -1));
        if (rc != 0) {
            close_chan();
            ::close(fds[0]);
            runtime.close_listener(sb->port);
            fail_head(pool, "Runtime.InvalidEntrypoint",
                      fmt::format("Error: cannot start {}: {}", argv[0], std::strerror(rc)));
            return false;
        }
        sb->pid = pid;
        ++live_sandboxes;
        update_policy();  // the others, if this one crosses the line
        if (batch_sandboxes) set_policy(pid, true);
        sb->spawned = steady::now();
        ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
        sb->out.assign(fds[0]);
        if (chan[0] >= 0) {
            ::fcntl(chan[0], F_SETFL, ::fcntl(chan[0], F_GETFL) | O_NONBLOCK);
            sb->chan.assign(chan[0]);
        }
        int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
        if (pidfd >= 0) {
            ::fcntl(pidfd, F_SETFD, FD_CLOEXEC);
            sb->exit_watch.assign(pidfd);
        }
        pool.sandboxes.push_back(sb);
        core::log::debug("lambda: started sandbox {} for {} (pid {}, runtime api port {})", pool.sandboxes.size(),
                         fn.name, pid, sb->port);
        read_output(sb);
        if (sb->chan.is_open()) read_channel(sb);
        watch_exit(sb);
        return true;
    }

    void fail_head(Pool& pool, std::string_view type, std::string_view message) {
        if (pool.queue.empty()) return;
        auto inv = std::move(pool.queue.front());
        pool.queue.pop_front();
        InvokeResult r;
        r.function_error = true;
        r.request_id = inv->id;
        r.payload = function_error_json(type, fmt::format("RequestId: {} {}", inv->id, message));
        inv->finished = true;
        logs.append(pool.fn.name, fmt::format("{} {} {}", iso_now(), inv->id, message));
        inv->done(std::move(r));
    }

    void watch_exit(const std::shared_ptr<Sandbox>& sb) {
        if (!sb->exit_watch.is_open()) return;  // no pidfd (old kernel): reaped when killed
        sb->exit_watch.async_wait(net::posix::stream_descriptor::wait_read,
                                  [self = shared_from_this(), sb](const boost::system::error_code& ec) {
                                      if (ec == net::error::operation_aborted && !self->stopped) return;
                                      self->exited(sb);
                                  });
    }

    void exited(const std::shared_ptr<Sandbox>& sb) {
        int status = 0;
        pid_t r = ::waitpid(sb->pid, &status, WNOHANG);
        if (r == 0) {  // spurious wake-up
            return watch_exit(sb);
        }
        boost::system::error_code ec;
        sb->exit_watch.close(ec);
        if (sb->dead) return;  // we killed it and already failed what it ran
        // What the runtime sent on its channel before it ended counts (an answer, then exit).
        drain_channel(sb);
        if (sb->dead) return;
        // The process ended by itself: crash, exit, or killed from outside.
        drain(*sb, sb->current.get());
        std::string reason = exit_reason(status);
        bool was_init = sb->api.state() == RuntimeApiState::State::initializing;
        stop(sb);
        if (sb->current) {
            auto id = sb->current->id;
            finish(*sb, function_error_json("Runtime.ExitError",
                                            fmt::format("RequestId: {} Error: Runtime exited with error: {}", id, reason)),
                   true, "error", "Runtime.ExitError");
        } else if (was_init) {
            auto it = pools.find(sb->fn.key());
            if (it != pools.end())
                fail_head(it->second, "Runtime.ExitError", "Error: Runtime exited with error: " + reason);
        }
        after_change(sb->fn.key());
    }

    // Kills the process group; the sandbox takes no more work. The exit is reaped later.
    void kill(const std::shared_ptr<Sandbox>& sb) {
        if (sb->pid > 0 && !sb->dead) ::kill(-sb->pid, SIGKILL);
        stop(sb);
    }

    void stop(const std::shared_ptr<Sandbox>& sb) {
        if (sb->dead) return;
        sb->dead = true;
        if (sb->pid > 0) {
            --live_sandboxes;
            update_policy();
        }
        sb->idle.cancel();
        sb->deadline.cancel();
        sb->pending_next = nullptr;  // ends the held poll (its connection closes)
        if (sb->port) runtime.close_listener(sb->port);
        boost::system::error_code ec;
        if (sb->chan.is_open()) sb->chan.close(ec);
        if (!sb->exit_watch.is_open() && sb->pid > 0) {
            // Without a pidfd, reap it blocking (it was SIGKILLed, this is immediate).
            ::kill(-sb->pid, SIGKILL);
            ::waitpid(sb->pid, nullptr, 0);
        }
    }

    // Removes dead sandboxes of `name` and starts what its queue needs.
    void after_change(const std::string& name) {
        auto it = pools.find(name);
        if (it == pools.end()) return;
        auto& sbs = it->second.sandboxes;
        std::erase_if(sbs, [](auto& sb) { return sb->dead; });
        dispatch(it->second);
    }

    void retire_old(Pool& pool) {
        for (auto& sb : pool.sandboxes) {
            if (sb->dead || sb->generation == pool.generation) continue;
            sb->retired = true;
            if (!sb->current) kill(sb);  // busy ones finish their invocation first
        }
        std::erase_if(pool.sandboxes, [](auto& sb) { return sb->dead; });
    }

    // ---- the runtime channel (our own runtimes) ----

    void read_channel(const std::shared_ptr<Sandbox>& sb) {
        sb->chan.async_read_some(net::buffer(sb->chan_buffer),
                                 [self = shared_from_this(), sb](const boost::system::error_code& ec, std::size_t n) {
                                     // Closed by stop(), or the runtime ended: its exit watch reports that.
                                     if (ec || sb->dead) return;
                                     self->channel_bytes(sb, std::string_view(sb->chan_buffer.data(), n));
                                     if (!sb->dead && sb->chan.is_open()) self->read_channel(sb);
                                 });
    }

    // Reads what is left in the channel without waiting (the process has ended).
    void drain_channel(const std::shared_ptr<Sandbox>& sb) {
        for (int i = 0; i < 1024 && !sb->dead && sb->chan.is_open(); ++i) {
            ssize_t n = ::read(sb->chan.native_handle(), sb->chan_buffer.data(), sb->chan_buffer.size());
            if (n <= 0) break;
            channel_bytes(sb, std::string_view(sb->chan_buffer.data(), static_cast<std::size_t>(n)));
        }
    }

    // A frame head the runtime sent: {"method": ..., "path": ..., "headers": {...}}.
    static std::optional<core::Request> channel_request(std::string_view head) {
        auto j = core::parse_json(head);
        if (!j.is_object()) return std::nullopt;
        auto m = j.find("method");
        auto p = j.find("path");
        if (m == j.end() || p == j.end() || !m->is_string() || !p->is_string()) return std::nullopt;
        core::Request r;
        r.method = m->get<std::string>();
        r.path = p->get<std::string>();
        r.target = r.path;
        if (auto h = j.find("headers"); h != j.end() && h->is_object())
            for (auto& [k, v] : h->items())
                if (v.is_string()) r.headers.add(k, v.get<std::string>());
        return r;
    }

    void channel_bytes(const std::shared_ptr<Sandbox>& sb, std::string_view bytes) {
        std::string& in = sb->chan_in;
        in.append(bytes);
        std::size_t pos = 0;
        while (!sb->dead) {
            if (sb->chan_discard) {
                auto skip = static_cast<std::size_t>(std::min<std::uint64_t>(sb->chan_discard, in.size() - pos));
                pos += skip;
                sb->chan_discard -= skip;
                if (sb->chan_discard) break;
                continue;
            }
            if (in.size() - pos < 8) break;
            std::uint32_t head_len = get_le32(in.data() + pos), body_len = get_le32(in.data() + pos + 4);
            std::optional<core::Request> req;
            if (head_len <= max_frame_head) {
                if (in.size() - pos < 8 + std::size_t(head_len)) break;
                req = channel_request(std::string_view(in).substr(pos + 8, head_len));
            }
            if (!req) {
                // Not our protocol: the runtime is broken. Its exit fails what it ran.
                core::log::warn("lambda: {}: malformed message on the runtime channel; sandbox killed", sb->fn.name);
                if (sb->pid > 0) ::kill(-sb->pid, SIGKILL);
                in.clear();
                boost::system::error_code ec;
                sb->chan.close(ec);
                return;
            }
            // A response or error call marked x-stratus-noreply gets no answer: the runtime
            // does not wait for one (one write and one wake-up less per invocation); what
            // went wrong with it is the invocation's business (too large: it fails).
            bool noreply = req->headers.get("x-stratus-noreply") &&
                           (req->path.ends_with("/response") || req->path.ends_with("/error"));
            if (body_len > max_payload) {
                // As the HTTP listener: 413 for the call, and an oversized response fails
                // the invocation. The body is skipped as it arrives.
                pos += 8 + head_len;
                sb->chan_discard = body_len;
                response_too_large(sb, req->path);
                core::Response resp;
                resp.status = 413;
                resp.body = RuntimeApiState::error(413, "RequestEntityTooLarge",
                                                   fmt::format("Exceeded maximum allowed payload size ({} bytes).", max_payload))
                                .body;
                if (!noreply) send_frame(sb, resp);
                continue;
            }
            if (in.size() - pos < 8 + std::size_t(head_len) + body_len) break;
            req->body.assign(in, pos + 8 + head_len, body_len);
            req->body_size = body_len;
            pos += 8 + std::size_t(head_len) + body_len;
            if (auto mode = req->headers.get("x-stratus-stream")) {
                // Response streaming: "chunk" frames carry the pieces and get no answer;
                // the "end" frame is the invocation's response (or error) call.
                if (*mode == "chunk") {
                    stream_chunk(sb, *req);
                    continue;
                }
                if (sb->current && !sb->current->on_chunk && req->path.ends_with("/response"))
                    req->body = std::move(sb->current->streamed);
            }
            if (noreply) {
                runtime_call(sb, std::move(*req), [](core::Response&&) {});
                continue;
            }
            runtime_call(sb, std::move(*req), [self = weak_from_this(), w = std::weak_ptr<Sandbox>(sb)](core::Response&& r) {
                auto i = self.lock();
                auto s = w.lock();
                if (i && s) i->send_frame(s, r);
            });
        }
        if (sb->dead) {
            in.clear();
        } else {
            in.erase(0, pos);
        }
    }

    // A streamed piece of the current invocation's response (ignored once it ended).
    void stream_chunk(const std::shared_ptr<Sandbox>& sb, const core::Request& req) {
        auto route = parse_runtime_route("POST", req.path);
        Invocation* inv = sb->current.get();
        if (!inv || inv->finished || route.call != RuntimeCall::response || route.request_id != inv->id) return;
        if (auto ct = req.headers.get("content-type"); ct && inv->stream_type.empty()) inv->stream_type = *ct;
        if (inv->on_chunk) return inv->on_chunk(req.body, inv->stream_type);
        if (inv->streamed.size() + req.body.size() > max_payload) {
            // Buffered, a streamed response has the 6 MB limit of any other.
            if (sb->api.respond(route.request_id).status != 202) return;
            finish_too_large(*sb);
            kill(sb);
            return after_change(sb->fn.key());
        }
        inv->streamed += req.body;
    }

    void send_frame(const std::shared_ptr<Sandbox>& sb, const core::Response& r) {
        if (sb->dead || !sb->chan.is_open()) return;
        core::JsonWriter head(256);
        head.begin_object().member("status", r.status).key("headers").begin_object();
        for (auto& [k, v] : r.headers.entries()) {
            std::string lower = k;
            for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            head.member(lower, v);
        }
        head.end_object().end_object();
        std::string frame;
        frame.reserve(8 + head.str().size() + r.body.size());
        put_le32(frame, static_cast<std::uint32_t>(head.str().size()));
        put_le32(frame, static_cast<std::uint32_t>(r.body.size()));
        frame += head.str();
        frame += r.body;
        if (sb->chan_writing) {
            sb->chan_queued += frame;
            return;
        }
        std::size_t done = 0;
        while (done < frame.size()) {
            ssize_t n = ::write(sb->chan.native_handle(), frame.data() + done, frame.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            if (n <= 0) return;  // the runtime is gone: its exit watch reports it
            done += static_cast<std::size_t>(n);
        }
        if (done == frame.size()) return;
        sb->chan_out = frame.substr(done);
        write_channel(sb);
    }

    void write_channel(const std::shared_ptr<Sandbox>& sb) {
        sb->chan_writing = true;
        net::async_write(sb->chan, net::buffer(sb->chan_out),
                         [self = shared_from_this(), sb](const boost::system::error_code& ec, std::size_t) {
                             sb->chan_writing = false;
                             sb->chan_out.clear();
                             if (ec || sb->dead) return;
                             if (sb->chan_queued.empty()) return;
                             std::swap(sb->chan_out, sb->chan_queued);
                             self->write_channel(sb);
                         });
    }

    // ---- output ----

    void read_output(const std::shared_ptr<Sandbox>& sb) {
        sb->out.async_read_some(net::buffer(sb->buffer),
                                [self = shared_from_this(), sb](const boost::system::error_code& ec, std::size_t n) {
                                    if (ec) return;
                                    self->consume(*sb, std::string_view(sb->buffer.data(), n));
                                    self->read_output(sb);
                                });
    }

    // Reads what the process wrote before it answered, so END follows the handler's lines.
    void drain(Sandbox& sb, Invocation* inv) {
        if (!sb.out.is_open()) return;
        for (int i = 0; i < 64; ++i) {
            ssize_t n = ::read(sb.out.native_handle(), sb.buffer.data(), sb.buffer.size());
            if (n <= 0) break;
            consume(sb, std::string_view(sb.buffer.data(), static_cast<std::size_t>(n)), inv);
        }
    }

    void consume(Sandbox& sb, std::string_view bytes, Invocation* inv = nullptr) {
        if (!inv) inv = sb.current.get();
        while (!bytes.empty()) {
            auto nl = bytes.find('\n');
            if (nl == std::string_view::npos) {
                std::size_t room = max_line - std::min(max_line, sb.partial.size());
                sb.partial.append(bytes.substr(0, room));
                if (sb.partial.size() >= max_line) {
                    emit_to(sb, inv, sb.partial);
                    sb.partial.clear();
                }
                return;
            }
            if (sb.partial.size() < max_line) sb.partial.append(bytes.substr(0, std::min(nl, max_line - sb.partial.size())));
            emit_to(sb, inv, sb.partial);
            sb.partial.clear();
            bytes.remove_prefix(nl + 1);
        }
    }

    void emit(Sandbox& sb, std::string_view line) { emit_to(sb, sb.current.get(), line); }

    void emit_to(Sandbox& sb, Invocation* inv, std::string_view line) {
        if (inv) {
            inv->add_log(line);
        } else if (sb.api.state() == RuntimeApiState::State::initializing) {
            sb.init_log.append(line);
            sb.init_log.push_back('\n');
            if (sb.init_log.size() > 4 * tail_bytes) sb.init_log.erase(0, sb.init_log.size() - tail_bytes);
        }
        logs.append_buffered(sb.fn.name, sb.log_stream, std::string(line));
        if (!logs_flush_posted && log_timer) {
            // Lines reach the log file within a few milliseconds, one write per function
            // for everything logged meanwhile (memory has them at once, for GetLogEvents
            // and the Tail); a kill -9 of stratus may lose the last few ms of lines.
            logs_flush_posted = true;
            log_timer->expires_after(log_flush_delay);
            log_timer->async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
                auto self = w.lock();
                if (ec || !self) return;
                self->logs_flush_posted = false;
                self->logs.flush();
            });
        }
    }

    // ---- memory ----

    void start_rss_poll() {
        if (rss_running || !rss_timer) return;
        rss_running = true;
        rss_timer->expires_after(options.rss_poll);
        rss_timer->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
            self->rss_running = false;
            if (ec || self->stopped) return;
            self->poll_rss();
        });
    }

    void poll_rss() {
        bool busy = false;
        std::vector<std::shared_ptr<Sandbox>> over;
        for (auto& [name, pool] : pools) {
            for (auto& sb : pool.sandboxes) {
                if (sb->dead || !sb->current) continue;
                busy = true;
                long mb = rss_mb(sb->pid);
                sb->max_rss_mb = std::max(sb->max_rss_mb, mb);
                sb->rss_read_at = steady::now();
                if (mb > sb->fn.memory_size) over.push_back(sb);
            }
        }
        for (auto& sb : over) {
            auto inv = sb->current;
            core::log::debug("lambda: {} used {} MB of {} MB: killed", sb->fn.name, sb->max_rss_mb, sb->fn.memory_size);
            kill(sb);
            finish(*sb,
                   function_error_json("Runtime.ExitError",
                                       fmt::format("RequestId: {} Error: Runtime exited with error: signal: killed", inv->id)),
                   true, "error", "Runtime.OutOfMemory");
            after_change(sb->fn.key());
        }
        if (busy) start_rss_poll();
    }

    // ---- the Runtime API ----

    void runtime_call(const std::shared_ptr<Sandbox>& sb, core::Request&& req, core::Reply reply) {
        auto route = parse_runtime_route(req.method, req.path);
        auto answer = [&reply](RuntimeAnswer a) {
            core::Response r;
            r.status = a.status;
            r.headers.set("Content-Type", "application/json");
            r.body = std::move(a.body);
            reply(std::move(r));
        };
        if (sb->dead) return answer(RuntimeApiState::error(500, "Runtime.Killed", "the sandbox was stopped"));
        switch (route.call) {
            case RuntimeCall::unknown:
                return answer(RuntimeApiState::error(404, "NotFound", "Not Found"));
            case RuntimeCall::next: {
                bool was_init = sb->api.state() == RuntimeApiState::State::initializing;
                if (auto a = sb->api.next()) return answer(std::move(*a));
                if (was_init)
                    sb->init_ms = std::chrono::duration<double, std::milli>(steady::now() - sb->spawned).count();
                sb->pending_next = std::move(reply);
                auto it = pools.find(sb->fn.key());
                if (sb->retired || it == pools.end()) {
                    kill(sb);
                    if (it != pools.end()) after_change(sb->fn.key());
                    return;
                }
                Pool& pool = it->second;
                if (!pool.queue.empty()) {
                    auto inv = std::move(pool.queue.front());
                    pool.queue.pop_front();
                    return assign(pool, sb, std::move(inv));
                }
                sb->idle.expires_after(options.idle_timeout);
                sb->idle.async_wait([self = shared_from_this(), sb](const boost::system::error_code& ec) {
                    if (ec || sb->dead || sb->current) return;
                    core::log::debug("lambda: stopping an idle sandbox of {}", sb->fn.name);
                    self->kill(sb);
                    self->after_change(sb->fn.key());
                });
                return;
            }
            case RuntimeCall::response:
            case RuntimeCall::error: {
                auto a = sb->api.respond(route.request_id);
                if (a.status != 202) return answer(std::move(a));
                answer(std::move(a));
                if (route.call == RuntimeCall::response) {
                    finish(*sb, std::move(req.body), false);
                } else {
                    std::string body = std::move(req.body);
                    auto parsed = json::parse(body, nullptr, false);
                    if (parsed.is_discarded() || !parsed.is_object()) {
                        std::string type(req.headers.get_or("Lambda-Runtime-Function-Error-Type", "Unhandled"));
                        body = function_error_json(type, body);
                    }
                    finish(*sb, std::move(body), true);
                }
                if (sb->retired) kill(sb);
                return after_change(sb->fn.key());
            }
            case RuntimeCall::init_error: {
                auto a = sb->api.init_error();
                if (a.status != 202) return answer(std::move(a));
                answer(std::move(a));
                drain(*sb, nullptr);
                std::string body = std::move(req.body);
                auto parsed = json::parse(body, nullptr, false);
                if (parsed.is_discarded() || !parsed.is_object())
                    body = function_error_json(req.headers.get_or("Lambda-Runtime-Function-Error-Type", "Runtime.Unknown"),
                                               body);
                kill(sb);
                auto it = pools.find(sb->fn.key());
                if (it != pools.end() && !it->second.queue.empty()) {
                    auto inv = std::move(it->second.queue.front());
                    it->second.queue.pop_front();
                    inv->log += sb->init_log;
                    InvokeResult r;
                    r.function_error = true;
                    r.payload = body;
                    r.request_id = inv->id;
                    inv->finished = true;
                    if (inv->input.tail) {
                        std::string_view tail = inv->log;
                        if (tail.size() > tail_bytes) tail = tail.substr(tail.size() - tail_bytes);
                        r.log_tail = core::base64_encode(tail);
                    }
                    inv->done(std::move(r));
                }
                return after_change(sb->fn.key());
            }
        }
    }

    // Ends the current invocation with Lambda's error for a response over max_payload.
    void finish_too_large(Sandbox& sb) {
        finish(sb,
               function_error_json("Function.ResponseSizeTooLarge",
                                   fmt::format("Response payload size exceeded maximum allowed payload size ({} bytes).",
                                               max_payload)),
               true);
    }

    void response_too_large(const std::shared_ptr<Sandbox>& sb, const std::string& path) {
        auto route = parse_runtime_route("POST", path);
        if (sb->dead || route.call != RuntimeCall::response) return;
        if (sb->api.respond(route.request_id).status != 202) return;
        finish_too_large(*sb);
        if (sb->retired) kill(sb);
        after_change(sb->fn.key());
    }

    void shutdown() {
        stopped = true;
        rss_timer.reset();
        log_timer.reset();
        watcher->close();
        for (auto& [name, pool] : pools) {
            for (auto& sb : pool.sandboxes) {
                kill(sb);
                boost::system::error_code ec;
                sb->out.close(ec);
                if (sb->exit_watch.is_open()) {
                    sb->exit_watch.close(ec);
                    ::waitpid(sb->pid, nullptr, 0);
                }
            }
            pool.sandboxes.clear();
            pool.grow_timer.reset();
            for (auto& inv : pool.queue)
                fail_now(inv, core::AwsError("ServiceException", "stratus is shutting down", 500, core::Fault::receiver));
            pool.queue.clear();
        }
        logs.flush();
    }
};

core::Plan RuntimeApiHandler::plan(core::Request& head) {
    (void)head;
    core::Plan p;
    p.service = "lambda-runtime";
    // A response over 6 MB fails the invocation (checked below); leave room to see it.
    p.body.limit = max_payload;
    p.too_large = [impl = impl_, sandbox = sandbox_](const core::Request& r) {
        auto i = impl.lock();
        auto sb = sandbox.lock();
        if (i && sb) net::dispatch(i->io, [i, sb, path = r.path] { i->response_too_large(sb, path); });
        core::Response resp;
        resp.status = 413;
        resp.headers.set("Content-Type", "application/json");
        resp.body = RuntimeApiState::error(413, "RequestEntityTooLarge",
                                           fmt::format("Exceeded maximum allowed payload size ({} bytes).", max_payload))
                        .body;
        return resp;
    };
    p.run = [impl = impl_, sandbox = sandbox_](core::Request&& r, core::Reply reply) {
        auto i = impl.lock();
        auto sb = sandbox.lock();
        if (!i || !sb) {
            core::Response resp;
            resp.status = 500;
            resp.body = RuntimeApiState::error(500, "Runtime.Killed", "the sandbox was stopped").body;
            return reply(std::move(resp));
        }
        net::dispatch(i->io, [i, sb, r = std::move(r), reply = std::move(reply)]() mutable {
            i->runtime_call(sb, std::move(r), std::move(reply));
        });
    };
    return p;
}

Scheduler::Scheduler(core::Runtime& runtime, SchedulerOptions options)
    : impl_(std::make_shared<Impl>(runtime, std::move(options))) {}

Scheduler::~Scheduler() = default;

void Scheduler::invoke(Function fn, InvokeInput input, std::function<void(InvokeResult)> done, std::string invoked_arn,
                       std::function<void(std::string_view, std::string_view)> on_chunk) {
    auto inv = std::make_shared<Invocation>();
    inv->id = input.request_id.empty() ? core::random_uuid() : input.request_id;
    inv->invoked_arn = std::move(invoked_arn);
    inv->on_chunk = std::move(on_chunk);
    inv->input = std::move(input);
    inv->done = std::move(done);
    net::dispatch(impl_->io, [impl = impl_, fn = std::move(fn), inv]() mutable {
        impl->enqueue(std::move(fn), std::move(inv), false);
    });
}

void Scheduler::invoke_event(Function fn, std::string payload, std::string request_id,
                             std::function<void(const InvokeResult&)> finished, std::string ref,
                             std::string invoked_arn) {
    struct Event {
        Function fn;
        std::string payload, id;
        std::string ref, invoked_arn;
        std::function<void(const InvokeResult&)> finished;
        int attempt = 0;    // function errors so far
        int throttles = 0;  // throttled attempts so far
    };
    struct Attempt {
        static void run(std::shared_ptr<Impl> impl, std::shared_ptr<Event> ev) {
            auto inv = std::make_shared<Invocation>();
            inv->id = ev->id;
            inv->invoked_arn = ev->invoked_arn;
            inv->input.payload = ev->payload;
            inv->done = [impl, ev](InvokeResult r) {
                if (impl->stopped) return;  // stays stored: it runs at the next start
                bool retry = false;
                if (r.error) {
                    // Throttled: AWS keeps trying (for hours); anything else ends it.
                    retry = r.error->code() == "TooManyRequestsException" && ++ev->throttles < 20;
                } else if (r.function_error) {
                    // AWS retries a failed asynchronous invocation twice.
                    retry = ++ev->attempt <= 2;
                    if (!retry) core::log::info("lambda: event invocation {} of {} failed after 3 attempts", ev->id, ev->fn.name);
                }
                if (!retry) {
                    if (ev->finished) ev->finished(r);
                    return;
                }
                auto timer = std::make_shared<net::steady_timer>(impl->io);
                timer->expires_after(impl->options.retry_delay * (r.error ? 1 : ev->attempt));
                timer->async_wait([impl, ev, timer](const boost::system::error_code& ec) {
                    if (ec || impl->stopped) return;
                    if (impl->options.lookup) {
                        auto now = impl->options.lookup(ev->ref);
                        if (!now) {  // deleted meanwhile
                            if (ev->finished) {
                                InvokeResult gone;
                                gone.request_id = ev->id;
                                gone.error = core::AwsError::resource_not_found("Function not found: " + function_arn(ev->fn.name));
                                ev->finished(gone);
                            }
                            return;
                        }
                        ev->fn = std::move(*now);
                    }
                    run(impl, ev);
                });
            };
            impl->enqueue(ev->fn, std::move(inv), true);
        }
    };
    if (request_id.empty()) request_id = core::random_uuid();
    if (ref.empty()) ref = fn.name;
    auto ev = std::make_shared<Event>(Event{std::move(fn), std::move(payload), std::move(request_id), std::move(ref),
                                            std::move(invoked_arn), std::move(finished)});
    net::dispatch(impl_->io, [impl = impl_, ev]() mutable { Attempt::run(impl, std::move(ev)); });
}

void Scheduler::update(const std::string& name, std::optional<Function> fn) {
    net::dispatch(impl_->io, [impl = impl_, name, fn = std::move(fn)]() mutable {
        if (!fn && name.find(':') == std::string::npos) {
            // The function is gone: its versions' sandboxes go too.
            for (auto it = impl->pools.lower_bound(name + ":"); it != impl->pools.end() && it->first.starts_with(name + ":"); ++it) {
                Pool& pool = it->second;
                ++pool.generation;
                impl->retire_old(pool);
                for (auto& inv : pool.queue)
                    impl->fail_now(inv, core::AwsError::resource_not_found("Function not found: " + pool.fn.version_arn()));
                pool.queue.clear();
            }
        }
        auto it = impl->pools.find(name);
        if (it == impl->pools.end()) return;
        Pool& pool = it->second;
        ++pool.generation;
        if (!fn || Impl::watched_dirs(*fn) != Impl::watched_dirs(pool.fn)) impl->unwatch_all(name);
        if (fn) pool.fn = std::move(*fn);
        impl->retire_old(pool);
        if (!fn) {
            for (auto& inv : pool.queue)
                impl->fail_now(inv, core::AwsError::resource_not_found("Function not found: " + function_arn(name)));
            pool.queue.clear();
        }
        impl->dispatch(pool);
    });
}

void Scheduler::shutdown() { impl_->shutdown(); }

LogBook& Scheduler::logs() { return impl_->logs; }

std::size_t Scheduler::sandboxes(const std::string& name) const {
    auto it = impl_->pools.find(name);
    if (it == impl_->pools.end()) return 0;
    return impl_->live(it->second);
}

}  // namespace stratus::lambda

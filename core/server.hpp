// The daemon's event loop and HTTP listeners. One io_context per thread (connections are
// spread over them; the first also runs signals, acceptors and services' own work); each
// listener serves HTTP/1.1 keep-alive connections and hands parsed requests to an
// HttpHandler. SIGINT / SIGTERM trigger a graceful stop: listeners stop accepting, idle
// connections close, in-flight requests get up to `grace` to finish, then shutdown hooks
// run (storage flush) and run() returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/http_handler.hpp"

namespace boost::asio {
class io_context;
}

namespace stratus::core {

struct ListenerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  // 0: any free port (see Runtime::listen's result)
    // A connection waiting for a request (or stalled mid-request) longer than this is closed.
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
    std::uint32_t header_limit = 64 * 1024;
    bool access_log = true;
    // Whether the graceful stop waits for this listener's busy connections (a Lambda
    // sandbox's Runtime API holds long polls that only the service can end).
    bool hold_shutdown = true;
    // Serve every connection on the main io_context (the thread services' own work runs
    // on) rather than spreading them over all threads: a request whose work is the main
    // context's (a Lambda invocation) then never changes threads.
    bool main_context_only = false;
};

class Runtime {
public:
    explicit Runtime(unsigned threads = 0);  // 0: one per core
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    // Binds and starts accepting; returns the bound port. Throws std::runtime_error with
    // a clear message when the address is taken.
    // Before run(), or after it on the main io_context's thread (io_context()).
    std::uint16_t listen(const ListenerOptions& options, HttpHandler& handler);
    // Stops a listener made by listen(): it accepts no more and its idle connections close;
    // its memory is released once its last connection is gone. On the main io_context's
    // thread. The handler must stay alive until then.
    void close_listener(std::uint16_t port);

    // Runs until stop() or a signal; returns after the graceful shutdown completes.
    void run();
    // Starts the graceful shutdown from any thread.
    void stop();
    // Runs at shutdown, after the listeners drained, in registration order.
    void on_shutdown(std::function<void()> hook);

    std::chrono::milliseconds grace{std::chrono::seconds(5)};

    // The main io_context (thread 0): for services' timers and process I/O.
    boost::asio::io_context& io_context();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace stratus::core

// The Lambda Runtime API as one sandbox sees it: which endpoint a request names, and the
// state machine deciding what each call may do (AWS's status codes and error bodies).
// Pure: no sockets, no processes; the scheduler drives it and unit tests cover it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace stratus::lambda {

enum class RuntimeCall { next, response, error, init_error, unknown };

struct RuntimeRoute {
    RuntimeCall call = RuntimeCall::unknown;
    std::string request_id;  // for response / error
};

// "GET /2018-06-01/runtime/invocation/next", "POST .../invocation/{id}/response", ...
RuntimeRoute parse_runtime_route(std::string_view method, std::string_view path);

// An answer of the Runtime API to the runtime.
struct RuntimeAnswer {
    int status = 202;
    std::string body;  // JSON
};

class RuntimeApiState {
public:
    enum class State {
        initializing,  // started, no /next yet
        waiting,       // a /next is held, no invocation assigned
        busy,          // an invocation is running
        responded,     // the invocation got its response or error; /next comes next
        failed,        // init error reported: the sandbox is done
    };

    State state() const { return state_; }
    const std::string& current() const { return current_; }

    // /next: nullopt means "hold the poll until an invocation is assigned"; an answer
    // means reply with it now.
    std::optional<RuntimeAnswer> next();
    // The scheduler hands the held poll an invocation. Only in `waiting`.
    bool assign(std::string request_id);
    // /response and /error for `id`: 202 when it is the running invocation.
    RuntimeAnswer respond(std::string_view id);
    RuntimeAnswer init_error();

    static RuntimeAnswer error(int status, std::string_view type, std::string_view message);

private:
    State state_ = State::initializing;
    std::string current_;
};

}  // namespace stratus::lambda

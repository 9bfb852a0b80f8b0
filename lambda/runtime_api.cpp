#include "lambda/runtime_api.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace stratus::lambda {

namespace {
constexpr std::string_view prefix = "/2018-06-01/runtime/";

std::string_view state_name(RuntimeApiState::State s) {
    switch (s) {
        case RuntimeApiState::State::initializing: return "Initializing";
        case RuntimeApiState::State::waiting: return "Ready";
        case RuntimeApiState::State::busy: return "Invoking";
        case RuntimeApiState::State::responded: return "Responded";
        case RuntimeApiState::State::failed: return "InitError";
    }
    return "Unknown";
}
}  // namespace

RuntimeRoute parse_runtime_route(std::string_view method, std::string_view path) {
    RuntimeRoute r;
    if (!path.starts_with(prefix)) return r;
    std::string_view rest = path.substr(prefix.size());
    if (rest == "invocation/next") {
        if (method == "GET") r.call = RuntimeCall::next;
        return r;
    }
    if (rest == "init/error") {
        if (method == "POST") r.call = RuntimeCall::init_error;
        return r;
    }
    constexpr std::string_view inv = "invocation/";
    if (method != "POST" || !rest.starts_with(inv)) return r;
    rest.remove_prefix(inv.size());
    auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0) return r;
    std::string_view id = rest.substr(0, slash), what = rest.substr(slash + 1);
    if (what == "response") r.call = RuntimeCall::response;
    else if (what == "error") r.call = RuntimeCall::error;
    else return r;
    r.request_id = std::string(id);
    return r;
}

RuntimeAnswer RuntimeApiState::error(int status, std::string_view type, std::string_view message) {
    nlohmann::json j = {{"errorMessage", message}, {"errorType", type}};
    return {status, j.dump()};
}

std::optional<RuntimeAnswer> RuntimeApiState::next() {
    switch (state_) {
        case State::initializing:
        case State::responded:
            state_ = State::waiting;
            current_.clear();
            return std::nullopt;
        case State::waiting:
        case State::busy:
        case State::failed:
            // As the Runtime Interface Emulator: a second poll, or one while an
            // invocation is unanswered or after an init error, is a state error.
            return error(403, "InvalidStateTransition",
                         fmt::format("State transition from {} to Ready failed for runtime.", state_name(state_)));
    }
    return std::nullopt;
}

bool RuntimeApiState::assign(std::string request_id) {
    if (state_ != State::waiting) return false;
    state_ = State::busy;
    current_ = std::move(request_id);
    return true;
}

RuntimeAnswer RuntimeApiState::respond(std::string_view id) {
    if (state_ != State::busy) {
        if (state_ == State::responded && id == current_)
            return error(403, "InvalidStateTransition",
                         "State transition from RuntimeResponseSent to InvocationResponse failed for runtime.");
        return error(400, "InvalidRequestID", "Invalid request ID");
    }
    if (id != current_) return error(400, "InvalidRequestID", "Invalid request ID");
    state_ = State::responded;
    return {202, R"({"status":"OK"})"};
}

RuntimeAnswer RuntimeApiState::init_error() {
    if (state_ != State::initializing)
        return error(403, "InvalidStateTransition",
                     fmt::format("State transition from {} to InitError failed for runtime.", state_name(state_)));
    state_ = State::failed;
    return {202, R"({"status":"OK"})"};
}

}  // namespace stratus::lambda

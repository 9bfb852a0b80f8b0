// The Runtime API state machine of one sandbox: which calls are allowed when, with the
// status codes and error types the Runtime Interface Emulator answers.
#include <doctest/doctest.h>

#include "lambda/runtime_api.hpp"

using namespace stratus::lambda;

TEST_CASE("runtime routes") {
    CHECK(parse_runtime_route("GET", "/2018-06-01/runtime/invocation/next").call == RuntimeCall::next);
    CHECK(parse_runtime_route("POST", "/2018-06-01/runtime/invocation/next").call == RuntimeCall::unknown);
    auto r = parse_runtime_route("POST", "/2018-06-01/runtime/invocation/abc-1/response");
    CHECK(r.call == RuntimeCall::response);
    CHECK(r.request_id == "abc-1");
    CHECK(parse_runtime_route("POST", "/2018-06-01/runtime/invocation/abc/error").call == RuntimeCall::error);
    CHECK(parse_runtime_route("POST", "/2018-06-01/runtime/init/error").call == RuntimeCall::init_error);
    CHECK(parse_runtime_route("POST", "/2018-06-01/runtime/invocation//response").call == RuntimeCall::unknown);
    CHECK(parse_runtime_route("GET", "/2018-06-01/other").call == RuntimeCall::unknown);
}

TEST_CASE("a sandbox's life: next, assign, respond, next") {
    RuntimeApiState s;
    CHECK(s.state() == RuntimeApiState::State::initializing);
    CHECK_FALSE(s.next().has_value());  // held
    CHECK(s.state() == RuntimeApiState::State::waiting);
    CHECK(s.assign("id1"));
    CHECK_FALSE(s.assign("id2"));
    SUBCASE("wrong id") {
        auto a = s.respond("other");
        CHECK(a.status == 400);
        CHECK(a.body.find("InvalidRequestID") != std::string::npos);
        CHECK(s.state() == RuntimeApiState::State::busy);
    }
    SUBCASE("second poll while busy") {
        auto a = s.next();
        REQUIRE(a.has_value());
        CHECK(a->status == 403);
        CHECK(a->body.find("InvalidStateTransition") != std::string::npos);
    }
    SUBCASE("respond, then again") {
        CHECK(s.respond("id1").status == 202);
        CHECK(s.respond("id1").status == 403);
        CHECK_FALSE(s.next().has_value());
        CHECK(s.state() == RuntimeApiState::State::waiting);
        CHECK(s.current().empty());
    }
}

TEST_CASE("init errors only during init") {
    RuntimeApiState s;
    CHECK(s.init_error().status == 202);
    CHECK(s.state() == RuntimeApiState::State::failed);
    CHECK(s.next()->status == 403);
    RuntimeApiState t;
    (void)t.next();
    CHECK(t.init_error().status == 403);
    CHECK(t.respond("x").status == 400);  // nothing running
}

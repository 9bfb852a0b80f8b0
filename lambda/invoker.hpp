// The one narrow interface through which other parts of stratus invoke Lambda functions:
// the API Gateway (gateway/), the event source mappings and S3 / schedule triggers. They
// know lambda/ only through this header (shared/DESIGN.md); the function lookup, the
// sandboxes and the durability of asynchronous invocations stay behind it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace stratus::lambda {

struct InvokeInput {
    std::string payload;  // JSON text; empty means "{}"
    bool tail = false;    // return the last 4 KB of the invocation's log
    std::string client_context;  // base64, as X-Amz-Client-Context carries it
    // The invocation's request id (the Invoke call's x-amzn-RequestId on AWS); fresh when
    // empty.
    std::string request_id;
};

struct InvokeResult {
    // Set when the function did not run: ResourceNotFoundException (no such function),
    // TooManyRequestsException (throttled: reserved concurrency or the queue is full),
    // ... The payload is then empty.
    std::optional<core::AwsError> error;
    std::string payload;          // what the handler returned, or its error document
    bool function_error = false;  // X-Amz-Function-Error: Unhandled (crash, timeout, thrown error)
    std::string log_tail;         // base64, when asked for
    std::string request_id;
};

// What callers may need to know of a function before invoking it.
struct FunctionInfo {
    std::string name;
    std::string arn;
    int timeout_seconds = 3;
};

class Invoker {
public:
    virtual ~Invoker() = default;

    // `function`: a name, a partial ARN ("000000000000:function:f") or a full ARN, with an
    // optional ":qualifier" (only $LATEST exists until versions land). nullopt when there
    // is no such function. Any thread.
    virtual std::optional<FunctionInfo> describe(std::string_view function) = 0;

    // A RequestResponse invocation. `done` is called exactly once, on some thread of the
    // daemon (never inside this call for a function that exists), with the result; an
    // unknown function is an InvokeResult whose error is ResourceNotFoundException. Any
    // thread.
    virtual void invoke(std::string_view function, InvokeInput input, std::function<void(InvokeResult)> done) = 0;

    // An Event (asynchronous) invocation: stored durably before this returns, so an event
    // accepted here runs even across a kill -9 of the daemon (at least once, as AWS's
    // asynchronous delivery); a function error is retried twice, a throttle later again.
    // Returns the invocation's request id. Throws AwsError ResourceNotFoundException for an
    // unknown function, RequestEntityTooLargeException past 1 MB. `finished`, when given,
    // runs once the event is done with (succeeded, failed for good, or its function gone)
    // with the last attempt's result; it does not run when the daemon stops first (the
    // event then runs again at the next start, without it). Any thread.
    virtual std::string invoke_event(std::string_view function, InvokeInput input,
                                     std::function<void(const InvokeResult&)> finished = {}) = 0;
};

}  // namespace stratus::lambda

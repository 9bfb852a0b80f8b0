// The boundary between the HTTP server (Beast) and whatever answers its requests (the AWS
// dispatcher on :4566, later the API Gateway and site listeners).
#pragma once

#include <functional>
#include <string_view>

#include "core/http_types.hpp"

namespace stratus::core {

// What to do with a request whose head has been read.
struct Plan {
    std::string_view service = "-";  // for the access log; must outlive the request
    BodyPolicy body;
    // The answer for a body over body.limit (the connection closes after it).
    std::function<Response(const Request&)> too_large;
    // Runs the complete request (body read).
    std::function<void(Request&&, Reply)> run;
};

class HttpHandler {
public:
    virtual ~HttpHandler() = default;
    // Called on the connection's strand once the head is parsed; may fill in
    // head.request_id.
    virtual Plan plan(Request& head) = 0;
};

}  // namespace stratus::core

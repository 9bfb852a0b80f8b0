// Function URLs: a function's (or an alias's) own HTTPS endpoint on AWS. stratus serves
// them on the AWS port, by host ("{url-id}.lambda-url.us-east-1.localhost", as LocalStack
// does) and by path ("/_lambda-url/{url-id}/...", because names under .localhost do not
// resolve on every machine). Requests become payload 2.0 events; results follow the
// function URL response rules (core/proxy_response.hpp, shared with API Gateway).
// https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/http_types.hpp"
#include "lambda/invoker.hpp"

namespace stratus::lambda {

inline constexpr std::string_view url_host_suffix = ".lambda-url.us-east-1.localhost";
inline constexpr std::string_view url_path_prefix = "/_lambda-url/";

struct FunctionUrl {
    std::string id;         // 32 lowercase letters and digits
    std::string function;
    std::string qualifier;  // an alias, or empty (the unqualified function)
    std::string auth_type;  // NONE | AWS_IAM
    std::string invoke_mode = "BUFFERED";  // BUFFERED | RESPONSE_STREAM
    std::string cors = "null";  // the Cors object as given (JSON), "null" when none
    std::string created, modified;  // ISO-8601

    std::string function_arn() const;  // qualified with the alias when there is one
    // GetFunctionUrlConfig's members; `url` is what FunctionUrl says.
    nlohmann::json configuration(const std::string& url) const;
    std::string to_json() const;
    static FunctionUrl from_json(std::string_view text);
};

// The URL id a request addresses (by host or by path), and the path within the URL;
// nullopt when the request is not for a function URL.
struct UrlTarget {
    std::string id;
    std::string path;  // raw (percent-encoded), starting with '/'
};
std::optional<UrlTarget> url_target(const core::Request& request);

// The payload 2.0 event of a function URL request, in the members and order of AWS's
// documented example. `access_key`: who signed it (AWS_IAM), empty for NONE.
std::string url_event(const core::Request& request, const UrlTarget& target, const FunctionUrl& url,
                      std::int64_t time_ms);

// What the caller gets for a BUFFERED invocation's result.
core::Response url_response(const InvokeResult& result);
// AWS's answers for a function URL's own errors ({"Message": ...}).
core::Response url_error(int status, std::string_view message);

// CORS as the URL's Cors configures it: a preflight (OPTIONS with Origin and
// Access-Control-Request-Method) is answered without invoking the function; other answers
// get the allowed origin's headers (replacing any the function set).
std::optional<core::Response> url_preflight(const FunctionUrl& url, const core::Request& request);
void url_cors_headers(const FunctionUrl& url, const core::Request& request, core::Response& response);

// Validates a Cors object (AWS's limits); throws ValidationException.
void validate_url_cors(const nlohmann::json& cors);

}  // namespace stratus::lambda

// Lambda response streaming on the wire: the event stream InvokeWithResponseStream answers
// (application/vnd.amazon.eventstream messages: PayloadChunk, then InvokeComplete, as
// botocore and the JS SDK read them), and the HTTP prelude a function URL's streamed
// response starts with (awslambda.HttpResponseStream.from: JSON, then 8 NUL bytes).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/http_types.hpp"

namespace stratus::lambda {

inline constexpr std::string_view http_prelude_type = "application/vnd.awslambda.http-integration-response";

// One event-stream message: the prelude (total and headers length, CRC32), the string
// headers :event-type, :content-type and :message-type ("event"), the payload, the CRC32.
std::string event_message(std::string_view event_type, std::string_view content_type, std::string_view payload);

// Splits a streamed response that starts with the HTTP prelude: nullopt until the 8 NUL
// bytes arrived. `head` gets the status and headers (cookies as Set-Cookie; Content-Type
// application/octet-stream when the prelude names none); the bytes after the delimiter are
// returned in `rest`. A prelude that is not a JSON object gives a 502 head.
std::optional<core::Response> split_http_prelude(const std::string& buffered, std::string& rest);

}  // namespace stratus::lambda

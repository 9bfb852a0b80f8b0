// The request parts of a Lambda proxy event (payload format 2.0) that API Gateway's HTTP
// APIs (gateway/) and Lambda's function URLs (lambda/) both send, written the same way:
// headers with cookies apart, query parameters joined, the CLF time, which bodies go
// base64. Moved here from gateway/events.cpp so that both floors share them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_types.hpp"

namespace stratus::core {

class JsonWriter;

// Query parameters decoded, grouped by name in the order first seen.
struct QueryGroup {
    std::string name;
    std::vector<std::string_view> values;  // views into the params given
};
std::vector<QueryGroup> group_query(const std::vector<QueryParam>& params);

// "cookies" (when the request has any) and "headers": names lower-cased, repeated values
// joined with commas, Cookie headers split into the cookies list.
void write_headers_v2(JsonWriter& w, const Headers& headers);
// "queryStringParameters" (absent when there are none): repeated names joined with commas.
void write_query_v2(JsonWriter& w, const std::vector<QueryParam>& params);

// "04/Mar/2020:19:15:17 +0000" (the CLF time the events carry).
std::string clf_time(std::int64_t epoch_ms);

// Payload 2.0 passes text as text and anything else base64-encoded (form posts included,
// as AWS does); a body without a Content-Type cannot be known to be text.
bool binary_body_v2(std::string_view content_type);

}  // namespace stratus::core

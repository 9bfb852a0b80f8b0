// The head of an HTTP/1.x response, written straight into a string: what Beast's fields
// and serializer did for every response, without a node per header or a buffer sequence
// walked piece by piece.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/http_types.hpp"

namespace stratus::core {

struct HeadFraming {
    unsigned version = 11;  // 10 or 11
    bool keep_alive = true;
    std::optional<std::uint64_t> content_length;  // sent when set
    bool chunked = false;                         // Transfer-Encoding: chunked
};

// True for the headers the framing owns: a service's own value for them is not sent
// (Content-Length, Transfer-Encoding, Connection, Keep-Alive, Server, Date).
bool framing_header(std::string_view name) noexcept;

// True when `name` is an RFC 9110 token and `value` holds no CR, LF or NUL: a header that
// cannot end the head early or start another one.
bool header_safe(std::string_view name, std::string_view value) noexcept;

// Appends the status line, the service's headers in their order (framing ones and unsafe
// ones left out), Server, Date, Connection as the version and keep-alive need, the length
// or chunked framing, and the blank line. Returns how many headers were left out as unsafe.
std::size_t append_response_head(std::string& out, int status, const Headers& headers, const HeadFraming& framing,
                                 std::string_view date);

}  // namespace stratus::core

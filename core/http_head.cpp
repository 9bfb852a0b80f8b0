#include "core/http_head.hpp"

#include <array>
#include <boost/beast/http/status.hpp>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace stratus::core {

namespace {

constexpr std::array<bool, 256> token_chars = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}();

void append_number(std::string& out, std::uint64_t n) {
    char buf[24];
    auto end = std::to_chars(buf, buf + sizeof buf, n).ptr;
    out.append(buf, static_cast<std::size_t>(end - buf));
}

}  // namespace

bool framing_header(std::string_view name) noexcept {
    // Cheap first look: every framing name starts with c, t, k, s or d.
    if (name.empty()) return false;
    switch (name[0] | 0x20) {
        case 'c': return iequals(name, "content-length") || iequals(name, "connection");
        case 't': return iequals(name, "transfer-encoding");
        case 'k': return iequals(name, "keep-alive");
        case 's': return iequals(name, "server");
        case 'd': return iequals(name, "date");
        default: return false;
    }
}

bool header_safe(std::string_view name, std::string_view value) noexcept {
    if (name.empty()) return false;
    for (unsigned char c : name)
        if (!token_chars[c]) return false;
    // CR (13), LF (10) and NUL (0) are all below 14. Eight bytes at a time: a word with no
    // byte below 14 (the usual case) passes with a few operations; a word with one (a tab,
    // say) has its bytes looked at one by one.
    auto bad = [](unsigned char u) { return u == '\r' || u == '\n' || u == 0; };
    const char* p = value.data();
    std::size_t n = value.size();
    constexpr std::uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        if (((w - ones * 14) & ~w & highs) == 0) continue;  // no byte below 14 (exact for n <= 128)
        for (int k = 0; k < 8; ++k)
            if (bad(static_cast<unsigned char>(p[k]))) return false;
    }
    for (; n > 0; ++p, --n)
        if (bad(static_cast<unsigned char>(*p))) return false;
    return true;
}

std::size_t append_response_head(std::string& out, int status, const Headers& headers, const HeadFraming& framing,
                                 std::string_view date) {
    namespace http = boost::beast::http;
    out += framing.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    append_number(out, static_cast<std::uint64_t>(status));
    out += ' ';
    // Beast's phrases for the codes it knows; none for others (RFC 9112 allows an empty one).
    if (auto code = http::int_to_status(static_cast<unsigned>(status)); code != http::status::unknown) {
        auto reason = http::obsolete_reason(code);
        out.append(reason.data(), reason.size());
    }
    out += "\r\n";
    std::size_t dropped = 0;
    for (const auto& [name, value] : headers.entries()) {
        if (framing_header(name)) continue;
        if (!header_safe(name, value)) {
            ++dropped;
            continue;
        }
        out.append(name).append(": ").append(value).append("\r\n");
    }
    out += "Server: stratus\r\nDate: ";
    out.append(date);
    out += "\r\n";
    if (framing.version == 10 && framing.keep_alive)
        out += "Connection: keep-alive\r\n";
    else if (framing.version != 10 && !framing.keep_alive)
        out += "Connection: close\r\n";
    if (framing.chunked) out += "Transfer-Encoding: chunked\r\n";
    if (framing.content_length) {
        out += "Content-Length: ";
        append_number(out, *framing.content_length);
        out += "\r\n";
    }
    out += "\r\n";
    return dropped;
}

}  // namespace stratus::core

// The response head written by hand (core/http_head.hpp): byte for byte what Beast's
// fields and serializer wrote before it, for the statuses, versions and framings the
// server sends, and nothing a service's header could use to end the head early.
#include "core/http_head.hpp"

#include <doctest/doctest.h>

#include <boost/beast/http.hpp>
#include <sstream>
#include <string>

namespace {

namespace http = boost::beast::http;
using stratus::core::append_response_head;
using stratus::core::framing_header;
using stratus::core::HeadFraming;
using stratus::core::header_safe;
using stratus::core::Headers;

constexpr std::string_view date = "Thu, 03 Dec 2026 06:30:00 GMT";

// What the server's Beast path wrote: the service's headers in order, then Server and
// Date set, keep_alive(), then chunked() or the length.
std::string beast_head(int status, const Headers& headers, const HeadFraming& f) {
    http::response<http::empty_body> res;
    res.version(f.version);
    res.result(static_cast<unsigned>(status));
    for (auto& [name, value] : headers.entries()) res.insert(name, value);
    res.set(http::field::server, "stratus");
    res.set(http::field::date, date);
    res.keep_alive(f.keep_alive);
    if (f.chunked) res.chunked(true);
    if (f.content_length) res.set(http::field::content_length, std::to_string(*f.content_length));
    std::ostringstream os;
    os << res.base();
    return os.str();
}

std::string ours(int status, const Headers& headers, const HeadFraming& f) {
    std::string out;
    CHECK(append_response_head(out, status, headers, f, date) == 0);
    return out;
}

}  // namespace

TEST_CASE("response head: the same bytes as Beast's serializer") {
    Headers dynamo;
    dynamo.add("Content-Type", "application/x-amz-json-1.0");
    dynamo.add("x-amzn-RequestId", "K2QH8DNOU907N97FNA2GDLL8OBVV4KQNSO5AEMVJF66Q9ASUAAJG");
    dynamo.add("x-amz-crc32", "2745614147");
    Headers s3;
    s3.add("x-amz-request-id", "0A1B2C3D4E5F6A7B");
    s3.add("ETag", "\"9b2cf535f27731c974343645a3985328\"");
    s3.add("x-amz-meta-a", "");  // an empty value
    s3.add("x-amz-meta-a", "two");  // a repeated name
    for (int status : {100, 200, 204, 206, 301, 304, 400, 403, 404, 409, 413, 500, 502, 503, 504}) {
        for (unsigned version : {10u, 11u}) {
            for (bool keep_alive : {true, false}) {
                CAPTURE(status);
                CAPTURE(version);
                CAPTURE(keep_alive);
                HeadFraming length{version, keep_alive, 270, false};
                CHECK(ours(status, dynamo, length) == beast_head(status, dynamo, length));
                HeadFraming none{version, keep_alive, std::nullopt, false};
                CHECK(ours(status, s3, none) == beast_head(status, s3, none));
                HeadFraming chunked{version, keep_alive, std::nullopt, true};
                CHECK(ours(status, Headers{}, chunked) == beast_head(status, Headers{}, chunked));
                HeadFraming big{version, keep_alive, 5'000'000'000ULL, false};
                CHECK(ours(status, s3, big) == beast_head(status, s3, big));
            }
        }
    }
}

TEST_CASE("response head: a plain 200 in full") {
    Headers h;
    h.add("Content-Type", "text/plain");
    CHECK(ours(200, h, HeadFraming{11, true, 3, false}) ==
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: stratus\r\n"
          "Date: Thu, 03 Dec 2026 06:30:00 GMT\r\nContent-Length: 3\r\n\r\n");
    CHECK(ours(404, h, HeadFraming{10, true, 0, false}) ==
          "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\nServer: stratus\r\n"
          "Date: Thu, 03 Dec 2026 06:30:00 GMT\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("response head: a status Beast has no phrase for gets an empty one") {
    // A Lambda proxy result may carry any code from 100 to 599 (API Gateway passes it on).
    // Beast wrote "<unknown-status>"; RFC 9112 allows the phrase to be empty.
    auto head = ours(299, Headers{}, HeadFraming{11, true, 0, false});
    CHECK(head.starts_with("HTTP/1.1 299 \r\n"));
    CHECK(ours(498, Headers{}, HeadFraming{}).starts_with("HTTP/1.1 498 \r\n"));
}

TEST_CASE("response head: the framing headers are the server's") {
    Headers h;
    h.add("content-length", "999");
    h.add("Transfer-Encoding", "gzip");
    h.add("Connection", "close");
    h.add("Keep-Alive", "timeout=5");
    h.add("server", "AmazonS3");
    h.add("DATE", "yesterday");
    h.add("X-Kept", "yes");
    CHECK(ours(200, h, HeadFraming{11, true, 5, false}) ==
          "HTTP/1.1 200 OK\r\nX-Kept: yes\r\nServer: stratus\r\n"
          "Date: Thu, 03 Dec 2026 06:30:00 GMT\r\nContent-Length: 5\r\n\r\n");
    CHECK(framing_header("Content-Length"));
    CHECK(framing_header("keep-alive"));
    CHECK_FALSE(framing_header("Content-Type"));
    CHECK_FALSE(framing_header("Dates"));
    CHECK_FALSE(framing_header(""));
}

TEST_CASE("response head: a header that could split the response is not sent") {
    // Beast 1.81 wrote names and values as given: a Lambda proxy result's header value
    // "a\r\nSet-Cookie: x" became a second header (response splitting).
    Headers h;
    h.add("X-Split", "a\r\nSet-Cookie: session=stolen");
    h.add("X-Lf", "a\nb");
    h.add("X-Nul", std::string("a\0b", 3));
    h.add("Bad Name", "v");
    h.add("Bad:Name", "v");
    h.add("", "v");
    h.add("X-Fine", "tab\tand unicode \xc3\xa9");
    std::string out;
    CHECK(append_response_head(out, 200, h, HeadFraming{11, true, 0, false}, date) == 6);
    CHECK(out ==
          "HTTP/1.1 200 OK\r\nX-Fine: tab\tand unicode \xc3\xa9\r\nServer: stratus\r\n"
          "Date: Thu, 03 Dec 2026 06:30:00 GMT\r\nContent-Length: 0\r\n\r\n");
    CHECK(header_safe("x-amz-meta-!#$%&'*+-.^_`|~", "v"));
    CHECK_FALSE(header_safe("x(y)", "v"));
    CHECK_FALSE(header_safe("x\xc3\xa9", "v"));
    // Every byte value in a value, at its start, middle and end: only CR, LF and NUL refused.
    for (int b = 0; b < 256; ++b) {
        char c = static_cast<char>(b);
        bool ok = b != '\r' && b != '\n' && b != 0;
        CAPTURE(b);
        CHECK(header_safe("x", std::string(1, c)) == ok);
        CHECK(header_safe("x", std::string("ab") + c + "cd") == ok);
        CHECK(header_safe("x", std::string("abcd") + c) == ok);
    }
    // Values long enough to be read a word at a time: every byte value at every position of a
    // 21-byte value (two words and a tail), among plain bytes, tabs or bytes above 0x7f.
    for (char filler : {'a', '\t', '\xff', '\x0e'}) {
        CAPTURE(static_cast<int>(static_cast<unsigned char>(filler)));
        CHECK(header_safe("x", std::string(21, filler)));
        for (int b = 0; b < 256; ++b) {
            bool ok = b != '\r' && b != '\n' && b != 0;
            for (std::size_t at = 0; at < 21; ++at) {
                std::string v(21, filler);
                v[at] = static_cast<char>(b);
                CAPTURE(b);
                CAPTURE(at);
                REQUIRE(header_safe("x", v) == ok);
            }
        }
    }
}

TEST_CASE("response head: appends to what is there") {
    std::string out = "kept";
    append_response_head(out, 204, Headers{}, HeadFraming{11, false, std::nullopt, false}, date);
    CHECK(out == "keptHTTP/1.1 204 No Content\r\nServer: stratus\r\nDate: Thu, 03 Dec 2026 06:30:00 GMT\r\n"
                 "Connection: close\r\n\r\n");
}

// The plain HTTP types every service sees (core/http_types.hpp): header lookup, percent
// decoding / URI encoding, and the query, host and path views of a Request.
#include "core/http_types.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

namespace {

using stratus::core::Headers;
using stratus::core::percent_decode;
using stratus::core::QueryParam;
using stratus::core::Request;
using stratus::core::uri_encode;

using Entries = std::vector<std::pair<std::string, std::string>>;

Request with_query(std::string query) {
    Request r;
    r.query = std::move(query);
    return r;
}

Request with_host(std::string host) {
    Request r;
    r.headers.set("Host", std::move(host));
    return r;
}

}  // namespace

TEST_CASE("Headers::get is case-insensitive and returns the first value") {
    Headers h;
    h.add("Content-Type", "application/json");
    h.add("X-Amz-Date", "20261126T165200Z");
    h.add("x-amz-date", "second");

    CHECK(h.get("content-type") == "application/json");
    CHECK(h.get("CONTENT-TYPE") == "application/json");
    CHECK(h.get("X-AMZ-DATE") == "20261126T165200Z");
    CHECK_FALSE(h.get("Content-Typ").has_value());
    CHECK_FALSE(h.get("").has_value());
    CHECK(h.has("x-AMZ-date"));
    CHECK_FALSE(h.has("authorization"));
    CHECK(h.get_or("host", "fallback") == "fallback");
    CHECK(h.get_or("HOST", "") == "");
    CHECK(h.get_or("content-type", "x") == "application/json");
}

TEST_CASE("Headers::set replaces every value of the name, whatever its case") {
    Headers h;
    h.add("Accept", "a");
    h.add("X-Thing", "1");
    h.add("accept", "b");
    h.add("ACCEPT", "c");

    h.set("Accept", "only");

    CHECK(h.entries() == Entries{{"X-Thing", "1"}, {"Accept", "only"}});
    CHECK(h.get("accept") == "only");

    SUBCASE("set on a new name appends it") {
        h.set("Host", "localhost");
        CHECK(h.entries().size() == 3);
        CHECK(h.entries().back() == std::pair<std::string, std::string>{"Host", "localhost"});
    }
}

TEST_CASE("Headers::add keeps duplicates in order") {
    Headers h;
    CHECK(h.empty());
    h.add("X-A", "1");
    h.add("X-B", "2");
    h.add("x-a", "3");
    h.add("X-A", "1");

    CHECK_FALSE(h.empty());
    CHECK(h.entries() == Entries{{"X-A", "1"}, {"X-B", "2"}, {"x-a", "3"}, {"X-A", "1"}});
    CHECK(h.get("X-A") == "1");
}

TEST_CASE("Headers::erase removes every value of the name, whatever its case") {
    Headers h;
    h.add("X-A", "1");
    h.add("X-B", "2");
    h.add("x-a", "3");

    SUBCASE("present") {
        h.erase("X-a");
        CHECK(h.entries() == Entries{{"X-B", "2"}});
        CHECK_FALSE(h.has("x-a"));
    }
    SUBCASE("absent is a no-op") {
        h.erase("X-C");
        CHECK(h.entries().size() == 3);
    }
    SUBCASE("all") {
        h.erase("x-b");
        h.erase("x-a");
        CHECK(h.empty());
    }
}

TEST_CASE("percent_decode decodes valid %XX sequences") {
    CHECK(percent_decode("") == "");
    CHECK(percent_decode("plain") == "plain");
    CHECK(percent_decode("a%20b") == "a b");
    CHECK(percent_decode("%41%42%43") == "ABC");
    CHECK(percent_decode("%2f%2F") == "//");            // either hex case
    CHECK(percent_decode("%C3%BC") == "\xC3\xBC");      // UTF-8 bytes
    CHECK(percent_decode("%00") == std::string(1, '\0'));
    CHECK(percent_decode("%FF") == "\xFF");
    CHECK(percent_decode("%25") == "%");
    CHECK(percent_decode("%2541") == "%41");            // decoded once only
}

TEST_CASE("percent_decode keeps invalid and truncated % sequences literally") {
    SUBCASE("not hex") {
        CHECK(percent_decode("%zz") == "%zz");
        CHECK(percent_decode("%G1") == "%G1");
        CHECK(percent_decode("%1G") == "%1G");
        CHECK(percent_decode("100%!") == "100%!");
    }
    SUBCASE("truncated") {
        CHECK(percent_decode("%") == "%");
        CHECK(percent_decode("a%") == "a%");
        CHECK(percent_decode("%4") == "%4");
        CHECK(percent_decode("ab%4") == "ab%4");
    }
    SUBCASE("a bad % followed by a good one") {
        CHECK(percent_decode("%%41") == "%A");
        CHECK(percent_decode("%4%41") == "%4A");
    }
}

TEST_CASE("percent_decode turns '+' into a space only when asked") {
    CHECK(percent_decode("a+b") == "a+b");
    CHECK(percent_decode("a+b", false) == "a+b");
    CHECK(percent_decode("a+b", true) == "a b");
    CHECK(percent_decode("++", true) == "  ");
    // An encoded plus is a plus either way.
    CHECK(percent_decode("a%2Bb", true) == "a+b");
    CHECK(percent_decode("a%2Bb", false) == "a+b");
}

TEST_CASE("uri_encode keeps RFC 3986 unreserved characters") {
    const std::string unreserved =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
    CHECK(uri_encode(unreserved) == unreserved);
    CHECK(uri_encode("") == "");
}

TEST_CASE("uri_encode percent-encodes everything else as uppercase %XX") {
    CHECK(uri_encode(" ") == "%20");
    CHECK(uri_encode("a b+c") == "a%20b%2Bc");
    CHECK(uri_encode("!*'();:@&=$,?#[]%") == "%21%2A%27%28%29%3B%3A%40%26%3D%24%2C%3F%23%5B%5D%25");
    CHECK(uri_encode(std::string(1, '\0')) == "%00");
    CHECK(uri_encode("\x7F") == "%7F");

    SUBCASE("UTF-8 bytes one by one, uppercase hex") {
        CHECK(uri_encode("\xC3\xBC") == "%C3%BC");                // ü
        CHECK(uri_encode("\xE2\x82\xAC") == "%E2%82%AC");         // €
        CHECK(uri_encode("\xF0\x9F\x98\x80") == "%F0%9F%98%80");  // 😀
    }
}

TEST_CASE("uri_encode encodes '/' unless told not to") {
    CHECK(uri_encode("a/b c") == "a%2Fb%20c");
    CHECK(uri_encode("a/b c", true) == "a%2Fb%20c");
    CHECK(uri_encode("/a/b c/", false) == "/a/b%20c/");
}

TEST_CASE("uri_encode and percent_decode round-trip") {
    const std::string s = "key/with spaces+plus%percent\xC3\xBC~";
    CHECK(percent_decode(uri_encode(s)) == s);
    CHECK(percent_decode(uri_encode(s, false)) == s);
}

TEST_CASE("Request::query_params of an empty query is empty") {
    CHECK(with_query("").query_params().empty());
    CHECK(with_query("&").query_params().empty());
    CHECK(with_query("&&&").query_params().empty());
}

TEST_CASE("Request::query_params keeps order and repeated names") {
    auto params = with_query("b=2&a=1&b=3&&c=").query_params();
    REQUIRE(params.size() == 4);
    CHECK(params[0].name == "b");
    CHECK(params[0].value == "2");
    CHECK(params[1].name == "a");
    CHECK(params[1].value == "1");
    CHECK(params[2].name == "b");
    CHECK(params[2].value == "3");
    CHECK(params[3].name == "c");
    CHECK(params[3].value == "");
}

TEST_CASE("Request::query_params tells flags without '=' from empty values") {
    auto params = with_query("uploads&versionId=&delete").query_params();
    REQUIRE(params.size() == 3);
    CHECK(params[0].name == "uploads");
    CHECK(params[0].value == "");
    CHECK_FALSE(params[0].has_value);
    CHECK(params[1].name == "versionId");
    CHECK(params[1].value == "");
    CHECK(params[1].has_value);
    CHECK(params[2].name == "delete");
    CHECK_FALSE(params[2].has_value);
}

TEST_CASE("Request::query_params decodes names and values") {
    SUBCASE("'+' is a space, %2B a plus") {
        auto params = with_query("prefix=a+b%2Bc&my+key=v").query_params();
        REQUIRE(params.size() == 2);
        CHECK(params[0].value == "a b+c");
        CHECK(params[1].name == "my key");
    }
    SUBCASE("encoded '&' and '=' do not split") {
        auto params = with_query("k%3Dx=a%26b%3Dc&n=1").query_params();
        REQUIRE(params.size() == 2);
        CHECK(params[0].name == "k=x");
        CHECK(params[0].value == "a&b=c");
        CHECK(params[0].has_value);
        CHECK(params[1].name == "n");
        CHECK(params[1].value == "1");
    }
    SUBCASE("only the first '=' splits") {
        auto params = with_query("a=b=c").query_params();
        REQUIRE(params.size() == 1);
        CHECK(params[0].name == "a");
        CHECK(params[0].value == "b=c");
    }
    SUBCASE("UTF-8") {
        auto params = with_query("k=%C3%BC").query_params();
        REQUIRE(params.size() == 1);
        CHECK(params[0].value == "\xC3\xBC");
    }
}

TEST_CASE("Request::query_param returns the first decoded value of a name") {
    Request r = with_query("list-type=2&prefix=a+b&prefix=second&uploads&empty=");
    CHECK(r.query_param("list-type") == "2");
    CHECK(r.query_param("prefix") == "a b");
    CHECK(r.query_param("uploads") == "");  // a flag is present, with an empty value
    CHECK(r.query_param("empty") == "");
    CHECK_FALSE(r.query_param("missing").has_value());
    CHECK_FALSE(r.query_param("Prefix").has_value());  // names are case-sensitive
    CHECK_FALSE(with_query("").query_param("x").has_value());
}

TEST_CASE("Request::host drops the port") {
    CHECK(with_host("localhost:4566").host() == "localhost");
    CHECK(with_host("localhost").host() == "localhost");
    CHECK(with_host("bucket.s3.localhost:4566").host() == "bucket.s3.localhost");
    CHECK(with_host("127.0.0.1:80").host() == "127.0.0.1");

    SUBCASE("IPv6 literal") {
        CHECK(with_host("[::1]:4566").host() == "[::1]");
        CHECK(with_host("[::1]").host() == "[::1]");
        CHECK(with_host("[fe80::1%25eth0]:4566").host() == "[fe80::1%25eth0]");
    }
    SUBCASE("no Host header") {
        CHECK(Request{}.host() == "");
    }
    SUBCASE("header name in any case") {
        Request r;
        r.headers.add("HOST", "example.com:1");
        CHECK(r.host() == "example.com");
    }
}

TEST_CASE("Request::decoded_path percent-decodes the raw path, '+' kept") {
    Request r;
    SUBCASE("spaces and UTF-8") {
        r.path = "/bucket/a%20b/%C3%BC";
        CHECK(r.decoded_path() == "/bucket/a b/\xC3\xBC");
    }
    SUBCASE("'+' is a plus in a path") {
        r.path = "/bucket/a+b";
        CHECK(r.decoded_path() == "/bucket/a+b");
    }
    SUBCASE("encoded slash") {
        r.path = "/bucket/a%2Fb";
        CHECK(r.decoded_path() == "/bucket/a/b");
    }
    SUBCASE("bad escapes kept") {
        r.path = "/100%/x%4";
        CHECK(r.decoded_path() == "/100%/x%4");
    }
}

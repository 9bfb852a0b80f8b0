// core::Regex (RE2): what users' patterns are matched with. The cases std::regex failed on
// (the fuzzer's find: a filter pattern whose match ran past libFuzzer's timeout) run in
// linear time here; under libstdc++'s backtracking executor the first takes exponential
// time and the long texts overflow the stack (one recursion per character).
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "core/regex.hpp"

using stratus::core::Regex;

TEST_CASE("regex: search and full match") {
    Regex re("ERROR 4[0-9]{2}");
    CHECK(re.search("[ERROR 404] not found"));
    CHECK_FALSE(re.search("[ERROR 500] oops"));
    CHECK_FALSE(re.full_match("[ERROR 404] not found"));
    CHECK(re.full_match("ERROR 404"));
    Regex bearer(R"(^Bearer [-0-9a-zA-Z\._]+$)");
    CHECK(bearer.full_match("Bearer abc.def-1_2"));
    CHECK_FALSE(bearer.full_match("Bearer abc def"));
    CHECK_FALSE(bearer.full_match("Basic abc"));
    // Empty text and text with NUL bytes and invalid UTF-8 are text like any other.
    CHECK(Regex("^$").full_match(""));
    CHECK(Regex("a.b").search(std::string("a\0b", 3)));
    CHECK(Regex("x").search("\xff\xfex"));
    // Copies share the compiled program.
    Regex copy = re;
    CHECK(copy.search("ERROR 418"));
}

TEST_CASE("regex: invalid patterns are refused with RE2's words") {
    for (const char* bad : {"([", "a{2,1}", "(?<=a)b", "\\", "*a"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(Regex{bad}, std::invalid_argument);
    }
    try {
        Regex("([");
        FAIL("no exception");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).find("missing") != std::string::npos);
    }
}

TEST_CASE("regex: no pattern makes a match exponential or deep") {
    // Nested quantifiers over a long run that never matches.
    std::string as(5000, 'a');
    CHECK_FALSE(Regex("(a*)*b").search(as));
    CHECK_FALSE(Regex("^(a|aa)+$").full_match(as + "!"));
    // A megabyte token against a typical validation expression, and a megabyte log line.
    std::string token = "Bearer " + std::string(1 << 20, 'x');
    CHECK(Regex(R"(^Bearer [-0-9a-zA-Z\._]*$)").full_match(token));
    CHECK(Regex("^[a-z ]+$").search(std::string(1 << 20, 'q')));
}

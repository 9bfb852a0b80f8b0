// core::parse_json (simdjson, nlohmann's parser as the fallback) must answer exactly what
// nlohmann::json::parse(text, nullptr, false) answers: the same tree with the same number
// types, or a discarded value for the same texts.
#include <doctest/doctest.h>

#include "core/json_parse.hpp"
#include "json_same_tree.hpp"

#include <string>

using nlohmann::json;
using stratus::core::parse_json;
using stratus::test::same_tree;

namespace {

void check_same(const std::string& text) {
    json expected = json::parse(text, nullptr, false);
    json got = parse_json(text);
    INFO("text: ", text, " expected: ", expected.is_discarded() ? "<discarded>" : expected.dump(),
         " got: ", got.is_discarded() ? "<discarded>" : got.dump());
    CHECK(same_tree(expected, got));
}

}  // namespace

TEST_CASE("parse_json: the trees nlohmann builds, number types included") {
    for (const char* text : {
             R"({"TableName":"bench","Key":{"pk":{"S":"a"},"sk":{"N":"12"}}})",
             R"({"a":1,"b":-1,"c":0,"d":-0,"e":1.5,"f":-1.5e-3,"g":1E2,"h":0.0,"i":-0.0})",
             R"([18446744073709551615, 9223372036854775807, -9223372036854775808, 9223372036854775808])",
             R"([18446744073709551616, -9223372036854775809, 1e308, 4.9e-324, 123456789012345678901234567890])",
             R"({"a":1,"a":2,"b":{"x":[1,2,{"y":null}]},"a":{"z":true}})",
             R"({"s":"\u0000\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"})",
             R"("just a string")", "42", "-7", "true", "false", "null", "[]", "{}", " \n\t{ } \r\n",
             R"({"":""})", R"({"k":"é€😀"})",
         })
        check_same(text);
}

TEST_CASE("parse_json: what nlohmann refuses, refused alike") {
    for (const char* text : {
             "", " ", "{", "}", "[1,]", R"({"a":1,})", R"({"a" 1})", "{'a':1}", "01", "1.", ".5", "+1",
             "-", "1e", "1e400", "-1e400", "NaN", "Infinity", "tru", "nul", R"({"a":1} x)", "{} {}",
             R"("\x")", R"("\u12")", R"("\ud800")", "\"a\nb\"", "/*c*/{}", "[1]//c",
         })
        check_same(text);
    check_same(std::string("{\"a\":\"\xff\"}"));        // invalid UTF-8
    check_same(std::string("{\"a\":\"\xc3\"}"));        // truncated sequence
    check_same(std::string("{\"a\":\"\xed\xa0\x80\"}"));  // an encoded surrogate
    check_same(std::string("{\"a\":1}\0", 8));           // a NUL after the document
}

TEST_CASE("parse_json: deep nesting and large documents") {
    std::string deep;
    for (int i = 0; i < 3000; ++i) deep += '[';
    for (int i = 0; i < 3000; ++i) deep += ']';
    check_same(deep);  // beyond simdjson's depth: nlohmann's answer
    std::string big = "{\"Items\":[";
    for (int i = 0; i < 20000; ++i) big += (i ? "," : "") + std::string(R"({"pk":{"S":"item-)") + std::to_string(i) + "\"}}";
    big += "]}";
    check_same(big);  // over the reused parser's size: a parser of its own
}

// core::append_json_string skips 8 plain bytes at a time: for every string it must write
// what escaping one byte at a time writes (nlohmann's dump with the replace handler escapes
// the same way: the 7 short escapes, \u00XX for other controls, U+FFFD for bytes that are
// not valid UTF-8; a truncated multi-byte sequence is left out: nlohmann writes one U+FFFD
// for it, we write one per byte, both allowed by Unicode).
#include "core/json_writer.hpp"

#include <random>

TEST_CASE("append_json_string: the word-at-a-time skip writes what nlohmann's dump writes") {
    std::mt19937_64 rng(11);
    const std::string pieces[] = {"a", "Z", " ", "~", "\"", "\\", "/", "\n", "\x01", "\x1f", "\x7f", "é", "€", "😀",
                                  "\xff", "\xc3", "\xed\xa0\x80", "0123456789abcdef"};
    int differ = 0;
    for (int k = 0; k < 20000; ++k) {
        std::string s;
        std::size_t n = rng() % 40;
        for (std::size_t i = 0; i < n; ++i) s += pieces[rng() % std::size(pieces)];
        if (k % 2) s = std::string(rng() % 24, 'x') + s;  // long plain runs before the rest
        std::string out;
        stratus::core::append_json_string(out, s);
        std::string expected = json(s).dump(-1, ' ', false, json::error_handler_t::replace);
        if (out != expected && differ++ < 3) MESSAGE("in: ", s, " out: ", out, " expected: ", expected);
    }
    CHECK(differ == 0);
}

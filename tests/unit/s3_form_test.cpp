// multipart/form-data parsing for POST Object (s3/form.hpp).
#include "s3/form.hpp"

#include <doctest/doctest.h>

#include <string>

using stratus::s3::form_boundary;
using stratus::s3::FormError;
using stratus::s3::parse_form;
using namespace std::string_literals;

TEST_CASE("form_boundary reads multipart/form-data's boundary") {
    CHECK(form_boundary("multipart/form-data; boundary=abc") == "abc");
    CHECK(form_boundary("Multipart/Form-Data;boundary=\"a b\"") == "a b");
    CHECK(form_boundary("multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundary7MA4") ==
          "----WebKitFormBoundary7MA4");
    CHECK_FALSE(form_boundary("multipart/mixed; boundary=abc"));
    CHECK_FALSE(form_boundary("multipart/form-data"));
    CHECK_FALSE(form_boundary("multipart/form-data; boundary=" + std::string(71, 'x')));
    CHECK_FALSE(form_boundary("application/x-www-form-urlencoded"));
    CHECK_FALSE(form_boundary("multipart/form-data; boundary=\"open"));  // found by tests/fuzz/form_fuzz
}

TEST_CASE("parse_form: fields, a file, and where their bytes are") {
    std::string body =
        "preamble\r\n--XX\r\n"
        "Content-Disposition: form-data; name=\"key\"\r\n\r\n"
        "uploads/${filename}\r\n--XX  \r\n"
        "content-disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".png\"\r\n"
        "Content-Type: image/png\r\n\r\n"
        "\x00\r\n--X not the end\r\n--XX--\r\nepilogue"s;
    auto parts = parse_form(body, "XX");
    REQUIRE(parts.size() == 2);
    CHECK(parts[0].name == "key");
    CHECK_FALSE(parts[0].filename);
    CHECK(body.substr(parts[0].offset, parts[0].length) == "uploads/${filename}");
    CHECK(parts[1].name == "file");
    CHECK(parts[1].filename == "a \"b\".png");
    CHECK(parts[1].content_type == "image/png");
    CHECK(body.substr(parts[1].offset, parts[1].length) == std::string("\x00\r\n--X not the end", 18));
}

TEST_CASE("parse_form: empty parts and an empty form") {
    auto parts = parse_form("--b\r\nContent-Disposition: form-data; name=e\r\n\r\n\r\n--b--", "b");
    REQUIRE(parts.size() == 1);
    CHECK(parts[0].name == "e");
    CHECK(parts[0].length == 0);
    CHECK(parse_form("--b--\r\n", "b").empty());
}

TEST_CASE("parse_form refuses what is not multipart/form-data") {
    auto bad = [](std::string body) { CHECK_THROWS_AS(parse_form(body, "b"), FormError); };
    bad("");
    bad("no boundary at all");
    bad("--b\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nvalue never ends");
    bad("--b\r\nContent-Disposition: form-data; name=\"k\"\r\nheaders never end");
    bad("--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--");               // no Content-Disposition
    bad("--b\r\nContent-Disposition: attachment; name=\"k\"\r\n\r\nv\r\n--b--");  // not form-data
    bad("--b\r\nContent-Disposition: form-data; filename=\"f\"\r\n\r\nv\r\n--b--");  // no name
    bad("--b\r\nContent-Disposition: form-data; name=\"k\r\n\r\nv\r\n--b--");      // open quote
    bad("--bjunk\r\n");
    std::string many;
    for (int i = 0; i < 5; ++i) many += "--b\r\nContent-Disposition: form-data; name=x\r\n\r\nv\r\n";
    CHECK_THROWS_AS(parse_form(many + "--b--", "b", 4), FormError);
    CHECK(parse_form(many + "--b--", "b", 5).size() == 5);
}

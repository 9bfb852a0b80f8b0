// DynamoDB expressions (dynamo/expr): tokenizer and parser, #n / :v resolution and AWS's
// validation messages, condition truth tables, update application, projection, key
// conditions, and hostile inputs that must fail fast instead of exhausting the stack.
#include "dynamo/expr/expr.hpp"

#include <doctest/doctest.h>

#include <cctype>
#include <ctime>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "dynamo/expr/ast.hpp"
#include "dynamo/model/table.hpp"
#include "dynamo/model/value.hpp"

namespace {

namespace expr = stratus::dynamo::expr;
using stratus::core::AwsError;
using stratus::dynamo::AttributeValue;
using stratus::dynamo::Item;
using stratus::dynamo::KeyElement;
using stratus::dynamo::KeySchema;
using stratus::dynamo::List;
using stratus::dynamo::Map;
using stratus::dynamo::Number;
using stratus::dynamo::Type;

// ---- value shorthands

AttributeValue S(std::string s) { return AttributeValue::string(std::move(s)); }
AttributeValue N(std::string_view n) { return AttributeValue::number(Number::parse(n)); }
AttributeValue B(std::string bytes) { return AttributeValue::binary(std::move(bytes)); }
AttributeValue BOOL(bool b) { return AttributeValue::boolean_value(b); }
AttributeValue NUL() { return AttributeValue::null(); }
AttributeValue L(List l) { return AttributeValue::list(std::move(l)); }
AttributeValue M(Map m) { return AttributeValue::map(std::move(m)); }
AttributeValue SS(std::vector<std::string> v) { return AttributeValue::string_set(std::move(v)); }
AttributeValue BS(std::vector<std::string> v) { return AttributeValue::binary_set(std::move(v)); }
AttributeValue NS(std::initializer_list<std::string_view> v) {
    std::vector<Number> n;
    for (auto s : v) n.push_back(Number::parse(s));
    return AttributeValue::number_set(std::move(n));
}

// ---- running expressions

// The message of the ValidationException `f` throws; "<no error>" when it throws none.
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const AwsError& e) {
        CHECK(e.code() == "ValidationException");
        CHECK(e.status() == 400);
        return e.message();
    }
    return "<no error>";
}

bool cond(std::string_view text, const Item& item, expr::Values values = {}, expr::Names names = {}) {
    expr::Context ctx(std::move(names), std::move(values));
    expr::Condition c = ctx.condition(text);
    ctx.check_unused();
    return c.evaluate(item);
}

std::string cond_error(std::string_view text, expr::Values values = {}, expr::Names names = {},
                       expr::Kind kind = expr::Kind::condition) {
    return error_of([&] {
        expr::Context ctx(std::move(names), std::move(values));
        ctx.condition(text, kind);
        ctx.check_unused();
    });
}

Item update(std::string_view text, const Item& item, expr::Values values = {}, expr::Names names = {}) {
    expr::Context ctx(std::move(names), std::move(values));
    expr::Update u = ctx.update(text);
    ctx.check_unused();
    return u.apply(item).item;
}

std::string update_error(std::string_view text, const Item& item = {}, expr::Values values = {},
                         expr::Names names = {}) {
    return error_of([&] {
        expr::Context ctx(std::move(names), std::move(values));
        ctx.update(text).apply(item);
    });
}

Item project(std::string_view text, const Item& item, expr::Names names = {}) {
    expr::Context ctx(std::move(names), {});
    return ctx.projection(text).apply(item);
}

std::string projection_error(std::string_view text, expr::Names names = {}) {
    return error_of([&] {
        expr::Context ctx(std::move(names), {});
        ctx.projection(text);
    });
}

const KeySchema hash_only{KeyElement{"id", Type::S}, std::nullopt};
const KeySchema hash_range{KeyElement{"id", Type::S}, KeyElement{"sk", Type::N}};

expr::KeyCondition key(std::string_view text, expr::Values values, const KeySchema& schema = hash_range,
                       expr::Names names = {}) {
    expr::Context ctx(std::move(names), std::move(values));
    auto k = ctx.key_condition(text, schema);
    ctx.check_unused();
    return k;
}

std::string key_error(std::string_view text, expr::Values values, const KeySchema& schema = hash_range,
                      expr::Names names = {}) {
    return error_of([&] {
        expr::Context ctx(std::move(names), std::move(values));
        ctx.key_condition(text, schema);
    });
}

// Hostile inputs must be answered (with an error) without blowing up: they take a few ms;
// a parser that backtracks exponentially or recurses without a bound takes seconds or
// crashes. Thread CPU time, not wall time, so a loaded machine or a sanitizer build does not
// make this fail (speed itself is measured in bench/, not here).
double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

template <class F>
void fast(F&& f) {
    double start = thread_cpu_ms();
    f();
    CHECK(thread_cpu_ms() - start < 1000.0);
}

std::string repeat(std::string_view s, std::size_t n) {
    std::string out;
    out.reserve(s.size() * n);
    for (std::size_t i = 0; i < n; ++i) out += s;
    return out;
}

// One item with an attribute of every type, for the truth tables.
const Item sample{
    {"n", N("5")},
    {"neg", N("-2.5")},
    {"s", S("abc")},
    {"b", B(std::string("\x01\x02", 2))},
    {"bhi", B("\xff")},
    {"t", BOOL(true)},
    {"nul", NUL()},
    {"ss", SS({"x", "y"})},
    {"ns", NS({"1", "2"})},
    {"bs", BS({"\x01"})},
    {"l", L({N("1"), S("two"), M({{"k", S("v")}})})},
    {"m", M({{"k", S("v")}, {"inside", M({{"deep", N("7")}})}})},
};

const expr::Values sample_values{
    {":five", N("5")},   {":ten", N("10")},      {":one", N("1")},      {":abc", S("abc")},
    {":ab", S("ab")},    {":b", S("b")},         {":zzz", S("zzz")},    {":true", BOOL(true)},
    {":null", NUL()},    {":x", S("x")},         {":two", S("two")},    {":bin", B(std::string("\x01", 1))},
    {":bhi", B("\xff")}, {":ss", SS({"y", "x"})}, {":ns", NS({"2", "1"})},
    {":kv", M({{"k", S("v")}})},
};

// Evaluates `text` against `sample`, with only the values the text uses.
bool on_sample(std::string_view text) {
    expr::Values used;
    for (const auto& [k, v] : sample_values) {
        std::size_t at = std::string_view(text).find(k);
        // Whole placeholder only (":ab" must not claim ":abc").
        while (at != std::string_view::npos) {
            std::size_t end = at + k.size();
            if (end == text.size() || !(std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
                used.emplace(k, v);
                break;
            }
            at = std::string_view(text).find(k, at + 1);
        }
    }
    return cond(text, sample, std::move(used));
}

}  // namespace

TEST_SUITE_BEGIN("dynamo_expr");

// =====================================================================================
// Tokenizer and parser

TEST_CASE("expr: tokenizer splits names, placeholders, numbers and operators") {
    using expr::detail::Tok;
    auto toks = expr::detail::tokenize("#a.b[12] <> :v_1 AND x<=y>=z<w>v, (+-)");
    std::vector<Tok> kinds;
    for (const auto& t : toks) kinds.push_back(t.kind);
    std::vector<Tok> want{Tok::name_ref, Tok::dot,   Tok::name,   Tok::lbracket, Tok::number, Tok::rbracket,
                          Tok::ne,       Tok::value_ref, Tok::name, Tok::name,   Tok::le,     Tok::name,
                          Tok::ge,       Tok::name,  Tok::lt,     Tok::name,     Tok::gt,     Tok::name,
                          Tok::comma,    Tok::lparen, Tok::plus,  Tok::minus,    Tok::rparen, Tok::eof};
    CHECK(kinds == want);
    SUBCASE("bad characters become one token each, whole UTF-8 characters") {
        auto bad = expr::detail::tokenize("a $ \xc3\xa9 # : 1x");
        REQUIRE(bad.size() == 7);
        CHECK(bad[1].kind == Tok::invalid);
        CHECK(bad[2].kind == Tok::invalid);
        CHECK(bad[2].len == 2);
        CHECK(bad[3].kind == Tok::invalid);  // '#' alone
        CHECK(bad[4].kind == Tok::invalid);  // ':' alone
        CHECK(bad[5].kind == Tok::invalid);  // "1x"
        CHECK(bad[5].len == 2);
    }
}

TEST_CASE("expr: NOT binds tighter than AND, AND tighter than OR") {
    // `n` exists in `sample`, `absent` does not.
    const char* t = "attribute_exists(n)";
    const char* f = "attribute_exists(absent)";
    auto c = [&](std::string text) { return on_sample(text); };
    // OR below AND: t OR (f AND f) is true; (t OR f) AND f would be false.
    CHECK(c(std::string(t) + " OR " + f + " AND " + f));
    // NOT above AND: (NOT f) AND f is false; NOT (f AND f) would be true.
    CHECK_FALSE(c(std::string("NOT ") + f + " AND " + f));
    // NOT above OR: (NOT t) OR t is true; NOT (t OR t) would be false.
    CHECK(c(std::string("NOT ") + t + " OR " + t));
    // Parentheses override.
    CHECK_FALSE(c("(" + std::string(t) + " OR " + f + ") AND " + f));
    CHECK(c(std::string("NOT (") + f + " AND " + f + ")"));
    CHECK(c(std::string("NOT NOT ") + t));
    CHECK(c(std::string(t) + " AND " + t + " AND " + t + " OR " + f));
    SUBCASE("keywords are case-insensitive") {
        CHECK(c(std::string(t) + " and not " + f));
        CHECK(c(std::string(f) + " Or " + t));
    }
}

TEST_CASE("expr: comparisons bind tighter than AND and OR; BETWEEN's AND is its own") {
    CHECK(on_sample("n = :five AND s = :abc"));
    CHECK(on_sample("n = :one OR s = :abc"));
    CHECK_FALSE(on_sample("n = :one OR s = :ab AND n = :five"));
    CHECK(on_sample("n BETWEEN :one AND :ten AND s = :abc"));
    CHECK(on_sample("n BETWEEN :one AND :five OR n = :one"));
    CHECK(on_sample("n IN (:one, :five) AND size(s) = :ten OR s IN (:abc)"));
}

TEST_CASE("expr: document paths reach nested maps, list elements and #names") {
    CHECK(on_sample("m.k = :x") == false);
    CHECK(on_sample("m.inside.deep > :five"));
    CHECK(on_sample("l[1] = :two"));
    CHECK(on_sample("l[2].k = :x") == false);
    CHECK(on_sample("attribute_exists(l[2].k)"));
    CHECK(on_sample("attribute_not_exists(l[3])"));
    CHECK(on_sample("attribute_not_exists(l.k)"));    // a list has no keys
    CHECK(on_sample("attribute_not_exists(m[0])"));   // a map has no indexes
    CHECK(on_sample("attribute_not_exists(s.k)"));
    CHECK(on_sample("m . inside . deep > :five"));      // spaces inside a path
    CHECK(on_sample("l [ 1 ] = :two"));
    SUBCASE("list of lists") {
        Item item{{"a", L({L({N("0"), M({{"c", S("x")}})})})}};
        CHECK(cond("a[0][1].c = :x", item, {{":x", S("x")}}));
    }
    SUBCASE("#names resolve to any name, dots included, at any level") {
        Item item{{"a.b", M({{"c-d", N("1")}})}, {"a", M({{"b", N("2")}})}};
        CHECK(cond("#ab.#cd = :one", item, {{":one", N("1")}}, {{"#ab", "a.b"}, {"#cd", "c-d"}}));
        CHECK(cond("a.b = :two", item, {{":two", N("2")}}));
        CHECK(cond("#a.b = :two", item, {{":two", N("2")}}, {{"#a", "a"}}));
        CHECK(cond("a.#b = :two", item, {{":two", N("2")}}, {{"#b", "b"}}));
    }
    SUBCASE("names may hold underscores and digits after the first character") {
        Item item{{"x_1", N("1")}, {"A_2", N("2")}};
        CHECK(cond("x_1 = :a AND A_2 = :b", item, {{":a", N("1")}, {":b", N("2")}}));
    }
    SUBCASE("names start with a letter: _x and 1x are not tokens") {
        CHECK(cond_error("_x = :a", {{":a", N("1")}}) ==
              "Invalid ConditionExpression: Syntax error; token: \"_\", near: \"_x\"");
        CHECK(cond_error("1x = :a", {{":a", N("1")}}) ==
              "Invalid ConditionExpression: Syntax error; token: \"1x\", near: \"1x =\"");
        CHECK(cond_error("a.1x = :a", {{":a", N("1")}}).rfind("Invalid ConditionExpression: Syntax error; token: \"1x\"", 0) == 0);
        CHECK(projection_error("a, _b").rfind("Invalid ProjectionExpression: Syntax error; token: \"_\"", 0) == 0);
    }
}

TEST_CASE("expr: every condition function parses and evaluates") {
    const Item item{{"s", S("hello")}, {"l", L({N("1")})}};
    const expr::Values v{{":t", S("S")}, {":p", S("he")}, {":one", N("1")}, {":five", N("5")}};
    auto check = [&](std::string_view text) {
        expr::Values used;
        for (const auto& [k, val] : v)
            if (text.find(k) != std::string_view::npos) used.emplace(k, val);
        return cond(text, item, used);
    };
    CHECK(check("attribute_exists(s)"));
    CHECK(check("attribute_not_exists(nope)"));
    CHECK(check("attribute_type(s, :t)"));
    CHECK(check("begins_with(s, :p)"));
    CHECK(check("contains(l, :one)"));
    CHECK(check("size(s) = :five"));
    CHECK(check("attribute_exists(s) AND attribute_type(s, :t) AND begins_with(s, :p) AND contains(s, :p) AND "
                "size(l) = :one AND NOT attribute_not_exists(l[0])"));
}

TEST_CASE("expr: functions with the wrong number of operands") {
    CHECK(cond_error("attribute_exists(a, b)") ==
          "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or "
          "function: attribute_exists, number of operands: 2");
    CHECK(cond_error("begins_with(a)") ==
          "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or "
          "function: begins_with, number of operands: 1");
    CHECK(cond_error("size(a, b) > :v", {{":v", N("1")}}) ==
          "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or "
          "function: size, number of operands: 2");
    CHECK(cond_error("contains()") ==
          "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or "
          "function: contains, number of operands: 0");
    CHECK(update_error("SET a = list_append(:l)", {}, {{":l", L({})}}) ==
          "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or "
          "function: list_append, number of operands: 1");
}

TEST_CASE("expr: function arguments that must be document paths") {
    CHECK(cond_error("attribute_exists(:v)", {{":v", S("a")}}) ==
          "Invalid ConditionExpression: Operator or function requires a document path; operator or function: "
          "attribute_exists");
    CHECK(cond_error("contains(:v, a)", {{":v", S("a")}}) ==
          "Invalid ConditionExpression: Operator or function requires a document path; operator or function: "
          "contains");
    // attribute_type, begins_with and size also take a :value first (AWS accepts these).
    CHECK(cond("begins_with(:v, :p)", Item{}, {{":v", S("abc")}, {":p", S("ab")}}));
    CHECK_FALSE(cond("begins_with(:v, s)", Item{{"s", S("x")}}, {{":v", S("abc")}}));
    CHECK(cond("size(:v) = :three", Item{}, {{":v", S("abc")}, {":three", N("3")}}));
    CHECK(cond("attribute_type(:v, :t)", Item{}, {{":v", S("abc")}, {":t", S("S")}}));
    // attribute_type's type must be a :value; for a path DynamoDB names every type (dynalite's
    // wording, which it took from the service).
    CHECK(cond_error("attribute_type(a, b)") ==
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: "
          "attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}");
    CHECK(update_error("SET a = if_not_exists(:v, :v)", {}, {{":v", S("a")}}) ==
          "Invalid UpdateExpression: Operator or function requires a document path; operator or function: "
          "if_not_exists");
}

TEST_CASE("expr: function names are case-sensitive and checked per expression kind") {
    CHECK(cond_error("Attribute_Exists(a)") ==
          "Invalid ConditionExpression: Invalid function name; function: Attribute_Exists");
    CHECK(cond_error("foo(a)") == "Invalid ConditionExpression: Invalid function name; function: foo");
    CHECK(update_error("SET a = bar(b)") == "Invalid UpdateExpression: Invalid function name; function: bar");
    // A function of the other kind is unknown to this one (dynalite's reading of DynamoDB).
    CHECK(cond_error("if_not_exists(a, :v) = :v", {{":v", N("1")}}) ==
          "Invalid ConditionExpression: Invalid function name; function: if_not_exists");
    CHECK(update_error("SET a = size(b)") == "Invalid UpdateExpression: Invalid function name; function: size");
    CHECK(update_error("SET a = list_append(size(b), :v)", {}, {{":v", L({})}}) ==
          "Invalid UpdateExpression: Invalid function name; function: size");
}

TEST_CASE("expr: size is only an operand; boolean functions are never operands") {
    CHECK(on_sample("size(s) = :ten") == false);
    CHECK(cond_error("size(a)") ==
          "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; "
          "function: size");
    CHECK(cond_error("attribute_exists(a) = :v", {{":v", BOOL(true)}}) ==
          "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; "
          "function: attribute_exists");
    CHECK(cond_error("contains(a, begins_with(b, :v))", {{":v", S("x")}}) ==
          "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; "
          "function: begins_with");
    CHECK(cond_error("attribute_exists(size(a))") ==
          "Invalid ConditionExpression: Operator or function requires a document path; operator or function: "
          "attribute_exists");
    CHECK(cond_error("a IN (:v, begins_with(b, :v))", {{":v", S("x")}}) ==
          "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; "
          "function: begins_with");
    CHECK(on_sample("size(s) BETWEEN :one AND :five"));
}

// size(...) may be a function's argument, typed N (as dynalite, written against DynamoDB,
// checks it): contains(a, size(b)) holds when a list a holds b's size.
TEST_CASE("expr: size() as a function argument is a number") {
    Item item{{"l", L({N("3"), N("7")})}, {"s", S("abc")}, {"t", S("N")}};
    CHECK(cond("contains(l, size(s))", item));
    CHECK_FALSE(cond("contains(l, size(t))", item));
    CHECK(cond("attribute_type(size(s), :n)", item, {{":n", S("N")}}));
    CHECK(cond_error("size(size(s)) = :v", {{":v", N("1")}}) ==
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, "
          "operand type: N");
    CHECK(cond_error("begins_with(s, size(t))") ==
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: "
          "begins_with, operand type: N");
    CHECK(cond_error("begins_with(:v, s)", {{":v", N("1")}}) ==
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: "
          "begins_with, operand type: N");
    CHECK(cond_error("size(:v) = :v", {{":v", N("1")}}) ==
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, "
          "operand type: N");
    CHECK(cond_error("size(:v) = :n", {{":v", BOOL(true)}, {":n", N("1")}}) ==
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, "
          "operand type: BOOL");
    CHECK(cond_error("attribute_type(s, size(t))") ==
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: "
          "attribute_type, operand type: N");
    CHECK(on_sample("size(l) IN (:one, :five) OR size(l) > size(ss)"));
}

TEST_CASE("expr: syntax errors quote the token and its neighbours") {
    using namespace std::string_literals;
    CHECK(cond_error("a = ") == R"(Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "=")");
    CHECK(cond_error("a-b = :v", {{":v", N("1")}}) ==
          R"(Invalid ConditionExpression: Syntax error; token: "-", near: "a-b")");
    CHECK(cond_error("a = 5") == R"(Invalid ConditionExpression: Syntax error; token: "5", near: "= 5")");
    CHECK(cond_error("a = :v $ b", {{":v", N("1")}}) ==
          R"(Invalid ConditionExpression: Syntax error; token: "$", near: ":v $ b")");
    CHECK(cond_error("a = :v b = :w", {{":v", N("1")}, {":w", N("1")}}) ==
          R"(Invalid ConditionExpression: Syntax error; token: "b", near: ":v b =")");
    CHECK(cond_error("(a = :v", {{":v", N("1")}}) ==
          R"(Invalid ConditionExpression: Syntax error; token: "<EOF>", near: ":v")");
    CHECK(cond_error("a = :v)", {{":v", N("1")}}) ==
          "Invalid ConditionExpression: Syntax error; token: \")\", near: \":v)\"");
    CHECK(cond_error("a != :v", {{":v", N("1")}}) ==
          R"(Invalid ConditionExpression: Syntax error; token: "!", near: "a !=")");
    CHECK(cond_error("a BETWEEN :v OR :v", {{":v", N("1")}}) ==
          R"(Invalid ConditionExpression: Syntax error; token: "OR", near: ":v OR :v")");
    CHECK(cond_error("a IN :v", {{":v", N("1")}}) ==
          R"(Invalid ConditionExpression: Syntax error; token: ":v", near: "IN :v")");
    CHECK(cond_error("a = :v AND", {{":v", N("1")}}) ==
          R"(Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND")");
    CHECK(cond_error("AND = :v", {{":v", N("1")}}) ==
          R"(Invalid ConditionExpression: Syntax error; token: "AND", near: "AND =")");
    CHECK(cond_error("a = # b") == R"(Invalid ConditionExpression: Syntax error; token: "#", near: "= # b")");
    CHECK(cond_error("a = : b") == R"(Invalid ConditionExpression: Syntax error; token: ":", near: "= : b")");
    CHECK(cond_error("a = :v", {{":v", N("1")}}, {}, expr::Kind::filter) == "<no error>");
    CHECK(cond_error("a =", {}, {}, expr::Kind::filter) ==
          R"(Invalid FilterExpression: Syntax error; token: "<EOF>", near: "=")");
    SUBCASE("paths") {
        CHECK(projection_error("a[-1]") == R"(Invalid ProjectionExpression: Syntax error; token: "-", near: "[-1")");
        CHECK(projection_error("a[1.5]") == R"(Invalid ProjectionExpression: Syntax error; token: ".", near: "1.5")");
        CHECK(projection_error("a[x]") == R"(Invalid ProjectionExpression: Syntax error; token: "x", near: "[x]")");
        CHECK(projection_error("a.") == R"(Invalid ProjectionExpression: Syntax error; token: "<EOF>", near: ".")");
        CHECK(projection_error("a..b") == R"(Invalid ProjectionExpression: Syntax error; token: ".", near: "..b")");
        CHECK(projection_error("a,,b") == R"(Invalid ProjectionExpression: Syntax error; token: ",", near: ",,b")");
        CHECK(projection_error("1a") == R"(Invalid ProjectionExpression: Syntax error; token: "1a", near: "1a")");
        CHECK(projection_error("a[99999999999]") ==
              R"(Invalid ProjectionExpression: Syntax error; token: "99999999999", near: "[99999999999]")");
    }
    SUBCASE("updates") {
        CHECK(update_error("SET a = :v,", {}, {{":v", N("1")}}) ==
              R"(Invalid UpdateExpression: Syntax error; token: "<EOF>", near: ",")");
        CHECK(update_error("a = :v", {}, {{":v", N("1")}}) ==
              R"(Invalid UpdateExpression: Syntax error; token: "a", near: "a =")");
        CHECK(update_error("SET a :v", {}, {{":v", N("1")}}) ==
              R"(Invalid UpdateExpression: Syntax error; token: ":v", near: "a :v")");
        CHECK(update_error("SET a = :v + :v + :v", {}, {{":v", N("1")}}) ==
              R"(Invalid UpdateExpression: Syntax error; token: "+", near: ":v + :v")");
        CHECK(update_error("ADD a b", {}, {}) == R"(Invalid UpdateExpression: Syntax error; token: "b", near: "a b")");
        CHECK(update_error("REMOVE a = :v", {}, {{":v", N("1")}}) ==
              R"(Invalid UpdateExpression: Syntax error; token: "=", near: "a = :v")");
        CHECK(update_error("SET", {}, {}) == R"(Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "SET")");
        CHECK(update_error("SET a = :v AND b = :v", {}, {{":v", N("1")}}) ==
              R"(Invalid UpdateExpression: Syntax error; token: "AND", near: ":v AND b")");
    }
}

TEST_CASE("expr: each update clause at most once") {
    CHECK(update_error("SET a = :v SET b = :v", {}, {{":v", N("1")}}) ==
          "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;");
    CHECK(update_error("REMOVE a remove b") ==
          "Invalid UpdateExpression: The \"REMOVE\" section can only be used once in an update expression;");
    CHECK(update_error("ADD a :v SET b = :v ADD c :v", {}, {{":v", N("1")}}) ==
          "Invalid UpdateExpression: The \"ADD\" section can only be used once in an update expression;");
    CHECK(update_error("DELETE a :s DELETE b :s", {}, {{":s", SS({"x"})}}) ==
          "Invalid UpdateExpression: The \"DELETE\" section can only be used once in an update expression;");
}

TEST_CASE("expr: empty expressions") {
    CHECK(cond_error("") == "Invalid ConditionExpression: The expression can not be empty;");
    CHECK(cond_error("  \t\n") == "Invalid ConditionExpression: The expression can not be empty;");
    CHECK(cond_error("", {}, {}, expr::Kind::filter) == "Invalid FilterExpression: The expression can not be empty;");
    CHECK(update_error("") == "Invalid UpdateExpression: The expression can not be empty;");
    CHECK(update_error(" ") == "Invalid UpdateExpression: The expression can not be empty;");
    CHECK(projection_error("") == "Invalid ProjectionExpression: The expression can not be empty;");
    CHECK(key_error("", {}) == "Invalid KeyConditionExpression: The expression can not be empty;");
    SUBCASE("absent expressions are default-constructed and do nothing") {
        CHECK(expr::Condition{}.evaluate(sample));
        CHECK(expr::Condition{}.empty());
        CHECK(expr::Update{}.apply(sample).item == sample);
        CHECK(expr::Projection{}.apply(sample).empty());
    }
}

TEST_CASE("expr: expressions are limited to 4 KB") {
    std::string ok = "a = :v" + std::string(expr::max_expression_bytes - 6, ' ');
    CHECK(ok.size() == 4096);
    CHECK(cond_error(ok, {{":v", N("1")}}) == "<no error>");
    CHECK(cond_error(ok + " ", {{":v", N("1")}}) ==
          "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097");
    CHECK(update_error("SET a = :v" + std::string(5000, ' '), {}, {{":v", N("1")}}) ==
          "Invalid UpdateExpression: Expression size has exceeded the maximum allowed size; expression size: 5010");
    CHECK(projection_error(std::string(4097, 'a')) ==
          "Invalid ProjectionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097");
}

// =====================================================================================
// Names, values and reserved words

TEST_CASE("expr: the reserved word list is AWS's 573 words, matched in any case") {
    CHECK(expr::reserved_word_count() == 573);
    for (const char* w : {"ABORT", "ABSOLUTE", "ACTION", "ADD", "AFTER", "AGENT", "AGGREGATE", "ALL", "STATUS",
                          "NAME", "DATA", "COUNT", "SIZE", "TTL", "USER", "VALUE", "ZONE", "FLATTERN", "INNTER",
                          "LOGED", "SQLEXCEPTION", "YEAR", "KEY", "TIMESTAMP", "DATE", "TYPE", "HASH", "RANGE"})
        CHECK_MESSAGE(expr::is_reserved_word(w), w);
    CHECK(expr::is_reserved_word("status"));
    CHECK(expr::is_reserved_word("StAtUs"));
    for (const char* w : {"id", "attribute_exists", "contains", "begins_with", "statuses", "", "ZONES", "foo_bar",
                          "price", "email"})
        CHECK_FALSE_MESSAGE(expr::is_reserved_word(w), w);
}

TEST_CASE("expr: reserved words as bare names are rejected, in every expression kind") {
    CHECK(update_error("SET status = :v", {}, {{":v", S("x")}}) ==
          "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status");
    CHECK(cond_error("Name = :v", {{":v", S("x")}}) ==
          "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Name");
    CHECK(cond_error("a.data = :v", {{":v", S("x")}}) ==
          "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: data");
    CHECK(cond_error("attribute_exists(size)") ==
          "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: size");
    CHECK(projection_error("id, count") ==
          "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: count");
    CHECK(key_error("id = :v AND #s > :w", {{":v", S("x")}, {":w", N("1")}}, hash_range, {{"#s", "sk"}}) == "<no error>");
    CHECK(key_error("key = :v", {{":v", S("x")}}) ==
          "Invalid KeyConditionExpression: Attribute name is a reserved keyword; reserved keyword: key");
    CHECK(cond_error("a = :v AND b.c[1].user = :v", {{":v", S("x")}}) ==
          "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: user");
    // Clause words are grammar in updates but plain (reserved) names elsewhere.
    CHECK(projection_error("a, set") ==
          "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: set");
    CHECK(update_error("SET a = and", {}, {}) ==
          "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: and");
    SUBCASE("a #placeholder is the way around it") {
        Item item{{"status", S("on")}};
        CHECK(cond("#s = :v", item, {{":v", S("on")}}, {{"#s", "status"}}));
        CHECK(update("SET #s = :v", item, {{":v", S("off")}}, {{"#s", "status"}}).at("status") == S("off"));
    }
}

TEST_CASE("expr: undefined #names and :values") {
    CHECK(cond_error("#x = :v", {{":v", N("1")}}) ==
          "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; "
          "attribute name: #x");
    CHECK(cond_error("a.#y = :v", {{":v", N("1")}}, {{"#x", "x"}}) ==
          "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; "
          "attribute name: #y");
    CHECK(cond_error("a = :x") ==
          "Invalid ConditionExpression: An expression attribute value used in expression is not defined; "
          "attribute value: :x");
    CHECK(update_error("SET a = :v") ==
          "Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
          "attribute value: :v");
    CHECK(update_error("REMOVE #a") ==
          "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; "
          "attribute name: #a");
    CHECK(projection_error("#p") ==
          "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; "
          "attribute name: #p");
    CHECK(key_error("id = :nope", {}) ==
          "Invalid KeyConditionExpression: An expression attribute value used in expression is not defined; "
          "attribute value: :nope");
    SUBCASE("the first problem in reading order is reported") {
        CHECK(cond_error("#x = :y AND status = :z") ==
              "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; "
              "attribute name: #x");
        CHECK(cond_error("status = :y AND #x = :z") ==
              "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status");
        CHECK(cond_error("a = :y AND #x = :z") ==
              "Invalid ConditionExpression: An expression attribute value used in expression is not defined; "
              "attribute value: :y");
    }
}

TEST_CASE("expr: unused #names and :values are reported across all of a request's expressions") {
    SUBCASE("unused in every expression") {
        auto e = error_of([] {
            expr::Context ctx({{"#a", "a"}, {"#b", "b"}}, {{":v", N("1")}});
            ctx.condition("#a = :v");
            ctx.check_unused();
        });
        CHECK(e == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}");
        e = error_of([] {
            expr::Context ctx({{"#a", "a"}}, {{":v", N("1")}, {":w", N("2")}, {":u", N("3")}});
            ctx.condition("#a = :v");
            ctx.check_unused();
        });
        CHECK(e == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:u, :w}");
    }
    SUBCASE("names are reported before values") {
        auto e = error_of([] {
            expr::Context ctx({{"#a", "a"}}, {{":v", N("1")}});
            ctx.projection("b");
            ctx.check_unused();
        });
        CHECK(e == "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a}");
    }
    SUBCASE("used by another expression of the same request counts") {
        expr::Context ctx({{"#c", "c"}, {"#p", "p"}, {"#u", "u"}}, {{":c", N("1")}, {":u", N("2")}});
        ctx.condition("#c = :c");
        ctx.update("SET #u = :u");
        ctx.projection("#p");
        CHECK_NOTHROW(ctx.check_unused());
        CHECK(ctx.used_names() == std::set<std::string>{"#c", "#p", "#u"});
        CHECK(ctx.used_values() == std::set<std::string>{":c", ":u"});
    }
    SUBCASE("key condition and filter share the maps") {
        expr::Context ctx({}, {{":id", S("x")}, {":f", N("1")}});
        ctx.key_condition("id = :id", hash_only);
        auto e = error_of([&] { ctx.check_unused(); });
        CHECK(e == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:f}");
        ctx.filter("f = :f");
        CHECK_NOTHROW(ctx.check_unused());
    }
}

TEST_CASE("expr: placeholder keys must be #word and :word") {
    CHECK(error_of([] { expr::Context({{"a", "a"}}, {}); }) ==
          "ExpressionAttributeNames contains invalid key: Syntax error; key: \"a\"");
    CHECK(error_of([] { expr::Context({{"#", "a"}}, {}); }) ==
          "ExpressionAttributeNames contains invalid key: Syntax error; key: \"#\"");
    CHECK(error_of([] { expr::Context({{"#a-b", "a"}}, {}); }) ==
          "ExpressionAttributeNames contains invalid key: Syntax error; key: \"#a-b\"");
    CHECK(error_of([] { expr::Context({}, {{"v", N("1")}}); }) ==
          "ExpressionAttributeValues contains invalid key: Syntax error; key: \"v\"");
    CHECK(error_of([] { expr::Context({}, {{":a b", N("1")}}); }) ==
          "ExpressionAttributeValues contains invalid key: Syntax error; key: \":a b\"");
    CHECK(error_of([] { expr::Context({{"#e", ""}}, {}); }) ==
          "ExpressionAttributeNames contains invalid value: Empty attribute name for key #e");
    CHECK(error_of([] { expr::Context({{"#a_1", "x"}}, {{":b_2", N("1")}}); }) == "<no error>");
}

// =====================================================================================
// Static operand checks

TEST_CASE("expr: attribute_type's type operand must be a valid type name") {
    for (const char* t : {"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"})
        CHECK_MESSAGE(cond_error("attribute_type(a, :t)", {{":t", S(t)}}) == "<no error>", t);
    CHECK(cond_error("attribute_type(a, :t)", {{":t", S("STRING")}}) ==
          "Invalid ConditionExpression: Invalid attribute type name found; type: STRING, valid types: "
          "{ B,BOOL,BS,L,M,N,NS,NULL,S,SS }");
    CHECK(cond_error("attribute_type(a, :t)", {{":t", S("s")}}) ==
          "Invalid ConditionExpression: Invalid attribute type name found; type: s, valid types: "
          "{ B,BOOL,BS,L,M,N,NS,NULL,S,SS }");
    CHECK(cond_error("attribute_type(a, :t)", {{":t", N("1")}}) ==
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: "
          "attribute_type, operand type: N");
}

TEST_CASE("expr: BETWEEN bounds must be ordered and of one type") {
    CHECK(cond_error("a BETWEEN :lo AND :hi", {{":lo", N("5")}, {":hi", N("1")}}) ==
          "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to "
          "lower bound; lower operand: AttributeValue: {N:5}, upper operand: AttributeValue: {N:1}");
    CHECK(cond_error("a BETWEEN :lo AND :hi", {{":lo", S("b")}, {":hi", S("a")}}) ==
          "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to "
          "lower bound; lower operand: AttributeValue: {S:b}, upper operand: AttributeValue: {S:a}");
    CHECK(cond_error("a BETWEEN :lo AND :hi", {{":lo", N("1")}, {":hi", S("a")}}) ==
          "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; "
          "lower operand: AttributeValue: {N:1}, upper operand: AttributeValue: {S:a}");
    CHECK(cond_error("a BETWEEN :lo AND :hi", {{":lo", N("1")}, {":hi", N("1")}}) == "<no error>");
    CHECK(cond_error("a BETWEEN :lo AND :hi", {{":lo", BOOL(true)}, {":hi", BOOL(true)}}) ==
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: "
          "BETWEEN, operand type: BOOL");
    CHECK(cond_error("a BETWEEN b AND :hi", {{":hi", N("1")}}) == "<no error>");  // known only at run time
}

TEST_CASE("expr: ordering comparators and begins_with reject :values of unordered types") {
    CHECK(cond_error("a < :v", {{":v", L({N("1")})}}) ==
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, "
          "operand type: L");
    CHECK(cond_error(":v >= a", {{":v", M({})}}) ==
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: >=, "
          "operand type: M");
    CHECK(cond_error("a > :v", {{":v", SS({"x"})}}) ==
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: >, "
          "operand type: SS");
    CHECK(cond_error("a = :v AND b <> :v", {{":v", SS({"x"})}}) == "<no error>");
    CHECK(cond_error("begins_with(a, :v)", {{":v", N("1")}}) ==
          "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: "
          "begins_with, operand type: N");
    CHECK(cond_error("begins_with(a, :v)", {{":v", B("x")}}) == "<no error>");
}

TEST_CASE("expr: IN takes up to 100 operands") {
    expr::Values values;
    std::string list;
    for (int i = 0; i < 101; ++i) {
        std::string k = ":v" + std::to_string(i);
        values.emplace(k, N(std::to_string(i)));
        if (i < 100) list += (i ? ", " : "") + k;
    }
    expr::Values hundred(values);
    hundred.erase(":v100");
    CHECK(cond_error("a IN (" + list + ")", hundred) == "<no error>");
    CHECK(cond("a IN (" + list + ")", Item{{"a", N("99")}}, hundred));
    CHECK(cond_error("a IN (" + list + ", :v100)", values) ==
          "Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101");
}

TEST_CASE("expr: at most 300 operators or functions") {
    expr::Values v{{":v", N("1")}};
    // 150 comparisons and 149 ANDs: 299 operators.
    std::string ok = "a = :v" + repeat(" AND a = :v", 149);
    CHECK(cond_error(ok, v) == "<no error>");
    std::string over = ok + " AND a = :v";  // 301
    CHECK(cond_error(over, v) ==
          "Invalid ConditionExpression: The expression contains too many operators; operator count: 301");
    std::string sets = "SET a=:v+:v" + repeat(",a=:v+:v", 300);
    CHECK(update_error(sets, {}, v).find("The expression contains too many operators; operator count: 301") !=
          std::string::npos);
}

TEST_CASE("expr: nesting limits: document paths and parentheses") {
    std::string path32 = "a" + repeat(".a", 31);
    CHECK(projection_error(path32) == "<no error>");
    CHECK(projection_error(path32 + ".a") ==
          "Invalid ProjectionExpression: The document path has too many nesting levels; nesting levels: 33");
    CHECK(projection_error("a" + repeat("[0]", 40)) ==
          "Invalid ProjectionExpression: The document path has too many nesting levels; nesting levels: 33");
    expr::Values v{{":v", N("1")}};
    // AWS limits operators (300), not nesting: 140 levels of "NOT (...)" are valid.
    std::string deep_ok = repeat("NOT (", 140) + "a = :v" + repeat(")", 140);
    CHECK(cond_error(deep_ok, v) == "<no error>");
    CHECK(cond(deep_ok, Item{{"a", N("1")}}, v));
    CHECK(cond(repeat("NOT ", 150) + "a = :v", Item{{"a", N("1")}}, v));
    CHECK(cond(repeat("NOT ", 151) + "a = :v", Item{{"a", N("1")}}, v) == false);
}

TEST_CASE("expr: redundant parentheses are refused") {
    expr::Values v{{":v", N("1")}};
    const std::string redundant = "Invalid ConditionExpression: The expression has redundant parentheses;";
    CHECK(cond_error("((a = :v))", v) == redundant);
    CHECK(cond_error("a = :v AND ((b = :v))", v) == redundant);
    CHECK(cond_error("NOT ((a = :v OR b = :v))", v) == redundant);
    CHECK(cond_error("(a = :v)", v) == "<no error>");
    CHECK(cond_error("((a = :v) AND (b = :v))", v) == "<no error>");
    CHECK(cond_error("(NOT (a = :v))", v) == "<no error>");
}

TEST_CASE("expr: an operand may stand in one pair of parentheses") {
    // dynalite's grammar (written against DynamoDB): "(a) = :v" passes, "((a)) = :v" is
    // redundant; also in function arguments, BETWEEN bounds and IN lists.
    expr::Values v{{":v", N("1")}};
    const std::string redundant = "Invalid ConditionExpression: The expression has redundant parentheses;";
    Item item{{"a", N("1")}, {"s", S("xy")}};
    CHECK(cond("(a) = :v", item, v));
    CHECK(cond("a = (:v)", item, v));
    CHECK(cond("(size(s)) > (:v)", item, v));
    CHECK(cond("size((s)) > :v", item, v));
    CHECK(cond("(a) BETWEEN (:v) AND :v", item, v));
    CHECK(cond("a IN ((:v))", item, v));
    CHECK(cond("((a) = :v) AND (a = :v)", item, v));
    CHECK(cond_error("((a)) = :v", v) == redundant);
    CHECK(cond_error("a IN (((:v)))", v) == redundant);
    CHECK(cond_error("(a)", v) != "<no error>");
    CHECK(cond_error("(attribute_exists(a)) = :v", v) ==
          "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; "
          "function: attribute_exists");
}

TEST_CASE("expr: update values and their operands may stand in parentheses") {
    // dynalite's update grammar (written against DynamoDB): one pair around a SET value,
    // one around each operand; no redundant-parentheses rule, a third pair is a syntax error.
    expr::Values v{{":n", N("1")}};
    Item item{{"n", N("5")}};
    CHECK(update("SET a = (:n)", item, v).at("a") == N("1"));
    CHECK(update("SET a = ((:n))", item, v).at("a") == N("1"));
    CHECK(update("SET a = (n + :n)", item, v).at("a") == N("6"));
    CHECK(update("SET a = (n) - (:n), b = (:n)", item, v).at("a") == N("4"));
    CHECK(update("SET a = if_not_exists((x), (:n))", item, v).at("a") == N("1"));
    CHECK(update_error("SET a = (((:n)))", item, v).starts_with("Invalid UpdateExpression: Syntax error;"));
    CHECK(update_error("SET a = if_not_exists(((x)), :n)", item, v).starts_with("Invalid UpdateExpression: Syntax error;"));
    CHECK(update_error("SET a = (n + :n) + :n", item, v).starts_with("Invalid UpdateExpression: Syntax error;"));
}

TEST_CASE("expr: an operator's first document path must not appear again among its operands") {
    expr::Values v{{":v", N("1")}};
    auto msg = [](const char* op, const char* path) {
        return std::string("Invalid ConditionExpression: The first operand must be distinct from the remaining "
                           "operands for this operator or function; operator: ") + op + ", first operand: [" + path + "]";
    };
    CHECK(cond_error("a = a") == msg("=", "a"));
    CHECK(cond_error("a.b[1] <> a.b[1]") == msg("<>", "a.b[1]"));
    CHECK(cond_error("a BETWEEN :v AND a", v) == msg("BETWEEN", "a"));
    CHECK(cond_error("a IN (:v, a)", v) == msg("IN", "a"));
    CHECK(cond_error("contains(a, a)") == msg("contains", "a"));
    CHECK(cond_error("begins_with(a, a)") == msg("begins_with", "a"));
    CHECK(cond_error("a = b") == "<no error>");
    CHECK(cond_error("a.b = a") == "<no error>");
}

// =====================================================================================
// Evaluation truth tables

TEST_CASE("expr: = and <> compare every type deeply; a missing attribute is unequal") {
    struct Row {
        const char* text;
        bool want;
    };
    const Row rows[] = {
        {"n = :five", true},      {"n <> :five", false},    {"n = :ten", false},     {"n <> :ten", true},
        {"s = :abc", true},       {"s = :ab", false},       {"b = :bin", false},     {"bhi = :bhi", true},
        {"t = :true", true},      {"nul = :null", true},    {"ss = :ss", true},      {"ns = :ns", true},
        {"ss <> :ss", false},     {"m.k = :x", false},      {"l[2] = :kv", true},    {"l[1] = :two", true},
        {"n = :abc", false},      {"n <> :abc", true},      {"s = :five", false},    {"t = :null", false},
        {"absent = :five", false}, {"absent <> :five", true}, {":five = n", true}, {"s = ss", false},
        {"n = size(l)", false},
    };
    for (const Row& r : rows) CHECK_MESSAGE(on_sample(r.text) == r.want, r.text);
}

TEST_CASE("expr: < <= > >= order N numerically, S and B by unsigned bytes, nothing else") {
    struct Row {
        const char* text;
        bool want;
    };
    const Row rows[] = {
        {"n < :ten", true},        {"n <= :five", true},    {"n > :five", false},     {"n >= :five", true},
        {"neg < :one", true},      {":ten > n", true},      {"n < :abc", false},      {"n > :abc", false},
        {"s < :b", true},          {"s > :ab", true},       {"s >= :abc", true},      {"s < :ab", false},
        {"s <= :zzz", true},       {"b < :bhi", true},      {"bhi > :bin", true},     {"b > :bin", true},
        {"absent < :ten", false}, {"absent >= :ten", false}, {"s > :five", false},  {"t > :five", false},
        {"size(ss) < size(l)", true},
    };
    for (const Row& r : rows) CHECK_MESSAGE(on_sample(r.text) == r.want, r.text);
    SUBCASE("bytes above 0x7f sort after ASCII") {
        Item item{{"s", S("\xc3\xa9")}};  // é
        CHECK(cond("s > :z", item, {{":z", S("z")}}));
        CHECK(cond("s < :z", Item{{"s", S("Z")}}, {{":z", S("a")}}));
    }
    SUBCASE("numbers compare exactly, not as doubles") {
        Item item{{"n", N("12345678901234567890123456789012345678")}};
        CHECK(cond("n > :v", item, {{":v", N("12345678901234567890123456789012345677")}}));
        CHECK(cond("n = :v", Item{{"n", N("1.50")}}, {{":v", N("1.5")}}));
    }
}

TEST_CASE("expr: BETWEEN is inclusive and needs one ordered type") {
    struct Row {
        const char* text;
        bool want;
    };
    const Row rows[] = {
        {"n BETWEEN :one AND :ten", true},  {"n BETWEEN :five AND :ten", true}, {"n BETWEEN :one AND :five", true},
        {"n BETWEEN :ten AND :ten", false}, {"s BETWEEN :ab AND :b", true},     {"s BETWEEN :b AND :zzz", false},
        {"s BETWEEN :one AND :ten", false}, {"absent BETWEEN :one AND :ten", false},
        {"n BETWEEN neg AND :ten", true},   {"n BETWEEN absent AND :ten", false},
        {"NOT n BETWEEN :one AND :ten", false},
    };
    for (const Row& r : rows) CHECK_MESSAGE(on_sample(r.text) == r.want, r.text);
}

TEST_CASE("expr: IN is true when any operand is equal") {
    CHECK(on_sample("n IN (:one, :five)"));
    CHECK_FALSE(on_sample("n IN (:one, :ten)"));
    CHECK(on_sample("s IN (:abc)"));
    CHECK(on_sample("ss IN (:ss)"));
    CHECK_FALSE(on_sample("absent IN (:one, :five)"));
    CHECK(on_sample("n IN (absent, :five)"));
    CHECK(on_sample("size(s) IN (:one, :ten, n)") == false);
}

TEST_CASE("expr: attribute_exists, attribute_not_exists and attribute_type") {
    for (const char* name : {"n", "s", "b", "t", "nul", "ss", "ns", "bs", "l", "m", "l[0]", "m.inside.deep"})
        CHECK_MESSAGE(on_sample(std::string("attribute_exists(") + name + ")"), name);
    CHECK_FALSE(on_sample("attribute_exists(absent)"));
    CHECK(on_sample("attribute_not_exists(absent)"));
    CHECK_FALSE(on_sample("attribute_not_exists(nul)"));  // NULL is a value, not absence
    struct Row {
        const char* path;
        const char* type;
    };
    const Row rows[] = {{"n", "N"},   {"s", "S"},   {"b", "B"},   {"t", "BOOL"}, {"nul", "NULL"},
                        {"ss", "SS"}, {"ns", "NS"}, {"bs", "BS"}, {"l", "L"},    {"m", "M"}};
    for (const Row& r : rows) {
        std::string text = std::string("attribute_type(") + r.path + ", :t)";
        CHECK_MESSAGE(cond(text, sample, {{":t", S(r.type)}}), text);
        CHECK_FALSE(cond(text, sample, {{":t", S(std::string(r.type) == "S" ? "N" : "S")}}));
    }
    CHECK_FALSE(cond("attribute_type(absent, :t)", sample, {{":t", S("S")}}));
}

TEST_CASE("expr: begins_with on S and B") {
    CHECK(on_sample("begins_with(s, :ab)"));
    CHECK(on_sample("begins_with(s, :abc)"));
    CHECK_FALSE(on_sample("begins_with(s, :b)"));
    CHECK(on_sample("begins_with(b, :bin)"));
    CHECK_FALSE(on_sample("begins_with(bhi, :bin)"));
    CHECK_FALSE(on_sample("begins_with(ss, :x)"));     // sets have no prefix
    CHECK_FALSE(on_sample("begins_with(absent, :x)"));
    CHECK_FALSE(on_sample("begins_with(b, :ab)"));     // B against S
    CHECK(cond("begins_with(a, b)", Item{{"a", S("hello")}, {"b", S("he")}}));
    CHECK(cond("begins_with(a, :e)", Item{{"a", S("x")}}, {{":e", S("")}}));
}

TEST_CASE("expr: contains on strings, binaries, sets and lists") {
    CHECK(on_sample("contains(s, :b)"));
    CHECK(on_sample("contains(s, :abc)"));
    CHECK_FALSE(on_sample("contains(s, :zzz)"));
    CHECK(on_sample("contains(ss, :x)"));
    CHECK_FALSE(on_sample("contains(ss, :abc)"));
    CHECK(on_sample("contains(ns, :one)"));
    CHECK_FALSE(on_sample("contains(ns, :five)"));
    CHECK(on_sample("contains(bs, :bin)"));
    CHECK(on_sample("contains(b, :bin)"));
    CHECK(on_sample("contains(l, :two)"));
    CHECK(on_sample("contains(l, :one)"));
    CHECK(on_sample("contains(l, :kv)"));            // element equality is deep
    CHECK_FALSE(on_sample("contains(l, :five)"));
    CHECK_FALSE(on_sample("contains(m, :x)"));       // maps do not "contain"
    CHECK_FALSE(on_sample("contains(n, :five)"));
    CHECK_FALSE(on_sample("contains(absent, :x)"));
    CHECK_FALSE(on_sample("contains(ns, :x)"));      // S in NS
    CHECK(on_sample("NOT contains(ss, :abc)"));
}

TEST_CASE("expr: size of S (bytes), B, sets, maps and lists; none for N, BOOL, NULL") {
    Item item{{"s", S("h\xc3\xa9llo")}, {"b", B("abc")}, {"ss", SS({"a", "b"})}, {"ns", NS({"1", "2", "3"})},
              {"bs", BS({"x"})},        {"m", M({{"a", N("1")}, {"b", N("2")}})}, {"l", L({N("1")})},
              {"e", S("")},             {"n", N("123")}, {"t", BOOL(true)},      {"z", NUL()}};
    auto size_is = [&](const char* path, const char* n) {
        return cond(std::string("size(") + path + ") = :n", item, {{":n", N(n)}});
    };
    CHECK(size_is("s", "6"));
    CHECK(size_is("b", "3"));
    CHECK(size_is("ss", "2"));
    CHECK(size_is("ns", "3"));
    CHECK(size_is("bs", "1"));
    CHECK(size_is("m", "2"));
    CHECK(size_is("l", "1"));
    CHECK(size_is("e", "0"));
    for (const char* p : {"n", "t", "z", "absent"}) {
        CHECK_FALSE(size_is(p, "0"));
        CHECK_FALSE(size_is(p, "3"));
        CHECK(cond(std::string("size(") + p + ") <> :n", item, {{":n", N("3")}}));
    }
}

TEST_CASE("expr: compare_values orders S, N, B and nothing else") {
    CHECK(*expr::compare_values(N("2"), N("10")) < 0);
    CHECK(*expr::compare_values(S("10"), S("2")) < 0);
    CHECK(*expr::compare_values(B("\x80"), B("\x7f")) > 0);
    CHECK(*expr::compare_values(S("ab"), S("abc")) < 0);
    CHECK(*expr::compare_values(S("abc"), S("abc")) == 0);
    CHECK_FALSE(expr::compare_values(N("1"), S("1")).has_value());
    CHECK_FALSE(expr::compare_values(BOOL(false), BOOL(true)).has_value());
    CHECK_FALSE(expr::compare_values(SS({"a"}), SS({"b"})).has_value());
}

TEST_CASE("expr: Condition reports the top-level attributes it reads") {
    expr::Context ctx({{"#p", "p.q"}}, {{":v", N("1")}});
    auto c = ctx.filter("a.b = :v AND size(c[1]) > :v OR #p = a");
    CHECK(c.attribute_names() == std::vector<std::string>{"a", "c", "p.q"});
}

// =====================================================================================
// Updates

TEST_CASE("expr: SET top-level, nested map and list element paths") {
    Item item{{"id", S("k")}, {"m", M({{"x", N("1")}, {"inside", M({})}})}, {"l", L({N("0"), N("1"), N("2")})}};
    expr::Values v{{":v", S("fresh")}};
    CHECK(update("SET a = :v", item, v).at("a") == S("fresh"));
    CHECK(update("SET id = :v", item, v).at("id") == S("fresh"));
    CHECK(update("SET m.x = :v", item, v).at("m") == M({{"x", S("fresh")}, {"inside", M({})}}));
    CHECK(update("SET m.y = :v", item, v).at("m") == M({{"x", N("1")}, {"y", S("fresh")}, {"inside", M({})}}));
    CHECK(update("SET m.inside.z = :v", item, v).at("m") == M({{"x", N("1")}, {"inside", M({{"z", S("fresh")}})}}));
    CHECK(update("SET l[1] = :v", item, v).at("l") == L({N("0"), S("fresh"), N("2")}));
    SUBCASE("an index past the end appends") {
        CHECK(update("SET l[3] = :v", item, v).at("l") == L({N("0"), N("1"), N("2"), S("fresh")}));
        CHECK(update("SET l[100] = :v", item, v).at("l") == L({N("0"), N("1"), N("2"), S("fresh")}));
    }
    SUBCASE("several actions, one expression") {
        Item out = update("SET a = :a, m.x = :b, l[0] = :c", item, {{":a", N("1")}, {":b", N("2")}, {":c", N("3")}});
        CHECK(out.at("a") == N("1"));
        CHECK(out.at("m").m->at("x") == N("2"));
        CHECK(out.at("l") == L({N("3"), N("1"), N("2")}));
    }
    SUBCASE("lists inside lists and maps inside lists") {
        Item nested{{"a", L({M({{"b", L({N("1")})}})})}};
        CHECK(update("SET a[0].b[0] = :v", nested, v).at("a") == L({M({{"b", L({S("fresh")})}})}));
    }
}

TEST_CASE("expr: SET paths whose parent is absent or of another type are invalid") {
    Item item{{"m", M({})}, {"l", L({N("1")})}, {"s", S("x")}};
    const std::string invalid = "The document path provided in the update expression is invalid for update";
    expr::Values v{{":v", N("1")}};
    CHECK(update_error("SET absent.a = :v", item, v) == invalid);
    CHECK(update_error("SET m.absent.a = :v", item, v) == invalid);
    CHECK(update_error("SET s.a = :v", item, v) == invalid);
    CHECK(update_error("SET l.a = :v", item, v) == invalid);
    CHECK(update_error("SET m[0] = :v", item, v) == invalid);
    CHECK(update_error("SET l[5].a = :v", item, v) == invalid);
    CHECK(update_error("SET absent[0] = :v", item, v) == invalid);
}

TEST_CASE("expr: SET arithmetic on numbers") {
    Item item{{"n", N("10")}, {"f", N("0.5")}, {"s", S("x")}};
    CHECK(update("SET n = n + :v", item, {{":v", N("5")}}).at("n") == N("15"));
    CHECK(update("SET n = n - :v", item, {{":v", N("15")}}).at("n") == N("-5"));
    CHECK(update("SET n = :v - n", item, {{":v", N("1")}}).at("n") == N("-9"));
    CHECK(update("SET x = n + f", item).at("x") == N("10.5"));
    CHECK(update("SET n = n+:v", item, {{":v", N("1")}}).at("n") == N("11"));
    const std::string bad_type = "An operand in the update expression has an incorrect data type";
    CHECK(update_error("SET a = s + :v", item, {{":v", N("1")}}) == bad_type);
    CHECK(update_error("SET a = n - s", item) == bad_type);
    CHECK(update_error("SET a = :v + n", item, {{":v", S("1")}}) ==
          "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, "
          "operand type: S");
    CHECK(update_error("SET a = absent + :v", item, {{":v", N("1")}}) ==
          "The provided expression refers to an attribute that does not exist in the item");
}

TEST_CASE("expr: SET if_not_exists and list_append") {
    Item item{{"n", N("3")}, {"l", L({N("1")})}, {"s", S("x")}};
    CHECK(update("SET n = if_not_exists(n, :z)", item, {{":z", N("0")}}).at("n") == N("3"));
    CHECK(update("SET c = if_not_exists(c, :z)", item, {{":z", N("0")}}).at("c") == N("0"));
    CHECK(update("SET c = if_not_exists(c, :z) + :one", item, {{":z", N("0")}, {":one", N("1")}}).at("c") == N("1"));
    CHECK(update("SET n = if_not_exists(n, :z) + :one", item, {{":z", N("0")}, {":one", N("1")}}).at("n") == N("4"));
    CHECK(update("SET c = if_not_exists(c, s)", item).at("c") == S("x"));
    CHECK(update("SET l = list_append(l, :v)", item, {{":v", L({N("2")})}}).at("l") == L({N("1"), N("2")}));
    CHECK(update("SET l = list_append(:v, l)", item, {{":v", L({N("0")})}}).at("l") == L({N("0"), N("1")}));
    CHECK(update("SET c = list_append(if_not_exists(c, :e), :v)", item, {{":e", L({})}, {":v", L({S("a")})}})
              .at("c") == L({S("a")}));
    CHECK(update("SET c = list_append(l, l)", item).at("c") == L({N("1"), N("1")}));
    CHECK(update_error("SET l = list_append(l, :v)", item, {{":v", M({})}}) ==
          "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: "
          "list_append, operand type: M");
    CHECK(update_error("SET l = list_append(s, :v)", item, {{":v", L({})}}) ==
          "An operand in the update expression has an incorrect data type");
    CHECK(update_error("SET l = list_append(absent, :v)", item, {{":v", L({})}}) ==
          "The provided expression refers to an attribute that does not exist in the item");
}

TEST_CASE("expr: every right-hand side reads the item as it was") {
    Item item{{"a", N("1")}, {"b", N("2")}};
    Item out = update("SET a = b, b = a", item);
    CHECK(out.at("a") == N("2"));
    CHECK(out.at("b") == N("1"));
    out = update("SET a = a + :one, c = a", item, {{":one", N("1")}});
    CHECK(out.at("a") == N("2"));
    CHECK(out.at("c") == N("1"));
    out = update("REMOVE a SET c = a", item);
    CHECK(out.count("a") == 0);
    CHECK(out.at("c") == N("1"));
}

TEST_CASE("expr: REMOVE attributes, nested entries and list elements") {
    Item item{{"a", N("1")},
              {"m", M({{"x", N("1")}, {"y", N("2")}})},
              {"l", L({N("0"), N("1"), N("2"), N("3"), N("4")})},
              {"s", S("x")}};
    CHECK(update("REMOVE a", item).count("a") == 0);
    CHECK(update("REMOVE absent", item) == item);
    CHECK(update("REMOVE m.x", item).at("m") == M({{"y", N("2")}}));
    CHECK(update("REMOVE m.absent", item).at("m") == item.at("m"));
    CHECK(update("REMOVE l[0]", item).at("l") == L({N("1"), N("2"), N("3"), N("4")}));
    CHECK(update("REMOVE l[9]", item).at("l") == item.at("l"));
    SUBCASE("indexes refer to the list before the update; later elements shift") {
        CHECK(update("REMOVE l[1], l[3]", item).at("l") == L({N("0"), N("2"), N("4")}));
        CHECK(update("REMOVE l[3], l[1]", item).at("l") == L({N("0"), N("2"), N("4")}));
        CHECK(update("REMOVE l[0], l[1], l[2], l[3], l[4]", item).at("l") == L({}));
        CHECK(update("REMOVE l[4], l[10], l[0]", item).at("l") == L({N("1"), N("2"), N("3")}));
    }
    SUBCASE("combined with SET on another element") {
        CHECK(update("SET l[2] = :v REMOVE l[0]", item, {{":v", S("x")}}).at("l") ==
              L({N("1"), S("x"), N("3"), N("4")}));
    }
    SUBCASE("nested list elements") {
        Item nested{{"a", M({{"l", L({M({{"k", N("1")}}), M({{"k", N("2")}})})}})}};
        CHECK(update("REMOVE a.l[0].k, a.l[1]", nested).at("a") == M({{"l", L({M({})})}}));
    }
    SUBCASE("a parent of another type is invalid") {
        const std::string invalid = "The document path provided in the update expression is invalid for update";
        CHECK(update_error("REMOVE s.x", item) == invalid);
        CHECK(update_error("REMOVE m[0]", item) == invalid);
    }
    SUBCASE("a missing parent removes nothing (as DynamoDB does, on a missing item too)") {
        CHECK(update("REMOVE absent.x, absent2[3].y", item) == item);
        CHECK(update("REMOVE a.b", Item{}) == Item{});
    }
}

TEST_CASE("expr: ADD increments numbers and unions sets, creating the attribute") {
    Item item{{"n", N("5")}, {"ss", SS({"a"})}, {"ns", NS({"1"})}, {"bs", BS({"x"})}, {"m", M({{"c", N("1")}})}};
    CHECK(update("ADD n :v", item, {{":v", N("2")}}).at("n") == N("7"));
    CHECK(update("ADD n :v", item, {{":v", N("-7.5")}}).at("n") == N("-2.5"));
    CHECK(update("ADD c :v", item, {{":v", N("2")}}).at("c") == N("2"));
    CHECK(update("ADD ss :v", item, {{":v", SS({"b", "a"})}}).at("ss") == SS({"a", "b"}));
    CHECK(update("ADD ns :v", item, {{":v", NS({"2"})}}).at("ns") == NS({"1", "2"}));
    CHECK(update("ADD bs :v", item, {{":v", BS({"y"})}}).at("bs") == BS({"x", "y"}));
    CHECK(update("ADD fresh :v", item, {{":v", SS({"z"})}}).at("fresh") == SS({"z"}));
    CHECK(update("ADD m.c :v", item, {{":v", N("1")}}).at("m") == M({{"c", N("2")}}));
    CHECK(update("ADD m.d :v", item, {{":v", N("1")}}).at("m") == M({{"c", N("1")}, {"d", N("1")}}));
    CHECK(update("ADD n :v, ss :s", item, {{":v", N("1")}, {":s", SS({"q"})}}).at("ss") == SS({"a", "q"}));
    const std::string bad_type = "An operand in the update expression has an incorrect data type";
    CHECK(update_error("ADD n :v", item, {{":v", SS({"a"})}}) == bad_type);
    CHECK(update_error("ADD ss :v", item, {{":v", NS({"1"})}}) == bad_type);
    CHECK(update_error("ADD m :v", item, {{":v", N("1")}}) == bad_type);
    SUBCASE("only numbers and sets, checked before any item is read") {
        CHECK(update_error("ADD a :v", {}, {{":v", S("x")}}) ==
              "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand "
              "type: STRING");
        CHECK(update_error("ADD a :v", {}, {{":v", M({})}}) ==
              "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand "
              "type: MAP");
        CHECK(update_error("ADD a :v", {}, {{":v", L({})}}) ==
              "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand "
              "type: LIST");
        CHECK(update_error("ADD a :v", {}, {{":v", BOOL(true)}}) ==
              "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand "
              "type: BOOLEAN");
    }
}

TEST_CASE("expr: DELETE removes set elements, and the attribute with the last one") {
    Item item{{"ss", SS({"a", "b"})}, {"ns", NS({"1", "2"})}, {"bs", BS({"x"})}, {"n", N("1")},
              {"m", M({{"s", SS({"a"})}})}};
    CHECK(update("DELETE ss :v", item, {{":v", SS({"a"})}}).at("ss") == SS({"b"}));
    CHECK(update("DELETE ss :v", item, {{":v", SS({"q"})}}).at("ss") == SS({"a", "b"}));
    CHECK(update("DELETE ns :v", item, {{":v", NS({"2", "3"})}}).at("ns") == NS({"1"}));
    CHECK(update("DELETE ss :v", item, {{":v", SS({"a", "b"})}}).count("ss") == 0);
    CHECK(update("DELETE bs :v", item, {{":v", BS({"x"})}}).count("bs") == 0);
    CHECK(update("DELETE absent :v", item, {{":v", SS({"a"})}}) == item);
    CHECK(update("DELETE m.s :v", item, {{":v", SS({"a"})}}).at("m") == M({}));
    CHECK(update_error("DELETE ss :v", item, {{":v", NS({"1"})}}) ==
          "An operand in the update expression has an incorrect data type");
    CHECK(update_error("DELETE n :v", item, {{":v", NS({"1"})}}) ==
          "An operand in the update expression has an incorrect data type");
    CHECK(update_error("DELETE ss :v", item, {{":v", N("1")}}) ==
          "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand "
          "type: NUMBER");
    CHECK(update_error("DELETE ss :v", item, {{":v", S("a")}}) ==
          "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand "
          "type: STRING");
}

TEST_CASE("expr: all four clauses together, in any order and case") {
    Item item{{"a", N("1")}, {"b", N("2")}, {"ss", SS({"x", "y"})}, {"n", N("1")}};
    Item out = update("delete ss :d add n :one Remove b set a = :v, c = b", item,
                      {{":d", SS({"x"})}, {":one", N("1")}, {":v", S("A")}});
    Item want{{"a", S("A")}, {"c", N("2")}, {"ss", SS({"y"})}, {"n", N("2")}};
    CHECK(out == want);
}

TEST_CASE("expr: update target paths may not overlap or conflict") {
    expr::Values v{{":v", N("1")}};
    CHECK(update_error("SET a = :v, a.b = :v", {}, v) ==
          "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
          "paths; path one: [a], path two: [a, b]");
    CHECK(update_error("SET a.b = :v REMOVE a", {}, v) ==
          "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
          "paths; path one: [a, b], path two: [a]");
    CHECK(update_error("SET a = :v REMOVE a", {}, v) ==
          "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
          "paths; path one: [a], path two: [a]");
    CHECK(update_error("SET #a = :v REMOVE a", {}, v, {{"#a", "a"}}) ==
          "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
          "paths; path one: [a], path two: [a]");
    CHECK(update_error("SET a[1] = :v, a.b = :v", {}, v) ==
          "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these "
          "paths; path one: [a, [1]], path two: [a, b]");
    CHECK(update_error("REMOVE x.y[2].z, x.y[2][0]", {}, {}) ==
          "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these "
          "paths; path one: [x, y, [2], z], path two: [x, y, [2], [0]]");
    CHECK(update_error("ADD a[1] :v DELETE a[1].c :s", {}, {{":v", N("1")}, {":s", SS({"x"})}}) ==
          "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these "
          "paths; path one: [a, [1]], path two: [a, [1], c]");
    SUBCASE("siblings and reads are fine") {
        CHECK(update_error("SET a.b = :v, a.c = :v, a.bb = :v REMOVE l[0], l[1]", Item{{"a", M({})}, {"l", L({})}}, v) ==
              "<no error>");
        CHECK(update_error("SET a = a + :v, b = a", Item{{"a", N("1")}}, v) == "<no error>");
    }
    SUBCASE("the first offending pair in the text is reported") {
        CHECK(update_error("SET a = :v, b = :v, c = :v, b.x = :v, a.y = :v", {}, v) ==
              "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of "
              "these paths; path one: [b], path two: [b, x]");
    }
}

TEST_CASE("expr: a failing update leaves the old item untouched (copy on write)") {
    Item item{{"m", M({{"x", N("1")}, {"inside", M({{"y", N("2")}})}})},
              {"l", L({M({{"k", N("1")}})})},
              {"s", S("x")}};
    const Item before = item;
    // A bad value fails before any edit; a bad path fails after the nested edits before it.
    CHECK(update_error("SET m.inside.y = :v, l[0].k = :v, a = s + :v", item, {{":v", N("9")}}) ==
          "An operand in the update expression has an incorrect data type");
    CHECK(item == before);
    CHECK(update_error("SET m.inside.y = :v, l[0].k = :v, zz.q = :v", item, {{":v", N("9")}}) ==
          "The document path provided in the update expression is invalid for update");
    CHECK(item == before);
    SUBCASE("a successful update shares nothing mutable with the old item") {
        expr::Context ctx({}, {{":v", N("9")}});
        auto u = ctx.update("SET m.inside.y = :v, l[0].k = :v REMOVE m.x");
        Item out = u.apply(item).item;
        CHECK(item == before);
        CHECK(out.at("m") == M({{"inside", M({{"y", N("9")}})}}));
        CHECK(out.at("l") == L({M({{"k", N("9")}})}));
        // Applying twice from the same old item gives the same result.
        CHECK(u.apply(item).item == out);
    }
    SUBCASE("numbers beyond DynamoDB's range fail the whole update") {
        Item big{{"n", N("9E+125")}};
        auto e = update_error("SET a = :one, n = n + n", big, {{":one", N("1")}});
        CHECK(e.find("Number overflow") != std::string::npos);
    }
}

TEST_CASE("expr: updates report changed attributes and their updated paths") {
    Item item{{"a", N("1")}, {"b", N("2")}, {"m", M({{"x", N("1")}, {"y", N("2")}})}, {"gone", N("0")}};
    expr::Context ctx({}, {{":one", N("1")}, {":two", N("2")}});
    auto u = ctx.update("SET b = :two, m.x = :two, c = :one REMOVE gone, nothing");
    CHECK(u.attribute_names() == std::vector<std::string>{"b", "m", "c", "gone", "nothing"});
    auto r = u.apply(item);
    // b was set to its own value: not changed; nothing did not exist.
    CHECK(r.changed_attributes == std::vector<std::string>{"c", "gone", "m"});
    // ReturnValues UPDATED_OLD / UPDATED_NEW: the updated paths only.
    Item old_part = u.updated_paths().apply(item);
    Item new_part = u.updated_paths().apply(r.item);
    CHECK(old_part == Item{{"b", N("2")}, {"m", M({{"x", N("1")}})}, {"gone", N("0")}});
    CHECK(new_part == Item{{"b", N("2")}, {"m", M({{"x", N("2")}})}, {"c", N("1")}});
}

// =====================================================================================
// Projection

TEST_CASE("expr: projection keeps top-level and nested paths with their structure") {
    Item item{{"id", S("k")},
              {"a", N("1")},
              {"m", M({{"x", N("1")}, {"y", M({{"z", N("2")}, {"w", N("3")}})}})},
              {"big", S("b")}};
    CHECK(project("id, a", item) == Item{{"id", S("k")}, {"a", N("1")}});
    CHECK(project("m.y.z", item) == Item{{"m", M({{"y", M({{"z", N("2")}})}})}});
    CHECK(project("m.x, m.y.w", item) == Item{{"m", M({{"x", N("1")}, {"y", M({{"w", N("3")}})}})}});
    CHECK(project("absent, m.absent, m.x.deeper, a[0]", item).empty());
    CHECK(project("#m.#x", item, {{"#m", "m"}, {"#x", "x"}}) == Item{{"m", M({{"x", N("1")}})}});
    expr::Context ctx({}, {});
    auto p = ctx.projection("m.x, id, m.y");
    CHECK(p.attribute_names() == std::vector<std::string>{"m", "id"});
    CHECK(p.paths().size() == 3);
}

TEST_CASE("expr: projected list elements collapse in index order") {
    Item item{{"a", L({S("x0"), S("x1"), M({{"k", N("1")}, {"j", N("2")}}), S("x3"), S("x4")})}};
    CHECK(project("a[1], a[3]", item) == Item{{"a", L({S("x1"), S("x3")})}});
    CHECK(project("a[3], a[1]", item) == Item{{"a", L({S("x1"), S("x3")})}});
    CHECK(project("a[2].k", item) == Item{{"a", L({M({{"k", N("1")}})})}});
    CHECK(project("a[9], a[4]", item) == Item{{"a", L({S("x4")})}});
    CHECK(project("a[9]", item).empty());
    CHECK(project("a[0].k", item).empty());
    Item grid{{"g", L({L({N("1"), N("2")}), L({N("3"), N("4")})})}};
    CHECK(project("g[1][0], g[0][1]", grid) == Item{{"g", L({L({N("2")}), L({N("3")})})}});
}

TEST_CASE("expr: projection paths may not overlap or conflict") {
    CHECK(projection_error("a, a.b") ==
          "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of "
          "these paths; path one: [a], path two: [a, b]");
    CHECK(projection_error("a, a") ==
          "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of "
          "these paths; path one: [a], path two: [a]");
    CHECK(projection_error("a[0], a.b") ==
          "Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of "
          "these paths; path one: [a, [0]], path two: [a, b]");
    CHECK(projection_error("a.b, a.c, a.bc, a.b1") == "<no error>");
}

// =====================================================================================
// Key conditions

TEST_CASE("expr: key conditions: hash alone, and hash with each range operator") {
    auto k = key("id = :id", {{":id", S("u1")}}, hash_only);
    CHECK(k.hash_name == "id");
    CHECK(k.hash == S("u1"));
    CHECK_FALSE(k.range.has_value());
    struct Row {
        const char* text;
        expr::RangeOp op;
    };
    const Row rows[] = {{"id = :id AND sk = :a", expr::RangeOp::eq},
                        {"id = :id AND sk < :a", expr::RangeOp::lt},
                        {"id = :id AND sk <= :a", expr::RangeOp::le},
                        {"id = :id AND sk > :a", expr::RangeOp::gt},
                        {"id = :id AND sk >= :a", expr::RangeOp::ge},
                        {"sk >= :a AND id = :id", expr::RangeOp::ge},
                        {"(id = :id) AND (sk > :a)", expr::RangeOp::gt},
                        {"#h = :id and #r > :a", expr::RangeOp::gt}};
    for (const Row& r : rows) {
        expr::Names names;
        if (std::string_view(r.text).find('#') != std::string_view::npos) names = {{"#h", "id"}, {"#r", "sk"}};
        auto kc = key(r.text, {{":id", S("u1")}, {":a", N("5")}}, hash_range, names);
        REQUIRE_MESSAGE(kc.range.has_value(), r.text);
        CHECK(kc.range->name == "sk");
        CHECK(kc.range->op == r.op);
        CHECK(kc.range->value == N("5"));
    }
    auto between = key("id = :id AND sk BETWEEN :a AND :b", {{":id", S("u1")}, {":a", N("1")}, {":b", N("9")}});
    CHECK(between.range->op == expr::RangeOp::between);
    CHECK(between.range->value == N("1"));
    CHECK(between.range->upper == N("9"));
    const KeySchema string_range{KeyElement{"id", Type::S}, KeyElement{"sk", Type::S}};
    auto prefix = key("id = :id AND begins_with(sk, :p)", {{":id", S("u1")}, {":p", S("2024-")}}, string_range);
    CHECK(prefix.range->op == expr::RangeOp::begins_with);
    CHECK(prefix.range->value == S("2024-"));
}

TEST_CASE("expr: a key condition may put the value first") {
    auto k = key(":id = id AND :a < sk", {{":id", S("u1")}, {":a", N("5")}});
    CHECK(k.hash == S("u1"));
    CHECK(k.range->op == expr::RangeOp::gt);
    k = key("id = :id AND :a >= sk", {{":id", S("u1")}, {":a", N("5")}});
    CHECK(k.range->op == expr::RangeOp::le);
}

TEST_CASE("expr: key condition errors") {
    expr::Values v{{":id", S("u1")}, {":a", N("5")}, {":b", N("9")}, {":s", S("x")}};
    auto err = [&](const char* text, const KeySchema& schema = hash_range) {
        expr::Values used;
        for (const auto& [k, val] : v)
            if (std::string_view(text).find(k) != std::string_view::npos) used.emplace(k, val);
        return key_error(text, used, schema);
    };
    CHECK(err("sk = :a") == "Query condition missed key schema element: id");
    CHECK(err("extra = :s") == "Query condition missed key schema element: id");
    CHECK(err("id = :id AND extra = :a") == "Query condition missed key schema element: sk");
    CHECK(err("id = :id AND extra = :a", hash_only) == "Query key condition not supported");
    CHECK(err("id = :id AND sk = :a AND extra = :b") == "Query key condition not supported");
    CHECK(err("id > :id") == "Query key condition not supported");
    CHECK(err("begins_with(id, :id)") == "Query key condition not supported");
    CHECK(err("id = id") == "Invalid KeyConditionExpression: The first operand must be distinct from the remaining "
                            "operands for this operator or function; operator: =, first operand: [id]");
    CHECK(err("begins_with(:id, sk) AND id = :id") == "Query key condition not supported");
    CHECK(err(":id = :id") == "Query key condition not supported");
    CHECK(err("id = :id OR sk = :a") == "Invalid operator used in KeyConditionExpression: OR");
    CHECK(err("NOT id = :id") == "Invalid operator used in KeyConditionExpression: NOT");
    CHECK(err("id = :id AND sk <> :a") == "Invalid operator used in KeyConditionExpression: <>");
    CHECK(err("id IN (:id)") == "Invalid operator used in KeyConditionExpression: IN");
    CHECK(err("id = :id AND attribute_exists(sk)") ==
          "Invalid operator used in KeyConditionExpression: attribute_exists");
    CHECK(err("id = :id AND contains(sk, :a)") == "Invalid operator used in KeyConditionExpression: contains");
    CHECK(err("id = :id AND size(sk) > :a") == "Invalid operator used in KeyConditionExpression: size");
    CHECK(err("id = :id AND (sk = :a OR sk = :b)") == "Invalid operator used in KeyConditionExpression: OR");
    CHECK(err("id = :id AND id = :s") ==
          "Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key");
    CHECK(err("id = :id AND sk > :a AND sk < :b") ==
          "Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key");
    CHECK(err("id = :a") ==
          "One or more parameter values were invalid: Condition parameter type does not match schema type");
    CHECK(err("id = :id AND sk > :s") ==
          "One or more parameter values were invalid: Condition parameter type does not match schema type");
    CHECK(err("id = :id AND sk BETWEEN :b AND :a") ==
          "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal "
          "to lower bound; lower operand: AttributeValue: {N:9}, upper operand: AttributeValue: {N:5}");
    CHECK(err("id = :id AND begins_with(sk, :a)") ==
          "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: "
          "begins_with, operand type: N");
    CHECK(err("id.x = :id") ==
          "Invalid KeyConditionExpression: KeyConditionExpressions cannot have conditions on nested attributes");
    CHECK(err("id = :id AND sk = :a AND", hash_range) ==
          R"(Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "AND")");
    CHECK(key_error("id = :e", {{":e", S("")}}) ==
          "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
          "empty string value. Key: id");
}

TEST_CASE("expr: key conditions match items") {
    auto k = key("id = :id AND sk BETWEEN :a AND :b", {{":id", S("u1")}, {":a", N("1")}, {":b", N("9")}});
    CHECK(k.matches(Item{{"id", S("u1")}, {"sk", N("1")}}));
    CHECK(k.matches(Item{{"id", S("u1")}, {"sk", N("9")}}));
    CHECK_FALSE(k.matches(Item{{"id", S("u1")}, {"sk", N("10")}}));
    CHECK_FALSE(k.matches(Item{{"id", S("u2")}, {"sk", N("5")}}));
    CHECK_FALSE(k.matches(Item{{"id", S("u1")}}));
    expr::RangeCondition rc;
    rc.name = "sk";
    rc.value = S("ab");
    struct Row {
        expr::RangeOp op;
        const char* v;
        bool want;
    };
    const Row rows[] = {{expr::RangeOp::eq, "ab", true},          {expr::RangeOp::eq, "abc", false},
                        {expr::RangeOp::lt, "aa", true},          {expr::RangeOp::lt, "ab", false},
                        {expr::RangeOp::le, "ab", true},          {expr::RangeOp::gt, "b", true},
                        {expr::RangeOp::ge, "ab", true},          {expr::RangeOp::ge, "a", false},
                        {expr::RangeOp::begins_with, "abc", true}, {expr::RangeOp::begins_with, "a", false}};
    for (const Row& r : rows) {
        rc.op = r.op;
        CHECK_MESSAGE(rc.matches(S(r.v)) == r.want, r.v);
    }
    rc.op = expr::RangeOp::lt;
    CHECK_FALSE(rc.matches(N("1")));  // another type never matches
}

// =====================================================================================
// Hostile input: every case fails fast with a ValidationException.

TEST_CASE("expr: hostile input fails fast without exhausting the stack") {
    expr::Values v{{":v", N("1")}};
    SUBCASE("100,000 opening parentheses") {
        fast([&] {
            CHECK(cond_error(repeat("(", 100000) + "a = :v" + repeat(")", 100000), v).find(
                      "Expression size has exceeded the maximum allowed size") != std::string::npos);
        });
    }
    SUBCASE("2,000 nested parentheses inside 4 KB") {
        fast([&] {
            CHECK(cond_error(repeat("(", 2000) + "a=:v" + repeat(")", 2000), v) ==
                  "Invalid ConditionExpression: The expression has too many nesting levels; nesting levels: 311");
        });
    }
    SUBCASE("1,000 NOTs") {
        fast([&] {
            CHECK(cond_error(repeat("NOT ", 1000) + "a=:v", v) ==
                  "Invalid ConditionExpression: The expression contains too many operators; operator count: 301");
        });
    }
    SUBCASE("NOT ( repeated") {
        fast([&] {
            auto e = cond_error(repeat("NOT(", 800) + "a=:v" + repeat(")", 800), v);
            CHECK(e.rfind("Invalid ConditionExpression: The expression has too many nesting levels", 0) == 0);
        });
    }
    SUBCASE("nested function calls") {
        fast([&] {
            // 200 nested calls are within AWS's 300 operators (and 4 KB): accepted.
            expr::Values lists{{":v", AttributeValue::list({})}};
            CHECK(update_error("SET a = " + repeat("list_append(", 200) + ":v" + repeat(", :v)", 200), {}, lists) ==
                  "<no error>");
            CHECK(cond_error(repeat("size(", 600) + "a" + repeat(")", 600) + " = :v", v)
                      .find("too many operators") != std::string::npos);
        });
    }
    SUBCASE("a 100,000-character name and expression") {
        fast([&] {
            CHECK(cond_error(std::string(100000, 'a') + " = :v", v).find("Expression size has exceeded") !=
                  std::string::npos);
            CHECK(projection_error(std::string(100000, 'a')).find("Expression size has exceeded") != std::string::npos);
            CHECK(update_error("SET " + std::string(100000, 'a') + " = :v", {}, v).find("Expression size") !=
                  std::string::npos);
        });
    }
    SUBCASE("100,000-character names through #placeholders work") {
        fast([&] {
            std::string name(100000, 'n');
            Item item{{name, N("1")}};
            CHECK(cond("#n = :v", item, v, {{"#n", name}}));
            CHECK(update("SET #n = #n + :v", item, v, {{"#n", name}}).at(name) == N("2"));
        });
    }
    SUBCASE("a long chain of ANDs") {
        fast([&] {
            CHECK(cond_error(repeat("a=:v AND ", 450) + "a=:v", v).find("too many operators") != std::string::npos);
        });
    }
    SUBCASE("a 2,000-step path") {
        fast([&] {
            CHECK(projection_error("a" + repeat(".a", 2000)).find("too many nesting levels") != std::string::npos);
            CHECK(projection_error("a" + repeat(".a", 2048)).find("Expression size") != std::string::npos);
            CHECK(projection_error("a" + repeat("[0]", 1300)).find("too many nesting levels") != std::string::npos);
        });
    }
    SUBCASE("thousands of projected or removed paths") {
        fast([&] {
            std::string many;
            for (int i = 0; i < 700; ++i) many += (i ? "," : "") + std::string("a") + std::to_string(i);
            CHECK(many.size() <= 4096 - 7);
            CHECK(projection_error(many) == "<no error>");
            CHECK(update_error("REMOVE " + many) == "<no error>");
            CHECK(projection_error(repeat("a,", 2000) + "a").find("overlap") != std::string::npos);
        });
    }
    SUBCASE("IN with a thousand operands") {
        fast([&] {
            CHECK(cond_error("a IN (" + repeat(":v,", 1300) + ":v)", v).find("too many operands") != std::string::npos);
        });
    }
    SUBCASE("one large :value referenced many times") {
        fast([&] {
            expr::Values big{{":big", S(std::string(300 * 1024, 'x'))}};
            CHECK(update_error("SET a = :big, b = :big", {}, big) ==
                  "Item size to update has exceeded the maximum allowed size");
            expr::Values list{{":l", L({S(std::string(150 * 1024, 'x'))})}};
            std::string doubling = ":l";
            for (int i = 0; i < 6; ++i) doubling = "list_append(" + doubling + ", " + doubling + ")";
            CHECK(doubling.size() < 4096);
            CHECK(update_error("SET a = " + doubling, {}, list) ==
                  "Item size to update has exceeded the maximum allowed size");
            // Conditions and projections read values in place: no copies at all.
            std::string many = "a = :big" + repeat(" OR a = :big", 149);
            CHECK(cond_error(many, big) == "<no error>");
        });
    }
    SUBCASE("binary garbage") {
        fast([&] {
            std::string junk;
            for (int i = 0; i < 4000; ++i) junk += static_cast<char>(i * 37 % 256);
            CHECK(cond_error(junk).rfind("Invalid ConditionExpression: Syntax error", 0) == 0);
        });
    }
}

TEST_CASE("expr: random token soup only ever raises ValidationException") {
    // A deterministic mini-fuzzer over the grammar's own tokens (the libFuzzer target in
    // tests/fuzz/expr_fuzz.cpp explores raw bytes).
    static const char* pieces[] = {
        "a",        "b.c",      "l[0]",   "l[1]",          "#n",        ":v",         ":s",        ":l",
        "(",        ")",        " AND ",  " OR ",          "NOT ",      " = ",        " <> ",      " < ",
        " >= ",     " BETWEEN ", " IN ",  ", ",            "size(",     "contains(",  "begins_with(",
        "attribute_exists(", "attribute_type(", "SET ", "REMOVE ", "ADD ", "DELETE ", " + ", " - ",
        "if_not_exists(", "list_append(", "[", "]", ".", "status",      "9",          "$",
    };
    std::mt19937 rng(20240601);
    const Item item{{"a", N("1")}, {"b", M({{"c", S("x")}})}, {"l", L({N("1"), S("y")})}, {"n", SS({"q"})}};
    int parsed = 0;
    for (int i = 0; i < 3000; ++i) {
        std::string text;
        int count = static_cast<int>(rng() % 12) + 1;
        for (int j = 0; j < count; ++j) text += pieces[rng() % std::size(pieces)];
        for (int k = 0; k < 4; ++k) {
            try {
                expr::Context ctx({{"#n", "n"}}, {{":v", N("1")}, {":s", SS({"q"})}, {":l", L({N("2")})}});
                switch (k) {
                case 0: ctx.condition(text).evaluate(item); break;
                case 1: ctx.update(text).apply(item); break;
                case 2: ctx.projection(text).apply(item); break;
                case 3: ctx.key_condition(text, hash_range); break;
                }
                ++parsed;
            } catch (const AwsError& e) {
                CHECK(e.code() == "ValidationException");
            }
        }
    }
    CHECK(parsed > 0);
}

TEST_SUITE_END();

TEST_CASE("expr: several SETs past a list's end append in index order") {
    Item item{{"a", L({N("0"), N("1")})}};
    expr::Values v{{":x", S("x")}, {":y", S("y")}, {":z", S("z")}};
    CHECK(update("SET a[9] = :x, a[5] = :y, a[7] = :z", item, v).at("a") == L({N("0"), N("1"), S("y"), S("z"), S("x")}));
    CHECK(update("SET a[1] = :x, a[20] = :y", item, {{":x", S("x")}, {":y", S("y")}}).at("a") == L({N("0"), S("x"), S("y")}));
}

TEST_CASE("expr: an update that only removes or deletes does not create an item") {
    expr::Context ctx({}, {{":s", AttributeValue::string_set({"a"})}, {":n", N("1")}});
    CHECK_FALSE(ctx.update("REMOVE a, b.c").creates());
    CHECK_FALSE(ctx.update("DELETE s :s").creates());
    CHECK(ctx.update("REMOVE a ADD n :n").creates());
    CHECK(ctx.update("SET x = :n").creates());
}

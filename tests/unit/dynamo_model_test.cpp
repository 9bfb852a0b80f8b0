// DynamoDB's data model (dynamo/model/value.hpp): numbers, attribute values, the JSON
// wire form and its validation, item sizes, the stored item encoding and (property
// tests) the order-preserving key encoding. Random tests use fixed seeds.
#include "dynamo/model/value.hpp"

#include "core/error.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace dynamo = stratus::dynamo;
using dynamo::AttributeValue;
using dynamo::Item;
using dynamo::Number;
using dynamo::Type;
using nlohmann::json;

// Selected by the brief's `-ts='*dynamo*'`.
TEST_SUITE_BEGIN("dynamo_model");

namespace {

const std::string digits_error = "Attempting to store more than 38 significant digits in a Number";
const std::string overflow_error =
    "Number overflow. Attempting to store a number with magnitude larger than supported range";
const std::string underflow_error =
    "Number underflow. Attempting to store a number with magnitude smaller than supported range";
const std::string malformed_error = "The parameter cannot be converted to a numeric value";

Number num(std::string_view s) { return Number::parse(s); }

// "Code: message" of the AwsError `f` throws, or "no error".
std::string aws_error(const std::function<void()>& f) {
    try {
        f();
    } catch (const stratus::core::AwsError& e) {
        return e.code() + ": " + e.message();
    }
    return "no error";
}

std::string validation(const std::string& message) { return "ValidationException: " + message; }
std::string serialization(const std::string& message) { return "SerializationException: " + message; }

std::string json_error(const std::string& text) {
    return aws_error([&] { dynamo::value_from_json(json::parse(text)); });
}

// ---- random values, shared by the codec and JSON round trips ----

Number random_number(std::mt19937_64& rng) {
    std::uniform_int_distribution<int> pct(0, 99);
    if (pct(rng) < 5) return Number{};
    int count = pct(rng) < 50 ? std::uniform_int_distribution<int>(1, 5)(rng)
                              : std::uniform_int_distribution<int>(1, 38)(rng);
    std::string digits;
    for (int k = 0; k < count; ++k) digits.push_back(static_cast<char>('0' + rng() % 10));
    digits.front() = static_cast<char>('1' + rng() % 9);
    digits.back() = static_cast<char>('1' + rng() % 9);
    int exponent = pct(rng) < 50 ? std::uniform_int_distribution<int>(-3, 4)(rng)
                                 : std::uniform_int_distribution<int>(-129, 126)(rng);
    return Number::from_parts(rng() % 2 == 0, digits, exponent);
}

std::string random_bytes(std::mt19937_64& rng, std::size_t max_length) {
    static constexpr unsigned char alphabet[] = {0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF, 'a', 'b'};
    std::string out(std::uniform_int_distribution<std::size_t>(0, max_length)(rng), '\0');
    for (auto& c : out) c = static_cast<char>(alphabet[rng() % sizeof alphabet]);
    return out;
}

std::string random_utf8(std::mt19937_64& rng, std::size_t max_length) {
    static const std::string pieces[] = {"a", "Z", "0", " ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\x01"};
    std::string out;
    std::size_t n = std::uniform_int_distribution<std::size_t>(0, max_length)(rng);
    for (std::size_t k = 0; k < n; ++k) out += pieces[rng() % std::size(pieces)];
    return out;
}

AttributeValue random_value(std::mt19937_64& rng, int depth) {
    int kind = static_cast<int>(rng() % (depth < 4 ? 10 : 8));
    switch (kind) {
        case 0: return AttributeValue::string(random_utf8(rng, 6));
        case 1: return AttributeValue::number(random_number(rng));
        case 2: return AttributeValue::binary(random_bytes(rng, 6));
        case 3: return AttributeValue::boolean_value(rng() % 2 == 0);
        case 4: return AttributeValue::null();
        case 5: {
            std::vector<std::string> set;
            for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) set.push_back(random_utf8(rng, 3));
            return AttributeValue::string_set(std::move(set));
        }
        case 6: {
            std::vector<Number> set;
            for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) set.push_back(random_number(rng));
            return AttributeValue::number_set(std::move(set));
        }
        case 7: {
            std::vector<std::string> set;
            for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) set.push_back(random_bytes(rng, 3));
            return AttributeValue::binary_set(std::move(set));
        }
        case 8: {
            dynamo::Map m;
            for (int k = 0, n = static_cast<int>(rng() % 4); k < n; ++k)
                m[random_utf8(rng, 3)] = random_value(rng, depth + 1);
            return AttributeValue::map(std::move(m));
        }
        default: {
            dynamo::List l;
            for (int k = 0, n = static_cast<int>(rng() % 4); k < n; ++k) l.push_back(random_value(rng, depth + 1));
            return AttributeValue::list(std::move(l));
        }
    }
}

Item random_item(std::mt19937_64& rng) {
    Item item;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 6); k < n; ++k)
        item[random_utf8(rng, 4)] = random_value(rng, 1);
    return item;
}

// Exact reference arithmetic on plain decimal strings, independent of Number: fixed
// point with 140 integer and 180 fraction digits covers 1E+126 .. 1E-130 with room.
struct Fixed {
    int sign = 0;           // -1, 0, 1
    std::string magnitude;  // 320 digits
};
constexpr std::size_t int_digits = 140, frac_digits = 180;

Fixed to_fixed(const std::string& plain) {
    Fixed f;
    std::string s = plain;
    bool negative = !s.empty() && s[0] == '-';
    if (negative) s.erase(0, 1);
    auto dot = s.find('.');
    std::string ip = s.substr(0, dot), fp = dot == std::string::npos ? "" : s.substr(dot + 1);
    ip = std::string(int_digits - ip.size(), '0') + ip;
    fp.resize(frac_digits, '0');
    f.magnitude = ip + fp;
    bool zero = f.magnitude.find_first_not_of('0') == std::string::npos;
    f.sign = zero ? 0 : negative ? -1 : 1;
    return f;
}

int compare_fixed(const Fixed& a, const Fixed& b) {
    if (a.sign != b.sign) return a.sign < b.sign ? -1 : 1;
    int c = a.magnitude.compare(b.magnitude);
    c = c < 0 ? -1 : c > 0 ? 1 : 0;
    return a.sign < 0 ? -c : c;
}

std::string fixed_to_plain(const Fixed& f) {
    if (f.sign == 0) return "0";
    return (f.sign < 0 ? "-" : "") + f.magnitude.substr(0, int_digits) + "." + f.magnitude.substr(int_digits);
}

Fixed add_fixed(const Fixed& a, const Fixed& b) {
    if (a.sign == 0) return b;
    if (b.sign == 0) return a;
    Fixed r;
    std::size_t n = a.magnitude.size();
    r.magnitude.assign(n, '0');
    if (a.sign == b.sign) {
        int carry = 0;
        for (std::size_t k = n; k-- > 0;) {
            int d = (a.magnitude[k] - '0') + (b.magnitude[k] - '0') + carry;
            r.magnitude[k] = static_cast<char>('0' + d % 10);
            carry = d / 10;
        }
        r.sign = a.sign;
        return r;
    }
    const Fixed* big = &a;
    const Fixed* small = &b;
    int c = a.magnitude.compare(b.magnitude);
    if (c == 0) return Fixed{0, std::string(n, '0')};
    if (c < 0) std::swap(big, small);
    int borrow = 0;
    for (std::size_t k = n; k-- > 0;) {
        int d = (big->magnitude[k] - '0') - (small->magnitude[k] - '0') - borrow;
        borrow = d < 0;
        r.magnitude[k] = static_cast<char>('0' + (d + 10) % 10);
    }
    r.sign = big->sign;
    return r;
}

}  // namespace

// ---------------------------------------------------------------- numbers

// Query and Scan pages are written as text without a tree: the text must be exactly what
// the tree printed (keys in the same order, the same escapes).
TEST_CASE("dynamo value: append_item_json writes what item_to_json + dump writes") {
    json wire = json::parse(R"({
        "s": {"S": "plain"}, "esc": {"S": "q\"b\\s/\n\r\t\b\f\u0001\u001f é ✓ 😀"}, "empty": {"S": ""},
        "n": {"N": "-12.50e3"}, "z": {"N": "0"}, "b": {"B": "AAECAwT/"}, "t": {"BOOL": true}, "f": {"BOOL": false},
        "nul": {"NULL": true}, "ss": {"SS": ["b", "a", "ä"]}, "ns": {"NS": ["10", "9", "-1.5"]},
        "bs": {"BS": ["AQ==", "Ag=="]}, "l": {"L": [{"S": "x"}, {"L": []}, {"M": {}}, {"N": "1"}]},
        "m": {"M": {"z": {"S": "last"}, "": {"S": "empty key"}, "a": {"M": {"deep": {"L": [{"NULL": true}]}}}}},
        "\u00e9t\u00e9": {"S": "key with accents"}
    })");
    Item item = dynamo::item_from_json(wire);
    std::string text;
    dynamo::append_item_json(text, item);
    CHECK(text == dynamo::item_to_json(item).dump(-1, ' ', false, json::error_handler_t::replace));
    CHECK(json::parse(text) == dynamo::item_to_json(item));
    std::string empty;
    dynamo::append_item_json(empty, Item{});
    CHECK(empty == "{}");
}

TEST_CASE("dynamo number: parse accepts DynamoDB's syntax and prints the canonical form") {
    // (input, canonical). DynamoDB parses like Java's BigDecimal and answers without an
    // exponent, trimmed of leading and trailing zeros.
    const std::pair<std::string, std::string> table[] = {
        {"0", "0"},
        {"-0", "0"},
        {"+0", "0"},
        {"0.000", "0"},
        {"-0.0e-5", "0"},
        {"0e999999999999999999999", "0"},
        {"5", "5"},
        {"+5", "5"},
        {"5.", "5"},
        {".5", "0.5"},
        {"-.5", "-0.5"},
        {"+.5e1", "5"},
        {"1E+3", "1000"},
        {"1e3", "1000"},
        {"1E3", "1000"},
        {"1e0007", "10000000"},
        {"1.50", "1.5"},
        {"-12.50", "-12.5"},
        {"0001.2300", "1.23"},
        {"1E-5", "0.00001"},
        {"1.5e-1", "0.15"},
        {"123.456E2", "12345.6"},
        {"123.456E-2", "1.23456"},
        {"123.456E+3", "123456"},
        {"0.000123", "0.000123"},
        {"100", "100"},
        {"-100.000", "-100"},
        {"10.01", "10.01"},
        {"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
        {"-1234567890123456789012345678901234567800000", "-1234567890123456789012345678901234567800000"},
        {"0.00000000000000000000000000000000000000001234567890123456789012345678901234567800",
         "0.000000000000000000000000000000000000000012345678901234567890123456789012345678"},
        {"1E-130", "0." + std::string(129, '0') + "1"},
        {"-1E-130", "-0." + std::string(129, '0') + "1"},
        {"9.9999999999999999999999999999999999999E+125", std::string(38, '9') + std::string(88, '0')},
        {"1E+125", "1" + std::string(125, '0')},
    };
    for (const auto& [input, canonical] : table) {
        CAPTURE(input);
        CHECK(num(input).to_string() == canonical);
        CHECK(num(canonical) == num(input));
    }
}

TEST_CASE("dynamo number: malformed text is rejected with AWS's message") {
    const std::string table[] = {
        "",      " 1",     "1 ",       "\t1",       "+",    "-",    ".",     "-.",    "e5",  "E5",
        "1e",    "1e+",    "1e-",      ".e1",       "--1",  "+-1",  "-+1",   "1.2.3", "1..2", "NaN",
        "nan",   "-NaN",   "Infinity", "-Infinity", "inf",  "0x10", "0X1A",  "1_000", "1,5", "1,000",
        "1e5.5", "1e+-3",  "1f",       "1d",        "1L",   "1e 5", "1 e5",  "\xD9\xA1",  // Arabic-Indic one
        std::string("1\0", 2),
    };
    for (const auto& input : table) {
        CAPTURE(input);
        CHECK(aws_error([&] { num(input); }) ==
              validation(input.empty() ? malformed_error : malformed_error + ": " + input));
    }
}

TEST_CASE("dynamo number: more than 38 significant digits is rejected") {
    SUBCASE("38 digits pass, with any number of leading and trailing zeros") {
        CHECK(num("99999999999999999999999999999999999999").digits().size() == 38);
        CHECK(num("-0000.99999999999999999999999999999999999999000").digits().size() == 38);
        CHECK(num("1" + std::string(36, '0') + "1" + std::string(50, '0')).to_string().size() == 88);
    }
    SUBCASE("39 digits fail, wherever they are") {
        for (std::string input : {std::string(39, '9'), "1." + std::string(37, '0') + "1",
                                  "-0.000" + std::string(39, '7'), "1" + std::string(37, '0') + "1e-100"}) {
            CAPTURE(input);
            CHECK(aws_error([&] { num(input); }) == validation(digits_error));
        }
    }
}

TEST_CASE("dynamo number: magnitudes outside 1E-130 .. 9.99E+125 are rejected") {
    CHECK(num("1E-130").exponent() == -129);
    CHECK(num("-1E-130").negative());
    CHECK(num("9.9999999999999999999999999999999999999E+125").exponent() == 126);
    CHECK(num("-9.9999999999999999999999999999999999999E+125").negative());
    CHECK(num("0.1E-129") == num("1E-130"));
    for (const std::string& input : std::vector<std::string>{"1E+126", "-1E+126", "10E+125", "1" + std::string(126, '0'), "1e99999999999999999999999"}) {
        CAPTURE(input);
        CHECK(aws_error([&] { num(input); }) == validation(overflow_error));
    }
    for (const std::string& input : std::vector<std::string>{"1E-131", "-1E-131", "0.99E-130", "0." + std::string(130, '0') + "1", "1e-99999999999999999999999"}) {
        CAPTURE(input);
        CHECK(aws_error([&] { num(input); }) == validation(underflow_error));
    }
}

TEST_CASE("dynamo number: from_int and from_parts") {
    CHECK(Number::from_int(0).is_zero());
    CHECK(Number::from_int(0) == Number{});
    CHECK(Number::from_int(1000).to_string() == "1000");
    CHECK(Number::from_int(-7).to_string() == "-7");
    CHECK(Number::from_int(std::numeric_limits<std::int64_t>::max()).to_string() == "9223372036854775807");
    CHECK(Number::from_int(std::numeric_limits<std::int64_t>::min()).to_string() == "-9223372036854775808");
    CHECK(Number::from_parts(true, "00120", 4) == num("-12"));
    CHECK(Number::from_parts(true, "000", 3) == Number{});
    CHECK_FALSE(Number::from_parts(true, "000", 3).negative());
    CHECK(aws_error([] { Number::from_parts(false, "1", 127); }) == validation(overflow_error));
}

TEST_CASE("dynamo number: compare orders numerically, equality ignores the spelling") {
    const char* ascending[] = {
        "-9.9999999999999999999999999999999999999E+125", "-1E+100", "-1000", "-999.9", "-12.5", "-12.4999", "-1.1",
        "-1.01", "-1", "-0.5", "-1E-130", "0", "1E-130", "2E-130", "0.0001", "0.1", "0.12", "0.1201", "0.13", "1",
        "1.0000000000000000000000000000000000001", "9", "10", "10.5", "99", "100", "1E+125",
        "9.9999999999999999999999999999999999999E+125",
    };
    for (std::size_t i = 0; i < std::size(ascending); ++i)
        for (std::size_t j = 0; j < std::size(ascending); ++j) {
            CAPTURE(ascending[i]);
            CAPTURE(ascending[j]);
            CHECK((num(ascending[i]) <=> num(ascending[j])) == (i <=> j));
        }
    CHECK(num("1.0") == num("1"));
    CHECK(num("-0") == num("0"));
    CHECK(num("1E2") == num("100.000"));
    CHECK(num("1E2") != num("1E3"));
}

TEST_CASE("dynamo number: addition and subtraction are exact") {
    // (a, b, a + b)
    const std::tuple<std::string, std::string, std::string> table[] = {
        {"0.1", "0.2", "0.3"},
        {"1", "-1", "0"},
        {"-5", "5", "0"},
        {"0", "-3.5", "-3.5"},
        {"-3.5", "0", "-3.5"},
        {"999", "1", "1000"},
        {"1000", "-1", "999"},
        {"-1000", "1", "-999"},
        {"1.5", "-2.25", "-0.75"},
        {"1E+10", "1E-10", "10000000000.0000000001"},
        {"99999999999999999999999999999999999999", "1", "1" + std::string(38, '0')},
        {"12345678901234567890123456789012345678", "-8", "12345678901234567890123456789012345670"},
        {"0.1234567890123456789012345678901234567", "0.0000000000000000000000000000000000001",
         "0.1234567890123456789012345678901234568"},
        {"1E-130", "-1E-130", "0"},
        {"1.1E-129", "-1E-129", "1E-130"},
        {"9.9999999999999999999999999999999999998E+125", "1E+88", "9.9999999999999999999999999999999999999E+125"},
    };
    for (const auto& [a, b, sum] : table) {
        CAPTURE(a);
        CAPTURE(b);
        CHECK(num(a) + num(b) == num(sum));
        CHECK(num(b) + num(a) == num(sum));
        CHECK(num(sum) - num(b) == num(a));
        CHECK(-(num(a) + num(b)) == -num(sum));
    }
    CHECK_FALSE((num("-5") + num("5")).negative());
    CHECK((-Number{}).is_zero());
    CHECK_FALSE((-Number{}).negative());
}

TEST_CASE("dynamo number: arithmetic results beyond 38 digits or the range are errors, not rounded") {
    CHECK(aws_error([] { num("99999999999999999999999999999999999999") + num("0.1"); }) == validation(digits_error));
    CHECK(aws_error([] { num("12345678901234567890123456789012345678") + num("0.5"); }) == validation(digits_error));
    CHECK(aws_error([] { num("1E+125") + num("1E-130"); }) == validation(digits_error));
    CHECK(aws_error([] { num("1E+20") - num("1E-20"); }) == validation(digits_error));
    CHECK(aws_error([] { num("9.9999999999999999999999999999999999999E+125") + num("1E+88"); }) ==
          validation(overflow_error));
    CHECK(aws_error([] { num("-9E+125") - num("9E+125"); }) == validation(overflow_error));
    CHECK(aws_error([] { num("1.01E-129") - num("1E-129"); }) == validation(underflow_error));
}

TEST_CASE("dynamo number: random values round-trip, compare and add like exact decimals") {
    std::mt19937_64 rng(20240611);
    std::vector<Number> pool;
    for (int k = 0; k < 3000; ++k) pool.push_back(random_number(rng));
    // Near neighbours: a digit more or less, the same digits under another sign.
    for (int k = 0; k < 1000; ++k) {
        const Number x = pool[rng() % pool.size()];  // a copy: push_back reallocates
        if (x.is_zero()) continue;
        std::string d = x.digits();
        if (d.size() > 1) pool.push_back(Number::from_parts(x.negative(), d.substr(0, d.size() - 1), x.exponent()));
        if (d.size() < 38) pool.push_back(Number::from_parts(x.negative(), d + "1", x.exponent()));
        pool.push_back(-x);
    }
    int round_trip_failures = 0, compare_failures = 0, add_failures = 0, add_exact = 0, add_rejected = 0;
    for (const auto& x : pool) {
        if (!(Number::parse(x.to_string()) == x)) ++round_trip_failures;
    }
    std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
    for (int k = 0; k < 30000; ++k) {
        const Number& a = pool[pick(rng)];
        const Number& b = pool[pick(rng)];
        Fixed fa = to_fixed(a.to_string()), fb = to_fixed(b.to_string());
        int expected = compare_fixed(fa, fb);
        auto got = a <=> b;
        if ((got < 0 ? -1 : got > 0 ? 1 : 0) != expected || (a == b) != (expected == 0)) {
            if (compare_failures++ == 0) MESSAGE("compare ", a.to_string(), " vs ", b.to_string());
        }
        // The reference sum, parsed, throws exactly when Number's sum must.
        std::string expected_sum, actual_sum;
        try {
            expected_sum = Number::parse(fixed_to_plain(add_fixed(fa, fb))).to_string();
        } catch (const stratus::core::AwsError& e) {
            expected_sum = e.message();
        }
        try {
            actual_sum = (a + b).to_string();
        } catch (const stratus::core::AwsError& e) {
            actual_sum = e.message();
        }
        (actual_sum.rfind("Attempting", 0) == 0 || actual_sum.rfind("Number", 0) == 0 ? add_rejected : add_exact)++;
        if (expected_sum != actual_sum) {
            if (add_failures++ == 0) MESSAGE("add ", a.to_string(), " + ", b.to_string(), ": ", actual_sum);
        }
    }
    CHECK(pool.size() > 5000);
    CHECK(round_trip_failures == 0);
    CHECK(compare_failures == 0);
    // Both outcomes are well represented.
    CHECK(add_exact > 5000);
    CHECK(add_rejected > 5000);
    CHECK(add_failures == 0);
}

// ---------------------------------------------------------------- attribute values

TEST_CASE("dynamo value: set factories sort and deduplicate") {
    auto ss = AttributeValue::string_set({"b", "a", "b", "", "\xFF", "\x01"});
    CHECK(ss.type == Type::SS);
    CHECK(ss.strings == std::vector<std::string>{"", "\x01", "a", "b", "\xFF"});
    auto ns = AttributeValue::number_set({num("10"), num("1.0"), num("-2"), num("1")});
    CHECK(ns.numbers == std::vector<Number>{num("-2"), num("1"), num("10")});
    // Binary sets sort by unsigned bytes: 0x7F before 0x80.
    auto bs = AttributeValue::binary_set({"\x80", "\x7F", std::string(1, '\0'), "\x80"});
    CHECK(bs.type == Type::BS);
    CHECK(bs.strings == std::vector<std::string>{std::string(1, '\0'), "\x7F", "\x80"});
}

TEST_CASE("dynamo value: equality is deep and typed") {
    auto make = [](std::string leaf) {
        return AttributeValue::map({{"a", AttributeValue::list({AttributeValue::string(leaf), AttributeValue::null()})},
                                    {"n", AttributeValue::number(num("1.50"))}});
    };
    CHECK(make("x") == make("x"));
    CHECK_FALSE(make("x") == make("y"));
    CHECK(AttributeValue::number(num("1")) == AttributeValue::number(num("1.0")));
    CHECK_FALSE(AttributeValue::string("ab") == AttributeValue::binary("ab"));
    CHECK_FALSE(AttributeValue::string_set({"ab"}) == AttributeValue::binary_set({"ab"}));
    CHECK(AttributeValue::string_set({"a", "b"}) == AttributeValue::string_set({"b", "a", "a"}));
    CHECK(AttributeValue::boolean_value(true) == AttributeValue::boolean_value(true));
    CHECK_FALSE(AttributeValue::boolean_value(true) == AttributeValue::boolean_value(false));
    CHECK(AttributeValue::null() == AttributeValue::null());
    CHECK_FALSE(AttributeValue::map({}) == AttributeValue::list({}));
    CHECK_FALSE(AttributeValue::list({AttributeValue::null()}) == AttributeValue::list({}));
}

TEST_CASE("dynamo value: type names are the wire keys") {
    CHECK(dynamo::type_name(Type::S) == "S");
    CHECK(dynamo::type_name(Type::N) == "N");
    CHECK(dynamo::type_name(Type::B) == "B");
    CHECK(dynamo::type_name(Type::BOOL) == "BOOL");
    CHECK(dynamo::type_name(Type::NUL) == "NULL");
    CHECK(dynamo::type_name(Type::M) == "M");
    CHECK(dynamo::type_name(Type::L) == "L");
    CHECK(dynamo::type_name(Type::SS) == "SS");
    CHECK(dynamo::type_name(Type::NS) == "NS");
    CHECK(dynamo::type_name(Type::BS) == "BS");
}

// ---------------------------------------------------------------- JSON

TEST_CASE("dynamo json: every type round-trips, numbers canonical, sets sorted") {
    // (input, expected output)
    const std::pair<std::string, std::string> table[] = {
        {R"({"S":"h\u00e9llo"})", R"({"S":"héllo"})"},
        {R"({"S":""})", R"({"S":""})"},
        {R"({"N":"1E+3"})", R"({"N":"1000"})"},
        {R"({"N":"-0.50"})", R"({"N":"-0.5"})"},
        {R"({"B":"AP8="})", R"({"B":"AP8="})"},
        {R"({"B":""})", R"({"B":""})"},
        {R"({"BOOL":false})", R"({"BOOL":false})"},
        {R"({"NULL":true})", R"({"NULL":true})"},
        {R"({"M":{}})", R"({"M":{}})"},
        {R"({"L":[]})", R"({"L":[]})"},
        {R"({"M":{"b":{"N":"2.0"},"a":{"L":[{"S":"x"},{"NULL":true}]}}})",
         R"({"M":{"a":{"L":[{"S":"x"},{"NULL":true}]},"b":{"N":"2"}}})"},
        {R"({"SS":["b","a",""]})", R"({"SS":["","a","b"]})"},
        {R"({"NS":["10","-1","2.50"]})", R"({"NS":["-1","2.5","10"]})"},
        {R"({"BS":["gA==","fw==","AA=="]})", R"({"BS":["AA==","fw==","gA=="]})"},
        // Members set to null count as absent; unknown members are ignored (Coral).
        {R"({"S":"x","N":null})", R"({"S":"x"})"},
        {R"({"S":"x","Unknown":5})", R"({"S":"x"})"},
    };
    for (const auto& [input, output] : table) {
        CAPTURE(input);
        auto v = dynamo::value_from_json(json::parse(input));
        CHECK(dynamo::value_to_json(v) == json::parse(output));
        CHECK(dynamo::value_from_json(dynamo::value_to_json(v)) == v);
    }
    CHECK(dynamo::value_from_json(json::parse(R"({"B":"AP8="})")).s == std::string("\x00\xFF", 2));
}

TEST_CASE("dynamo json: items round-trip") {
    auto item = dynamo::item_from_json(json::parse(R"({"pk":{"S":"a"},"n":{"N":"007"},"m":{"M":{"x":{"BOOL":true}}}})"));
    CHECK(item.size() == 3);
    CHECK(item.at("n") == AttributeValue::number(num("7")));
    CHECK(dynamo::item_to_json(item) ==
          json::parse(R"({"pk":{"S":"a"},"n":{"N":"7"},"m":{"M":{"x":{"BOOL":true}}}})"));
    CHECK(dynamo::item_to_json({}) == json::object());
    std::mt19937_64 rng(7);
    int failures = 0;
    for (int k = 0; k < 300; ++k) {
        Item x = random_item(rng);
        if (!(dynamo::item_from_json(json::parse(dynamo::item_to_json(x).dump())) == x)) ++failures;
    }
    CHECK(failures == 0);
}

TEST_CASE("dynamo json: an AttributeValue must carry exactly one type") {
    const std::string empty = validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
    const std::string several = validation(
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes");
    CHECK(json_error("{}") == empty);
    CHECK(json_error("null") == empty);
    CHECK(json_error(R"({"S":null})") == empty);
    CHECK(json_error(R"({"X":"y"})") == empty);
    CHECK(json_error(R"({"S":"a","N":"1"})") == several);
    CHECK(json_error(R"({"NULL":true,"BOOL":true})") == several);
    CHECK(json_error(R"({"L":[{}]})") == empty);
    CHECK(json_error(R"({"M":{"a":null}})") == empty);
}

TEST_CASE("dynamo json: NULL must be true") {
    CHECK(json_error(R"({"NULL":false})") ==
          validation("One or more parameter values were invalid: Null attribute value types must have the value of true"));
}

TEST_CASE("dynamo json: sets may not be empty (AWS's wording per type)") {
    CHECK(json_error(R"({"SS":[]})") ==
          validation("One or more parameter values were invalid: An string set  may not be empty"));
    CHECK(json_error(R"({"NS":[]})") ==
          validation("One or more parameter values were invalid: An number set  may not be empty"));
    CHECK(json_error(R"({"BS":[]})") ==
          validation("One or more parameter values were invalid: Binary sets should not be empty"));
}

TEST_CASE("dynamo json: sets may not contain duplicates") {
    CHECK(json_error(R"({"SS":["a","a"]})") ==
          validation("One or more parameter values were invalid: Input collection [a, a] contains duplicates."));
    CHECK(json_error(R"({"SS":["b","a","b"]})") ==
          validation("One or more parameter values were invalid: Input collection [b, a, b] contains duplicates."));
    // Numerically equal spellings are the same number.
    CHECK(json_error(R"({"NS":["1","1.0"]})") ==
          validation("One or more parameter values were invalid: Input collection [1, 1.0] contains duplicates."));
    CHECK(json_error(R"({"BS":["AA==","AA=="]})") ==
          validation("One or more parameter values were invalid: Input collection [AA==, AA==] contains duplicates."));
}

TEST_CASE("dynamo json: numbers are validated in N and NS") {
    CHECK(json_error(R"({"N":"abc"})") == validation(malformed_error + ": abc"));
    CHECK(json_error(R"({"N":""})") == validation(malformed_error));
    CHECK(json_error(R"({"NS":["1","x"]})") == validation(malformed_error + ": x"));
    CHECK(json_error(R"({"N":"1E+126"})") == validation(overflow_error));
    CHECK(json_error(R"({"NS":["1E-131"]})") == validation(underflow_error));
    CHECK(json_error(R"({"M":{"a":{"N":")" + std::string(39, '1') + R"("}}})") == validation(digits_error));
}

TEST_CASE("dynamo json: members of the wrong JSON type are SerializationExceptions") {
    CHECK(json_error(R"({"S":5})") == serialization("NUMBER_VALUE cannot be converted to String"));
    CHECK(json_error(R"({"N":1})") == serialization("NUMBER_VALUE cannot be converted to String"));
    CHECK(json_error(R"({"S":true})") == serialization("BOOLEAN_VALUE cannot be converted to String"));
    CHECK(json_error(R"({"S":{}})") == serialization("Start of structure or map found where not expected."));
    CHECK(json_error(R"({"S":[]})") == serialization("Start of list found where not expected."));
    CHECK(json_error(R"({"BOOL":"true"})") == serialization("STRING_VALUE cannot be converted to Boolean"));
    CHECK(json_error(R"({"NULL":1})") == serialization("NUMBER_VALUE cannot be converted to Boolean"));
    CHECK(json_error(R"({"B":5})") == serialization("NUMBER_VALUE cannot be converted to Blob"));
    CHECK(json_error(R"({"M":[]})") == serialization("Start of list found where not expected."));
    CHECK(json_error(R"({"L":{}})") == serialization("Start of structure or map found where not expected."));
    CHECK(json_error(R"({"SS":"a"})") == serialization("STRING_VALUE cannot be converted to List"));
    CHECK(json_error(R"({"SS":[1]})") == serialization("NUMBER_VALUE cannot be converted to String"));
    CHECK(json_error(R"({"NS":[1]})") == serialization("NUMBER_VALUE cannot be converted to String"));
    CHECK(json_error(R"({"SS":[null]})") == serialization("NULL_VALUE cannot be converted to String"));
    CHECK(json_error(R"("x")") == serialization("STRING_VALUE cannot be converted to AttributeValue"));
    CHECK(json_error(R"({"L":[5]})") == serialization("NUMBER_VALUE cannot be converted to AttributeValue"));
    CHECK(aws_error([] { dynamo::item_from_json(json::parse("[]")); }) ==
          serialization("Start of list found where not expected."));
    CHECK(aws_error([] { dynamo::item_from_json(json::parse(R"({"a":"x"})")); }) ==
          serialization("STRING_VALUE cannot be converted to AttributeValue"));
}

TEST_CASE("dynamo json: the whole value is deserialized before it is validated") {
    // Like Coral: a SerializationException anywhere wins over an earlier ValidationException.
    CHECK(json_error(R"({"L":[{"S":"a","N":"1"},{"S":5}]})") == serialization("NUMBER_VALUE cannot be converted to String"));
    CHECK(json_error(R"({"L":[{"NS":[]},{"B":"!"}]})").rfind("SerializationException", 0) == 0);
    CHECK(aws_error([] { dynamo::item_from_json(json::parse(R"({"a":{"NULL":false},"b":{"BOOL":1}})")); }) ==
          serialization("NUMBER_VALUE cannot be converted to Boolean"));
}

TEST_CASE("dynamo json: binaries must be strict base64") {
    CHECK(json_error(R"({"B":"AAA"})") ==
          serialization("Base64 encoded length is expected a multiple of 4 bytes but found: 3"));
    CHECK(json_error(R"({"BS":["AAAAA"]})") ==
          serialization("Base64 encoded length is expected a multiple of 4 bytes but found: 5"));
    // Unused bits of the last character must be zero ("AB==" has them set).
    CHECK(json_error(R"({"B":"AB=="})") == serialization("Invalid last non-pad Base64 character dectected"));
    CHECK(json_error(R"({"B":"AAB="})") == serialization("Invalid last non-pad Base64 character dectected"));
    for (std::string bad : {"AA!A", "A=AA", "=AAA", "AA=A", "AAAA====", "A===", "AA-_", "AA\\nA", "AA A"}) {
        CAPTURE(bad);
        CHECK(json_error(json{{"B", bad}}.dump()).rfind("SerializationException", 0) == 0);
    }
    CHECK(dynamo::value_from_json(json::parse(R"({"B":"AAECAwQ="})")).s == std::string("\x00\x01\x02\x03\x04", 5));
    CHECK(dynamo::value_from_json(json::parse(R"({"B":"/+8="})")).s == "\xFF\xEF");
}

TEST_CASE("dynamo json: nesting is limited to 32 levels") {
    // `levels` maps or lists around a string, built without recursion.
    auto nested = [](int levels, bool lists) {
        json root;
        json* cur = &root;
        for (int k = 0; k < levels; ++k) {
            if (lists) {
                (*cur)["L"] = json::array({json()});
                cur = &(*cur)["L"][0];
            } else {
                (*cur)["M"] = json::object();
                cur = &(*cur)["M"]["k"];
            }
        }
        *cur = json{{"S", "leaf"}};
        return root;
    };
    const std::string too_deep = validation("Nesting Levels have exceeded supported limits");
    for (bool lists : {false, true}) {
        CAPTURE(lists);
        CHECK_NOTHROW(dynamo::value_from_json(nested(32, lists)));
        CHECK(aws_error([&] { dynamo::value_from_json(nested(33, lists)); }) == too_deep);
        // Hostile depth fails cleanly instead of exhausting the stack.
        CHECK(aws_error([&] { dynamo::value_from_json(nested(100000, lists)); }) == too_deep);
        CHECK(aws_error([&] { dynamo::item_from_json(json{{"a", nested(33, lists)}}); }) == too_deep);
    }
    CHECK_NOTHROW(dynamo::item_from_json(json{{"a", nested(32, false)}}));
}

// ---------------------------------------------------------------- sizes

TEST_CASE("dynamo size: AWS's item size rules") {
    auto value = [](const char* text) { return dynamo::value_from_json(json::parse(text)); };
    // Strings: UTF-8 bytes ("€" is 3).
    CHECK(dynamo::value_size(value(R"({"S":"hello"})")) == 5);
    CHECK(dynamo::value_size(value(R"({"S":"\u20ac"})")) == 3);
    CHECK(dynamo::value_size(value(R"({"S":""})")) == 0);
    // Binary: raw bytes, not base64 characters.
    CHECK(dynamo::value_size(value(R"({"B":"AAEC"})")) == 3);
    // Numbers: 1 byte per two significant digits, plus 1; zeros trimmed first.
    CHECK(dynamo::value_size(value(R"({"N":"0"})")) == 1);
    CHECK(dynamo::value_size(value(R"({"N":"7"})")) == 2);
    CHECK(dynamo::value_size(value(R"({"N":"12"})")) == 2);
    CHECK(dynamo::value_size(value(R"({"N":"123"})")) == 3);
    CHECK(dynamo::value_size(value(R"({"N":"-12345.6789"})")) == 6);
    CHECK(dynamo::value_size(value(R"({"N":"0.0001200"})")) == 2);
    CHECK(dynamo::value_size(value(R"({"N":"1E+100"})")) == 2);
    CHECK(dynamo::value_size(value(R"({"N":"12345678901234567890123456789012345678"})")) == 20);
    CHECK(dynamo::value_size(value(R"({"BOOL":true})")) == 1);
    CHECK(dynamo::value_size(value(R"({"NULL":true})")) == 1);
    // Map and list: 3 bytes, plus per element 1 byte, its value and (map) its name.
    CHECK(dynamo::value_size(value(R"({"M":{}})")) == 3);
    CHECK(dynamo::value_size(value(R"({"L":[]})")) == 3);
    CHECK(dynamo::value_size(value(R"({"M":{"a":{"S":"xy"},"bb":{"N":"1"}}})")) == 3 + (1 + 2 + 1) + (2 + 2 + 1));
    CHECK(dynamo::value_size(value(R"({"L":[{"S":"a"},{"BOOL":true}]})")) == 3 + (1 + 1) + (1 + 1));
    CHECK(dynamo::value_size(value(R"({"L":[{"L":[]}]})")) == 3 + (3 + 1));
    // Sets: the sum of their elements.
    CHECK(dynamo::value_size(value(R"({"SS":["a","bc"]})")) == 3);
    CHECK(dynamo::value_size(value(R"({"NS":["1","22","333"]})")) == 2 + 2 + 3);
    CHECK(dynamo::value_size(value(R"({"BS":["AA==","AAA="]})")) == 3);
    // An item: each attribute's name bytes plus its value.
    auto item = dynamo::item_from_json(json::parse(R"({"id":{"S":"abc"},"n\u00e9":{"N":"10"},"ok":{"BOOL":true}})"));
    CHECK(dynamo::item_size(item) == (2 + 3) + (3 + 2) + (2 + 1));
    CHECK(dynamo::item_size({}) == 0);
}

// ---------------------------------------------------------------- stored item encoding

TEST_CASE("dynamo codec: items round-trip exactly") {
    Item fixed = dynamo::item_from_json(json::parse(R"({
        "s": {"S": "h\u00e9"}, "e": {"S": ""}, "n": {"N": "-1.50E-3"}, "z": {"N": "0"},
        "b": {"B": "AP8A"}, "t": {"BOOL": true}, "f": {"BOOL": false}, "u": {"NULL": true},
        "m": {"M": {"x": {"L": [{"N": "9.9999999999999999999999999999999999999E+125"}, {"M": {}}]}}},
        "ss": {"SS": ["b", "a"]}, "ns": {"NS": ["1E-130", "-3"]}, "bs": {"BS": ["AA==", "/w=="]}
    })"));
    auto bytes = dynamo::encode_item(fixed);
    CHECK(bytes.front() == '\x01');  // format byte
    Item back = dynamo::decode_item(bytes);
    CHECK(back == fixed);
    CHECK(dynamo::item_to_json(back) == dynamo::item_to_json(fixed));
    CHECK(back.at("b").s == std::string("\x00\xFF\x00", 3));
    CHECK(back.at("n").n.to_string() == "-0.0015");
    CHECK(dynamo::decode_item(dynamo::encode_item({})).empty());

    std::mt19937_64 rng(42);
    int failures = 0;
    for (int k = 0; k < 1000; ++k) {
        Item x = random_item(rng);
        auto encoded = dynamo::encode_item(x);
        Item y = dynamo::decode_item(encoded);
        if (!(y == x) || dynamo::encode_item(y) != encoded) ++failures;
    }
    CHECK(failures == 0);
}

TEST_CASE("dynamo codec: corrupt input throws std::runtime_error and never crashes") {
    SUBCASE("hand-made") {
        const std::string table[] = {
            "",
            "\x02",                                    // unknown format
            std::string("\x01\x00\x00", 3),            // trailing byte
            std::string("\x01\x01", 2),                // truncated count
            "\x01\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01",  // varint too long
            "\x01\xFF\xFF\xFF\xFF\x0F",                // count beyond the input
            std::string("\x01\x01\x01" "a" "\x0A", 5), // unknown type tag
            std::string("\x01\x01\x01" "a" "\x03\x02", 6),  // boolean 2
            std::string("\x01\x01\x01" "a" "\x07\x00", 6),  // empty SS
            std::string("\x01\x01\x01" "a" "\x07\x02\x01" "b" "\x01" "a", 11),  // unsorted SS
            std::string("\x01\x02\x01" "b" "\x04\x01" "a" "\x04", 8),  // unsorted names
            std::string("\x01\x01\x01" "a" "\x01\x30\x80\x01\x00", 9),  // number with leading zero digit
            std::string("\x01\x01\x01" "a" "\x01\x30\x80\x0B\x01\x00", 10),  // last digit pair 00
            std::string("\x01\x01\x01" "a" "\x01\x30\x80\x66\x00", 9),  // digit pair byte 101
            std::string("\x01\x01\x01" "a" "\x01\x40", 7),  // unknown number tag
        };
        for (const auto& bytes : table) {
            CAPTURE(bytes);
            CHECK_THROWS_AS(dynamo::decode_item(bytes), std::runtime_error);
        }
    }
    SUBCASE("deep nesting bomb") {
        // 100,000 single-element lists: the decoder stops at its depth limit.
        std::string bytes("\x01\x01\x01" "a", 4);
        for (int k = 0; k < 100000; ++k) bytes += std::string("\x06\x01", 2);
        bytes += '\x04';
        CHECK_THROWS_AS(dynamo::decode_item(bytes), std::runtime_error);
    }
    SUBCASE("every truncation and random mutations of random items") {
        std::mt19937_64 rng(99);
        int truncations = 0, mutations = 0, unexpected = 0;
        for (int k = 0; k < 200; ++k) {
            auto encoded = dynamo::encode_item(random_item(rng));
            for (std::size_t cut = 0; cut < encoded.size(); ++cut) {
                ++truncations;
                try {
                    dynamo::decode_item(std::string_view(encoded).substr(0, cut));
                    ++unexpected;  // a strict prefix is never a whole item
                } catch (const std::runtime_error&) {
                }
            }
            for (int m = 0; m < 20; ++m) {
                std::string bad = encoded;
                bad[rng() % bad.size()] = static_cast<char>(rng());
                ++mutations;
                try {
                    // Anything accepted must be a valid item that re-encodes to itself.
                    Item y = dynamo::decode_item(bad);
                    if (dynamo::decode_item(dynamo::encode_item(y)) != y) ++unexpected;
                } catch (const std::runtime_error&) {
                }
            }
        }
        CHECK(truncations > 1000);
        CHECK(mutations == 4000);
        CHECK(unexpected == 0);
    }
}

// GetItem writes the stored bytes straight as JSON: for every input, the same text as
// decode_item + append_item_json, or the same refusal.
TEST_CASE("dynamo codec: append_encoded_item_json writes what decode_item + append_item_json write") {
    auto via_item = [](std::string_view bytes) -> std::optional<std::string> {
        try {
            std::string out = "x";
            dynamo::append_item_json(out, dynamo::decode_item(bytes));
            return out;
        } catch (const std::runtime_error&) {
            return std::nullopt;
        }
    };
    auto direct = [](std::string_view bytes) -> std::optional<std::string> {
        try {
            std::string out = "x";
            dynamo::append_encoded_item_json(out, bytes);
            return out;
        } catch (const std::runtime_error&) {
            return std::nullopt;
        }
    };
    Item fixed = dynamo::item_from_json(json::parse(R"({
        "s": {"S": "q\"b\\s\n\u0001 \u00e9 \ud83d\ude00"}, "e": {"S": ""}, "n": {"N": "-1.50E-3"},
        "b": {"B": "AP8A"}, "t": {"BOOL": true}, "f": {"BOOL": false}, "u": {"NULL": true},
        "m": {"M": {"x": {"L": [{"N": "9.9999999999999999999999999999999999999E+125"}, {"M": {}}, {"L": []}]}}},
        "ss": {"SS": ["b", "a"]}, "ns": {"NS": ["1E-130", "-3", "10"]}, "bs": {"BS": ["AA==", "/w=="]}
    })"));
    auto bytes = dynamo::encode_item(fixed);
    REQUIRE(direct(bytes).has_value());
    CHECK(direct(bytes) == via_item(bytes));
    CHECK(direct(dynamo::encode_item({})) == "x{}");

    std::mt19937_64 rng(7);
    int compared = 0, differ = 0;
    for (int k = 0; k < 300; ++k) {
        auto encoded = dynamo::encode_item(random_item(rng));
        std::vector<std::string> inputs{encoded};
        for (std::size_t cut = 0; cut < encoded.size(); cut += 1 + encoded.size() / 16) inputs.push_back(encoded.substr(0, cut));
        for (int m = 0; m < 10; ++m) {
            std::string bad = encoded;
            bad[rng() % bad.size()] = static_cast<char>(rng());
            inputs.push_back(bad);
        }
        for (const auto& in : inputs) {
            ++compared;
            if (direct(in) != via_item(in)) ++differ;
        }
    }
    std::string bomb("\x01\x01\x01" "a", 4);
    for (int k = 0; k < 100000; ++k) bomb += std::string("\x06\x01", 2);
    bomb += '\x04';
    CHECK_FALSE(direct(bomb).has_value());
    CHECK(compared > 3000);
    CHECK(differ == 0);
}

// ---------------------------------------------------------------- key encoding

namespace {

int sign_of(int c) { return (c > 0) - (c < 0); }

// Unsigned lexicographic byte order: how LMDB (memcmp) orders keys, and how DynamoDB
// orders S and B values.
int byte_order(std::string_view a, std::string_view b) {
    for (std::size_t k = 0; k < a.size() && k < b.size(); ++k) {
        auto x = static_cast<unsigned char>(a[k]), y = static_cast<unsigned char>(b[k]);
        if (x != y) return x < y ? -1 : 1;
    }
    return sign_of(static_cast<int>(a.size() > b.size()) - static_cast<int>(a.size() < b.size()));
}

// DynamoDB's order of two key values of one type, from the reference decimal for N.
int value_order(const AttributeValue& a, const AttributeValue& b) {
    if (a.type == Type::N) return compare_fixed(to_fixed(a.n.to_string()), to_fixed(b.n.to_string()));
    return byte_order(a.s, b.s);
}

std::vector<AttributeValue> key_pool(std::mt19937_64& rng, Type type, int base_count) {
    std::vector<AttributeValue> pool;
    if (type == Type::N) {
        for (const char* edge : {"0", "1E-130", "-1E-130", "9.9999999999999999999999999999999999999E+125",
                                 "-9.9999999999999999999999999999999999999E+125", "1", "-1", "0.1", "10", "-10"})
            pool.push_back(AttributeValue::number(num(edge)));
        for (int k = 0; k < base_count; ++k) pool.push_back(AttributeValue::number(random_number(rng)));
        // Neighbours that share prefixes of digits and exponents.
        for (int k = 0; k < base_count / 3; ++k) {
            const Number x = pool[rng() % pool.size()].n;  // a copy: push_back reallocates
            if (x.is_zero()) continue;
            std::string d = x.digits();
            if (d.size() > 1)
                pool.push_back(AttributeValue::number(Number::from_parts(x.negative(), d.substr(0, d.size() / 2), x.exponent())));
            if (d.size() < 38)
                pool.push_back(AttributeValue::number(Number::from_parts(x.negative(), d + std::to_string(1 + rng() % 9), x.exponent())));
            pool.push_back(AttributeValue::number(-x));
        }
        return pool;
    }
    auto make = [type](std::string bytes) {
        return type == Type::S ? AttributeValue::string(std::move(bytes)) : AttributeValue::binary(std::move(bytes));
    };
    pool.push_back(make(""));
    for (int k = 0; k < base_count; ++k) pool.push_back(make(random_bytes(rng, 8)));
    // Prefixes of each other and extensions by 0x00 / 0xFF, the escape's edge cases.
    for (int k = 0; k < base_count / 3; ++k) {
        std::string s = pool[rng() % pool.size()].s;
        pool.push_back(make(s.substr(0, s.size() / 2)));
        pool.push_back(make(s + std::string(1, '\0')));
        pool.push_back(make(s + std::string(2, '\0')));
        pool.push_back(make(s + "\xFF"));
        pool.push_back(make(s + std::string("\x00\xFF", 2)));
    }
    return pool;
}

}  // namespace

TEST_CASE("dynamo key: encodings of sample values (on-disk format)") {
    auto enc = [](const AttributeValue& v) { return dynamo::encode_key_part(v); };
    CHECK(enc(AttributeValue::number(num("0"))) == "\x20");
    // 1 = 0.1 * 10^1: tag, exponent 1 + 129, digit pair "10" + 1, terminator.
    CHECK(enc(AttributeValue::number(num("1"))) == std::string("\x30\x82\x0B\x00", 4));
    CHECK(enc(AttributeValue::number(num("-1"))) == std::string("\x10\x7D\xF4\xFF", 4));
    CHECK(enc(AttributeValue::number(num("123"))) == std::string("\x30\x84\x0D\x1F\x00", 5));
    CHECK(enc(AttributeValue::number(num("1E-130"))) == std::string("\x30\x00\x0B\x00", 4));
    CHECK(enc(AttributeValue::string("a")) == std::string("a\x00\x00", 3));
    CHECK(enc(AttributeValue::binary(std::string("a\0b", 3))) == std::string("a\x00\xFF" "b\x00\x00", 6));
    CHECK(enc(AttributeValue::string("")) == std::string("\x00\x00", 2));
    // Zero bytes first, last and next to each other: each one escaped, runs copied whole.
    CHECK(enc(AttributeValue::binary(std::string("\0\0ab\0", 5))) ==
          std::string("\x00\xFF\x00\xFF" "ab\x00\xFF\x00\x00", 10));
    std::string out = "kept";
    dynamo::append_key_part(out, AttributeValue::string("a"));
    CHECK(out == std::string("kepta\x00\x00", 7));
}

TEST_CASE("dynamo key: number encodings sort like the numbers and decode back (property)") {
    std::mt19937_64 rng(1234);
    auto pool = key_pool(rng, Type::N, 4000);
    std::vector<std::string> encoded;
    int decode_failures = 0;
    for (const auto& v : pool) {
        encoded.push_back(dynamo::encode_key_part(v));
        if (!(dynamo::decode_key_part(Type::N, encoded.back()) == v)) ++decode_failures;
    }
    std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
    int order_failures = 0, prefix_failures = 0;
    for (int k = 0; k < 100000; ++k) {
        std::size_t i = pick(rng), j = pick(rng);
        // Adjacent-in-pool pairs are often near neighbours; mix them in.
        if (k % 4 == 0 && i + 1 < pool.size()) j = i + 1;
        int want = value_order(pool[i], pool[j]);
        int got = byte_order(encoded[i], encoded[j]);
        if (want != got && order_failures++ == 0)
            MESSAGE(pool[i].n.to_string(), " vs ", pool[j].n.to_string(), ": want ", want, " got ", got);
        if (want != 0 && encoded[j].compare(0, encoded[i].size(), encoded[i]) == 0) ++prefix_failures;
    }
    // Sorted by encoding, the numbers ascend.
    std::vector<std::size_t> order(pool.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return byte_order(encoded[a], encoded[b]) < 0; });
    int sort_failures = 0;
    for (std::size_t k = 1; k < order.size(); ++k)
        if (value_order(pool[order[k - 1]], pool[order[k]]) > 0) ++sort_failures;
    CHECK(pool.size() > 5000);
    CHECK(decode_failures == 0);
    CHECK(order_failures == 0);
    CHECK(prefix_failures == 0);
    CHECK(sort_failures == 0);
}

TEST_CASE("dynamo key: string and binary encodings sort by unsigned bytes and decode back (property)") {
    for (Type type : {Type::S, Type::B}) {
        CAPTURE(dynamo::type_name(type));
        std::mt19937_64 rng(type == Type::S ? 5 : 6);
        auto pool = key_pool(rng, type, 3000);
        std::vector<std::string> encoded;
        int decode_failures = 0;
        for (const auto& v : pool) {
            encoded.push_back(dynamo::encode_key_part(v));
            if (!(dynamo::decode_key_part(type, encoded.back()) == v)) ++decode_failures;
        }
        std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
        int order_failures = 0, prefix_failures = 0;
        for (int k = 0; k < 100000; ++k) {
            std::size_t i = pick(rng), j = k % 4 == 0 && i + 1 < pool.size() ? i + 1 : pick(rng);
            int want = value_order(pool[i], pool[j]);
            if (byte_order(encoded[i], encoded[j]) != want) ++order_failures;
            if (want != 0 && encoded[j].compare(0, encoded[i].size(), encoded[i]) == 0) ++prefix_failures;
        }
        CHECK(pool.size() > 5000);
        CHECK(decode_failures == 0);
        CHECK(order_failures == 0);
        CHECK(prefix_failures == 0);
    }
}

TEST_CASE("dynamo key: concatenated (hash, range) keys sort by hash, then range (property)") {
    std::mt19937_64 rng(77);
    const std::pair<Type, Type> schemas[] = {
        {Type::S, Type::N}, {Type::N, Type::S}, {Type::B, Type::B}, {Type::N, Type::N}, {Type::S, Type::S}, {Type::B, Type::N},
    };
    for (auto [hash_type, range_type] : schemas) {
        CAPTURE(dynamo::type_name(hash_type));
        CAPTURE(dynamo::type_name(range_type));
        // Few hash values, so most pairs tie on the hash and the range decides.
        auto hashes = key_pool(rng, hash_type, 30);
        auto ranges = key_pool(rng, range_type, 1500);
        struct Key {
            AttributeValue hash, range;
            std::string bytes;
        };
        std::vector<Key> keys;
        for (int k = 0; k < 3000; ++k) {
            Key key{hashes[rng() % hashes.size()], ranges[rng() % ranges.size()], {}};
            key.bytes = dynamo::encode_key_part(key.hash) + dynamo::encode_key_part(key.range);
            keys.push_back(std::move(key));
        }
        int order_failures = 0, decode_failures = 0;
        for (const auto& key : keys) {
            std::string_view rest = key.bytes;
            auto hash = dynamo::consume_key_part(hash_type, rest);
            auto range = dynamo::consume_key_part(range_type, rest);
            if (!(hash == key.hash) || !(range == key.range) || !rest.empty()) ++decode_failures;
        }
        for (int k = 0; k < 50000; ++k) {
            const Key& a = keys[rng() % keys.size()];
            const Key& b = keys[rng() % keys.size()];
            int want = value_order(a.hash, b.hash);
            if (want == 0) want = value_order(a.range, b.range);
            if (byte_order(a.bytes, b.bytes) != want) ++order_failures;
        }
        CHECK(decode_failures == 0);
        CHECK(order_failures == 0);
    }
}

TEST_CASE("dynamo key: only S, N and B are keys; corrupt parts throw") {
    CHECK(aws_error([] { dynamo::encode_key_part(AttributeValue::boolean_value(true)); }).rfind("ValidationException", 0) == 0);
    CHECK(aws_error([] { dynamo::encode_key_part(AttributeValue::string_set({"a"})); }).rfind("ValidationException", 0) == 0);
    const std::pair<Type, std::string> corrupt[] = {
        {Type::S, ""},
        {Type::S, "abc"},                                // no terminator
        {Type::S, std::string("a\x00", 2)},              // truncated terminator
        {Type::B, std::string("a\x00\x01", 3)},          // bad escape
        {Type::S, std::string("a\x00\x00z", 4)},         // trailing bytes
        {Type::N, ""},
        {Type::N, "\x30"},                               // no exponent
        {Type::N, "\x30\x82"},                           // no terminator
        {Type::N, std::string("\x30\x82\x00", 3)},       // no digits
        {Type::N, std::string("\x30\x82\x01\x00", 4)},   // leading zero digit
        {Type::N, std::string("\x30\x82\x0B\x01\x00", 5)},  // trailing 00 pair
        {Type::N, std::string("\x30\x82\x70\x00", 4)},   // pair byte > 100
        {Type::N, "\x10\x7D\xF4"},                       // negative, no terminator
        {Type::N, "\x20\x20"},                           // trailing bytes
        {Type::N, "\x40"},                               // unknown tag
        {Type::N, std::string("\x30\x82") + std::string(20, '\x0C') + std::string(1, '\0')},  // 40 digits
        {Type::BOOL, "\x01"},
    };
    for (const auto& [type, bytes] : corrupt) {
        CAPTURE(bytes);
        CHECK_THROWS_AS(dynamo::decode_key_part(type, bytes), std::runtime_error);
    }
}

TEST_SUITE_END();

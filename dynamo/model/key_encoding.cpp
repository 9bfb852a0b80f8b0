// Order-preserving key encodings: LMDB compares keys with memcmp, so the bytes must sort
// as DynamoDB sorts key values (N numerically; S and B by unsigned bytes, DynamoDB
// developer guide "Query", "Key condition expressions": "strings are compared by their
// UTF-8 bytes ... binary values as unsigned bytes"). Every encoding is prefix-free, so
// encode(hash) + encode(range) sorts by hash, then range.
//
// Stored on disk as LMDB keys: changing any byte value here is a format change.
#include "dynamo/model/codec_detail.hpp"
#include "dynamo/model/value.hpp"

#include "core/error.hpp"

#include <fmt/format.h>

#include <cstring>
#include <stdexcept>

namespace stratus::dynamo {

namespace {

// Number layout:
//   zero:     0x20
//   positive: 0x30, exponent + 129 (one byte: the range -129..126 fills 0..255 exactly),
//             one byte 1 + (10 * d1 + d2) per pair of digits (odd counts pad with 0,
//             harmless because digits never end in 0), then 0x00.
//   negative: 0x10, then the same bytes as the positive number bit-inverted (terminator
//             0xFF), so a larger magnitude sorts first.
// Tags put negatives < zero < positives; within a sign the exponent decides first, then
// the digits, where a shorter digit string sorts first because 0x00 is below every pair
// byte (0.12 < 0.1201). The same scheme as FoundationDB's and CockroachDB's decimal keys,
// with base-100 digits like Oracle's NUMBER (whose range DynamoDB's matches).
constexpr unsigned char tag_negative = 0x10;
constexpr unsigned char tag_zero = 0x20;
constexpr unsigned char tag_positive = 0x30;
constexpr int exponent_bias = 129;
constexpr std::size_t max_pairs = 19;  // 38 digits

// Bytes layout: 0x00 escaped as 0x00 0xFF, then 0x00 0x00. "a" (61 00 00) < "a\0"
// (61 00 FF 00 00) < "a\x01" (61 01 00 00), as unsigned byte order demands.
constexpr unsigned char escape = 0x00;
constexpr unsigned char escaped_zero = 0xFF;
constexpr unsigned char terminator = 0x00;

[[noreturn]] void corrupt_key(std::string_view what) {
    throw std::runtime_error(fmt::format("corrupt key encoding: {}", what));
}

unsigned char take(std::string_view& in) {
    if (in.empty()) corrupt_key("truncated");
    auto c = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    return c;
}

}  // namespace

namespace detail {

void append_number_key(std::string& out, const Number& n) {
    if (n.is_zero()) {
        out.push_back(static_cast<char>(tag_zero));
        return;
    }
    // XOR with 0xFF inverts every byte of a negative number's body.
    const unsigned char flip = n.negative() ? 0xFF : 0x00;
    out.push_back(static_cast<char>(n.negative() ? tag_negative : tag_positive));
    out.push_back(static_cast<char>(static_cast<unsigned char>(n.exponent() + exponent_bias) ^ flip));
    const std::string& d = n.digits();
    for (std::size_t k = 0; k < d.size(); k += 2) {
        int pair = (d[k] - '0') * 10 + (k + 1 < d.size() ? d[k + 1] - '0' : 0);
        out.push_back(static_cast<char>(static_cast<unsigned char>(1 + pair) ^ flip));
    }
    out.push_back(static_cast<char>(terminator ^ flip));
}

Number read_number_key(std::string_view& in) {
    unsigned char tag = take(in);
    if (tag == tag_zero) return Number{};
    if (tag != tag_negative && tag != tag_positive) corrupt_key("unknown number tag");
    const unsigned char flip = tag == tag_negative ? 0xFF : 0x00;
    int exponent = static_cast<int>(take(in) ^ flip) - exponent_bias;
    std::string digits;
    for (;;) {
        unsigned char b = take(in) ^ flip;
        if (b == terminator) break;
        if (b > 100) corrupt_key("digit pair out of range");
        if (digits.size() >= 2 * max_pairs) corrupt_key("more than 38 digits");
        int pair = b - 1;
        digits.push_back(static_cast<char>('0' + pair / 10));
        digits.push_back(static_cast<char>('0' + pair % 10));
    }
    // Canonical form only, so decode(encode(x)) is a bijection: a non-zero first digit
    // and no all-zero last pair.
    if (digits.empty() || digits.front() == '0' || digits.compare(digits.size() - 2, 2, "00") == 0)
        corrupt_key("non-canonical number");
    if (digits.back() == '0') digits.pop_back();
    // Exponent and digit count are in range by construction, so this cannot throw.
    return Number::from_parts(tag == tag_negative, digits, exponent);
}

void append_bytes_key(std::string& out, std::string_view bytes) {
    // Runs between escape bytes are copied whole (keys rarely hold a 00 byte at all).
    static_assert(escape == 0x00);
    for (;;) {
        const void* at = std::memchr(bytes.data(), escape, bytes.size());
        if (at == nullptr) break;
        std::size_t n = static_cast<std::size_t>(static_cast<const char*>(at) - bytes.data()) + 1;
        out.append(bytes.data(), n);
        out.push_back(static_cast<char>(escaped_zero));
        bytes.remove_prefix(n);
    }
    const char end[2] = {static_cast<char>(escape), static_cast<char>(terminator)};
    out.append(bytes.data(), bytes.size()).append(end, 2);
}

std::string read_bytes_key(std::string_view& in) {
    std::string out;
    for (;;) {
        unsigned char c = take(in);
        if (c != escape) {
            out.push_back(static_cast<char>(c));
            continue;
        }
        unsigned char next = take(in);
        if (next == terminator) return out;
        if (next != escaped_zero) corrupt_key("bad escape");
        out.push_back('\0');
    }
}

}  // namespace detail

std::string encode_key_part(const AttributeValue& v) {
    std::string out;
    append_key_part(out, v);
    return out;
}

void append_key_part(std::string& out, const AttributeValue& v) {
    switch (v.type) {
        case Type::S:
        case Type::B: detail::append_bytes_key(out, v.s); break;
        case Type::N: detail::append_number_key(out, v.n); break;
        default:
            // Key schemas allow only S, N and B (CreateTable validates that); reaching here
            // means a caller skipped the schema check.
            throw core::AwsError::validation(
                fmt::format("Key attributes must be of type S, N or B, not {}", type_name(v.type)));
    }
}

std::string encode_key_prefix(std::string_view prefix) {
    std::string out;
    detail::append_bytes_key(out, prefix);
    // append_bytes_key ends the part with the two-byte terminator; a prefix must not.
    out.resize(out.size() - 2);
    return out;
}

AttributeValue consume_key_part(Type type, std::string_view& bytes) {
    switch (type) {
        case Type::S: return AttributeValue::string(detail::read_bytes_key(bytes));
        case Type::B: return AttributeValue::binary(detail::read_bytes_key(bytes));
        case Type::N: return AttributeValue::number(detail::read_number_key(bytes));
        default: throw std::runtime_error(fmt::format("key part of type {}", type_name(type)));
    }
}

AttributeValue decode_key_part(Type type, std::string_view bytes) {
    AttributeValue v = consume_key_part(type, bytes);
    if (!bytes.empty()) corrupt_key("trailing bytes after key part");
    return v;
}

}  // namespace stratus::dynamo

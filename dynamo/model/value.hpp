// DynamoDB's data model: numbers as exact decimals, attribute values of every type, items.
// Domain header: standard library and our own types only (STYLE.md).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace stratus::dynamo {

// An exact decimal with up to 38 significant digits and a magnitude between 1E-130 and
// 9.9999999999999999999999999999999999999E+125 (or zero), as DynamoDB's N. Never a
// double. Value = (negative ? -1 : 1) * 0.d1d2d3... * 10^exponent, digits without
// leading or trailing zeros; zero has no digits.
class Number {
public:
    Number() = default;  // zero

    // Parses DynamoDB's number syntax ("-12.50", "1E+3", " 1" is invalid). Throws
    // core::AwsError (ValidationException) with AWS's messages for malformed numbers,
    // more than 38 significant digits ("Attempting to store more than 38 significant
    // digits in a Number") and out-of-range magnitudes ("Number overflow. Attempting to
    // store a number with magnitude larger than supported range" / "Number underflow.
    // Attempting to store a number with magnitude smaller than supported range").
    static Number parse(std::string_view text);
    static Number from_int(std::int64_t v);
    // (negative ? -1 : 1) * 0.<digits> * 10^exponent; leading and trailing zeros in
    // `digits` are allowed and normalised away. Throws the same ValidationExceptions as
    // parse for more than 38 significant digits or an out-of-range magnitude. For
    // decoders and arithmetic; `digits` must hold only '0'..'9'.
    static Number from_parts(bool negative, std::string_view digits, std::int64_t exponent);

    // The canonical form DynamoDB returns: no exponent, no trailing zeros after the
    // point, no leading zeros ("1E+3" -> "1000", "0.50" -> "0.5", "-0" -> "0").
    std::string to_string() const;

    // Exact arithmetic; results beyond 38 significant digits or the range throw the
    // same ValidationExceptions as parse.
    Number operator+(const Number& o) const;
    Number operator-(const Number& o) const;
    Number operator-() const;

    std::strong_ordering operator<=>(const Number& o) const;
    bool operator==(const Number& o) const = default;

    bool is_zero() const { return digits_.empty(); }
    bool negative() const { return negative_; }
    const std::string& digits() const { return digits_; }  // '0'..'9' chars
    int exponent() const { return exponent_; }

private:
    bool negative_ = false;
    std::string digits_;
    int exponent_ = 0;
};

struct AttributeValue;
using Map = std::map<std::string, AttributeValue>;
using List = std::vector<AttributeValue>;
// An item: top-level attribute name -> value.
using Item = Map;

// Stored on disk inside encoded items: do not reorder.
enum class Type : std::uint8_t { S = 0, N = 1, B = 2, BOOL = 3, NUL = 4, M = 5, L = 6, SS = 7, NS = 8, BS = 9 };

std::string_view type_name(Type t);  // "S", "N", ..., "NULL", ...

struct AttributeValue {
    Type type = Type::NUL;
    std::string s;                        // S, or B (raw bytes, not base64)
    Number n;                             // N
    bool boolean = false;                 // BOOL
    std::shared_ptr<Map> m;               // M (never null when type == M)
    std::shared_ptr<List> l;              // L (never null when type == L)
    std::vector<std::string> strings;     // SS, BS (raw bytes): sorted, unique
    std::vector<Number> numbers;          // NS: sorted, unique

    static AttributeValue string(std::string v);
    static AttributeValue number(Number v);
    static AttributeValue binary(std::string bytes);
    static AttributeValue boolean_value(bool v);
    static AttributeValue null();
    static AttributeValue map(Map v);
    static AttributeValue list(List v);
    // Sets: sort (S and B by unsigned bytes, N numerically) and drop duplicates. An empty
    // vector gives an empty set, which DynamoDB never stores: callers remove the attribute.
    static AttributeValue string_set(std::vector<std::string> v);
    static AttributeValue number_set(std::vector<Number> v);
    static AttributeValue binary_set(std::vector<std::string> v);

    // Deep equality as DynamoDB compares values (sets as sets).
    bool operator==(const AttributeValue& o) const;
};

// JSON wire form <-> values. from_json validates like DynamoDB: exactly one type key,
// well-formed base64, non-empty duplicate-free sets, valid numbers; errors are
// core::AwsError ValidationException / SerializationException with AWS's messages.
AttributeValue value_from_json(const nlohmann::json& j);
nlohmann::json value_to_json(const AttributeValue& v);
Item item_from_json(const nlohmann::json& j);
nlohmann::json item_to_json(const Item& item);
// The same wire form written straight as JSON text (no tree): Query and Scan pages.
void append_value_json(std::string& out, const AttributeValue& v);
void append_item_json(std::string& out, const Item& item);

// DynamoDB's limit on nested M/L levels ("Nesting Levels have exceeded supported
// limits"): a value wrapped in 32 maps or lists is accepted, in 33 rejected.
inline constexpr int max_nesting_depth = 32;

// Item size by AWS's rules (name lengths plus value sizes), for the 400 KB limit and
// capacity units.
std::size_t value_size(const AttributeValue& v);
std::size_t item_size(const Item& item);

// Compact binary encoding of an item for storage, and back. decode_item throws
// std::runtime_error on corrupt or truncated input, never crashes.
std::string encode_item(const Item& item);
Item decode_item(std::string_view bytes);
// The stored bytes written straight as the JSON text append_item_json writes for
// decode_item(bytes), with decode_item's checks, and without building the item.
void append_encoded_item_json(std::string& out, std::string_view bytes);

// Order-preserving encoding of a key attribute (S, N or B): memcmp order of the
// encodings equals DynamoDB's order (N numerically, S and B by unsigned bytes). The
// encoding is self-delimiting, so encode(hash) + encode(range) concatenated still sorts by
// hash then range (LMDB keys of tables and indexes are built this way).
// encode_key_part throws core::AwsError (ValidationException) for other types.
// decode_key_part expects exactly one encoded part; consume_key_part decodes the part at
// the front of `bytes` and advances past it (for concatenated keys). Both throw
// std::runtime_error on corrupt input.
std::string encode_key_part(const AttributeValue& v);
void append_key_part(std::string& out, const AttributeValue& v);  // encode_key_part, appended
// For begins_with on S / B keys: the bytes every encode_key_part(t) starts with when t
// starts with `prefix` (the escaped bytes without the terminator).
std::string encode_key_prefix(std::string_view prefix);
AttributeValue decode_key_part(Type type, std::string_view bytes);
AttributeValue consume_key_part(Type type, std::string_view& bytes);

}  // namespace stratus::dynamo

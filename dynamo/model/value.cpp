// Attribute values: factories, equality, the JSON wire form and AWS's item size rules.
#include "dynamo/model/value.hpp"

#include "core/base64.hpp"
#include "core/error.hpp"
#include "core/json_writer.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace stratus::dynamo {

using nlohmann::json;

namespace {

// ---- base64: core::base64_encode writes it; DynamoDB decodes strictly, with its own messages ----

using core::base64_encode;

int base64_digit(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

// Strict, like DynamoDB's front end: padded to a multiple of 4, padding only at the end,
// and the unused bits of the last character zero. The two length / last-character
// messages are AWS's own (typo included); the one for a foreign character is ours.
// Returns the decoded bytes or throws SerializationException.
std::string base64_decode(std::string_view in) {
    if (in.size() % 4 != 0)
        throw core::AwsError::serialization(
            fmt::format("Base64 encoded length is expected a multiple of 4 bytes but found: {}", in.size()));
    std::string out;
    out.reserve(in.size() / 4 * 3);
    for (std::size_t k = 0; k < in.size(); k += 4) {
        bool last = k + 4 == in.size();
        int pad = 0;
        if (last && in[k + 3] == '=') pad = in[k + 2] == '=' ? 2 : 1;
        std::uint32_t v = 0;
        for (int j = 0; j < 4; ++j) {
            int d = j < 4 - pad ? base64_digit(in[k + j]) : 0;
            if (d < 0) throw core::AwsError::serialization("Invalid Base64 character in binary value");
            v = v << 6 | static_cast<std::uint32_t>(d);
        }
        if ((pad == 1 && (v & 0xFF)) || (pad == 2 && (v & 0xFFFF)))
            throw core::AwsError::serialization("Invalid last non-pad Base64 character dectected");
        out.push_back(static_cast<char>(v >> 16));
        if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xFF));
        if (pad < 1) out.push_back(static_cast<char>(v & 0xFF));
    }
    return out;
}

// ---- JSON wire form ----
//
// DynamoDB (on AWS's Coral framework) first deserializes the whole request, raising
// SerializationException for JSON of the wrong shape, and only then validates. So
// value_from_json runs two passes: check_wire (JSON types, base64, nesting depth) over
// the whole value, then build (ValidationExceptions). Coral treats a member whose value
// is JSON null as absent and ignores members it does not know, so {"S": "x", "N": null}
// is a string and {"X": 1} is an empty AttributeValue.

// Coral's names for the JSON token it found, as in DynamoDB's "NUMBER_VALUE cannot be
// converted to String". Messages for other targets follow the same pattern (our guess).
[[noreturn]] void wrong_json_type(const json& j, std::string_view target) {
    if (j.is_object()) throw core::AwsError::serialization("Start of structure or map found where not expected.");
    if (j.is_array()) throw core::AwsError::serialization("Start of list found where not expected.");
    std::string_view token = j.is_string()    ? "STRING_VALUE"
                             : j.is_boolean() ? "BOOLEAN_VALUE"
                             : j.is_number()  ? "NUMBER_VALUE"
                                              : "NULL_VALUE";
    throw core::AwsError::serialization(fmt::format("{} cannot be converted to {}", token, target));
}

const std::string& wire_string(const json& j, std::string_view target = "String") {
    if (!j.is_string()) wrong_json_type(j, target);
    return j.get_ref<const std::string&>();
}

const json::array_t& wire_list(const json& j) {
    if (!j.is_array()) wrong_json_type(j, "List");
    return j.get_ref<const json::array_t&>();
}

void check_wire(const json& j, int depth);

// `depth` counts the maps and lists around the container being entered.
void check_nesting(int depth) {
    if (depth + 1 > max_nesting_depth)
        throw core::AwsError::validation("Nesting Levels have exceeded supported limits");
}

void check_wire(const json& j, int depth) {
    if (j.is_null()) return;  // an empty AttributeValue; build() reports it
    if (!j.is_object()) wrong_json_type(j, "AttributeValue");
    for (const auto& [key, member] : j.items()) {
        if (member.is_null()) continue;
        if (key == "S" || key == "N") {
            wire_string(member);
        } else if (key == "B") {
            base64_decode(wire_string(member, "Blob"));
        } else if (key == "BOOL" || key == "NULL") {
            if (!member.is_boolean()) wrong_json_type(member, "Boolean");
        } else if (key == "M") {
            if (!member.is_object()) wrong_json_type(member, "Map");
            check_nesting(depth);
            for (const auto& [name, value] : member.items()) check_wire(value, depth + 1);
        } else if (key == "L") {
            check_nesting(depth);
            for (const auto& value : wire_list(member)) check_wire(value, depth + 1);
        } else if (key == "SS" || key == "NS") {
            for (const auto& e : wire_list(member)) wire_string(e);
        } else if (key == "BS") {
            for (const auto& e : wire_list(member)) base64_decode(wire_string(e, "Blob"));
        }
    }
}

constexpr std::string_view type_keys[] = {"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"};

[[noreturn]] void duplicates(const json::array_t& input) {
    std::string listed;
    for (const auto& e : input) {
        if (!listed.empty()) listed += ", ";
        listed += e.get_ref<const std::string&>();
    }
    // AWS lists the collection as sent (for BS we show the base64 text; Java would print
    // ByteBuffer objects).
    throw core::AwsError::validation(
        fmt::format("One or more parameter values were invalid: Input collection [{}] contains duplicates.", listed));
}

AttributeValue build(const json& j);

Map build_map(const json& j) {
    Map m;
    for (const auto& [name, value] : j.items()) m.emplace(name, build(value));
    return m;
}

AttributeValue build(const json& j) {
    const json* member = nullptr;
    std::string_view key;
    if (j.is_object()) {
        for (auto k : type_keys) {
            auto it = j.find(k);
            if (it == j.end() || it->is_null()) continue;
            if (member)
                throw core::AwsError::validation(
                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
                    "supported datatypes");
            member = &*it;
            key = k;
        }
    }
    if (!member)
        throw core::AwsError::validation(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes");
    const json& m = *member;

    if (key == "S") return AttributeValue::string(m.get<std::string>());
    if (key == "N") return AttributeValue::number(Number::parse(m.get_ref<const std::string&>()));
    if (key == "B") return AttributeValue::binary(base64_decode(m.get_ref<const std::string&>()));
    if (key == "BOOL") return AttributeValue::boolean_value(m.get<bool>());
    if (key == "NULL") {
        if (!m.get<bool>())
            throw core::AwsError::validation(
                "One or more parameter values were invalid: Null attribute value types must have the value of true");
        return AttributeValue::null();
    }
    if (key == "M") return AttributeValue::map(build_map(m));
    if (key == "L") {
        List l;
        l.reserve(m.size());
        for (const auto& e : m) l.push_back(build(e));
        return AttributeValue::list(std::move(l));
    }

    // Sets: empty first, then each element, then duplicates (DynamoDB's messages, with
    // its double space and its inconsistent wording for BS). Empty strings and binaries
    // are valid elements since 2020 (developer guide, "Data types", Sets).
    const auto& input = m.get_ref<const json::array_t&>();
    if (key == "SS") {
        if (input.empty())
            throw core::AwsError::validation(
                "One or more parameter values were invalid: An string set  may not be empty");
        std::vector<std::string> set;
        set.reserve(input.size());
        for (const auto& e : input) set.push_back(e.get<std::string>());
        auto v = AttributeValue::string_set(std::move(set));
        if (v.strings.size() != input.size()) duplicates(input);
        return v;
    }
    if (key == "NS") {
        if (input.empty())
            throw core::AwsError::validation(
                "One or more parameter values were invalid: An number set  may not be empty");
        std::vector<Number> set;
        set.reserve(input.size());
        for (const auto& e : input) set.push_back(Number::parse(e.get_ref<const std::string&>()));
        // Numerically equal elements ("1" and "1.0") are duplicates.
        auto v = AttributeValue::number_set(std::move(set));
        if (v.numbers.size() != input.size()) duplicates(input);
        return v;
    }
    // BS
    if (input.empty())
        throw core::AwsError::validation("One or more parameter values were invalid: Binary sets should not be empty");
    std::vector<std::string> set;
    set.reserve(input.size());
    for (const auto& e : input) set.push_back(base64_decode(e.get_ref<const std::string&>()));
    auto v = AttributeValue::binary_set(std::move(set));
    if (v.strings.size() != input.size()) duplicates(input);
    return v;
}

template <typename T>
std::vector<T> sorted_unique(std::vector<T> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

// DynamoDB developer guide, "Item sizes and formats": a number is "approximately ...
// (1 byte per two significant digits) + (1 byte)"; leading and trailing zeros are
// trimmed first. Zero has no significant digits here, so it costs 1 byte.
std::size_t number_size(const Number& n) { return (n.digits().size() + 1) / 2 + 1; }

}  // namespace

std::string_view type_name(Type t) {
    switch (t) {
        case Type::S: return "S";
        case Type::N: return "N";
        case Type::B: return "B";
        case Type::BOOL: return "BOOL";
        case Type::NUL: return "NULL";
        case Type::M: return "M";
        case Type::L: return "L";
        case Type::SS: return "SS";
        case Type::NS: return "NS";
        case Type::BS: return "BS";
    }
    return "?";
}

AttributeValue AttributeValue::string(std::string v) {
    AttributeValue a;
    a.type = Type::S;
    a.s = std::move(v);
    return a;
}

AttributeValue AttributeValue::number(Number v) {
    AttributeValue a;
    a.type = Type::N;
    a.n = std::move(v);
    return a;
}

AttributeValue AttributeValue::binary(std::string bytes) {
    AttributeValue a;
    a.type = Type::B;
    a.s = std::move(bytes);
    return a;
}

AttributeValue AttributeValue::boolean_value(bool v) {
    AttributeValue a;
    a.type = Type::BOOL;
    a.boolean = v;
    return a;
}

AttributeValue AttributeValue::null() { return AttributeValue{}; }

AttributeValue AttributeValue::map(Map v) {
    AttributeValue a;
    a.type = Type::M;
    a.m = std::make_shared<Map>(std::move(v));
    return a;
}

AttributeValue AttributeValue::list(List v) {
    AttributeValue a;
    a.type = Type::L;
    a.l = std::make_shared<List>(std::move(v));
    return a;
}

// Sets are kept sorted (S and B by unsigned bytes: std::string compares through
// char_traits<char>, which orders as unsigned char; N numerically) and unique. The
// factories accept an empty vector; DynamoDB never stores an empty set (the operation
// removes the attribute instead), which is the caller's business.
AttributeValue AttributeValue::string_set(std::vector<std::string> v) {
    AttributeValue a;
    a.type = Type::SS;
    a.strings = sorted_unique(std::move(v));
    return a;
}

AttributeValue AttributeValue::number_set(std::vector<Number> v) {
    AttributeValue a;
    a.type = Type::NS;
    a.numbers = sorted_unique(std::move(v));
    return a;
}

AttributeValue AttributeValue::binary_set(std::vector<std::string> v) {
    AttributeValue a;
    a.type = Type::BS;
    a.strings = sorted_unique(std::move(v));
    return a;
}

bool AttributeValue::operator==(const AttributeValue& o) const {
    if (type != o.type) return false;
    switch (type) {
        case Type::S:
        case Type::B: return s == o.s;
        case Type::N: return n == o.n;
        case Type::BOOL: return boolean == o.boolean;
        case Type::NUL: return true;
        case Type::M: return (m ? *m : Map{}) == (o.m ? *o.m : Map{});
        case Type::L: return (l ? *l : List{}) == (o.l ? *o.l : List{});
        // Sorted and unique, so element-wise equality is set equality.
        case Type::SS:
        case Type::BS: return strings == o.strings;
        case Type::NS: return numbers == o.numbers;
    }
    return false;
}

AttributeValue value_from_json(const json& j) {
    check_wire(j, 0);
    return build(j);
}

json value_to_json(const AttributeValue& v) {
    switch (v.type) {
        case Type::S: return {{"S", v.s}};
        case Type::N: return {{"N", v.n.to_string()}};
        case Type::B: return {{"B", base64_encode(v.s)}};
        case Type::BOOL: return {{"BOOL", v.boolean}};
        case Type::NUL: return {{"NULL", true}};
        case Type::M: return {{"M", item_to_json(*v.m)}};
        case Type::L: {
            json list = json::array();
            for (const auto& e : *v.l) list.push_back(value_to_json(e));
            return {{"L", std::move(list)}};
        }
        case Type::SS: return {{"SS", v.strings}};
        case Type::NS: {
            json list = json::array();
            for (const auto& e : v.numbers) list.push_back(e.to_string());
            return {{"NS", std::move(list)}};
        }
        case Type::BS: {
            json list = json::array();
            for (const auto& e : v.strings) list.push_back(base64_encode(e));
            return {{"BS", std::move(list)}};
        }
    }
    return nullptr;
}

Item item_from_json(const json& j) {
    if (!j.is_object()) wrong_json_type(j, "Map");
    for (const auto& [name, value] : j.items()) check_wire(value, 0);
    return build_map(j);
}

json item_to_json(const Item& item) {
    json out = json::object();
    for (const auto& [name, value] : item) out[name] = value_to_json(value);
    return out;
}

void append_value_json(std::string& out, const AttributeValue& v) {
    auto strings = [&out](const auto& list, auto&& text) {
        out += '[';
        bool first = true;
        for (const auto& e : list) {
            if (!first) out += ',';
            first = false;
            core::append_json_string(out, text(e));
        }
        out += ']';
    };
    switch (v.type) {
        case Type::S: out += "{\"S\":"; core::append_json_string(out, v.s); break;
        case Type::N: out += "{\"N\":"; core::append_json_string(out, v.n.to_string()); break;
        case Type::B: out += "{\"B\":"; core::append_json_string(out, base64_encode(v.s)); break;
        case Type::BOOL: out += v.boolean ? "{\"BOOL\":true" : "{\"BOOL\":false"; break;
        case Type::NUL: out += "{\"NULL\":true"; break;
        case Type::M: out += "{\"M\":"; append_item_json(out, *v.m); break;
        case Type::L: {
            out += "{\"L\":[";
            bool first = true;
            for (const auto& e : *v.l) {
                if (!first) out += ',';
                first = false;
                append_value_json(out, e);
            }
            out += ']';
            break;
        }
        case Type::SS: out += "{\"SS\":"; strings(v.strings, [](const std::string& e) -> std::string_view { return e; }); break;
        case Type::NS: out += "{\"NS\":"; strings(v.numbers, [](const Number& e) { return e.to_string(); }); break;
        case Type::BS: out += "{\"BS\":"; strings(v.strings, [](const std::string& e) { return base64_encode(e); }); break;
    }
    out += '}';
}

void append_item_json(std::string& out, const Item& item) {
    out += '{';
    bool first = true;
    for (const auto& [name, value] : item) {
        if (!first) out += ',';
        first = false;
        core::append_json_string(out, name);
        out += ':';
        append_value_json(out, value);
    }
    out += '}';
}

// DynamoDB developer guide, "Item sizes and formats"
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
// strings and binaries count their (UTF-8 / raw) bytes; numbers as number_size; null and
// Boolean 1 byte; "An attribute of type List or Map requires 3 bytes of overhead,
// regardless of its contents", plus each element's size and, as measured by AWS and
// community calculators, 1 byte per element (a map element also counts its name's UTF-8
// bytes). A set is the sum of its elements' sizes.
std::size_t value_size(const AttributeValue& v) {
    switch (v.type) {
        case Type::S:
        case Type::B: return v.s.size();
        case Type::N: return number_size(v.n);
        case Type::BOOL:
        case Type::NUL: return 1;
        case Type::M: {
            std::size_t size = 3;
            for (const auto& [name, e] : *v.m) size += name.size() + value_size(e) + 1;
            return size;
        }
        case Type::L: {
            std::size_t size = 3;
            for (const auto& e : *v.l) size += value_size(e) + 1;
            return size;
        }
        case Type::SS:
        case Type::BS: {
            std::size_t size = 0;
            for (const auto& e : v.strings) size += e.size();
            return size;
        }
        case Type::NS: {
            std::size_t size = 0;
            for (const auto& e : v.numbers) size += number_size(e);
            return size;
        }
    }
    return 0;
}

std::size_t item_size(const Item& item) {
    std::size_t size = 0;
    for (const auto& [name, value] : item) size += name.size() + value_size(value);
    return size;
}

}  // namespace stratus::dynamo

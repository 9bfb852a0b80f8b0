// Names and message pieces shared by the expression parser, resolver and evaluators.
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/error.hpp"
#include "dynamo/expr/ast.hpp"

namespace stratus::dynamo::expr {

std::string_view kind_name(Kind k) {
    switch (k) {
    case Kind::condition: return "ConditionExpression";
    case Kind::filter: return "FilterExpression";
    case Kind::key_condition: return "KeyConditionExpression";
    case Kind::update: return "UpdateExpression";
    case Kind::projection: return "ProjectionExpression";
    }
    return "Expression";
}

std::string format_path(const Path& p) {
    std::string out = "[";
    for (std::size_t i = 0; i < p.size(); ++i) {
        if (i) out += ", ";
        if (p[i].is_index)
            out += fmt::format("[{}]", p[i].index);
        else
            out += p[i].name;
    }
    out += "]";
    return out;
}

namespace detail {

void fail(Kind kind, std::string_view why) {
    throw core::AwsError::validation(fmt::format("Invalid {}: {}", kind_name(kind), why));
}

std::string_view cmp_name(Cmp c) {
    switch (c) {
    case Cmp::eq: return "=";
    case Cmp::ne: return "<>";
    case Cmp::lt: return "<";
    case Cmp::le: return "<=";
    case Cmp::gt: return ">";
    case Cmp::ge: return ">=";
    }
    return "?";
}

std::string_view fn_name(Fn f) {
    switch (f) {
    case Fn::attribute_exists: return "attribute_exists";
    case Fn::attribute_not_exists: return "attribute_not_exists";
    case Fn::attribute_type: return "attribute_type";
    case Fn::begins_with: return "begins_with";
    case Fn::contains: return "contains";
    case Fn::size: return "size";
    case Fn::if_not_exists: return "if_not_exists";
    case Fn::list_append: return "list_append";
    }
    return "?";
}


// The ADD/DELETE messages spell types out ("operand type: STRING", "operand type: MAP").
// Sets never reach those messages (both actions accept them); their spelling is a guess.
std::string_view long_type(Type t) {
    switch (t) {
    case Type::S: return "STRING";
    case Type::N: return "NUMBER";
    case Type::B: return "BINARY";
    case Type::BOOL: return "BOOLEAN";
    case Type::NUL: return "NULL";
    case Type::M: return "MAP";
    case Type::L: return "LIST";
    case Type::SS: return "STRING_SET";
    case Type::NS: return "NUMBER_SET";
    case Type::BS: return "BINARY_SET";
    }
    return "?";
}

namespace {

std::string base64(std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                     static_cast<unsigned char>(bytes[i + 1]) << 8 |
                     static_cast<unsigned char>(bytes[i + 2]);
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        out += alphabet[v & 63];
    }
    if (i + 1 == bytes.size()) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += "==";
    } else if (i + 2 == bytes.size()) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                     static_cast<unsigned char>(bytes[i + 1]) << 8;
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        out += '=';
    }
    return out;
}

}  // namespace

// AWS prints "AttributeValue: {N:5}" / "{S:abc}" in the BETWEEN messages. Only scalars
// get there; binary as base64 and the other types are our guess at the same style.
std::string describe_value(const AttributeValue& v) {
    switch (v.type) {
    case Type::S: return fmt::format("AttributeValue: {{S:{}}}", v.s);
    case Type::N: return fmt::format("AttributeValue: {{N:{}}}", v.n.to_string());
    case Type::B: return fmt::format("AttributeValue: {{B:{}}}", base64(v.s));
    case Type::BOOL: return fmt::format("AttributeValue: {{BOOL:{}}}", v.boolean ? "true" : "false");
    case Type::NUL: return "AttributeValue: {NULL:true}";
    default: return fmt::format("AttributeValue: {{{}}}", type_name(v.type));
    }
}

}  // namespace detail

}  // namespace stratus::dynamo::expr

#include "dynamo/ops/input.hpp"

#include <fmt/format.h>

namespace stratus::dynamo::input {

namespace {

const char* json_kind(const json& v) {
    switch (v.type()) {
        case json::value_t::string: return "STRING_VALUE";
        case json::value_t::boolean: return "BOOLEAN_VALUE";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float: return "NUMBER_VALUE";
        case json::value_t::object: return "START_OBJECT";
        case json::value_t::array: return "START_ARRAY";
        default: return "VALUE_NULL";
    }
}

// DynamoDB's deserializer names the token it could not convert.
[[noreturn]] void wrong_type(const json& v, std::string_view expected) {
    throw core::AwsError::serialization(fmt::format("{} can not be converted to {}", json_kind(v), expected));
}

const json* member(const json& j, std::string_view key) {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return nullptr;
    return &*it;
}

}  // namespace

void Violations::add(std::string_view value, std::string_view member, std::string_view constraint) {
    std::string shown = value == "null" ? "null" : fmt::format("'{}'", value);
    items_.push_back(fmt::format("Value {} at '{}' failed to satisfy constraint: {}", shown, member, constraint));
}

void Violations::throw_if_any() const {
    if (items_.empty()) return;
    std::string msg = fmt::format("{} validation error{} detected: ", items_.size(), items_.size() == 1 ? "" : "s");
    for (std::size_t i = 0; i < items_.size(); ++i) {
        if (i) msg += "; ";
        msg += items_[i];
    }
    throw core::AwsError::validation(msg);
}

std::string java_object(std::string_view cls, const json& v) {
    std::uint32_t h = 2166136261u;  // FNV-1a
    for (unsigned char c : v.dump()) h = (h ^ c) * 16777619u;
    return fmt::format("com.amazonaws.dynamodb.v20120810.{}@{:x}", cls, h);
}

std::optional<std::string> opt_string(const json& j, std::string_view key) {
    const json* v = member(j, key);
    if (!v) return std::nullopt;
    if (!v->is_string()) wrong_type(*v, "String");
    return v->get<std::string>();
}

std::optional<std::int64_t> opt_int(const json& j, std::string_view key) {
    const json* v = member(j, key);
    if (!v) return std::nullopt;
    if (v->is_number_integer() || v->is_number_unsigned()) return v->get<std::int64_t>();
    if (v->is_number_float()) {
        double d = v->get<double>();
        return static_cast<std::int64_t>(d);
    }
    wrong_type(*v, "Long");
}

std::optional<bool> opt_bool(const json& j, std::string_view key) {
    const json* v = member(j, key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) wrong_type(*v, "Boolean");
    return v->get<bool>();
}

const json* opt_object(const json& j, std::string_view key) {
    const json* v = member(j, key);
    if (v && !v->is_object()) wrong_type(*v, "Map");
    return v;
}

const json* opt_array(const json& j, std::string_view key) {
    const json* v = member(j, key);
    if (v && !v->is_array()) wrong_type(*v, "List");
    return v;
}

void require_object(const json& body) {
    if (!body.is_object()) throw core::AwsError::serialization("Start of structure or map found where not expected.");
}

void check_table_name(Violations& v, const std::optional<std::string>& name, std::string_view member,
                      bool required) {
    if (!name) {
        if (required) v.add_null(member);
        return;
    }
    if (name->size() < 3) v.add(*name, member, "Member must have length greater than or equal to 3");
    if (name->size() > 255) v.add(*name, member, "Member must have length less than or equal to 255");
    bool ok = !name->empty();
    for (char c : *name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) ok = false;
    if (!ok) v.add(*name, member, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
}

std::string table_name_from(std::string name_or_arn) {
    if (name_or_arn.starts_with("arn:")) {
        auto slash = name_or_arn.find(":table/");
        if (slash != std::string::npos) {
            std::string rest = name_or_arn.substr(slash + 7);
            return rest.substr(0, rest.find('/'));
        }
    }
    return name_or_arn;
}

}  // namespace stratus::dynamo::input

// Reading a request's JSON the way DynamoDB does: a member of the wrong JSON type is a
// SerializationException; a missing required member or a constraint violation is a
// ValidationException in AWS's "N validation error(s) detected: ..." form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace stratus::dynamo::input {

using json = nlohmann::json;

// Collects constraint violations, then throws them as one ValidationException.
class Violations {
public:
    // `value` is rendered as AWS does: null, or the value in single quotes.
    void add(std::string_view value, std::string_view member, std::string_view constraint);
    void add_null(std::string_view member) { add("null", member, "Member must not be null"); }
    bool empty() const { return items_.empty(); }
    void throw_if_any() const;

private:
    std::vector<std::string> items_;
};

// Absent or JSON null -> nullopt; wrong JSON type -> SerializationException.
std::optional<std::string> opt_string(const json& j, std::string_view key);
std::optional<std::int64_t> opt_int(const json& j, std::string_view key);
std::optional<bool> opt_bool(const json& j, std::string_view key);
const json* opt_object(const json& j, std::string_view key);
const json* opt_array(const json& j, std::string_view key);

// The request body must be a JSON object.
void require_object(const json& body);

// TableName / IndexName: 3..255 of [a-zA-Z0-9_.-]; adds violations (member e.g. "tableName").
void check_table_name(Violations& v, const std::optional<std::string>& name, std::string_view member,
                      bool required = true);
// How DynamoDB's Java front end prints a request object inside a constraint message
// ("com.amazonaws.dynamodb.v20120810.WriteRequest@3b0ce1a0"): the class name and a hash
// of the object. AWS's hash is the object's hashCode; ours is a hash of its JSON, stable
// for one request like AWS's.
std::string java_object(std::string_view cls, const json& v);

// Accepts a table name or a table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME).
std::string table_name_from(std::string name_or_arn);

}  // namespace stratus::dynamo::input

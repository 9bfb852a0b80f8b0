// Parsing and validating CreateTable's table specification (also used by UpdateTable for
// new GSIs).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "dynamo/model/table.hpp"
#include "dynamo/ops/input.hpp"

namespace stratus::dynamo {

// The table CreateTable asks for; ids, ARNs and times are not yet assigned.
TableDef parse_table_spec(const nlohmann::json& in);

// KeySchema JSON -> KeySchema, types from `defs`; `what` names the schema in messages.
KeySchema parse_key_schema(const nlohmann::json& key_schema, const std::vector<KeyElement>& defs,
                           std::string_view member);
// `position`: 1-based place in the request's list (0: none), for AWS's member paths;
// `list`: the list's member name when it is not (global|local)SecondaryIndexes.
IndexDef parse_index(const nlohmann::json& j, bool global, const std::vector<KeyElement>& defs, std::size_t position = 0,
                     std::string_view list = {});
// With `shared`, member violations are added there (the caller throws them with its own)
// and the result is empty when there are any.
std::vector<KeyElement> parse_attribute_definitions(const nlohmann::json* defs, input::Violations* shared = nullptr);
// Tags' member constraints (key 1..128, value 0..256 characters) into `v`; the characters
// DynamoDB forbids as ValidationException.
void check_tags(input::Violations& v, const nlohmann::json& tags);

}  // namespace stratus::dynamo

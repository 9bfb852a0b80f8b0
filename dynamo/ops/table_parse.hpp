// Parsing and validating CreateTable's table specification (also used by UpdateTable for
// new GSIs).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "dynamo/model/table.hpp"

namespace stratus::dynamo {

// The table CreateTable asks for; ids, ARNs and times are not yet assigned.
TableDef parse_table_spec(const nlohmann::json& in);

// KeySchema JSON -> KeySchema, types from `defs`; `what` names the schema in messages.
KeySchema parse_key_schema(const nlohmann::json& key_schema, const std::vector<KeyElement>& defs,
                           std::string_view member);
IndexDef parse_index(const nlohmann::json& j, bool global, const std::vector<KeyElement>& defs);
std::vector<KeyElement> parse_attribute_definitions(const nlohmann::json* defs);

// A StreamSpecification: enabled, with its view type ("KEYS_ONLY", ...) when enabled.
struct StreamSpec {
    bool enabled = false;
    std::string view_type;
};
StreamSpec parse_stream_spec(const nlohmann::json& spec);

}  // namespace stratus::dynamo

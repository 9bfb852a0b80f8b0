// A table's definition as the catalog stores it: key schema, attribute definitions,
// indexes, billing, tags, TTL and the rest of what DescribeTable reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "dynamo/model/value.hpp"

namespace stratus::dynamo {

struct KeyElement {
    std::string name;
    Type type = Type::S;  // S, N or B
};

struct KeySchema {
    KeyElement hash;
    std::optional<KeyElement> range;
};

// Stored on disk (catalog JSON uses the names): do not rename.
enum class ProjectionType { all, keys_only, include };

struct IndexDef {
    std::string name;
    bool global = true;
    std::uint32_t id = 0;  // LMDB key prefix of the index's entries; never reused
    KeySchema key;
    ProjectionType projection = ProjectionType::all;
    std::vector<std::string> non_key_attributes;  // INCLUDE
    std::int64_t read_capacity = 0;
    std::int64_t write_capacity = 0;
    std::string arn;
    // A GSI added to a table with many items: its entries are still being built from the
    // items, in bounded steps off the I/O threads (Store::maintenance_step); writes keep
    // it up to date meanwhile, reads of it are refused (AWS's IndexStatus CREATING,
    // Backfilling true).
    bool backfilling = false;
};

struct TableDef {
    std::string name;
    std::uint32_t id = 0;  // LMDB key prefix of the table's items; never reused
    std::string table_id;  // the UUID DescribeTable shows
    std::string arn;
    KeySchema key;
    std::vector<KeyElement> attribute_definitions;
    std::vector<IndexDef> indexes;  // GSIs and LSIs
    bool pay_per_request = true;
    std::int64_t read_capacity = 0;
    std::int64_t write_capacity = 0;
    double created = 0;  // epoch seconds
    double billing_changed = 0;
    std::string table_class = "STANDARD";
    bool deletion_protection = false;
    std::vector<std::pair<std::string, std::string>> tags;
    std::string ttl_attribute;  // empty: TTL disabled
    bool pitr = false;
    // DynamoDB Streams: the latest stream (LatestStreamArn is arn + "/stream/" + label;
    // the label stays after the stream is disabled). stream_id prefixes its records.
    bool stream_enabled = false;
    std::string stream_view_type;
    std::string stream_label;
    std::uint32_t stream_id = 0;

    const IndexDef* index(std::string_view name) const;
    // Every attribute that is a key of the table or of one of its indexes, with its type.
    std::optional<Type> key_attribute_type(std::string_view name) const;

    nlohmann::json to_catalog() const;
    static TableDef from_catalog(const nlohmann::json& j);
};

// The key attributes of `item` for `key` (copied), in an Item.
Item key_of(const Item& item, const KeySchema& key);

}  // namespace stratus::dynamo

// The DynamoDB Streams API (JSON 1.0, X-Amz-Target "DynamoDBStreams_20120810.<Operation>"):
// ListStreams, DescribeStream, GetShardIterator, GetRecords. Each parses and validates its
// input, then reads one snapshot of the stream store.
#pragma once

#include <functional>
#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "dynamo/streams/stream_store.hpp"

namespace stratus::dynamo::streams {

struct ApiContext {
    StreamStore& store;
    core::lmdb::Env& env;
    std::string region = "us-east-1";
};

// Iterators expire 15 minutes after GetShardIterator or GetRecords hands them out.
constexpr std::int64_t iterator_lifetime_ms = 15 * 60 * 1000;
// GetRecords returns at most 1000 records and 1 MB.
constexpr std::size_t max_get_records = 1000;
constexpr std::size_t max_get_records_bytes = 1024 * 1024;

using Operation = nlohmann::json (*)(ApiContext&, const nlohmann::json& input);
const std::map<std::string, Operation, std::less<>>& operations();

nlohmann::json list_streams(ApiContext&, const nlohmann::json&);
nlohmann::json describe_stream(ApiContext&, const nlohmann::json&);
nlohmann::json get_shard_iterator(ApiContext&, const nlohmann::json&);
nlohmann::json get_records(ApiContext&, const nlohmann::json&);

}  // namespace stratus::dynamo::streams

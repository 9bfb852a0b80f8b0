// DynamoDB on the AWS port: JSON 1.0, X-Amz-Target "DynamoDB_20120810.<Operation>"; and
// DynamoDB Streams beside it ("DynamoDBStreams_20120810.<Operation>", signed as "dynamodb"
// too, so told apart by the target).
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "core/lmdb.hpp"
#include "core/service.hpp"
#include "dynamo/streams/stream_store.hpp"

namespace stratus::dynamo {

// The DynamoDB service on the AWS port, and what the app model's deploy does with it
// in-process. Inputs and outputs are the operations' JSON (CreateTable's request, a
// TableDescription), through the same parsing and checks as a request on the wire; errors
// are DynamoDB's AwsError.
class DynamoService : public core::Service {
public:
    // CreateTable; returns its TableDescription.
    virtual nlohmann::json create_table(const nlohmann::json& create_table_input) = 0;
    // DescribeTable's TableDescription; nullopt when there is no such table.
    virtual std::optional<nlohmann::json> describe_table(const std::string& name) = 0;
    // UpdateTable (new GSIs, stream specification, billing); returns its TableDescription.
    virtual nlohmann::json update_table(const nlohmann::json& update_table_input) = 0;
    // UpdateTimeToLive.
    virtual void update_time_to_live(const nlohmann::json& input) = 0;
    // DescribeTimeToLive's TimeToLiveDescription.
    virtual nlohmann::json describe_time_to_live(const std::string& name) = 0;
    virtual void delete_table(const std::string& name) = 0;

    // The DynamoDB Streams API, a service of its own on the same port (register it too).
    virtual std::shared_ptr<core::Service> streams_api() = 0;
    // The streams' records, for readers inside stratus (the triggers, wired by emulator/).
    virtual streams::StreamStore& streams() = 0;
};

// `endpoint_address` ("localhost:4566") is what DescribeEndpoints answers.
// Expired TTL items are deleted every `ttl_period`; stream records past their retention
// are trimmed on the same beat.
std::shared_ptr<DynamoService> make_service(core::lmdb::Env& env, std::string endpoint_address,
                                            std::chrono::milliseconds ttl_period = std::chrono::seconds(1));

}  // namespace stratus::dynamo

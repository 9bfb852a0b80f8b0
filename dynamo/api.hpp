// DynamoDB on the AWS port: JSON 1.0, X-Amz-Target "DynamoDB_20120810.<Operation>"; and
// DynamoDB Streams beside it ("DynamoDBStreams_20120810.<Operation>", signed as "dynamodb"
// too, so told apart by the target).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/lmdb.hpp"
#include "core/service.hpp"
#include "dynamo/streams/stream_store.hpp"

namespace stratus::dynamo {

class DynamoService : public core::Service {
public:
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

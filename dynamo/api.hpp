// DynamoDB on the AWS port: JSON 1.0, X-Amz-Target "DynamoDB_20120810.<Operation>".
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/lmdb.hpp"
#include "core/service.hpp"

namespace stratus::dynamo {

// `endpoint_address` ("localhost:4566") is what DescribeEndpoints answers.
// Expired TTL items are deleted every `ttl_period`.
std::shared_ptr<core::Service> make_service(core::lmdb::Env& env, std::string endpoint_address,
                                           std::chrono::milliseconds ttl_period = std::chrono::seconds(1));

}  // namespace stratus::dynamo

// DynamoDB on the AWS port: JSON 1.0, X-Amz-Target "DynamoDB_20120810.<Operation>".
#pragma once

#include <memory>

#include "core/service.hpp"

namespace stratus::dynamo {

std::shared_ptr<core::Service> make_service();

}  // namespace stratus::dynamo

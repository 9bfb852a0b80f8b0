// Lambda's control and invoke APIs on the AWS port: REST-JSON under /2015-03-31/ (and
// the other dated prefixes the Lambda API uses).
#pragma once

#include <memory>

#include "core/service.hpp"

namespace stratus::lambda {

std::shared_ptr<core::Service> make_service();

}  // namespace stratus::lambda

// What a Lambda proxy integration's result becomes: the rules live in core/proxy_response.hpp
// (function URLs use them too).
#pragma once

#include "core/proxy_response.hpp"

namespace stratus::gateway {

using core::response_v1;
using core::response_v2;

}  // namespace stratus::gateway

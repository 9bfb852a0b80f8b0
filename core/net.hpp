// Namespace aliases for the networking files (core/server.cpp, services' api.cpp).
// Include only there: Beast and Asio stay out of widely included headers.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace stratus {
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
}  // namespace stratus

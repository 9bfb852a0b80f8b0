// A minimal blocking HTTP/1.1 client for the CLI (`stratus reset`, `stratus status`) to
// talk to a running daemon.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace stratus::core {

struct ClientResponse {
    int status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

// Throws std::runtime_error when the daemon cannot be reached.
ClientResponse http_call(const std::string& host, unsigned short port, const std::string& method,
                         const std::string& target, const std::string& body = "",
                         const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace stratus::core

#include "core/auth.hpp"

#include <stdexcept>

namespace stratus::core {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> parse_credentials_file(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string section, id, secret;
    bool in_section = false;
    auto flush = [&] {
        if (in_section && (id.empty() != secret.empty()))
            throw std::invalid_argument("profile [" + section + "] needs both aws_access_key_id and aws_secret_access_key");
        if (!id.empty()) out.emplace_back(id, secret);
        id.clear();
        secret.clear();
    };
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = trim(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        if (line.front() == '[') {
            flush();
            auto close = line.find(']');
            section = std::string(trim(line.substr(1, close == std::string_view::npos ? line.size() - 1 : close - 1)));
            in_section = true;
            continue;
        }
        auto eq = line.find('=');
        if (eq == std::string_view::npos) continue;
        std::string_view name = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
        if (name == "aws_access_key_id") id = std::string(value);
        else if (name == "aws_secret_access_key") secret = std::string(value);
    }
    flush();
    return out;
}

}  // namespace stratus::core

#pragma once
// Small ASCII text helpers shared by the services (header-only: no locale, no allocation
// beyond the result).

#include <string>
#include <string_view>

namespace stratus::core {

constexpr char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = ascii_lower(c);
    return out;
}

}  // namespace stratus::core

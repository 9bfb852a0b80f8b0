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

// `*` matches any run of characters (and, with `question`, `?` any one character);
// everything else itself, ASCII case folded with `ignore_case`. One backtrack point:
// linear in practice, never exponential (patterns come from requests).
inline bool wildcard_match(std::string_view pattern, std::string_view text, bool question = false,
                           bool ignore_case = false) noexcept {
    auto same = [ignore_case](char a, char b) { return ignore_case ? ascii_lower(a) == ascii_lower(b) : a == b; };
    std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] != '*' && ((question && pattern[p] == '?') || same(pattern[p], text[t]))) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

}  // namespace stratus::core

// Regular expressions that users write (CloudWatch Logs filter patterns' %...%, API
// Gateway's identity validation expressions) and that clients' text is matched against.
// RE2 (Debian's libre2): matching is linear in the text and uses bounded memory, so no
// pattern and no request can make a match run for minutes or overflow a stack, as
// libstdc++'s backtracking std::regex does on (a*)*b or on a long token. RE2's syntax is
// Perl's without backreferences and lookaround, which neither AWS service supports either.
// re2/re2.h stays out of this header.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace stratus::core {

class Regex {
public:
    // Throws std::invalid_argument (RE2's words) when the pattern does not compile.
    explicit Regex(std::string_view pattern);
    ~Regex();
    Regex(const Regex&) = default;
    Regex& operator=(const Regex&) = default;
    Regex(Regex&&) noexcept = default;
    Regex& operator=(Regex&&) noexcept = default;

    bool search(std::string_view text) const;      // matches somewhere in text
    bool full_match(std::string_view text) const;  // matches all of text

private:
    std::shared_ptr<const re2::RE2> re_;
};

}  // namespace stratus::core

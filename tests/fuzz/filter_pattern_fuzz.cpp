// libFuzzer target: CloudWatch Logs filter patterns (logs/filter_pattern.hpp). The first line
// is the pattern, the rest the log message. A pattern parses or is refused with
// std::invalid_argument; a parsed one answers for any message; nothing else may happen.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "logs/filter_pattern.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto nl = in.find('\n');
    std::string_view pattern = in.substr(0, nl);
    std::string_view message = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    try {
        auto p = stratus::logs::FilterPattern::parse(pattern);
        (void)p.matches(message);
        (void)p.matches(pattern);
    } catch (const std::invalid_argument&) {
    }
    return 0;
}

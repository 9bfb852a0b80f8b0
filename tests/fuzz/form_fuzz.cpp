// libFuzzer target: the multipart/form-data parser of POST Object (s3/form.hpp). Every
// part it returns must lie inside the body; anything else is a FormError.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "s3/form.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    // The first line is the Content-Type, the rest the body.
    auto nl = in.find('\n');
    if (nl == std::string_view::npos) return 0;
    auto boundary = stratus::s3::form_boundary(in.substr(0, nl));
    std::string_view body = in.substr(nl + 1);
    try {
        auto parts = stratus::s3::parse_form(body, boundary ? *boundary : std::string_view("b"), 64);
        for (const auto& p : parts)
            if (p.offset > body.size() || p.length > body.size() - p.offset) std::abort();
    } catch (const stratus::s3::FormError&) {
    }
    return 0;
}

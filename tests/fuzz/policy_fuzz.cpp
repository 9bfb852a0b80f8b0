// libFuzzer target: the bucket policy parser and evaluator (s3/policy.hpp). A document is
// refused with a PolicyError or parsed; a parsed policy is evaluated (with the input's tail
// as the request's action, resource and condition values) and judged public or not, none
// of which may crash, hang or go out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "s3/policy.hpp"

namespace policy = stratus::s3::policy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    // The document, then after a NUL line the request: "action\nresource\nsourceip\nreferer".
    auto cut = in.find('\0');
    std::string_view text = in.substr(0, cut);
    std::string_view rest = cut == std::string_view::npos ? std::string_view() : in.substr(cut + 1);
    auto next = [&rest] {
        auto nl = rest.find('\n');
        std::string out(rest.substr(0, nl));
        rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
        return out;
    };
    try {
        policy::Policy p = policy::parse(text, "bucket");
        policy::Request r;
        r.action = next();
        r.resource = next();
        if (r.action.empty()) r.action = "s3:GetObject";
        if (r.resource.empty()) r.resource = "arn:aws:s3:::bucket/key";
        std::string ip = next(), referer = next();
        r.context["aws:sourceip"] = {ip.empty() ? "127.0.0.1" : ip};
        if (!referer.empty()) r.context["aws:referer"] = {referer};
        r.context["aws:securetransport"] = {"false"};
        r.context["aws:currenttime"] = {"2026-12-02T17:00:00.000Z"};
        (void)policy::evaluate(p, r);
        (void)policy::is_public(p);
    } catch (const policy::PolicyError&) {
    }
    // The matchers alone, on the raw halves.
    (void)policy::glob(text.substr(0, 64), rest.substr(0, 256));
    (void)policy::ip_in(text.substr(0, 48), rest.substr(0, 48));
    return 0;
}

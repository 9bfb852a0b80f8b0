#include "core/service.hpp"

#include <chrono>

#include "core/sigv4.hpp"

namespace stratus::core {

std::optional<AuthProblem> Service::authenticate(Request& request, const Credentials& keys) const {
    try {
        auto auth = sigv4::parse(request);
        if (!auth) return AuthProblem{AuthFailure::missing, ""};
        const std::string* secret = keys.secret(auth->access_key);
        if (!secret) return AuthProblem{AuthFailure::unknown_access_key, ""};
        sigv4::VerifyOptions vo;
        vo.secret_key = *secret;
        vo.now = std::chrono::system_clock::now();
        auto problem = sigv4::verify(request, *auth, vo);
        if (!problem) request.access_key = auth->access_key;
        return problem;
    } catch (const sigv4::ParseError& e) {
        return AuthProblem{AuthFailure::malformed, e.what()};
    }
}

}  // namespace stratus::core

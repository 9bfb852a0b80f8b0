#include "s3/auth.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "core/protocol.hpp"

#include "core/crypto.hpp"
#include "core/sigv4.hpp"
#include "s3/errors.hpp"
#include "s3/sigv2.hpp"

namespace stratus::s3 {

namespace sigv4 = core::sigv4;
namespace crypto = core::crypto;
using core::AuthFailure;
using core::AuthProblem;

namespace {

class HashingSink final : public core::BodySink {
public:
    explicit HashingSink(std::unique_ptr<core::BodySink> inner) : inner_(std::move(inner)) {}
    HashingSink(const HashingSink&) = delete;
    HashingSink& operator=(const HashingSink&) = delete;

    std::span<char> buffer() override { return inner_->buffer(); }
    bool pause(bool drain, std::function<void()>& resume) override { return inner_->pause(drain, resume); }
    void write(std::string_view bytes) override {
        sha_.update(bytes);
        inner_->write(bytes);
    }
    void finish() override {
        inner_->finish();
        digest_ = crypto::hex(sha_.final());
    }
    const std::string& digest() const { return digest_; }
    std::unique_ptr<core::BodySink> release() { return std::move(inner_); }

private:
    std::unique_ptr<core::BodySink> inner_;
    crypto::Hasher sha_{crypto::Hash::sha256};
    std::string digest_;
};

bool is_sha256_hex(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
    return true;
}

// STREAMING-AWS4-HMAC-SHA256-PAYLOAD: each chunk signs the previous signature (the
// request's own for the first) and its data's hash, so the chain covers every byte.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// The -TRAILER variant signs the trailing headers last, chained to the final chunk.
std::optional<AuthProblem> check_signed_chunks(const core::Request& req, const sigv4::Auth& auth,
                                               std::string_view secret) {
    const auto* chunks = req.body_sink ? req.body_sink->signed_chunks() : nullptr;
    if (!chunks || chunks->empty()) return AuthProblem{AuthFailure::signature_mismatch, ""};
    std::string key = sigv4::signing_key(secret, auth.date, auth.region, auth.service);
    std::string scope = fmt::format("{}/{}/{}/aws4_request", auth.date, auth.region, auth.service);
    std::string previous = auth.signature;
    static const std::string empty_sha = crypto::sha256_hex("");
    for (const auto& c : *chunks) {
        std::string sts = fmt::format("AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{}\n{}", auth.amz_date, scope, previous,
                                      empty_sha, c.sha256);
        std::string expected = crypto::hex(crypto::hmac_sha256(key, sts));
        if (!core::iequals(expected, c.signature)) return AuthProblem{AuthFailure::signature_mismatch, ""};
        previous = expected;
    }
    if (std::string_view(req.headers.get_or("x-amz-content-sha256", "")).ends_with("-TRAILER")) {
        auto trailer = req.body_sink->signed_trailer();
        if (!trailer) return AuthProblem{AuthFailure::signature_mismatch, ""};
        std::string sts = fmt::format("AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}", auth.amz_date, scope, previous,
                                      crypto::sha256_hex(trailer->first));
        if (!core::iequals(crypto::hex(crypto::hmac_sha256(key, sts)), trailer->second))
            return AuthProblem{AuthFailure::signature_mismatch, ""};
    }
    return std::nullopt;
}

// sigv4::verify() checks the signature over a streamed body's *claimed* hash but cannot
// see the body. Here the claim meets the bytes: the x-amz-content-sha256 hash, or without
// that header (and outside presigned URLs, which sign UNSIGNED-PAYLOAD) the hash of an
// empty body, which is what verify() signed for a body it did not hold.
std::optional<AuthProblem> check_streamed_body(const core::Request& req, const sigv4::Auth& auth,
                                               const std::string& streamed_sha256, std::string_view secret) {
    std::string_view claimed;
    bool from_header = false;
    if (auto sent = req.headers.get("x-amz-content-sha256"); sent && sent->starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
        return check_signed_chunks(req, auth, secret);
    if (auto sent = req.headers.get("x-amz-content-sha256")) {
        if (!is_sha256_hex(*sent)) return std::nullopt;  // UNSIGNED-PAYLOAD, STREAMING-*: body not covered
        claimed = *sent;
        from_header = true;
    } else if (auth.kind == sigv4::Auth::Kind::query) {
        return std::nullopt;  // UNSIGNED-PAYLOAD
    } else {
        claimed = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    }
    // No digest (a sink we did not wrap): refuse rather than trust the claim.
    if (!streamed_sha256.empty() && core::iequals(claimed, streamed_sha256)) return std::nullopt;
    if (from_header)
        return AuthProblem{AuthFailure::content_sha_mismatch,
                           "The provided 'x-amz-content-sha256' header does not match what was computed."};
    return AuthProblem{AuthFailure::signature_mismatch, ""};
}

// Problems of a presigned URL's query parameters carry this mark in their detail:
// s3_auth_error() answers them AuthorizationQueryParametersError.
constexpr std::string_view query_mark = "query:";

std::optional<std::int64_t> amz_date_seconds(std::string_view s) {
    // yyyyMMdd'T'HHmmss'Z'
    if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
    for (std::size_t i = 0; i < 15; ++i)
        if (i != 8 && (s[i] < '0' || s[i] > '9')) return std::nullopt;
    auto num = [&](std::size_t at, std::size_t n) {
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
        return v;
    };
    std::tm tm{};
    tm.tm_year = num(0, 4) - 1900;
    tm.tm_mon = num(4, 2) - 1;
    tm.tm_mday = num(6, 2);
    tm.tm_hour = num(9, 2);
    tm.tm_min = num(11, 2);
    tm.tm_sec = num(13, 2);
    return static_cast<std::int64_t>(timegm(&tm));
}

// X-Amz-Expires of a SigV4 presigned URL, checked as S3 checks it before the signature:
// a number of seconds from 0 to 604800 (S3's messages, also MinIO's); nullopt when fine or
// absent (sigv4::parse reports a missing one).
std::optional<AuthProblem> check_expires_parameter(const core::Request& req) {
    auto raw = req.query_param("X-Amz-Expires");
    if (!raw) return std::nullopt;
    std::string_view v = *raw;
    bool negative = v.starts_with('-');
    std::string_view digits = negative ? v.substr(1) : v;
    bool numeric = !digits.empty() && digits.size() <= 18 &&
                   std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    auto problem = [](std::string_view m) {
        return AuthProblem{AuthFailure::malformed, std::string(query_mark) + std::string(m)};
    };
    if (!numeric) return problem("X-Amz-Expires should be a number");
    if (negative) return problem("X-Amz-Expires must be non-negative");
    if (std::stoll(std::string(digits)) > 604800)
        return problem("X-Amz-Expires must be less than a week (in seconds) that is 604800");
    return std::nullopt;
}

}  // namespace

core::AwsError s3_auth_error(const AuthProblem& problem) {
    std::string_view detail = problem.detail;
    if (problem.failure == AuthFailure::malformed && detail.starts_with(query_mark))
        return s3_error("AuthorizationQueryParametersError", std::string(detail.substr(query_mark.size())));
    if (problem.failure == AuthFailure::expired && detail.starts_with(query_mark)) {
        // "query:<X-Amz-Expires> <expiry ISO> <server time ISO>": S3 names them in the error.
        std::string rest(detail.substr(query_mark.size()));
        auto a = rest.find(' '), b = rest.rfind(' ');
        core::AwsError e = s3_error("AccessDenied", "Request has expired");
        if (a != std::string::npos && b != a)
            e.with("X-Amz-Expires", rest.substr(0, a))
                .with("Expires", rest.substr(a + 1, b - a - 1))
                .with("ServerTime", rest.substr(b + 1));
        return e;
    }
    return core::default_auth_error(core::Wire::rest_xml, problem);
}

std::unique_ptr<core::BodySink> hashing_sink(std::unique_ptr<core::BodySink> inner) {
    return std::make_unique<HashingSink>(std::move(inner));
}

std::string unwrap_hashing_sink(core::Request& req) {
    auto* hashing = dynamic_cast<HashingSink*>(req.body_sink.get());
    if (!hashing) return {};
    std::string digest = hashing->digest();
    req.body_sink = hashing->release();
    return digest;
}

std::optional<AuthProblem> authenticate(core::Request& req, const core::Credentials& keys,
                                        std::string_view host_bucket) {
    std::string streamed_sha256 = unwrap_hashing_sink(req);
    bool presigned = req.query_param("X-Amz-Algorithm").has_value();
    if (presigned)
        if (auto problem = check_expires_parameter(req)) return problem;
    try {
        auto auth = sigv4::parse(req);
        if (!auth) {
            auto v2 = sigv2::parse(req);
            if (!v2) return std::nullopt;  // anonymous: the bucket's ACL and policy decide
            const std::string* secret = keys.secret(v2->access_key);
            if (!secret) return AuthProblem{AuthFailure::unknown_access_key, ""};
            auto problem = sigv2::verify(req, *v2, *secret, std::chrono::system_clock::now(), host_bucket);
            if (!problem) req.access_key = v2->access_key;
            return problem;
        }
        const std::string* secret = keys.secret(auth->access_key);
        if (!secret) return AuthProblem{AuthFailure::unknown_access_key, ""};
        if (auth->kind == sigv4::Auth::Kind::query && auth->expires) {
            // Expired before anything else is looked at. X-Amz-Expires=0 is expired from
            // the start (AWS does not document 0; MinIO and LocalStack answer the same).
            auto signed_at = amz_date_seconds(auth->amz_date);
            std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
            if (signed_at && (*auth->expires == 0 || now > *signed_at + *auth->expires))
                return AuthProblem{AuthFailure::expired,
                                   fmt::format("{}{} {} {}", query_mark, *auth->expires,
                                               core::iso8601((*signed_at + *auth->expires) * 1000).substr(0, 19) + "Z",
                                               core::iso8601(now * 1000).substr(0, 19) + "Z")};
        }
        sigv4::VerifyOptions vo;
        vo.secret_key = *secret;
        vo.now = std::chrono::system_clock::now();
        vo.s3 = true;
        auto problem = sigv4::verify(req, *auth, vo);
        // A streamed body: the signature covered its claimed hash, now the bytes.
        if (!problem && req.body_sink) problem = check_streamed_body(req, *auth, streamed_sha256, *secret);
        if (!problem) req.access_key = auth->access_key;
        return problem;
    } catch (const sigv4::ParseError& e) {
        // A presigned URL's malformed parameters are AuthorizationQueryParametersError.
        return AuthProblem{AuthFailure::malformed, (presigned ? std::string(query_mark) : std::string()) + e.what()};
    }
}

}  // namespace stratus::s3

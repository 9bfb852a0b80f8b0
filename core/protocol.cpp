#include "core/protocol.hpp"

#include <fmt/format.h>
#include <libdeflate.h>

#include <algorithm>
#include <array>
#include <bit>
#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

namespace stratus::core {

namespace {

std::mt19937_64& rng() {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return engine;
}

// Request ids need to be unique, not uniformly distributed. An alphabet of 2^k characters
// takes k bits of a 64-bit draw per character; any other base reads the draw as a fraction
// in [0, 1) and yields its base-N digits one multiplication at a time (10 characters of 36
// per draw). Either keeps the generator off the profile of small requests.
std::string random_chars(std::string_view alphabet, std::size_t n) {
    std::string out(n, '\0');
    char* p = out.data();
    const std::uint64_t base = alphabet.size();
    const int bits = std::bit_width(base - 1);  // what one character uses of the draw, rounded up
    if ((base & (base - 1)) == 0) {
        // k bits per character, 64 / k characters per draw (12 of base32hex's 5 bits).
        const std::uint64_t mask = base - 1;
        const std::size_t per_draw = static_cast<std::size_t>(64 / bits);
        std::size_t i = 0;
        for (; i + per_draw <= n; i += per_draw) {
            std::uint64_t word = rng()();
            for (std::size_t k = 0; k < per_draw; ++k, word >>= bits) p[i + k] = alphabet[word & mask];
        }
        for (std::uint64_t word = i < n ? rng()() : 0; i < n; ++i, word >>= bits) p[i] = alphabet[word & mask];
        return out;
    }
    std::uint64_t word = 0, left = 0;
    for (auto& c : out) {
        if (left < base) {
            word = rng()();
            left = std::numeric_limits<std::uint64_t>::max();
        }
        unsigned __int128 product = static_cast<unsigned __int128>(word) * base;
        c = alphabet[static_cast<std::uint64_t>(product >> 64)];
        word = static_cast<std::uint64_t>(product);
        left >>= bits;
    }
    return out;
}

}  // namespace

std::string random_uuid() {
    std::uint64_t a = rng()(), b = rng()();
    a = (a & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
    b = (b & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
    // 8-4-4-4-12 lowercase hex digits, written by hand: Lambda and the gateway draw several
    // per request, and fmt's general formatter cost ~3,000 instructions for each.
    static constexpr char hex[] = "0123456789abcdef";
    std::string out(36, '-');
    int shift = 64;
    for (int i = 0; i < 36; ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) continue;
        const std::uint64_t word = i < 18 ? a : b;
        if (i == 19) shift = 64;
        shift -= 4;
        out[static_cast<std::size_t>(i)] = hex[(word >> shift) & 0xF];
    }
    return out;
}

std::string iso8601(std::int64_t epoch_ms) {
    std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:03}Z", buf, epoch_ms % 1000);
}

namespace {

std::string host_id() {
    // S3's x-amz-id-2 is an opaque base64 token.
    return random_chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 76);
}


std::string_view content_type(Wire wire) {
    switch (wire) {
        case Wire::json10: return "application/x-amz-json-1.0";
        case Wire::json11: return "application/x-amz-json-1.1";
        case Wire::rest_json: return "application/json";
        case Wire::rest_xml: return "application/xml";
        case Wire::internal: return "application/json";
    }
    return "application/json";
}

// JSON 1.0 services run on AWS's Coral framework: errors raised by the framework itself
// carry its namespace, not the service's (DynamoDB answers
// "com.amazon.coral.validate#ValidationException" but
// "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException").
std::string json_type(const Protocol& protocol, const std::string& code) {
    if (protocol.wire == Wire::json11) return code;
    if (code == "ValidationException") return "com.amazon.coral.validate#" + code;
    static constexpr std::string_view coral_service[] = {
        "UnknownOperationException",   "SerializationException",      "UnrecognizedClientException",
        "InvalidSignatureException",   "MissingAuthenticationTokenException", "IncompleteSignatureException",
        "AccessDeniedException",       "RequestEntityTooLarge",       "InternalFailure",
    };
    for (auto c : coral_service)
        if (code == c) return "com.amazon.coral.service#" + code;
    return protocol.json_type_prefix + code;
}

}  // namespace

std::uint32_t crc32(std::uint32_t crc, std::string_view data) {
    // libdeflate's (Debian's libdeflate): PCLMULQDQ folding where the CPU has it. Every
    // DynamoDB answer is CRC'd for x-amz-crc32 (a 1 MB Scan page too) and S3 checks
    // x-amz-checksum-crc32 on uploads; zlib's took 266 ns for a 270-byte GetItem answer and
    // 1.7 us per 4 KB here, libdeflate's 33 ns and 0.37 us. Same convention as zlib's:
    // start from 0, chain by passing the previous result.
    return libdeflate_crc32(crc, data.data(), data.size());
}

std::uint32_t crc32(std::string_view data) { return crc32(0, data); }

std::string new_request_id(Wire wire) {
    switch (wire) {
        case Wire::rest_xml: return random_chars("0123456789ABCDEF", 16);
        // DynamoDB's are 52 characters of base32hex: the ids in AWS's documentation and in
        // answers seen from AWS use the digits and A-V only (never W-Z).
        case Wire::json10: return random_chars("0123456789ABCDEFGHIJKLMNOPQRSTUV", 52);
        default: return random_uuid();
    }
}

std::string xml_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out.push_back(c);
        }
    }
    return out;
}

void stamp_response(const Protocol& protocol, const Request& request, Response& response) {
    if (protocol.wire == Wire::rest_xml) {
        response.headers.set("x-amz-request-id", request.request_id);
        response.headers.set("x-amz-id-2", host_id());
    } else {
        response.headers.set("x-amzn-RequestId", request.request_id);
    }
    if (protocol.crc32)
        response.headers.set("x-amz-crc32", std::to_string(crc32(response.body)));
}

Response json_response(const Protocol& protocol, std::string body, int status) {
    Response r;
    r.headers.reserve(4);  // the type here; request id, CRC (and S3's host id) by stamp_response
    r.status = status;
    r.headers.set("Content-Type", std::string(content_type(protocol.wire)));
    r.body = std::move(body);
    return r;
}

Response render_error(const Protocol& protocol, const AwsError& error, const Request& request) {
    Response r;
    r.status = error.status();
    r.headers.set("Content-Type", std::string(content_type(protocol.wire)));
    switch (protocol.wire) {
        case Wire::rest_xml: {
            std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>";
            body += xml_escape(error.code());
            body += "</Code><Message>";
            body += xml_escape(error.message());
            body += "</Message>";
            for (const auto& [name, value] : error.fields())
                body += fmt::format("<{0}>{1}</{0}>", name, xml_escape(value));
            body += fmt::format("<RequestId>{}</RequestId></Error>", xml_escape(request.request_id));
            r.body = std::move(body);
            break;
        }
        case Wire::json10:
        case Wire::json11:
        case Wire::rest_json:
        case Wire::internal: {
            nlohmann::json j = nlohmann::json::object();
            if (!error.json_extra().empty()) {
                auto extra = nlohmann::json::parse(error.json_extra(), nullptr, false);
                if (extra.is_object()) j = std::move(extra);
            }
            if (protocol.wire == Wire::rest_json) {
                // Lambda: the code travels in x-amzn-ErrorType; the body says who is at fault.
                r.headers.set("x-amzn-ErrorType", error.code());
                j["Type"] = error.fault() == Fault::sender ? "User" : "Service";
                j["Message"] = error.message();
            } else if (protocol.wire == Wire::internal) {
                j["error"] = error.code();
                j["message"] = error.message();
            } else {
                j["__type"] = json_type(protocol, error.code());
                // DynamoDB sends a bare __type when there is nothing to say
                // (UnknownOperationException).
                if (!error.message().empty()) j["message"] = error.message();
            }
            for (const auto& [name, value] : error.fields()) j[name] = value;
            r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            break;
        }
    }
    for (const auto& [name, value] : error.headers()) r.headers.set(name, value);
    if (request.method == "HEAD") {
        // HEAD answers carry no body; botocore then takes the code from the status.
        r.body.clear();
    }
    stamp_response(protocol, request, r);
    return r;
}

AwsError default_auth_error(Wire wire, const AuthProblem& problem) {
    // Messages as AWS sends them (observed on DynamoDB, Lambda and S3 respectively).
    if (wire == Wire::rest_xml) {
        switch (problem.failure) {
            case AuthFailure::missing: return {"AccessDenied", "Access Denied", 403};
            case AuthFailure::malformed:
                return {"AuthorizationHeaderMalformed",
                        problem.detail.empty() ? "The authorization header is malformed." : problem.detail, 400};
            case AuthFailure::unknown_access_key:
                return {"InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
                        403};
            case AuthFailure::signature_mismatch:
                return {"SignatureDoesNotMatch",
                        "The request signature we calculated does not match the signature you provided. "
                        "Check your key and signing method.",
                        403};
            case AuthFailure::expired: return {"AccessDenied", "Request has expired", 403};
            case AuthFailure::time_skewed:
                return {"RequestTimeTooSkewed",
                        "The difference between the request time and the current time is too large.", 403};
            case AuthFailure::content_sha_mismatch:
                return {"XAmzContentSHA256Mismatch",
                        "The provided 'x-amz-content-sha256' header does not match what was computed.", 400};
        }
    }
    // JSON services: DynamoDB answers 400, Lambda (REST-JSON) 403.
    int status = wire == Wire::rest_json ? 403 : 400;
    switch (problem.failure) {
        case AuthFailure::missing:
            return {"MissingAuthenticationTokenException",
                    wire == Wire::rest_json ? "Missing Authentication Token" : "Request is missing Authentication Token",
                    status};
        case AuthFailure::malformed:
            return {"IncompleteSignatureException",
                    problem.detail.empty() ? "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                                           : problem.detail,
                    status};
        case AuthFailure::unknown_access_key:
            return {"UnrecognizedClientException", "The security token included in the request is invalid.", status};
        case AuthFailure::signature_mismatch:
        case AuthFailure::content_sha_mismatch:
            return {"InvalidSignatureException",
                    "The request signature we calculated does not match the signature you provided. Check your AWS "
                    "Secret Access Key and signing method. Consult the service documentation for details.",
                    status};
        case AuthFailure::expired:
        case AuthFailure::time_skewed:
            return {"InvalidSignatureException", problem.detail.empty() ? "Signature expired" : problem.detail, status};
    }
    return AwsError::internal();
}

AwsError default_too_large(Wire wire, std::uint64_t limit) {
    switch (wire) {
        case Wire::rest_xml:
            return AwsError("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", 400)
                .with("MaxSizeAllowed", std::to_string(limit));
        case Wire::rest_json:
            return {"RequestEntityTooLargeException",
                    fmt::format("Request must be smaller than {} bytes for the operation", limit), 413};
        default:
            // DynamoDB answers 413 with a plain message for bodies over its request limit.
            return {"RequestEntityTooLarge", fmt::format("Request must be smaller than {} bytes", limit), 413};
    }
}

}  // namespace stratus::core

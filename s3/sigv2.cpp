#include "s3/sigv2.hpp"

#include "core/base64.hpp"
#include "core/crypto.hpp"


#include <algorithm>
#include <map>
#include <vector>

#include <fmt/format.h>

namespace stratus::s3::sigv2 {

using core::AuthFailure;
using core::base64_encode;
namespace crypto = core::crypto;

namespace {

// Sub-resources that are part of the canonical resource (botocore's HmacV1Auth.QSAOfInterest).
constexpr std::string_view signed_params[] = {
    "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy",
    "requestPayment", "torrent", "versioning", "versionId", "versions", "website", "uploads", "uploadId",
    "response-content-type", "response-content-language", "response-expires", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "delete", "lifecycle", "tagging", "restore",
    "storageClass", "notification", "replication", "requestPayment", "analytics", "metrics", "inventory", "select",
    "select-type", "object-lock",
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

std::optional<Auth> parse(const Request& req) {
    Auth a;
    bool have_key = false, have_sig = false;
    for (auto& p : req.query_params()) {
        if (p.name == "AWSAccessKeyId") {
            a.access_key = p.value;
            have_key = true;
        } else if (p.name == "Signature") {
            a.signature = p.value;
            have_sig = true;
        } else if (p.name == "Expires") {
            try {
                a.expires = std::stoll(p.value);
            } catch (...) {
                a.expires = 0;
            }
        }
    }
    if (have_key && have_sig) {
        a.kind = Auth::Kind::query;
        return a;
    }
    auto h = req.headers.get("authorization");
    if (!h || !h->starts_with("AWS ")) return std::nullopt;
    std::string_view cred = h->substr(4);
    auto colon = cred.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    a.kind = Auth::Kind::header;
    a.access_key = std::string(cred.substr(0, colon));
    a.signature = std::string(cred.substr(colon + 1));
    return a;
}

std::string string_to_sign(const Request& req, const Auth& auth, std::string_view host_bucket) {
    std::string s = req.method + "\n";
    s += std::string(req.headers.get_or("content-md5", "")) + "\n";
    s += std::string(req.headers.get_or("content-type", "")) + "\n";
    std::map<std::string, std::string> amz;
    for (auto& [name, value] : req.headers.entries()) {
        std::string n = lower(name);
        if (!n.starts_with("x-amz-")) continue;
        auto [it, fresh] = amz.emplace(n, value);
        if (!fresh) it->second += "," + value;
    }
    if (auth.kind == Auth::Kind::query)
        s += std::to_string(auth.expires.value_or(0)) + "\n";
    else if (amz.contains("x-amz-date"))
        s += "\n";
    else
        s += std::string(req.headers.get_or("date", "")) + "\n";
    for (auto& [n, v] : amz) s += n + ":" + v + "\n";
    std::string resource;
    if (!host_bucket.empty()) resource = "/" + std::string(host_bucket);
    resource += req.path;
    std::vector<std::pair<std::string, std::optional<std::string>>> subs;
    for (auto& p : req.query_params())
        for (auto name : signed_params)
            if (p.name == name) subs.emplace_back(p.name, p.has_value ? std::optional(p.value) : std::nullopt);
    std::stable_sort(subs.begin(), subs.end(), [](auto& a, auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < subs.size(); ++i) {
        resource += i == 0 ? "?" : "&";
        resource += subs[i].first;
        if (subs[i].second) resource += "=" + *subs[i].second;
    }
    s += resource;
    return s;
}

std::optional<AuthProblem> verify(const Request& req, const Auth& auth, std::string_view secret,
                                  std::chrono::system_clock::time_point now, std::string_view host_bucket) {
    if (auth.kind == Auth::Kind::query) {
        auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
        if (!auth.expires || *auth.expires < now_s)
            return AuthProblem{AuthFailure::expired,
                               fmt::format("Request has expired (Expires {} < now {})", auth.expires.value_or(0), now_s)};
    }
    std::string sts = string_to_sign(req, auth, host_bucket);
    if (!crypto::constant_time_equal(base64_encode(crypto::hmac_sha1(secret, sts)), auth.signature))
        return AuthProblem{AuthFailure::signature_mismatch, sts};
    return std::nullopt;
}

}  // namespace stratus::s3::sigv2

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "core/file_sink.hpp"
#include "s3/errors.hpp"
#include "s3/ops.hpp"
#include "s3/upload.hpp"
#include "s3/xml.hpp"

namespace stratus::s3 {

core::AwsError no_such_bucket(std::string_view bucket) {
    return s3_error("NoSuchBucket").with("BucketName", std::string(bucket));
}

core::AwsError no_such_key(std::string_view key) {
    return s3_error("NoSuchKey").with("Key", std::string(key));
}

core::AwsError malformed_xml() {
    return {"MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema", 400};
}

core::AwsError invalid_argument(std::string message, std::string name, std::string value) {
    core::AwsError e("InvalidArgument", std::move(message), 400);
    if (!name.empty()) {
        e.with("ArgumentName", std::move(name));
        e.with("ArgumentValue", std::move(value));
    }
    return e;
}

core::AwsError invalid_request(std::string message) { return {"InvalidRequest", std::move(message), 400}; }

std::string http_date(std::int64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

std::optional<std::int64_t> parse_http_date(std::string_view s) {
    std::string text(s);
    std::tm tm{};
    for (const char* fmt : {"%a, %d %b %Y %H:%M:%S GMT", "%Y-%m-%dT%H:%M:%S", "%A, %d-%b-%y %H:%M:%S GMT",
                            "%a %b %d %H:%M:%S %Y"}) {
        tm = {};
        const char* end = strptime(text.c_str(), fmt, &tm);
        if (end) return static_cast<std::int64_t>(timegm(&tm)) * 1000;
    }
    return std::nullopt;
}

namespace {

std::string random_from(std::string_view alphabet, std::size_t n) {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::string out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) out += alphabet[pick(engine)];
    return out;
}

bool is_ip_like(std::string_view name) {
    int dots = 0;
    for (char c : name) {
        if (c == '.') ++dots;
        else if (c < '0' || c > '9') return false;
    }
    return dots == 3;
}

}  // namespace

std::string new_version_id() {
    return random_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._", 32);
}

std::string new_upload_id() {
    return random_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", 64);
}

// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
void validate_bucket_name(std::string_view name) {
    bool ok = name.size() >= 3 && name.size() <= 63;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (ok) ok = alnum(name.front()) && alnum(name.back());
    for (std::size_t i = 0; ok && i < name.size(); ++i) {
        char c = name[i];
        if (!(alnum(c) || c == '.' || c == '-')) ok = false;
        if (c == '.' && i + 1 < name.size() && (name[i + 1] == '.' || name[i + 1] == '-')) ok = false;
        if (c == '-' && i + 1 < name.size() && name[i + 1] == '.') ok = false;
    }
    if (ok && (is_ip_like(name) || name.starts_with("xn--") || name.starts_with("sthree-") ||
               name.ends_with("-s3alias") || name.ends_with("--ol-s3")))
        ok = false;
    if (!ok)
        throw s3_error("InvalidBucketName")
            .with("BucketName", std::string(name));
}

void validate_key(std::string_view key) {
    if (key.size() > 1024)
        throw s3_error("KeyTooLongError")
            .with("MaxSizeAllowed", "1024")
            .with("Size", std::to_string(key.size()));
}

Bucket require_bucket(const core::lmdb::Txn& txn, Context& ctx, std::string_view name) {
    auto b = ctx.store.get_bucket(txn, name);
    if (!b) throw no_such_bucket(name);
    return std::move(*b);
}

std::string body_of(core::Request& req, std::size_t limit) {
    if (!req.body_sink) return req.body;
    std::string path;
    if (auto* f = dynamic_cast<core::FileSink*>(req.body_sink.get())) path = f->path();
    else if (auto* u = dynamic_cast<UploadSink*>(req.body_sink.get())) {
        if (u->in_memory()) {
            if (u->memory().size() > limit) throw malformed_xml();
            return u->memory();
        }
        path = u->path();
    }
    if (path.empty()) return {};
    std::ifstream in(path, std::ios::binary);
    std::string out;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        out.append(buf, static_cast<std::size_t>(in.gcount()));
        if (out.size() > limit) throw malformed_xml();
    }
    return out;
}

core::Response xml_response(std::string body, int status) {
    core::Response r;
    r.status = status;
    r.headers.set("Content-Type", "application/xml");
    r.body = std::move(body);
    return r;
}

core::Response empty_response(int status) {
    core::Response r;
    r.status = status;
    return r;
}

std::vector<std::pair<std::string, std::string>> parse_tagging_header(std::string_view s) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!s.empty()) {
        auto amp = s.find('&');
        std::string_view pair = s.substr(0, amp);
        auto eq = pair.find('=');
        std::string k = core::percent_decode(pair.substr(0, eq), true);
        std::string v = eq == std::string_view::npos ? "" : core::percent_decode(pair.substr(eq + 1), true);
        if (!k.empty()) out.emplace_back(std::move(k), std::move(v));
        if (amp == std::string_view::npos) break;
        s.remove_prefix(amp + 1);
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_tagging_xml(std::string_view body) {
    auto doc = parse_xml(body);
    if (!doc || doc->name != "Tagging") throw malformed_xml();
    std::vector<std::pair<std::string, std::string>> out;
    auto* set = doc->child("TagSet");
    if (!set) throw malformed_xml();
    for (auto* t : set->all("Tag")) {
        auto k = t->child_text("Key");
        auto v = t->child_text("Value");
        if (!k || !v) throw malformed_xml();
        out.emplace_back(*k, *v);
    }
    return out;
}

void validate_tags(const std::vector<std::pair<std::string, std::string>>& tags, bool object) {
    if (object && tags.size() > 10) throw s3_error("BadRequest", "Object tags cannot be greater than 10");
    if (!object && tags.size() > 50) throw s3_error("BadRequest", "Bucket tags cannot be greater than 50");
    for (std::size_t i = 0; i < tags.size(); ++i) {
        if (tags[i].first.empty() || tags[i].first.size() > 128)
            throw s3_error("InvalidTag", "The TagKey you have provided is invalid")
                .with("TagKey", tags[i].first);
        if (tags[i].second.size() > 256)
            throw s3_error("InvalidTag", "The TagValue you have provided is invalid")
                .with("TagKey", tags[i].first)
                .with("TagValue", tags[i].second);
        for (std::size_t j = 0; j < i; ++j)
            if (tags[j].first == tags[i].first)
                throw s3_error("InvalidTag", "Cannot provide multiple Tags with the same key")
                    .with("TagKey", tags[i].first);
    }
}

std::string tagging_xml(const std::vector<std::pair<std::string, std::string>>& tags) {
    XmlWriter w("Tagging");
    w.open("TagSet");
    for (auto& [k, v] : tags) w.open("Tag").leaf("Key", k).leaf("Value", v).close();
    return w.finish();
}

}  // namespace stratus::s3

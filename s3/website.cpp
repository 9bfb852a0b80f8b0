#include "s3/website.hpp"

#include <brotli/decode.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <fmt/format.h>

#include <cerrno>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <unordered_map>

#include "core/protocol.hpp"
#include "s3/object_common.hpp"
#include "s3/xml.hpp"
#include "core/text.hpp"
#include "s3/access.hpp"

namespace stratus::s3 {

namespace {

constexpr std::uint64_t max_decode = 64 * 1024 * 1024;

core::Response html(int status, std::string_view code, std::string_view message,
                    const std::vector<std::pair<std::string, std::string>>& extra, const core::Request& req) {
    static const std::map<int, std::string_view> reasons = {
        {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"}, {412, "Precondition Failed"},
        {416, "Requested Range Not Satisfiable"}, {500, "Internal Server Error"}};
    auto it = reasons.find(status);
    std::string title = fmt::format("{} {}", status, it == reasons.end() ? "Error" : it->second);
    std::string body = fmt::format("<html>\n<head><title>{0}</title></head>\n<body>\n<h1>{0}</h1>\n<ul>\n"
                                   "<li>Code: {1}</li>\n<li>Message: {2}</li>\n",
                                   title, core::xml_escape(code), core::xml_escape(message));
    for (auto& [n, v] : extra) body += fmt::format("<li>{}: {}</li>\n", n, core::xml_escape(v));
    body += fmt::format("<li>RequestId: {}</li>\n</ul>\n<hr/>\n</body>\n</html>\n", req.request_id);
    core::Response r;
    r.status = status;
    r.headers.set("Content-Type", "text/html; charset=utf-8");
    r.body = req.method == "HEAD" ? "" : std::move(body);
    if (req.method == "HEAD") r.headers.set("Content-Length", "0");
    return r;
}

std::optional<Version> lookup(Context& ctx, const std::string& bucket, const std::string& key) {
    if (key.empty() || key.size() > 1024) return std::nullopt;
    return ctx.store.env().read([&](core::lmdb::ReadTxn& txn) -> std::optional<Version> {
        auto e = ctx.store.get_entry(txn, bucket, key);
        if (!e || !e->current()) return std::nullopt;
        return *e->current();
    });
}

// Bodies of small site files (index.html, icons, chunks) by file id. An object file never
// changes once stored (a new version gets a new, random id), so an entry cannot go stale:
// the id comes from the key's current version, read from LMDB on every request. Saves
// the open / read / close of each GET. Bounded; simply emptied when full.
class SmallFileCache {
public:
    static constexpr std::uint64_t max_file = 64 * 1024;  // as attach_body's inline limit
    static constexpr std::size_t budget = 8 * 1024 * 1024;

    std::shared_ptr<const std::string> get(const std::string& id) {
        std::lock_guard lock(mutex_);
        auto it = files_.find(id);
        return it == files_.end() ? nullptr : it->second;
    }
    void put(const std::string& id, std::shared_ptr<const std::string> body) {
        std::lock_guard lock(mutex_);
        if (bytes_ + body->size() > budget) {
            files_.clear();
            bytes_ = 0;
        }
        bytes_ += body->size();
        files_[id] = std::move(body);
    }

private:
    std::mutex mutex_;
    std::unordered_map<std::string, std::shared_ptr<const std::string>> files_;
    std::size_t bytes_ = 0;
};

SmallFileCache& small_files() {
    static SmallFileCache cache;
    return cache;
}

// The whole file when it is small (cached), else nullptr.
std::shared_ptr<const std::string> small_file(Context& ctx, const Version& v) {
    if (v.file.empty() || v.size > SmallFileCache::max_file) return nullptr;
    auto& cache = small_files();
    if (auto hit = cache.get(v.file)) return hit;
    auto body = ctx.store.read_body(v, SmallFileCache::max_file);
    if (!body) return nullptr;
    auto shared = std::make_shared<const std::string>(std::move(*body));
    cache.put(v.file, shared);
    return shared;
}

std::optional<std::string> gunzip(std::string_view in) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 32) != Z_OK) return std::nullopt;
    std::string out;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    char buf[65536];
    int rc;
    do {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&z);
            return std::nullopt;
        }
        out.append(buf, sizeof buf - z.avail_out);
        if (out.size() > max_decode) {
            inflateEnd(&z);
            return std::nullopt;
        }
    } while (rc != Z_STREAM_END);
    inflateEnd(&z);
    return out;
}

std::optional<std::string> unbrotli(std::string_view in) {
    auto* s = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
    if (!s) return std::nullopt;
    std::string out;
    const std::uint8_t* next_in = reinterpret_cast<const std::uint8_t*>(in.data());
    std::size_t avail_in = in.size();
    std::uint8_t buf[65536];
    BrotliDecoderResult rc;
    do {
        std::uint8_t* next_out = buf;
        std::size_t avail_out = sizeof buf;
        rc = BrotliDecoderDecompressStream(s, &avail_in, &next_in, &avail_out, &next_out, nullptr);
        out.append(reinterpret_cast<char*>(buf), sizeof buf - avail_out);
        if (rc == BROTLI_DECODER_RESULT_ERROR || out.size() > max_decode ||
            (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT && avail_in == 0)) {
            BrotliDecoderDestroyInstance(s);
            return std::nullopt;
        }
    } while (rc != BROTLI_DECODER_RESULT_SUCCESS);
    BrotliDecoderDestroyInstance(s);
    return out;
}

// Serves a stored object with web semantics: conditionals (304 / 412), Range, content
// type by extension when none was stored, and content-coding negotiation.
core::Response serve(Context& ctx, const core::Request& req, const std::string& key, const Version& v, int status) {
    core::Response r;
    r.status = status;
    set_object_headers(r, v, false);
    r.headers.erase("x-amz-server-side-encryption");
    auto stored_type = v.headers.find("Content-Type");
    if (stored_type == v.headers.end() || stored_type->second == "binary/octet-stream" ||
        stored_type->second == "application/octet-stream") {
        auto guess = content_type_for(key);
        if (!guess.empty()) r.headers.set("Content-Type", std::string(guess));
    }
    if (status == 200) {
        try {
            check_conditions(req, v, false);
        } catch (const core::AwsError& e) {
            if (e.status() == 304) {
                core::Response nm;
                nm.status = 304;
                for (auto h : {"ETag", "Last-Modified", "Cache-Control", "Expires", "Vary"})
                    if (auto val = r.headers.get(h)) nm.headers.set(h, std::string(*val));
                return nm;
            }
            return html(412, e.code(), e.message(), {}, req);
        }
    }
    // Content coding: a gzip/br object goes as is to a client that accepts it, and
    // decoded to one that does not.
    std::string coding = core::ascii_lower(v.headers.count("Content-Encoding") ? v.headers.at("Content-Encoding") : "");
    bool encoded = coding == "gzip" || coding == "br";
    if (encoded) r.headers.set("Vary", "Accept-Encoding");
    if (encoded && !accepts_encoding(req.headers.get_or("accept-encoding", ""), coding)) {
        auto raw = ctx.store.read_body(v, max_decode);
        std::optional<std::string> plain;
        if (raw) plain = coding == "gzip" ? gunzip(*raw) : unbrotli(*raw);
        if (!plain) return html(500, "InternalError", "The stored object could not be decoded", {}, req);
        r.headers.erase("Content-Encoding");
        r.headers.set("ETag", "\"" + v.etag.substr(1, v.etag.size() - 2) + "-decoded\"");
        r.headers.set("Content-Length", std::to_string(plain->size()));
        if (req.method != "HEAD") r.body = std::move(*plain);
        return r;
    }
    std::uint64_t offset = 0, length = v.size;
    if (auto range = req.headers.get("range"); range && status == 200) {
        auto rg = parse_range(*range, v.size);
        if (rg.unsatisfiable) {
            auto e = html(416, "InvalidRange", "The requested range is not satisfiable", {}, req);
            e.headers.set("Content-Range", fmt::format("bytes */{}", v.size));
            return e;
        }
        if (rg.valid) {
            offset = rg.first;
            length = rg.last - rg.first + 1;
            r.status = 206;
            r.headers.set("Content-Range", fmt::format("bytes {}-{}/{}", offset, offset + length - 1, v.size));
        }
    }
    r.headers.set("Content-Length", std::to_string(length));
    if (req.method != "HEAD" && length > 0) {
        if (auto small = small_file(ctx, v)) {
            r.body.assign(*small, static_cast<std::size_t>(offset), static_cast<std::size_t>(length));
            return r;
        }
        int fd = ::open(ctx.store.file_path(v.file).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return html(404, "NoSuchKey", "The specified key does not exist.", {{"Key", key}}, req);
        attach_body(r, fd, offset, length);
    }
    return r;
}

std::string key_of(const core::Request& req) {
    std::string path = core::percent_decode(req.path);
    if (!path.empty() && path.front() == '/') path.erase(0, 1);
    return path;
}

struct RoutingRule {
    std::optional<std::string> prefix;      // Condition/KeyPrefixEquals
    std::optional<std::string> error_code;  // Condition/HttpErrorCodeReturnedEquals
    std::string protocol, host, replace_prefix, replace_key, code = "301";
    bool has_replace_prefix = false, has_replace_key = false;
};

std::optional<core::Response> apply_rule(const std::vector<RoutingRule>& rules, const std::string& key,
                                         std::optional<int> error, const core::Request& req) {
    for (auto& r : rules) {
        if (r.prefix && !key.starts_with(*r.prefix)) continue;
        if (r.error_code && (!error || std::to_string(*error) != *r.error_code)) continue;
        if (!r.error_code && error) continue;
        std::string target = key;
        if (r.has_replace_key) target = r.replace_key;
        else if (r.has_replace_prefix) target = r.replace_prefix + key.substr(r.prefix ? r.prefix->size() : 0);
        std::string host = r.host.empty() ? std::string(req.headers.get_or("host", "")) : r.host;
        std::string location = (r.protocol.empty() ? "http" : r.protocol) + "://" + host + "/" + target;
        core::Response resp;
        resp.status = std::stoi(r.code);
        resp.headers.set("Location", location);
        resp.headers.set("Content-Length", "0");
        return resp;
    }
    return std::nullopt;
}

}  // namespace

std::string_view content_type_for(std::string_view key) {
    static const std::pair<std::string_view, std::string_view> types[] = {
        {".html", "text/html"}, {".htm", "text/html"}, {".js", "text/javascript"}, {".mjs", "text/javascript"},
        {".css", "text/css"}, {".json", "application/json"}, {".map", "application/json"},
        {".svg", "image/svg+xml"}, {".png", "image/png"}, {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"},
        {".gif", "image/gif"}, {".webp", "image/webp"}, {".avif", "image/avif"}, {".ico", "image/x-icon"},
        {".woff", "font/woff"}, {".woff2", "font/woff2"}, {".ttf", "font/ttf"}, {".otf", "font/otf"},
        {".txt", "text/plain"}, {".xml", "application/xml"}, {".wasm", "application/wasm"},
        {".pdf", "application/pdf"}, {".mp4", "video/mp4"}, {".webm", "video/webm"}, {".mp3", "audio/mpeg"},
        {".webmanifest", "application/manifest+json"}, {".csv", "text/csv"},
    };
    std::string k = core::ascii_lower(key);
    for (auto& [ext, type] : types)
        if (std::string_view(k).ends_with(ext)) return type;
    return {};
}

bool accepts_encoding(std::string_view accept, std::string_view coding) {
    while (!accept.empty()) {
        auto comma = accept.find(',');
        std::string_view item = accept.substr(0, comma);
        auto semi = item.find(';');
        std::string_view name = item.substr(0, semi);
        while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
        while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
        bool zero = false;
        if (semi != std::string_view::npos) {
            std::string params(item.substr(semi + 1));
            auto q = params.find("q=");
            if (q != std::string::npos) {
                try {
                    zero = std::stod(params.substr(q + 2)) == 0.0;
                } catch (...) {
                }
            }
        }
        if ((core::ascii_lower(name) == coding || name == "*") && !zero) return true;
        if (comma == std::string_view::npos) break;
        accept.remove_prefix(comma + 1);
    }
    return false;
}

core::Response website_request(Context& ctx, const core::Request& req, const std::string& bucket) {
    if (req.method != "GET" && req.method != "HEAD")
        return html(405, "MethodNotAllowed", "The specified method is not allowed against this resource.",
                    {{"Method", req.method}, {"ResourceType", "OBJECT"}}, req);
    auto b = ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { return ctx.store.get_bucket(txn, bucket); });
    if (!b) return html(404, "NoSuchBucket", "The specified bucket does not exist", {{"BucketName", bucket}}, req);
    auto cfg_it = b->configs.find("website");
    if (cfg_it == b->configs.end())
        return html(404, "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration",
                    {{"BucketName", bucket}}, req);
    auto cfg = parse_xml(cfg_it->second);
    if (!cfg) return html(500, "InternalError", "Bad website configuration", {}, req);
    if (auto* all = cfg->child("RedirectAllRequestsTo")) {
        core::Response r;
        r.status = 301;
        std::string proto = all->child_text("Protocol").value_or("http");
        r.headers.set("Location", proto + "://" + all->child_text("HostName").value_or("") + req.path);
        r.headers.set("Content-Length", "0");
        return r;
    }
    std::string index;
    if (auto* i = cfg->child("IndexDocument")) index = i->child_text("Suffix").value_or("index.html");
    std::optional<std::string> error_doc;
    if (auto* e = cfg->child("ErrorDocument")) error_doc = e->child_text("Key");
    std::vector<RoutingRule> rules;
    if (auto* rr = cfg->child("RoutingRules"))
        for (auto* rule : rr->all("RoutingRule")) {
            RoutingRule r;
            if (auto* c = rule->child("Condition")) {
                r.prefix = c->child_text("KeyPrefixEquals");
                r.error_code = c->child_text("HttpErrorCodeReturnedEquals");
            }
            if (auto* d = rule->child("Redirect")) {
                r.protocol = d->child_text("Protocol").value_or("");
                r.host = d->child_text("HostName").value_or("");
                if (auto p = d->child_text("ReplaceKeyPrefixWith")) {
                    r.replace_prefix = *p;
                    r.has_replace_prefix = true;
                }
                if (auto k = d->child_text("ReplaceKeyWith")) {
                    r.replace_key = *k;
                    r.has_replace_key = true;
                }
                r.code = d->child_text("HttpRedirectCode").value_or("301");
            }
            rules.push_back(std::move(r));
        }
    std::string key = key_of(req);
    if (auto redirect = apply_rule(rules, key, std::nullopt, req)) return *redirect;
    std::string lookup_key = key.empty() || key.ends_with('/') ? key + index : key;
    // Under --verify-signatures the website endpoint serves what the public may read, as
    // on AWS (a bucket policy or ACL granting s3:GetObject to everyone); anything else is
    // 403 AccessDenied, also for a missing key unless the public may list the bucket.
    // Without it, everything is public as before. (The site port, CloudFront's part, reads
    // with the distribution's own access and is not restricted.)
    auto readable = [&](const std::string& k, const Version& v) {
        if (!ctx.keys) return true;
        Grants g = decode_grants(v.acl);
        return anonymous_allowed(*b, k, "s3:GetObject", &g, req);
    };
    auto denied = [&]() {
        if (auto redirect = apply_rule(rules, key, 403, req)) return *redirect;
        if (error_doc)
            if (auto v = lookup(ctx, bucket, *error_doc); v && readable(*error_doc, *v))
                return serve(ctx, req, *error_doc, *v, 403);
        return html(403, "AccessDenied", "Access Denied", {}, req);
    };
    if (auto v = lookup(ctx, bucket, lookup_key)) {
        if (!readable(lookup_key, *v)) return denied();
        if (auto loc = v->headers.find("x-amz-website-redirect-location"); loc != v->headers.end()) {
            core::Response r;
            r.status = 301;
            r.headers.set("Location", loc->second);
            r.headers.set("Content-Length", "0");
            return r;
        }
        return serve(ctx, req, lookup_key, *v, 200);
    }
    // "folder" without the slash: S3 redirects to "folder/" when it has an index document.
    if (!key.empty() && !key.ends_with('/') && lookup(ctx, bucket, key + "/" + index)) {
        core::Response r;
        r.status = 302;
        r.headers.set("Location", "/" + core::uri_encode(key, false) + "/");
        r.headers.set("Content-Length", "0");
        return r;
    }
    if (ctx.keys && !anonymous_allowed(*b, "", "s3:ListBucket", nullptr, req)) return denied();
    if (auto redirect = apply_rule(rules, key, 404, req)) return *redirect;
    if (error_doc)
        if (auto v = lookup(ctx, bucket, *error_doc); v && readable(*error_doc, *v))
            return serve(ctx, req, *error_doc, *v, 404);
    return html(404, "NoSuchKey", "The specified key does not exist.", {{"Key", lookup_key}}, req);
}

std::optional<core::Response> web_object(Context& ctx, const core::Request& req, const std::string& bucket,
                                         const std::string& key) {
    auto v = lookup(ctx, bucket, key);
    if (!v) return std::nullopt;
    return serve(ctx, req, key, *v, 200);
}

}  // namespace stratus::s3

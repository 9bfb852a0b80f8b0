#include "s3/object_common.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <vector>

#include "s3/access.hpp"
#include "s3/errors.hpp"
#include "s3/xml.hpp"
#include "core/text.hpp"

namespace stratus::s3 {

namespace {

// Stored standard headers, by the name they are returned under.
constexpr std::string_view standard_headers[] = {
    "Content-Type", "Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control", "Expires",
    "x-amz-website-redirect-location",
};

std::string strip_aws_chunked(std::string_view enc) {
    std::string out;
    while (!enc.empty()) {
        auto comma = enc.find(',');
        std::string_view part = enc.substr(0, comma);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
        if (!part.empty() && core::ascii_lower(part) != "aws-chunked") {
            if (!out.empty()) out += ",";
            out += part;
        }
        if (comma == std::string_view::npos) break;
        enc.remove_prefix(comma + 1);
    }
    return out;
}

core::AwsError precondition_failed(std::string condition) {
    return s3_error("PreconditionFailed")
        .with("Condition", std::move(condition));
}

bool etag_matches(std::string_view list, const std::string& etag) {
    // "a", "b" or * ; quotes optional.
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string_view t = list.substr(0, comma);
        while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
        while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
        if (t.starts_with("W/")) t.remove_prefix(2);
        if (t == "*") return true;
        std::string q = t.starts_with('"') ? std::string(t) : "\"" + std::string(t) + "\"";
        if (q == etag) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

}  // namespace

Version version_from_headers(const core::Request& req) {
    Version v;
    std::size_t meta_size = 0;
    for (auto& [name, value] : req.headers.entries()) {
        std::string n = core::ascii_lower(name);
        if (n.starts_with("x-amz-meta-")) {
            std::string key = n.substr(11);
            meta_size += key.size() + value.size();
            auto [it, fresh] = v.meta.emplace(key, value);
            if (!fresh) it->second += "," + value;
        }
    }
    // https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html: 2 KB of
    // user-defined metadata, names and values in UTF-8.
    if (meta_size > 2048)
        throw s3_error("MetadataTooLarge")
            .with("Size", std::to_string(meta_size))
            .with("MaxSizeAllowed", "2048");
    for (auto h : standard_headers) {
        auto value = req.headers.get(h);
        if (!value) continue;
        std::string val(*value);
        if (h == "Content-Encoding" && core::ascii_lower(val).find("aws-chunked") != std::string::npos) {
            // Only the transfer framing goes; any other value is kept as sent.
            val = strip_aws_chunked(val);
            if (val.empty()) continue;
        }
        v.headers[std::string(h)] = val;
    }
    if (auto sc = req.headers.get("x-amz-storage-class")) v.storage_class = std::string(*sc);
    // x-amz-acl / x-amz-grant-*: whether the bucket takes them is checked before (api.cpp).
    if (auto g = request_grants(req, false)) v.acl = encode_grants(*g);
    return v;
}

Received check_received(const core::Request& req, UploadSink* sink) {
    Received got;
    std::optional<ChecksumAlgorithm> alg = requested_checksum(req);
    if (sink) {
        if (!sink->framing_error().empty())
            throw s3_error("IncompleteBody");
        got.size = sink->size();
        got.md5 = sink->md5();
        if (alg) got.checksum = std::make_pair(*alg, base64_encode(sink->checksum()));
    } else {
        got.md5 = md5_raw("");
        if (alg) {
            auto d = make_digest(*alg);
            got.checksum = std::make_pair(*alg, base64_encode(d->final()));
        }
    }
    // 5 GB: a single PUT's (and a part's) limit. The HTTP limit leaves room for
    // aws-chunked framing, so the payload itself is checked here.
    constexpr std::uint64_t max_single = 5ULL * 1024 * 1024 * 1024;
    if (got.size > max_single)
        throw s3_error("EntityTooLarge")
            .with("ProposedSize", std::to_string(got.size))
            .with("MaxSizeAllowed", std::to_string(max_single));
    if (auto decoded = req.headers.get("x-amz-decoded-content-length")) {
        if (*decoded != std::to_string(got.size))
            throw s3_error("IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header");
    }
    if (auto md5 = req.headers.get("content-md5")) {
        auto raw = base64_decode(*md5);
        if (!raw || raw->size() != 16)
            throw s3_error("InvalidDigest")
                .with("Content-MD5", std::string(*md5));
        if (*raw != got.md5)
            throw s3_error("BadDigest")
                .with("ExpectedDigest", hex_encode(*raw))
                .with("CalculatedDigest", base64_encode(got.md5));
    }
    if (got.checksum) {
        std::string header = checksum_header(got.checksum->first);
        std::optional<std::string> claimed;
        if (auto h = req.headers.get(header)) claimed = std::string(*h);
        else if (sink) {
            auto it = sink->trailers().find(header);
            if (it != sink->trailers().end()) claimed = it->second;
        }
        if (claimed) {
            auto raw = base64_decode(*claimed);
            std::size_t want = 0;
            switch (got.checksum->first) {
                case ChecksumAlgorithm::crc32:
                case ChecksumAlgorithm::crc32c: want = 4; break;
                case ChecksumAlgorithm::crc64nvme: want = 8; break;
                case ChecksumAlgorithm::sha1: want = 20; break;
                case ChecksumAlgorithm::sha256: want = 32; break;
            }
            if (!raw || raw->size() != want)
                throw s3_error("InvalidRequest", fmt::format("Value for {} header is invalid.", header));
            if (*claimed != got.checksum->second)
                throw s3_error("BadDigest", fmt::format("The {} you specified did not match the calculated checksum.",
                                                 algorithm_name(got.checksum->first)));
        }
    }
    return got;
}

VersionCommit::VersionCommit(Context& ctx, Call& call, Version version, std::string event, bool conditional,
                             const std::string* body)
    : v(std::move(version)), bucket(call.bucket), key(call.key), event_name(std::move(event)),
      request_id(call.req.request_id), remote_address(call.req.remote_address), inline_body(body) {
    v.last_modified_ms = ctx.now_ms();
    if (conditional) {
        if (auto h = call.req.headers.get("if-match")) if_match = std::string(*h);
        if (auto h = call.req.headers.get("if-none-match")) if_none_match = std::string(*h);
    }
}

void VersionCommit::run(Context& ctx, core::lmdb::WriteTxn& txn) {
    garbage.clear();
    Bucket b = require_bucket(txn, ctx, bucket);
    auto found = ctx.store.get_entry(txn, bucket, key);
    Entry e = found ? std::move(*found) : Entry{key, {}};
    const Version* cur = e.current();
    if (if_none_match && cur && etag_matches(*if_none_match, cur->etag)) throw precondition_failed("If-None-Match");
    if (if_match) {
        if (!cur) throw no_such_key(key);
        if (!etag_matches(*if_match, cur->etag)) throw precondition_failed("If-Match");
    }
    v.version_id = b.versioning == "Enabled" ? new_version_id() : "null";
    if (v.version_id == "null")
        std::erase_if(e.versions, [&](const Version& old) {
            if (old.version_id != "null") return false;
            garbage.push_back(old.file);
            return true;
        });
    if (inline_body) v.file = ctx.store.put_inline(txn, *inline_body);
    e.versions.insert(e.versions.begin(), v);
    ctx.store.put_entry(txn, bucket, e);
    ctx.store.drop_inline(txn, garbage);
    if (auto n = b.configs.find("notification"); n != b.configs.end()) {
        std::string etag = v.etag.size() >= 2 ? v.etag.substr(1, v.etag.size() - 2) : v.etag;
        ctx.events.stage(txn, n->second,
                         ObjectChange{bucket, key, event_name, v.size, etag, v.version_id == "null" ? "" : v.version_id,
                                      v.last_modified_ms, request_id, remote_address});
    }
}

void VersionCommit::committed(Context& ctx) { ctx.store.remove_files(garbage); }

void VersionCommit::failed(Context& ctx) {
    if (!inline_body) ctx.store.remove_files({v.file});
}

Version commit_version(Context& ctx, Call& call, Version v, const std::string& event_name,
                       const std::string* inline_body) {
    VersionCommit c(ctx, call, std::move(v), event_name, false, inline_body);
    try {
        ctx.store.env().write([&](core::lmdb::WriteTxn& txn) { c.run(ctx, txn); });
    } catch (...) {
        c.failed(ctx);
        throw;
    }
    c.committed(ctx);
    return std::move(c.v);
}

void check_conditions(const core::Request& req, const Version& v, bool copy_source) {
    std::string p = copy_source ? "x-amz-copy-source-" : "";
    auto im = req.headers.get(p + "if-match");
    auto inm = req.headers.get(p + "if-none-match");
    auto ims = req.headers.get(p + "if-modified-since");
    auto ius = req.headers.get(p + "if-unmodified-since");
    std::int64_t modified_s = v.last_modified_ms / 1000;
    auto name = [&](const char* h) { return copy_source ? std::string("x-amz-copy-source-") + h : std::string(h); };
    if (im && !etag_matches(*im, v.etag)) throw precondition_failed(copy_source ? name("If-Match") : "If-Match");
    if (ius && !im) {
        if (auto t = parse_http_date(*ius); t && modified_s > *t / 1000)
            throw precondition_failed(copy_source ? name("If-Unmodified-Since") : "If-Unmodified-Since");
    }
    bool not_modified = false;
    if (inm) not_modified = etag_matches(*inm, v.etag);
    else if (ims) {
        if (auto t = parse_http_date(*ims); t && modified_s <= *t / 1000) not_modified = true;
    }
    if (not_modified) {
        if (copy_source) throw precondition_failed(inm ? name("If-None-Match") : name("If-Modified-Since"));
        core::AwsError e("NotModified", "Not Modified", 304);
        e.with("ETag", v.etag);
        throw e;
    }
}

// A metadata value as S3 returns it: as stored when all US-ASCII (an RFC 2047 encoded
// word a client sent stays byte for byte), else UTF-8 bytes as one RFC 2047 encoded word,
// so that the header stays mail-safe.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html#UserMetadata
static std::string mail_safe(const std::string& value) {
    for (unsigned char c : value)
        if (c >= 0x80) return "=?UTF-8?B?" + core::base64_encode(value) + "?=";
    return value;
}

void set_object_headers(core::Response& r, const Version& v, bool checksum_mode) {
    r.headers.set("Content-Type", "binary/octet-stream");
    for (auto& [name, value] : v.headers) r.headers.set(name, value);
    for (auto& [name, value] : v.meta) r.headers.set("x-amz-meta-" + name, mail_safe(value));
    r.headers.set("ETag", v.etag);
    r.headers.set("Last-Modified", http_date(v.last_modified_ms));
    r.headers.set("Accept-Ranges", "bytes");
    r.headers.set("x-amz-server-side-encryption", "AES256");
    if (v.version_id != "null") r.headers.set("x-amz-version-id", v.version_id);
    if (!v.tags.empty()) r.headers.set("x-amz-tagging-count", std::to_string(v.tags.size()));
    if (v.storage_class != "STANDARD") r.headers.set("x-amz-storage-class", v.storage_class);
    if (checksum_mode && !v.checksum_algorithm.empty()) {
        r.headers.set(checksum_header(*parse_algorithm(v.checksum_algorithm)), v.checksum);
        r.headers.set("x-amz-checksum-type", v.checksum_type);
    }
}

void apply_response_overrides(core::Response& r, const core::Request& req) {
    static constexpr std::pair<std::string_view, std::string_view> overrides[] = {
        {"response-content-type", "Content-Type"},
        {"response-content-language", "Content-Language"},
        {"response-expires", "Expires"},
        {"response-cache-control", "Cache-Control"},
        {"response-content-disposition", "Content-Disposition"},
        {"response-content-encoding", "Content-Encoding"},
    };
    for (auto& q : req.query_params())
        for (auto& [param, header] : overrides)
            if (q.name == param) r.headers.set(std::string(header), q.value);
}

ByteRange parse_range(std::string_view header, std::uint64_t size) {
    ByteRange r;
    if (!header.starts_with("bytes=")) return r;
    std::string_view spec = header.substr(6);
    if (spec.find(',') != std::string_view::npos) return r;  // S3 serves multiple ranges as the whole object
    auto dash = spec.find('-');
    if (dash == std::string_view::npos) return r;
    auto num = [](std::string_view s) -> std::optional<std::uint64_t> {
        if (s.empty() || s.size() > 19) return std::nullopt;
        std::uint64_t n = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return std::nullopt;
            n = n * 10 + static_cast<unsigned>(c - '0');
        }
        return n;
    };
    std::string_view first = spec.substr(0, dash), second = spec.substr(dash + 1);
    auto a = num(first);
    auto b = num(second);
    // Anything but digits on either side (other than an empty side) is no range at all.
    if ((!first.empty() && !a) || (!second.empty() && !b) || (!a && !b)) return r;
    if (!a) {  // suffix: the last b bytes
        if (*b == 0) {
            r.unsatisfiable = true;
            return r;
        }
        if (size == 0) {
            r.unsatisfiable = true;
            return r;
        }
        r.valid = true;
        r.first = *b >= size ? 0 : size - *b;
        r.last = size - 1;
        return r;
    }
    if (b && *b < *a) return r;  // syntactically invalid: ignored
    if (*a >= size) {
        r.unsatisfiable = true;
        return r;
    }
    r.valid = true;
    r.first = *a;
    r.last = b ? std::min(*b, size - 1) : size - 1;
    return r;
}

void attach_body(core::Response& r, int fd, std::uint64_t offset, std::uint64_t length) {
    constexpr std::uint64_t inline_limit = 64 * 1024;
    auto file = std::make_shared<core::FileBody>(fd, offset, length);
    if (length > inline_limit) {
        r.file = std::move(file);
        return;
    }
    r.body.resize(static_cast<std::size_t>(length));
    std::size_t got = 0;
    while (got < length) {
        ssize_t n = ::pread(fd, r.body.data() + got, static_cast<std::size_t>(length) - got,
                            static_cast<off_t>(offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw std::system_error(errno ? errno : EIO, std::generic_category(), "read object file");
        got += static_cast<std::size_t>(n);
    }
}

CopySource parse_copy_source(std::string_view header) {
    CopySource s;
    std::string_view h = header;
    std::string_view query;
    if (auto q = h.find('?'); q != std::string_view::npos) {
        query = h.substr(q + 1);
        h = h.substr(0, q);
    }
    std::string decoded = core::percent_decode(h);
    std::string_view d = decoded;
    if (d.starts_with('/')) d.remove_prefix(1);
    auto slash = d.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == d.size())
        throw invalid_argument("Invalid copy source object key", "x-amz-copy-source", std::string(header));
    s.bucket = std::string(d.substr(0, slash));
    s.key = std::string(d.substr(slash + 1));
    if (query.starts_with("versionId=")) s.version_id = core::percent_decode(query.substr(10));
    return s;
}

Version load_copy_source(Context& ctx, const CopySource& src) {
    return ctx.store.env().read([&](core::lmdb::ReadTxn& txn) {
        require_bucket(txn, ctx, src.bucket);
        auto e = ctx.store.get_entry(txn, src.bucket, src.key);
        if (src.version_id) {
            if (e)
                for (auto& v : e->versions)
                    if (v.version_id == *src.version_id) {
                        if (v.delete_marker)
                            throw invalid_request("The source of a copy request may not specifically refer to a delete marker by version id.");
                        return v;
                    }
            throw s3_error("NoSuchVersion")
                .with("Key", src.key)
                .with("VersionId", *src.version_id);
        }
        if (!e || !e->current()) throw no_such_key(src.key);
        return *e->current();
    });
}

core::Response copy_object(Context& ctx, Call& call) {
    validate_key(call.key);
    CopySource src = parse_copy_source(*call.req.headers.get("x-amz-copy-source"));
    Version source = load_copy_source(ctx, src);
    check_conditions(call.req, source, true);
    std::string directive(call.req.headers.get_or("x-amz-metadata-directive", "COPY"));
    if (directive != "COPY" && directive != "REPLACE")
        throw invalid_argument("Unknown metadata directive.", "x-amz-metadata-directive", directive);
    bool same = src.bucket == call.bucket && src.key == call.key && !src.version_id;
    if (same && directive == "COPY" && !call.req.headers.has("x-amz-storage-class") &&
        !call.req.headers.has("x-amz-website-redirect-location") &&
        !call.req.headers.has("x-amz-server-side-encryption"))
        throw invalid_request(
            "This copy request is illegal because it is trying to copy an object to itself without changing the "
            "object's metadata, storage class, website redirect location or encryption attributes.");
    Version v = source;
    v.version_id = "null";
    // A copy does not take its source's ACL: private unless the request sets one.
    v.acl.clear();
    if (auto g = request_grants(call.req, false)) v.acl = encode_grants(*g);
    if (directive == "REPLACE") {
        Version fresh = version_from_headers(call.req);
        v.headers = std::move(fresh.headers);
        v.meta = std::move(fresh.meta);
        v.storage_class = fresh.storage_class;
    } else if (auto sc = call.req.headers.get("x-amz-storage-class")) {
        v.storage_class = std::string(*sc);
    }
    std::string tagging_directive(call.req.headers.get_or("x-amz-tagging-directive", "COPY"));
    if (tagging_directive == "REPLACE") {
        v.tags = parse_tagging_header(call.req.headers.get_or("x-amz-tagging", ""));
        validate_tags(v.tags, true);
    }
    // A small source stored inline is copied; files never change once written, so a copy
    // of one is a second link to the same bytes.
    std::optional<std::string> inline_copy;
    if (Store::is_inline(source.file)) {
        inline_copy = ctx.store.read_body(source, Store::inline_max);
        if (!inline_copy) throw no_such_key(src.key);  // deleted meanwhile
        v.file.clear();
    } else if (!source.file.empty()) {
        std::string id = Store::new_file_id();
        std::string target = ctx.store.file_path(id);
        if (::link(ctx.store.file_path(source.file).c_str(), target.c_str()) != 0) {
            if (errno == ENOENT) {
                std::filesystem::create_directories(std::filesystem::path(target).parent_path());
                if (::link(ctx.store.file_path(source.file).c_str(), target.c_str()) != 0)
                    throw no_such_key(src.key);  // deleted meanwhile
            } else {
                throw std::system_error(errno, std::generic_category(), "link object file");
            }
        }
        v.file = id;
    }
    // The copy's checksum: the source's when it is a full-object one of the algorithm asked
    // for (x-amz-checksum-algorithm, else the source's own); computed over the bytes when
    // another algorithm is asked for, and the CRC64NVME S3 adds when the source has none
    // (S3 User Guide, "Checking object integrity"). A composite checksum of a multipart
    // source stays as it is unless another algorithm is asked for.
    std::optional<ChecksumAlgorithm> want;
    if (auto a = call.req.headers.get("x-amz-checksum-algorithm")) {
        want = parse_algorithm(*a);
        if (!want)
            throw s3_error("InvalidRequest", "Checksum algorithm provided is unsupported. Please try again with any of the valid "
                                 "types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
        if (source.checksum_algorithm == algorithm_name(*want)) want.reset();
    } else if (source.checksum_algorithm.empty()) {
        want = ChecksumAlgorithm::crc64nvme;
    }
    if (want) {
        auto d = make_digest(*want);
        if (inline_copy) {
            d->update(*inline_copy);
        } else if (!v.file.empty()) {
            int fd = ::open(ctx.store.file_path(v.file).c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) throw std::system_error(errno, std::generic_category(), "open object file");
            std::vector<char> buf(1 << 20);
            for (;;) {
                ssize_t n = ::read(fd, buf.data(), buf.size());
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) {
                    int e = errno;
                    ::close(fd);
                    throw std::system_error(e, std::generic_category(), "read object file");
                }
                if (n == 0) break;
                d->update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
            }
            ::close(fd);
        }
        v.checksum_algorithm = std::string(algorithm_name(*want));
        v.checksum = base64_encode(d->final());
        v.checksum_type = "FULL_OBJECT";
    }
    Version stored =
        commit_version(ctx, call, std::move(v), "ObjectCreated:Copy", inline_copy ? &*inline_copy : nullptr);
    XmlWriter w("CopyObjectResult");
    w.leaf("ETag", stored.etag).leaf("LastModified", iso8601(stored.last_modified_ms));
    if (!stored.checksum_algorithm.empty()) {
        w.leaf("ChecksumType", stored.checksum_type);
        w.leaf("Checksum" + stored.checksum_algorithm, stored.checksum);
    }
    auto r = xml_response(w.finish());
    if (stored.version_id != "null") r.headers.set("x-amz-version-id", stored.version_id);
    if (source.version_id != "null") r.headers.set("x-amz-copy-source-version-id", source.version_id);
    r.headers.set("x-amz-server-side-encryption", "AES256");
    return r;
}

}  // namespace stratus::s3

// Multipart uploads: Create, UploadPart (and UploadPartCopy), Complete, Abort, ListParts,
// ListMultipartUploads. Parts are files like objects; Complete joins them into one new
// object file (copy_file_range, so the kernel moves the bytes) and drops the parts.
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <system_error>
#include <vector>

#include "core/file_sink.hpp"
#include "core/protocol.hpp"
#include "s3/errors.hpp"
#include "s3/object_common.hpp"
#include "s3/ops.hpp"
#include "s3/xml.hpp"

namespace stratus::s3 {

namespace {

constexpr std::uint64_t min_part_size = 5 * 1024 * 1024;

core::AwsError no_such_upload(std::string_view id) {
    return s3_error("NoSuchUpload")
        .with("UploadId", std::string(id));
}

int part_number(Call& call) {
    auto pn = call.req.query_param("partNumber").value_or("");
    int n = 0;
    try {
        std::size_t used = 0;
        n = std::stoi(pn, &used);
        if (used != pn.size()) n = 0;
    } catch (...) {
        n = 0;
    }
    if (n < 1 || n > 10000)
        throw invalid_argument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", pn);
    return n;
}

Upload require_upload(const core::lmdb::Txn& txn, Context& ctx, Call& call, const std::string& id) {
    require_bucket(txn, ctx, call.bucket);
    auto u = ctx.store.get_upload(txn, id);
    if (!u || u->bucket != call.bucket || u->key != call.key) throw no_such_upload(id);
    return std::move(*u);
}

// Copies the first `length` bytes of `from` to the end of `to_fd`, through `digest`.
void copy_hashing(int from_fd, std::uint64_t length, int to_fd, Digest& digest) {
    std::vector<char> buf(1 << 20);
    off_t in_off = 0;
    while (length > 0) {
        ssize_t r = ::pread(from_fd, buf.data(), static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), length)), in_off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) throw std::system_error(errno, std::generic_category(), "read part");
        if (r == 0) throw std::runtime_error("part file shorter than recorded");
        digest.update(std::string_view(buf.data(), static_cast<std::size_t>(r)));
        for (ssize_t done = 0; done < r;) {
            ssize_t w = ::write(to_fd, buf.data() + done, static_cast<std::size_t>(r - done));
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) throw std::system_error(errno, std::generic_category(), "write object");
            done += w;
        }
        in_off += r;
        length -= static_cast<std::uint64_t>(r);
    }
}

// Copies [offset, offset+length) of `from` to the end of `to_fd`.
void copy_range(int from_fd, std::uint64_t offset, std::uint64_t length, int to_fd) {
    off_t in_off = static_cast<off_t>(offset);
    while (length > 0) {
        ssize_t n = ::copy_file_range(from_fd, &in_off, to_fd, nullptr, static_cast<std::size_t>(std::min<std::uint64_t>(length, 1 << 30)), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EXDEV || errno == ENOSYS || errno == EINVAL) {
                // Fallback: plain read / write.
                char buf[1 << 16];
                while (length > 0) {
                    ssize_t r = ::pread(from_fd, buf, static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buf, length)), in_off);
                    if (r <= 0) throw std::system_error(errno, std::generic_category(), "read part");
                    for (ssize_t done = 0; done < r;) {
                        ssize_t w = ::write(to_fd, buf + done, static_cast<std::size_t>(r - done));
                        if (w < 0) throw std::system_error(errno, std::generic_category(), "write object");
                        done += w;
                    }
                    in_off += r;
                    length -= static_cast<std::uint64_t>(r);
                }
                return;
            }
            throw std::system_error(errno, std::generic_category(), "copy_file_range");
        }
        if (n == 0) throw std::runtime_error("part file shorter than recorded");
        length -= static_cast<std::uint64_t>(n);
    }
}

// CompleteMultipartUpload's answer, from what the completion stored (s3_completed), so
// that a repeated request gets the same answer.
core::Response completed_response(const nlohmann::json& j) {
    XmlWriter w("CompleteMultipartUploadResult");
    std::string bucket = j.at("b").get<std::string>(), key = j.at("k").get<std::string>();
    w.leaf("Location", fmt::format("http://{}.s3.localhost/{}", bucket, core::uri_encode(key, false)));
    w.leaf("Bucket", bucket).leaf("Key", key).leaf("ETag", j.at("e").get<std::string>());
    if (auto a = j.value("ca", ""); !a.empty()) {
        w.leaf("Checksum" + a, j.value("c", ""));
        w.leaf("ChecksumType", j.value("ct", ""));
    }
    auto r = xml_response(w.finish());
    if (auto vid = j.value("v", "null"); vid != "null") r.headers.set("x-amz-version-id", vid);
    r.headers.set("x-amz-server-side-encryption", "AES256");
    return r;
}

// The stored answer of an upload completed already for this bucket and key, if any.
std::optional<core::Response> completed_before(Context& ctx, Call& call, const std::string& id) {
    auto done = ctx.store.env().read([&](core::lmdb::ReadTxn& txn) {
        require_bucket(txn, ctx, call.bucket);
        return ctx.store.get_completed(txn, id);
    });
    if (!done) return std::nullopt;
    auto j = nlohmann::json::parse(*done, nullptr, false);
    if (j.is_discarded() || j.value("b", "") != call.bucket || j.value("k", "") != call.key) return std::nullopt;
    return completed_response(j);
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

core::Response create_multipart_upload(Context& ctx, Call& call) {
    validate_key(call.key);
    Upload u;
    u.id = new_upload_id();
    u.bucket = call.bucket;
    u.key = call.key;
    u.initiated_ms = ctx.now_ms();
    u.prototype = version_from_headers(call.req);
    if (auto a = requested_checksum(call.req)) {
        u.prototype.checksum_algorithm = std::string(algorithm_name(*a));
        u.prototype.checksum_type = std::string(call.req.headers.get_or("x-amz-checksum-type", "COMPOSITE"));
    }
    if (auto t = call.req.headers.get("x-amz-tagging")) {
        u.prototype.tags = parse_tagging_header(*t);
        validate_tags(u.prototype.tags, true);
    }
    ctx.store.env().write([&](core::lmdb::WriteTxn& txn) {
        require_bucket(txn, ctx, call.bucket);
        ctx.store.put_upload(txn, u);
    });
    XmlWriter w("InitiateMultipartUploadResult");
    w.leaf("Bucket", call.bucket).leaf("Key", call.key).leaf("UploadId", u.id);
    auto r = xml_response(w.finish());
    if (!u.prototype.checksum_algorithm.empty()) {
        r.headers.set("x-amz-checksum-algorithm", u.prototype.checksum_algorithm);
        r.headers.set("x-amz-checksum-type", u.prototype.checksum_type);
    }
    r.headers.set("x-amz-server-side-encryption", "AES256");
    return r;
}

core::Response upload_part(Context& ctx, Call& call) {
    std::string id = call.req.query_param("uploadId").value_or("");
    int n = part_number(call);
    Upload u = ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { return require_upload(txn, ctx, call, id); });
    Part part;
    part.number = n;
    std::string spool_path;
    core::Response r;
    if (auto source_header = call.req.headers.get("x-amz-copy-source")) {
        // UploadPartCopy.
        CopySource src = parse_copy_source(*source_header);
        Version source = load_copy_source(ctx, src);
        check_conditions(call.req, source, true);
        std::uint64_t offset = 0, length = source.size;
        if (auto range = call.req.headers.get("x-amz-copy-source-range")) {
            auto rg = parse_range(*range, source.size);
            if ((!rg.valid && !rg.unsatisfiable) || range->find('-') == 6 || range->ends_with('-'))
                throw invalid_argument("The x-amz-copy-source-range value must be of the form bytes=first-last where "
                                       "first and last are the zero-based offsets of the first and last bytes to copy",
                                       "x-amz-copy-source-range", std::string(*range));
            // A range reaching past the source's end is refused, not cut short (unlike
            // GetObject's Range).
            std::uint64_t last = std::stoull(std::string(range->substr(range->find('-') + 1)));
            if (rg.unsatisfiable || last >= source.size)
                throw invalid_argument(fmt::format("Range specified is not valid for source object of size: {}",
                                                   source.size),
                                       "x-amz-copy-source-range", std::string(*range));
            offset = rg.first;
            length = rg.last - rg.first + 1;
        }
        std::string tmpl = ctx.store.spool_dir() + "/part-XXXXXX";
        Fd out{::mkostemp(tmpl.data(), O_CLOEXEC)};
        if (out.fd < 0) throw std::system_error(errno, std::generic_category(), "create part file");
        spool_path = tmpl;
        try {
            if (length > 0 && Store::is_inline(source.file)) {
                auto body = ctx.store.read_body(source, Store::inline_max);
                if (!body) throw no_such_key(src.key);  // deleted meanwhile
                core::write_all(out.fd,
                          std::string_view(*body).substr(static_cast<std::size_t>(offset),
                                                         static_cast<std::size_t>(length)),
                          spool_path);
            } else if (length > 0) {
                Fd in{::open(ctx.store.file_path(source.file).c_str(), O_RDONLY | O_CLOEXEC)};
                if (in.fd < 0) throw no_such_key(src.key);
                copy_range(in.fd, offset, length, out.fd);
            }
            // The part's MD5, read back from the copy.
            auto md5 = make_md5();
            char buf[1 << 16];
            off_t pos = 0;
            for (;;) {
                ssize_t got = ::pread(out.fd, buf, sizeof buf, pos);
                if (got < 0) throw std::system_error(errno, std::generic_category(), "read part");
                if (got == 0) break;
                md5->update(std::string_view(buf, static_cast<std::size_t>(got)));
                pos += got;
            }
            part.md5 = hex_encode(md5->final());
            part.size = length;
        } catch (...) {
            ::unlink(spool_path.c_str());
            throw;
        }
        part.etag = "\"" + part.md5 + "\"";
        part.last_modified_ms = ctx.now_ms();
        XmlWriter w("CopyPartResult");
        w.leaf("ETag", part.etag).leaf("LastModified", iso8601(part.last_modified_ms));
        r = xml_response(w.finish());
        if (source.version_id != "null") r.headers.set("x-amz-copy-source-version-id", source.version_id);
    } else {
        auto* sink = dynamic_cast<UploadSink*>(call.req.body_sink.get());
        Received got = check_received(call.req, sink);
        part.size = got.size;
        part.md5 = hex_encode(got.md5);
        part.etag = "\"" + part.md5 + "\"";
        part.last_modified_ms = ctx.now_ms();
        if (got.checksum) part.checksum = got.checksum->second;
        if (sink) spool_path = sink->release();
        r = empty_response();
        r.headers.set("ETag", part.etag);
        if (got.checksum) r.headers.set(checksum_header(got.checksum->first), got.checksum->second);
    }
    if (spool_path.empty()) {
        // An empty part: still a file, so Complete treats every part alike.
        std::string tmpl = ctx.store.spool_dir() + "/part-XXXXXX";
        Fd out{::mkostemp(tmpl.data(), O_CLOEXEC)};
        if (out.fd < 0) throw std::system_error(errno, std::generic_category(), "create part file");
        spool_path = tmpl;
    }
    part.file = ctx.store.adopt(spool_path);
    std::string replaced;
    try {
        ctx.store.env().write([&](core::lmdb::WriteTxn& txn) {
            Upload cur = require_upload(txn, ctx, call, id);
            auto it = cur.parts.find(n);
            replaced = it == cur.parts.end() ? "" : it->second.file;
            cur.parts[n] = part;
            ctx.store.put_upload(txn, cur);
        });
    } catch (...) {
        ctx.store.remove_files({part.file});
        throw;
    }
    ctx.store.remove_files({replaced});
    r.headers.set("x-amz-server-side-encryption", "AES256");
    return r;
}

core::Response complete_multipart_upload(Context& ctx, Call& call) {
    std::string id = call.req.query_param("uploadId").value_or("");
    std::string body = body_of(call.req);
    auto doc = parse_xml(body);
    if (!doc || doc->name != "CompleteMultipartUpload") throw malformed_xml();
    auto listed = doc->all("Part");
    if (listed.empty())
        throw s3_error("MalformedXML");
    // A completed upload asked again: 200 with the first answer, as S3 does (an SDK that
    // retries a completion whose answer it lost must not fail).
    if (auto again = completed_before(ctx, call, id)) return std::move(*again);
    Upload u = ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { return require_upload(txn, ctx, call, id); });
    std::vector<const Part*> chosen;
    int previous = 0;
    for (auto* p : listed) {
        auto num = p->child_text("PartNumber");
        auto etag = p->child_text("ETag");
        if (!num || !etag) throw malformed_xml();
        int n = 0;
        try {
            n = std::stoi(*num);
        } catch (...) {
            throw malformed_xml();
        }
        if (n <= previous)
            throw s3_error("InvalidPartOrder")
                .with("UploadId", id);
        previous = n;
        auto it = u.parts.find(n);
        std::string want = etag->starts_with('"') ? *etag : "\"" + *etag + "\"";
        if (it == u.parts.end() || it->second.etag != want)
            throw s3_error("InvalidPart")
                .with("UploadId", id)
                .with("PartNumber", std::to_string(n))
                .with("ETag", *etag);
        chosen.push_back(&it->second);
    }
    for (std::size_t i = 0; i + 1 < chosen.size(); ++i)
        if (chosen[i]->size < min_part_size)
            throw s3_error("EntityTooSmall")
                .with("ProposedSize", std::to_string(chosen[i]->size))
                .with("MinSizeAllowed", std::to_string(min_part_size))
                .with("PartNumber", std::to_string(chosen[i]->number))
                .with("ETag", chosen[i]->etag);

    // A full-object checksum is taken as the parts are joined: the CRC64NVME S3 gives an
    // upload created without a checksum algorithm (since 2025: "Checking object integrity"
    // in the S3 User Guide), or the requested algorithm for ChecksumType FULL_OBJECT.
    std::unique_ptr<Digest> whole;
    std::string whole_algorithm;
    if (u.prototype.checksum_algorithm.empty()) whole_algorithm = "CRC64NVME";
    else if (u.prototype.checksum_type == "FULL_OBJECT") whole_algorithm = u.prototype.checksum_algorithm;
    if (!whole_algorithm.empty())
        if (auto a = parse_algorithm(whole_algorithm)) whole = make_digest(*a);

    // Join the parts into one new file.
    std::string tmpl = ctx.store.spool_dir() + "/complete-XXXXXX";
    std::uint64_t total = 0;
    std::string md5s;
    std::string checksums;
    {
        Fd out{::mkostemp(tmpl.data(), O_CLOEXEC)};
        if (out.fd < 0) throw std::system_error(errno, std::generic_category(), "create object file");
        try {
            for (auto* p : chosen) {
                Fd in{::open(ctx.store.file_path(p->file).c_str(), O_RDONLY | O_CLOEXEC)};
                if (in.fd < 0) throw std::system_error(errno, std::generic_category(), "open part file");
                if (whole) copy_hashing(in.fd, p->size, out.fd, *whole);
                else copy_range(in.fd, 0, p->size, out.fd);
                total += p->size;
                std::string raw;
                for (std::size_t i = 0; i + 1 < p->md5.size(); i += 2)
                    raw += static_cast<char>(std::stoi(p->md5.substr(i, 2), nullptr, 16));
                md5s += raw;
                if (auto c = base64_decode(p->checksum)) checksums += *c;
            }
            if (ctx.store.fsync() && ::fsync(out.fd) != 0)
                throw std::system_error(errno, std::generic_category(), "fsync object file");
        } catch (...) {
            ::unlink(tmpl.c_str());
            throw;
        }
    }
    Version v = u.prototype;
    v.size = total;
    v.etag = fmt::format("\"{}-{}\"", hex_encode(md5_raw(md5s)), chosen.size());
    for (auto* p : chosen) v.part_sizes.push_back(p->size);
    if (whole) {
        v.checksum_algorithm = whole_algorithm;
        v.checksum = base64_encode(whole->final());
        v.checksum_type = "FULL_OBJECT";
    } else if (!v.checksum_algorithm.empty()) {
        bool all = true;
        for (auto* p : chosen) all = all && !p->checksum.empty();
        if (all) {
            auto d = make_digest(*parse_algorithm(v.checksum_algorithm));
            d->update(checksums);
            v.checksum = base64_encode(d->final()) + "-" + std::to_string(chosen.size());
            v.checksum_type = "COMPOSITE";
        } else {
            v.checksum_algorithm.clear();
        }
    }
    v.file = total > 0 ? ctx.store.adopt(tmpl) : "";
    if (total == 0) ::unlink(tmpl.c_str());
    // The upload must still exist when the object is recorded: the check, the removal of
    // the upload and the record of its result happen in the object's commit.
    std::vector<std::string> part_files;
    bool gone = false;
    VersionCommit commit(ctx, call, std::move(v), "ObjectCreated:CompleteMultipartUpload", false, nullptr);
    try {
        ctx.store.env().write([&](core::lmdb::WriteTxn& txn) {
            auto current = ctx.store.get_upload(txn, id);
            gone = !current;
            part_files.clear();
            if (!current) return;
            for (auto& [n, p] : current->parts) part_files.push_back(p.file);
            ctx.store.delete_upload(txn, id);
            commit.run(ctx, txn);
            const Version& st = commit.v;
            nlohmann::json result = {{"b", call.bucket}, {"k", call.key}, {"e", st.etag}, {"v", st.version_id}};
            if (!st.checksum_algorithm.empty()) {
                result["ca"] = st.checksum_algorithm;
                result["c"] = st.checksum;
                result["ct"] = st.checksum_type;
            }
            ctx.store.put_completed(txn, id, result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                                    ctx.now_ms());
        });
    } catch (...) {
        commit.failed(ctx);
        throw;
    }
    if (gone) {
        commit.failed(ctx);
        // Completed meanwhile by a concurrent request: its answer.
        if (auto again = completed_before(ctx, call, id)) return std::move(*again);
        throw no_such_upload(id);
    }
    commit.committed(ctx);
    ctx.store.remove_files(part_files);
    auto again = completed_before(ctx, call, id);
    if (!again) throw std::runtime_error("s3: completed upload " + id + " not recorded");
    return std::move(*again);
}

core::Response abort_multipart_upload(Context& ctx, Call& call) {
    std::string id = call.req.query_param("uploadId").value_or("");
    std::vector<std::string> files;
    ctx.store.env().write([&](core::lmdb::WriteTxn& txn) {
        files.clear();
        Upload u = require_upload(txn, ctx, call, id);
        for (auto& [n, p] : u.parts) files.push_back(p.file);
        ctx.store.delete_upload(txn, id);
    });
    ctx.store.remove_files(files);
    return empty_response(204);
}

core::Response list_parts(Context& ctx, Call& call) {
    std::string id = call.req.query_param("uploadId").value_or("");
    Upload u = ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { return require_upload(txn, ctx, call, id); });
    int max_parts = 1000;
    if (auto m = call.req.query_param("max-parts")) {
        try {
            max_parts = std::clamp(std::stoi(*m), 0, 1000);
        } catch (...) {
            throw invalid_argument("Provided max-parts not an integer or within integer range", "max-parts", *m);
        }
    }
    int marker = 0;
    if (auto m = call.req.query_param("part-number-marker")) {
        try {
            marker = std::stoi(*m);
        } catch (...) {
            throw invalid_argument("Provided part-number-marker not an integer or within integer range",
                                   "part-number-marker", *m);
        }
    }
    XmlWriter w("ListPartsResult");
    w.leaf("Bucket", call.bucket).leaf("Key", call.key).leaf("UploadId", id);
    w.leaf("PartNumberMarker", std::to_string(marker));
    std::string parts;
    int count = 0, last = marker;
    bool truncated = false;
    XmlWriter items("x", false);
    for (auto& [n, p] : u.parts) {
        if (n <= marker) continue;
        if (count >= max_parts) {
            truncated = true;
            break;
        }
        items.open("Part")
            .leaf("PartNumber", std::to_string(n))
            .leaf("LastModified", iso8601(p.last_modified_ms))
            .leaf("ETag", p.etag)
            .leaf("Size", std::to_string(p.size));
        if (!p.checksum.empty() && !u.prototype.checksum_algorithm.empty())
            items.leaf("Checksum" + u.prototype.checksum_algorithm, p.checksum);
        items.close();
        ++count;
        last = n;
    }
    w.leaf("NextPartNumberMarker", std::to_string(last));
    w.leaf("MaxParts", std::to_string(max_parts));
    w.leaf("IsTruncated", truncated ? "true" : "false");
    w.open("Initiator").leaf("ID", owner_id).leaf("DisplayName", owner_name).close();
    w.open("Owner").leaf("ID", owner_id).leaf("DisplayName", owner_name).close();
    w.leaf("StorageClass", u.prototype.storage_class);
    if (!u.prototype.checksum_algorithm.empty()) {
        w.leaf("ChecksumAlgorithm", u.prototype.checksum_algorithm);
        w.leaf("ChecksumType", u.prototype.checksum_type);
    }
    std::string doc = w.finish();
    std::string inner = items.finish();
    auto open = inner.find("<x>");
    inner = inner.substr(open + 3, inner.size() - open - 3 - 4);
    doc.insert(doc.size() - std::string_view("</ListPartsResult>").size(), inner);
    return xml_response(std::move(doc));
}

core::Response list_multipart_uploads(Context& ctx, Call& call) {
    auto uploads = ctx.store.env().read([&](core::lmdb::ReadTxn& txn) {
        require_bucket(txn, ctx, call.bucket);
        return ctx.store.list_uploads(txn, call.bucket);
    });
    std::string prefix = call.req.query_param("prefix").value_or("");
    std::string delimiter = call.req.query_param("delimiter").value_or("");
    std::string key_marker = call.req.query_param("key-marker").value_or("");
    std::string id_marker = call.req.query_param("upload-id-marker").value_or("");
    int max = 1000;
    if (auto m = call.req.query_param("max-uploads")) {
        try {
            max = std::clamp(std::stoi(*m), 0, 1000);
        } catch (...) {
            throw invalid_argument("Provided max-uploads not an integer or within integer range", "max-uploads", *m);
        }
    }
    XmlWriter items("x", false);
    std::vector<std::string> prefixes;
    int count = 0;
    bool truncated = false;
    std::string next_key, next_id;
    for (auto& u : uploads) {
        if (!u.key.starts_with(prefix)) continue;
        if (!key_marker.empty()) {
            if (u.key < key_marker) continue;
            if (u.key == key_marker && (id_marker.empty() || u.id <= id_marker)) continue;
        }
        if (!delimiter.empty()) {
            auto pos = u.key.find(delimiter, prefix.size());
            if (pos != std::string::npos) {
                std::string cp = u.key.substr(0, pos + delimiter.size());
                if (!prefixes.empty() && prefixes.back() == cp) continue;
                if (count >= max) {
                    truncated = true;
                    break;
                }
                prefixes.push_back(cp);
                ++count;
                continue;
            }
        }
        if (count >= max) {
            truncated = true;
            break;
        }
        items.open("Upload").leaf("Key", u.key).leaf("UploadId", u.id);
        items.open("Initiator").leaf("ID", owner_id).leaf("DisplayName", owner_name).close();
        items.open("Owner").leaf("ID", owner_id).leaf("DisplayName", owner_name).close();
        items.leaf("StorageClass", u.prototype.storage_class).leaf("Initiated", iso8601(u.initiated_ms));
        if (!u.prototype.checksum_algorithm.empty()) items.leaf("ChecksumAlgorithm", u.prototype.checksum_algorithm);
        items.close();
        ++count;
        next_key = u.key;
        next_id = u.id;
    }
    XmlWriter w("ListMultipartUploadsResult");
    w.leaf("Bucket", call.bucket).leaf("KeyMarker", key_marker).leaf("UploadIdMarker", id_marker);
    w.leaf("NextKeyMarker", next_key).leaf("NextUploadIdMarker", next_id);
    if (!delimiter.empty()) w.leaf("Delimiter", delimiter);
    w.leaf("Prefix", prefix);
    w.leaf("MaxUploads", std::to_string(max)).leaf("IsTruncated", truncated ? "true" : "false");
    std::string doc = w.finish();
    std::string inner = items.finish();
    auto open = inner.find("<x>");
    inner = inner.substr(open + 3, inner.size() - open - 3 - 4);
    for (auto& p : prefixes) inner += "<CommonPrefixes><Prefix>" + core::xml_escape(p) + "</Prefix></CommonPrefixes>";
    doc.insert(doc.size() - std::string_view("</ListMultipartUploadsResult>").size(), inner);
    return xml_response(std::move(doc));
}

}  // namespace stratus::s3

// Object calls: PutObject (and CopyObject), GetObject / HeadObject, DeleteObject(s),
// object tagging and ACL.
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <system_error>

#include "core/log.hpp"
#include "s3/access.hpp"
#include "s3/errors.hpp"
#include "s3/object_common.hpp"
#include "s3/ops.hpp"
#include "s3/upload.hpp"
#include "s3/xml.hpp"

namespace stratus::s3 {

namespace {

std::optional<std::string> find_version_id(Call& call) {
    auto v = call.req.query_param("versionId");
    if (!v) return std::nullopt;
    if (v->empty()) throw invalid_argument("Version id cannot be the empty string", "versionId", "");
    return v;
}

struct Located {
    Bucket bucket;
    Entry entry;
    const Version* version = nullptr;
};

// The version a GET / HEAD / tagging call addresses, or the AWS error for it.
Located locate(const core::lmdb::Txn& txn, Context& ctx, Call& call, bool allow_delete_marker = false) {
    Located l{require_bucket(txn, ctx, call.bucket), {}, nullptr};
    auto version_id = find_version_id(call);
    auto e = ctx.store.get_entry(txn, call.bucket, call.key);
    if (e) l.entry = std::move(*e);
    if (version_id) {
        for (auto& v : l.entry.versions)
            if (v.version_id == *version_id) l.version = &v;
        if (!l.version) {
            if (*version_id != "null" && version_id->size() != 32)
                throw invalid_argument("Invalid version id specified", "versionId", *version_id);
            throw s3_error("NoSuchVersion")
                .with("Key", call.key)
                .with("VersionId", *version_id);
        }
        if (l.version->delete_marker && !allow_delete_marker) {
            core::AwsError err("MethodNotAllowed", "The specified method is not allowed against this resource.", 405);
            err.with("Method", call.req.method).with("ResourceType", "DeleteMarker");
            err.with_header("x-amz-delete-marker", "true").with_header("x-amz-version-id", l.version->version_id);
            err.with_header("Last-Modified", http_date(l.version->last_modified_ms));
            throw err;
        }
        return l;
    }
    if (l.entry.versions.empty()) throw no_such_key(call.key);
    l.version = &l.entry.versions.front();
    if (l.version->delete_marker && !allow_delete_marker) {
        // The key's newest version is a delete marker: S3 says so in the headers.
        auto err = no_such_key(call.key);
        err.with_header("x-amz-delete-marker", "true").with_header("x-amz-version-id", l.version->version_id);
        throw err;
    }
    return l;
}

}  // namespace

PreparedPut prepare_put(Context& ctx, Call& call) {
    validate_key(call.key);
    PreparedPut p;
    Version& v = p.v;
    v = version_from_headers(call.req);
    auto* sink = dynamic_cast<UploadSink*>(call.req.body_sink.get());
    Received got = check_received(call.req, sink);
    v.size = got.size;
    v.etag = "\"" + hex_encode(got.md5) + "\"";
    if (got.checksum) {
        v.checksum_algorithm = std::string(algorithm_name(got.checksum->first));
        v.checksum = got.checksum->second;
        v.checksum_type = "FULL_OBJECT";
    } else if (!sink || !sink->checksum().empty()) {
        // No checksum sent: the full-object CRC64NVME S3 adds (since 2025), which the sink
        // took on the way in (body_policy asks it to).
        // https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
        v.checksum_algorithm = "CRC64NVME";
        v.checksum_type = "FULL_OBJECT";
        if (sink) {
            v.checksum = base64_encode(sink->checksum());
        } else {
            auto d = make_digest(ChecksumAlgorithm::crc64nvme);
            d->update(call.req.body);
            v.checksum = base64_encode(d->final());
        }
    }
    if (auto t = call.req.headers.get("x-amz-tagging")) {
        v.tags = parse_tagging_header(*t);
        validate_tags(v.tags, true);
    }
    if (!sink || got.size == 0) return p;
    if (sink->in_memory()) {
        p.inline_body = &sink->memory();
        return p;
    }
    // The bucket must exist before the body is adopted.
    ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { require_bucket(txn, ctx, call.bucket); });
    v.file = ctx.store.adopt(sink->release());
    return p;
}

core::Response put_response(const Version& stored) {
    auto r = empty_response();
    r.headers.set("ETag", stored.etag);
    if (stored.version_id != "null") r.headers.set("x-amz-version-id", stored.version_id);
    if (!stored.checksum_algorithm.empty()) {
        r.headers.set(checksum_header(*parse_algorithm(stored.checksum_algorithm)), stored.checksum);
        r.headers.set("x-amz-checksum-type", stored.checksum_type);
    }
    r.headers.set("x-amz-server-side-encryption", "AES256");
    return r;
}

core::Response get_object(Context& ctx, Call& call) {
    bool head = call.req.method == "HEAD";
    std::optional<Located> l;
    int fd = -1;
    std::string inline_body;
    ctx.store.env().read([&](core::lmdb::ReadTxn& txn) {
        l = locate(txn, ctx, call);
        // Opened (or copied) inside the snapshot: an overwrite or delete that commits now
        // cannot take the bytes away (the descriptor keeps the file).
        if (head || l->version->file.empty()) return;
        if (Store::is_inline(l->version->file)) {
            auto b = ctx.store.inline_body(txn, l->version->file);
            if (!b) throw std::runtime_error("s3: inline body " + l->version->file + " missing");
            inline_body.assign(*b);
        } else {
            fd = ::open(ctx.store.file_path(l->version->file).c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) throw std::system_error(errno, std::generic_category(), "open object file");
        }
    });
    auto file = std::make_shared<core::FileBody>(fd, 0, 0);
    const Version& v = *l->version;
    check_conditions(call.req, v, false);

    core::Response r;
    set_object_headers(r, v, call.req.headers.get_or("x-amz-checksum-mode", "") == "ENABLED");
    std::uint64_t offset = 0, length = v.size;
    bool partial = false;
    if (auto pn = call.req.query_param("partNumber")) {
        int n = 0;
        try {
            n = std::stoi(*pn);
        } catch (...) {
            throw invalid_argument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", *pn);
        }
        if (n < 1 || n > 10000)
            throw invalid_argument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", *pn);
        std::size_t parts = v.part_sizes.empty() ? 1 : v.part_sizes.size();
        if (static_cast<std::size_t>(n) > parts)
            throw s3_error("InvalidPartNumber")
                .with("PartNumberRequested", *pn)
                .with("ActualPartCount", std::to_string(parts));
        if (!v.part_sizes.empty()) {
            for (int i = 0; i < n - 1; ++i) offset += v.part_sizes[static_cast<std::size_t>(i)];
            length = v.part_sizes[static_cast<std::size_t>(n - 1)];
            partial = true;
            r.headers.set("x-amz-mp-parts-count", std::to_string(parts));
        }
    } else if (auto range = call.req.headers.get("range")) {
        auto rg = parse_range(*range, v.size);
        if (rg.unsatisfiable)
            throw s3_error("InvalidRange")
                .with("RangeRequested", std::string(*range))
                .with("ActualObjectSize", std::to_string(v.size))
                .with_header("Content-Range", fmt::format("bytes */{}", v.size));
        if (rg.valid) {
            offset = rg.first;
            length = rg.last - rg.first + 1;
            partial = true;
        }
    }
    if (partial) {
        r.status = 206;
        r.headers.set("Content-Range", fmt::format("bytes {}-{}/{}", offset, offset + length - 1, v.size));
        // Checksums describe the whole object, not a range.
        for (auto a : {"x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
                       "x-amz-checksum-sha1", "x-amz-checksum-sha256", "x-amz-checksum-type"})
            r.headers.erase(a);
    }
    apply_response_overrides(r, call.req);
    r.headers.set("Content-Length", std::to_string(length));
    if (length > 0 && fd >= 0) {
        file->fd = -1;  // attach_body owns the descriptor now
        attach_body(r, fd, offset, length);
    } else if (length > 0 && !head) {
        r.body = offset == 0 && length == inline_body.size()
                     ? std::move(inline_body)
                     : inline_body.substr(static_cast<std::size_t>(offset), static_cast<std::size_t>(length));
    }
    r.operation = head ? "HeadObject" : "GetObject";
    return r;
}

core::Response delete_object(Context& ctx, Call& call) {
    auto version_id = find_version_id(call);
    std::vector<std::string> garbage;
    core::Response r = empty_response(204);
    std::optional<ObjectChange> change;
    ctx.store.env().write([&](core::lmdb::WriteTxn& txn) {
        garbage.clear();
        r.headers = {};
        change.reset();
        Bucket b = require_bucket(txn, ctx, call.bucket);
        auto found = ctx.store.get_entry(txn, call.bucket, call.key);
        Entry e = found ? std::move(*found) : Entry{call.key, {}};
        if (version_id) {
            for (auto it = e.versions.begin(); it != e.versions.end(); ++it) {
                if (it->version_id != *version_id) continue;
                if (it->delete_marker) r.headers.set("x-amz-delete-marker", "true");
                garbage.push_back(it->file);
                e.versions.erase(it);
                ctx.store.put_entry(txn, call.bucket, e);
                change = ObjectChange{call.bucket, call.key, "ObjectRemoved:Delete", 0, "", *version_id, ctx.now_ms(),
                                      call.req.request_id, call.req.remote_address};
                break;
            }
            r.headers.set("x-amz-version-id", *version_id);
        } else if (b.versioning.empty()) {
            for (auto& v : e.versions) garbage.push_back(v.file);
            if (!e.versions.empty()) {
                e.versions.clear();
                ctx.store.put_entry(txn, call.bucket, e);
            }
            change = ObjectChange{call.bucket, call.key, "ObjectRemoved:Delete", 0, "", "", ctx.now_ms(),
                                  call.req.request_id, call.req.remote_address};
        } else {
            Version marker;
            marker.delete_marker = true;
            marker.last_modified_ms = ctx.now_ms();
            marker.version_id = b.versioning == "Enabled" ? new_version_id() : "null";
            if (marker.version_id == "null")
                std::erase_if(e.versions, [&](const Version& v) {
                    if (v.version_id != "null") return false;
                    garbage.push_back(v.file);
                    return true;
                });
            e.versions.insert(e.versions.begin(), marker);
            ctx.store.put_entry(txn, call.bucket, e);
            r.headers.set("x-amz-delete-marker", "true");
            r.headers.set("x-amz-version-id", marker.version_id);
            change = ObjectChange{call.bucket, call.key, "ObjectRemoved:DeleteMarkerCreated", 0, "",
                                  marker.version_id, ctx.now_ms(), call.req.request_id, call.req.remote_address};
        }
        ctx.store.drop_inline(txn, garbage);
        if (auto n = b.configs.find("notification"); change && n != b.configs.end()) ctx.events.stage(txn, n->second, *change);
    });
    ctx.store.remove_files(garbage);
    return r;
}

core::Response delete_objects(Context& ctx, Call& call) {
    std::string body = body_of(call.req);
    auto doc = parse_xml(body);
    if (!doc || doc->name != "Delete") throw malformed_xml();
    bool quiet = doc->child_text("Quiet").value_or("false") == "true";
    auto objects = doc->all("Object");
    if (objects.empty() || objects.size() > 1000) throw malformed_xml();
    ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { require_bucket(txn, ctx, call.bucket); });
    XmlWriter w("DeleteResult");
    for (auto* o : objects) {
        auto key = o->child_text("Key");
        if (!key) throw malformed_xml();
        auto version = o->child_text("VersionId");
        // Each object is one DeleteObject, with its own result.
        core::Request sub;
        sub.method = "DELETE";
        sub.request_id = call.req.request_id;
        sub.remote_address = call.req.remote_address;
        if (version) sub.query = "versionId=" + core::uri_encode(*version);
        Call c{sub, call.bucket, *key, ""};
        try {
            validate_key(*key);
            auto r = delete_object(ctx, c);
            if (quiet) continue;
            w.open("Deleted").leaf("Key", *key);
            if (version) w.leaf("VersionId", *version);
            bool marker = r.headers.get("x-amz-delete-marker").has_value();
            if (marker) {
                w.leaf("DeleteMarker", "true");
                if (!version) w.leaf("DeleteMarkerVersionId", std::string(*r.headers.get("x-amz-version-id")));
            }
            w.close();
        } catch (const core::AwsError& e) {
            w.open("Error").leaf("Key", *key);
            if (version) w.leaf("VersionId", *version);
            w.leaf("Code", e.code()).leaf("Message", e.message()).close();
        }
    }
    return xml_response(w.finish());
}

core::Response get_object_tagging(Context& ctx, Call& call) {
    auto l = ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { return locate(txn, ctx, call); });
    auto r = xml_response(tagging_xml(l.version->tags));
    if (l.version->version_id != "null") r.headers.set("x-amz-version-id", l.version->version_id);
    return r;
}

namespace {

core::Response set_tags(Context& ctx, Call& call, std::vector<std::pair<std::string, std::string>> tags) {
    auto version_id = find_version_id(call);
    std::string vid;
    ctx.store.env().write([&](core::lmdb::WriteTxn& txn) {
        Located l = locate(txn, ctx, call);
        vid = l.version->version_id;
        for (auto& v : l.entry.versions)
            if (v.version_id == vid) v.tags = tags;
        ctx.store.put_entry(txn, call.bucket, l.entry);
    });
    auto r = empty_response(tags.empty() && call.req.method == "DELETE" ? 204 : 200);
    if (vid != "null") r.headers.set("x-amz-version-id", vid);
    return r;
}

}  // namespace

core::Response put_object_tagging(Context& ctx, Call& call) {
    auto tags = parse_tagging_xml(body_of(call.req));
    validate_tags(tags, true);
    return set_tags(ctx, call, std::move(tags));
}

core::Response delete_object_tagging(Context& ctx, Call& call) { return set_tags(ctx, call, {}); }

core::Response get_object_acl(Context& ctx, Call& call) {
    auto l = ctx.store.env().read([&](core::lmdb::ReadTxn& txn) { return locate(txn, ctx, call); });
    auto r = xml_response(acl_xml(decode_grants(l.version->acl)));
    if (l.version->version_id != "null") r.headers.set("x-amz-version-id", l.version->version_id);
    return r;
}

core::Response put_object_acl(Context& ctx, Call& call) {
    // The ACL from x-amz-acl / x-amz-grant-* or from an AccessControlPolicy document
    // (AWS refuses both at once, and neither).
    auto from_headers = request_grants(call.req, false);
    std::string body = body_of(call.req);
    if (from_headers && !body.empty())
        throw s3_error("UnexpectedContent");
    if (!from_headers && body.empty())
        throw s3_error("MissingSecurityHeader")
            .with("MissingHeaderName", "x-amz-acl");
    Grants grants = from_headers ? *from_headers : grants_from_xml(body);
    std::string vid;
    ctx.store.env().write([&](core::lmdb::WriteTxn& txn) {
        Located l = locate(txn, ctx, call);
        check_acl_allowed(l.bucket, grants);
        vid = l.version->version_id;
        for (auto& v : l.entry.versions)
            if (v.version_id == vid) v.acl = encode_grants(grants);
        ctx.store.put_entry(txn, call.bucket, l.entry);
    });
    auto r = empty_response();
    if (vid != "null") r.headers.set("x-amz-version-id", vid);
    return r;
}

}  // namespace stratus::s3

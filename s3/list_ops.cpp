// ListObjectsV2, ListObjects (v1) and ListObjectVersions.
#include <fmt/format.h>

#include "s3/checksum.hpp"
#include "core/protocol.hpp"
#include "s3/ops.hpp"
#include "s3/xml.hpp"

namespace stratus::s3 {

namespace {

int max_keys_of(Call& call, std::string_view param = "max-keys") {
    auto v = call.req.query_param(param);
    if (!v) return 1000;
    long long n = 0;
    try {
        std::size_t used = 0;
        n = std::stoll(*v, &used);
        if (used != v->size()) throw std::invalid_argument("x");
    } catch (...) {
        throw invalid_argument("Provided max-keys not an integer or within integer range", std::string(param), *v);
    }
    if (n < 0 || n > 2147483647)
        throw invalid_argument("Argument maxKeys must be an integer between 0 and 2147483647", std::string(param), *v);
    return static_cast<int>(std::min<long long>(n, 1000));
}

bool url_encoding(Call& call) {
    auto e = call.req.query_param("encoding-type");
    if (!e) return false;
    if (*e != "url") throw invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", *e);
    return true;
}

// What a listing walk produces: keys (or versions) and common prefixes, in key order.
struct Walk {
    std::string prefix, delimiter;
    int max = 1000;
    // Resume point: everything <= after is skipped; when after_prefix, also every key
    // under `after` (a common prefix already returned).
    std::string after;
    bool after_prefix = false;
    bool skip_prefixes_to_marker = false;  // ListObjects v1's marker
    bool truncated = false;
    std::string last;  // last key or common prefix returned
    bool last_is_prefix = false;
};

// Calls on_key(entry) or on_prefix(p) for each result, up to w.max in total.
template <class OnKey, class OnPrefix>
void walk(Context& ctx, Call& call, Walk& w, OnKey on_key, OnPrefix on_prefix) {
    int count = 0;
    std::string last_prefix;
    std::string from = std::max(w.after, w.prefix);
    ctx.store.env().read([&](core::lmdb::ReadTxn& txn) {
        require_bucket(txn, ctx, call.bucket);
        if (w.max == 0) return;
        ctx.store.scan(txn, call.bucket, from, [&](const Entry& e) {
            if (!e.key.starts_with(w.prefix)) return e.key < w.prefix;  // past the prefix: stop
            if (!w.after.empty() && (e.key <= w.after || (w.after_prefix && e.key.starts_with(w.after)))) return true;
            if (!on_key(e, /*dry=*/true)) return true;  // nothing to list for this key
            if (!w.delimiter.empty()) {
                auto pos = e.key.find(w.delimiter, w.prefix.size());
                if (pos != std::string::npos) {
                    std::string cp = e.key.substr(0, pos + w.delimiter.size());
                    if (cp == last_prefix) return true;
                    // v1: a common prefix at or before the marker was returned already (the
                    // marker is the NextMarker S3 gave, which is that prefix). Listing it
                    // again makes boto3's paginator stop ("same next token received
                    // twice") and other SDKs loop.
                    if (w.skip_prefixes_to_marker && cp <= w.after) return true;
                    if (count >= w.max) {
                        w.truncated = true;
                        return false;
                    }
                    last_prefix = cp;
                    on_prefix(cp);
                    ++count;
                    w.last = cp;
                    w.last_is_prefix = true;
                    return true;
                }
            }
            if (count >= w.max) {
                w.truncated = true;
                return false;
            }
            on_key(e, false);
            ++count;
            w.last = e.key;
            w.last_is_prefix = false;
            return true;
        });
    });
}

// encoding-type=url: S3 form-encodes (space as '+', '+' as %2B, '/' kept), which
// botocore undoes with unquote_plus. (Issue 15 says S3 writes %20; MinIO's s3URLEncode,
// written to match S3, and the Go SDK's advice to QueryUnescape these keys say '+'. Not
// checked against AWS itself here.)
std::string enc(bool url, std::string_view s) {
    if (!url) return std::string(s);
    std::string e = core::uri_encode(s, false), out;
    for (std::size_t i = 0; i < e.size(); ++i) {
        if (e.compare(i, 3, "%20") == 0) {
            out += '+';
            i += 2;
        } else {
            out += e[i];
        }
    }
    return out;
}

void contents(XmlWriter& w, const Version& v, const std::string& key, bool url, bool owner) {
    w.open("Contents")
        .leaf("Key", enc(url, key))
        .leaf("LastModified", iso8601(v.last_modified_ms))
        .leaf("ETag", v.etag);
    if (!v.checksum_algorithm.empty()) {
        w.leaf("ChecksumAlgorithm", v.checksum_algorithm);
        w.leaf("ChecksumType", v.checksum_type);
    }
    w.leaf("Size", std::to_string(v.size));
    if (owner) w.open("Owner").leaf("ID", owner_id).leaf("DisplayName", owner_name).close();
    w.leaf("StorageClass", v.storage_class);
    w.close();
}

}  // namespace

core::Response list_objects(Context& ctx, Call& call) {
    bool v2 = call.req.query_param("list-type") == "2";
    bool url = url_encoding(call);
    Walk w;
    w.prefix = call.req.query_param("prefix").value_or("");
    w.delimiter = call.req.query_param("delimiter").value_or("");
    w.max = max_keys_of(call);
    std::optional<std::string> token, start_after, marker;
    if (v2) {
        token = call.req.query_param("continuation-token");
        if (token && token->empty()) token.reset();  // an empty token is none, as S3 takes it
        start_after = call.req.query_param("start-after");
        if (token) {
            auto raw = base64_decode(*token);
            if (!raw || raw->empty() || ((*raw)[0] != 'k' && (*raw)[0] != 'p'))
                throw invalid_argument("The continuation token provided is incorrect", "continuation-token", *token);
            w.after = raw->substr(1);
            w.after_prefix = (*raw)[0] == 'p';
        } else if (start_after) {
            w.after = *start_after;
        }
    } else {
        marker = call.req.query_param("marker");
        if (marker) w.after = *marker;
        w.skip_prefixes_to_marker = true;
    }
    bool fetch_owner = !v2 || call.req.query_param("fetch-owner") == "true";
    XmlWriter x("ListBucketResult");
    std::vector<std::string> prefixes;
    std::string body_contents;
    // Contents come before CommonPrefixes in S3's documents; collect, then write.
    XmlWriter items("x", false);
    int key_count = 0;
    walk(
        ctx, call, w,
        [&](const Entry& e, bool dry) {
            const Version* v = e.current();
            if (!v) return false;
            if (!dry) {
                contents(items, *v, e.key, url, fetch_owner);
                ++key_count;
            }
            return true;
        },
        [&](const std::string& p) { prefixes.push_back(p); });
    x.leaf("Name", call.bucket);
    // v1 echoes Prefix as sent, even with encoding-type=url (botocore decodes v1's
    // Marker, NextMarker and Delimiter, not its Prefix); v2 encodes it.
    x.leaf("Prefix", v2 ? enc(url, w.prefix) : w.prefix);
    if (v2) {
        if (start_after) x.leaf("StartAfter", enc(url, *start_after));
        if (token) x.leaf("ContinuationToken", *token);
        if (w.truncated)
            x.leaf("NextContinuationToken", base64_encode((w.last_is_prefix ? "p" : "k") + w.last));
        x.leaf("KeyCount", std::to_string(key_count + static_cast<int>(prefixes.size())));
    } else {
        x.leaf("Marker", enc(url, marker.value_or("")));
        if (w.truncated && !w.delimiter.empty()) x.leaf("NextMarker", enc(url, w.last));
    }
    x.leaf("MaxKeys", std::to_string(w.max));
    if (!w.delimiter.empty()) x.leaf("Delimiter", enc(url, w.delimiter));
    if (url) x.leaf("EncodingType", "url");
    x.leaf("IsTruncated", w.truncated ? "true" : "false");
    std::string doc = x.finish();
    std::string inner = items.finish();
    // Strip the helper root "<x>...</x>" and the declaration of the collected items.
    auto open = inner.find("<x>");
    inner = inner.substr(open + 3, inner.size() - open - 3 - 4);
    std::string cps;
    for (auto& p : prefixes) cps += "<CommonPrefixes><Prefix>" + core::xml_escape(enc(url, p)) + "</Prefix></CommonPrefixes>";
    doc.insert(doc.size() - std::string_view("</ListBucketResult>").size(), inner + cps);
    auto r = xml_response(std::move(doc));
    r.operation = v2 ? "ListObjectsV2" : "ListObjects";
    return r;
}

core::Response list_object_versions(Context& ctx, Call& call) {
    bool url = url_encoding(call);
    Walk w;
    w.prefix = call.req.query_param("prefix").value_or("");
    w.delimiter = call.req.query_param("delimiter").value_or("");
    w.max = max_keys_of(call);
    auto key_marker = call.req.query_param("key-marker");
    auto vid_marker = call.req.query_param("version-id-marker");
    if (vid_marker && !key_marker)
        throw invalid_argument("A version-id marker cannot be specified without a key marker.", "version-id-marker",
                               *vid_marker);
    // Versions are counted one by one, so a key may be split across pages; the walk's
    // own counting is by entry, so do the paging here.
    std::string items;
    std::vector<std::string> prefixes;
    int count = 0;
    bool truncated = false;
    std::string next_key, next_vid;
    std::string last_prefix;
    ctx.store.env().read([&](core::lmdb::ReadTxn& txn) {
        require_bucket(txn, ctx, call.bucket);
        std::string from = std::max(key_marker.value_or(""), w.prefix);
        ctx.store.scan(txn, call.bucket, from, [&](const Entry& e) {
            if (!e.key.starts_with(w.prefix)) return e.key < w.prefix;
            std::size_t start = 0;
            if (key_marker && e.key <= *key_marker) {
                if (e.key < *key_marker || !vid_marker || vid_marker->empty()) return true;
                // Resume after the marker version of this key.
                start = e.versions.size();
                for (std::size_t i = 0; i < e.versions.size(); ++i)
                    if (e.versions[i].version_id == *vid_marker) start = i + 1;
            }
            if (!w.delimiter.empty()) {
                auto pos = e.key.find(w.delimiter, w.prefix.size());
                if (pos != std::string::npos) {
                    std::string cp = e.key.substr(0, pos + w.delimiter.size());
                    if (cp == last_prefix || (key_marker && key_marker->starts_with(cp))) return true;
                    if (count >= w.max) {
                        truncated = true;
                        return false;
                    }
                    last_prefix = cp;
                    prefixes.push_back(cp);
                    ++count;
                    next_key = cp;
                    next_vid.clear();
                    return true;
                }
            }
            for (std::size_t i = start; i < e.versions.size(); ++i) {
                if (count >= w.max) {
                    truncated = true;
                    return false;
                }
                const Version& v = e.versions[i];
                std::string t = v.delete_marker ? "DeleteMarker" : "Version";
                items += "<" + t + "><Key>" + core::xml_escape(enc(url, e.key)) + "</Key><VersionId>" +
                         core::xml_escape(v.version_id) + "</VersionId><IsLatest>" + (i == 0 ? "true" : "false") +
                         "</IsLatest><LastModified>" + iso8601(v.last_modified_ms) + "</LastModified>";
                if (!v.delete_marker) {
                    items += "<ETag>" + core::xml_escape(v.etag) + "</ETag>";
                    if (!v.checksum_algorithm.empty())
                        items += "<ChecksumAlgorithm>" + v.checksum_algorithm + "</ChecksumAlgorithm><ChecksumType>" +
                                 v.checksum_type + "</ChecksumType>";
                    items += "<Size>" + std::to_string(v.size) + "</Size><StorageClass>" + v.storage_class +
                             "</StorageClass>";
                }
                items += fmt::format("<Owner><ID>{}</ID><DisplayName>{}</DisplayName></Owner></{}>", owner_id,
                                     owner_name, t);
                ++count;
                next_key = e.key;
                next_vid = v.version_id;
            }
            return true;
        });
    });
    XmlWriter x("ListVersionsResult");
    x.leaf("Name", call.bucket).leaf("Prefix", enc(url, w.prefix));
    x.leaf("KeyMarker", enc(url, key_marker.value_or(""))).leaf("VersionIdMarker", vid_marker.value_or(""));
    if (truncated) {
        x.leaf("NextKeyMarker", enc(url, next_key));
        if (!next_vid.empty()) x.leaf("NextVersionIdMarker", next_vid);
    }
    x.leaf("MaxKeys", std::to_string(w.max));
    if (!w.delimiter.empty()) x.leaf("Delimiter", enc(url, w.delimiter));
    if (url) x.leaf("EncodingType", "url");
    x.leaf("IsTruncated", truncated ? "true" : "false");
    std::string doc = x.finish();
    std::string cps;
    for (auto& p : prefixes) cps += "<CommonPrefixes><Prefix>" + core::xml_escape(enc(url, p)) + "</Prefix></CommonPrefixes>";
    doc.insert(doc.size() - std::string_view("</ListVersionsResult>").size(), items + cps);
    auto r = xml_response(std::move(doc));
    r.operation = "ListObjectVersions";
    return r;
}

}  // namespace stratus::s3

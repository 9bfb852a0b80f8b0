// What PutObject, CopyObject, GetObject and the multipart calls share.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/http_types.hpp"
#include "s3/checksum.hpp"
#include "s3/ops.hpp"
#include "s3/upload.hpp"

namespace stratus::s3 {

// Standard headers and user metadata of a PutObject / CreateMultipartUpload / REPLACE copy.
// Throws MetadataTooLarge over 2 KB of user metadata.
Version version_from_headers(const core::Request& req);

// A streamed body after its checks: Content-MD5, x-amz-checksum-* (header or trailer),
// aws-chunked framing and x-amz-decoded-content-length.
struct Received {
    std::uint64_t size = 0;
    std::string md5;  // raw
    std::optional<std::pair<ChecksumAlgorithm, std::string>> checksum;  // base64 value
};
Received check_received(const core::Request& req, UploadSink* sink);

// Records v as the newest version of call.key (a new version id when versioning is
// Enabled, else replacing the "null" version) with its notification records (staged in the
// same transaction), removes replaced bodies. `inline_body`: v's body, stored in LMDB in the same transaction (v.file is then
// set); else v.file is v's file or empty. On failure the file of v is removed. Returns v
// as stored.
Version commit_version(Context& ctx, Call& call, Version v, const std::string& event_name,
                       const std::string* inline_body = nullptr);

// commit_version in its three parts, for a commit that runs elsewhere (group commit):
// run() is the write transaction's work (rerunnable), then committed() or failed().
// `conditional`: the request's If-Match / If-None-Match apply (PutObject).
struct VersionCommit {
    Version v;
    std::string bucket, key, event_name, request_id, remote_address;
    std::optional<std::string> if_match, if_none_match;  // conditional writes only
    const std::string* inline_body = nullptr;            // must outlive the commit
    std::vector<std::string> garbage;                    // set by run()

    VersionCommit(Context& ctx, Call& call, Version v, std::string event_name, bool conditional,
                  const std::string* inline_body);
    void run(Context& ctx, core::lmdb::WriteTxn& txn);
    void committed(Context& ctx);  // removes replaced files
    void failed(Context& ctx);     // removes v's file
};

// PutObject (not a copy) up to its commit: the checks, and v with its body adopted when
// it went to a file; in_memory: the body is the sink's memory(), to be stored inline.
struct PreparedPut {
    Version v;
    const std::string* inline_body = nullptr;
};
PreparedPut prepare_put(Context& ctx, Call& call);
// PutObject's answer for the version stored.
core::Response put_response(const Version& stored);

// If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since (or their
// x-amz-copy-source-if-* forms): throws 412 PreconditionFailed, or 304 (as an AwsError
// with status 304 and no body).
void check_conditions(const core::Request& req, const Version& v, bool copy_source);

void set_object_headers(core::Response& r, const Version& v, bool checksum_mode);
void apply_response_overrides(core::Response& r, const core::Request& req);

struct ByteRange {
    bool valid = false;        // false: no usable range, send everything
    bool unsatisfiable = false;  // 416
    std::uint64_t first = 0, last = 0;
};
ByteRange parse_range(std::string_view header, std::uint64_t size);

// Sets r's body to [offset, offset+length) of the open file `fd` (taking ownership):
// small bodies are read into r.body (one write with the head), larger ones streamed
// from the file by the server.
void attach_body(core::Response& r, int fd, std::uint64_t offset, std::uint64_t length);

core::Response copy_object(Context& ctx, Call& call);

// The source of a copy: x-amz-copy-source "/bucket/key?versionId=..".
struct CopySource {
    std::string bucket, key;
    std::optional<std::string> version_id;
};
CopySource parse_copy_source(std::string_view header);
// Looks the source version up (NoSuchKey / NoSuchBucket / NoSuchVersion as AWS answers).
Version load_copy_source(Context& ctx, const CopySource& src);

}  // namespace stratus::s3

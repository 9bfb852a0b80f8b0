// S3's storage: metadata in LMDB, bodies in files named by random ids.
//
// DBIs (opened once at startup):
//   s3_buckets  name -> Bucket (JSON)
//   s3_objects  slot -> [Entry...] (JSON). An entry is one key with all its versions,
//               newest first. slot = bucket '\0' key, with the key cut to fit LMDB's
//               511-byte key limit; the rare keys sharing a cut prefix share a slot,
//               kept sorted by full key. Cutting is monotone, so slot order plus the
//               order inside a slot is the key order S3 lists in (UTF-8 bytes).
//   s3_uploads  upload id -> Upload (JSON), with its parts.
//   s3_blobs    body id -> bytes: the bodies of small objects (inline_max bytes or
//               fewer, uploaded with PutObject or copied from such an object), written in
//               the write transaction that records their version, as MinIO inlines small
//               objects in their metadata. A file per 4 KiB object cost a file create and
//               a rename per PUT, which is most of a small PUT's time.
// A version's body id names either: ids of inline bodies start with 'm' (is_inline), file
// ids are 32 hex digits.
// Files: <root>/objects/<2 hex>/<32 hex>. A body is written to a temporary name in one of
// those directories (spool_dir()), renamed to its id within it and then recorded in LMDB
// in one write transaction, so a reader sees the old or the new object, never part of one.
// A crash before the commit leaves an unreferenced file, removed at the next start
// (collect_garbage). Keys never reach a file name.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/lmdb.hpp"

namespace stratus::s3 {

struct Version {
    std::string version_id = "null";
    bool delete_marker = false;
    std::string file;  // body id (file or inline); empty for delete markers and empty objects
    std::uint64_t size = 0;
    std::string etag;  // quoted, as returned
    std::int64_t last_modified_ms = 0;
    // Standard headers stored with the object (Content-Type, Cache-Control, ...), by
    // their canonical names, and user metadata (x-amz-meta-*, names lowercased, without
    // the prefix).
    std::map<std::string, std::string> headers;
    std::map<std::string, std::string> meta;
    std::string checksum_algorithm;  // "CRC32" ...; empty when none
    std::string checksum;            // base64
    std::string checksum_type;       // FULL_OBJECT / COMPOSITE
    std::vector<std::pair<std::string, std::string>> tags;
    std::vector<std::uint64_t> part_sizes;  // multipart objects: for GET ?partNumber=
    std::string storage_class = "STANDARD";
    // The object's ACL grants beyond the owner's (s3/access.hpp encode_grants); empty: private.
    std::string acl;
};

struct Entry {
    std::string key;
    std::vector<Version> versions;  // newest first
    // The current version, unless the newest is a delete marker.
    const Version* current() const {
        return versions.empty() || versions.front().delete_marker ? nullptr : &versions.front();
    }
};

struct Bucket {
    std::string name;
    std::int64_t created_ms = 0;
    std::string region = "us-east-1";
    std::string versioning;  // "", "Enabled", "Suspended"
    // Stored configurations by sub-resource ("policy", "cors", "website", ...): the
    // document as sent (XML or, for policy, JSON).
    std::map<std::string, std::string> configs;
    std::vector<std::pair<std::string, std::string>> tags;
    bool has_tags = false;
};

struct Part {
    int number = 0;
    std::string file;
    std::uint64_t size = 0;
    std::string etag;  // quoted
    std::string md5;   // hex
    std::int64_t last_modified_ms = 0;
    std::string checksum;  // base64, when the upload has a checksum algorithm
};

struct Upload {
    std::string id;
    std::string bucket;
    std::string key;
    std::int64_t initiated_ms = 0;
    Version prototype;  // headers, metadata, tags, checksum algorithm of the object-to-be
    std::map<int, Part> parts;
};

class Store {
public:
    // `root`: <data dir>/s3; creates objects/ below it (its 256 subdirectories as used).
    Store(core::lmdb::Env& env, std::string root, bool fsync);

    core::lmdb::Env& env() { return env_; }
    // Where a body being received is written: one of the 256 objects/<xx>/ directories, at
    // random, so that adopt() renames it within its directory (no cross-directory rename,
    // which the kernel serialises filesystem-wide, and no single spool directory whose
    // lock every upload shares). Leftovers of a crash are unreferenced files there, removed
    // by collect_garbage() at the next start.
    std::string spool_dir() const;
    bool fsync() const { return fsync_; }

    // ---- files ----
    // A fresh random file id.
    static std::string new_file_id();
    std::string file_path(std::string_view id) const;
    // Moves a finished spool file into the object area under a new id.
    std::string adopt(const std::string& spool_path);
    // Removes the files of bodies no longer referenced, after the transaction that dropped
    // them (inline bodies are skipped: drop_inline removed them in that transaction).
    void remove_files(const std::vector<std::string>& ids);

    // ---- inline bodies ----
    static constexpr std::size_t inline_max = 16 * 1024;
    static bool is_inline(std::string_view id) { return !id.empty() && id.front() == 'm'; }
    // Stores a body in LMDB under a new inline id.
    std::string put_inline(core::lmdb::WriteTxn& txn, std::string_view bytes);
    // The inline body `id` as of txn (a view into the map, valid while txn lives).
    std::optional<std::string_view> inline_body(const core::lmdb::Txn& txn, std::string_view id) const;
    // Deletes the inline bodies among ids (bodies the transaction stops referencing).
    void drop_inline(core::lmdb::WriteTxn& txn, const std::vector<std::string>& ids);
    // The whole body of v (file or inline), at most max_bytes; nullopt when it is gone
    // (deleted meanwhile) or larger.
    std::optional<std::string> read_body(const Version& v, std::size_t max_bytes);
    // How many bodies are stored (tests: /_stratus/test/s3/bodies).
    struct BodyCounts {
        std::size_t files = 0;          // under objects/, spool files included
        std::size_t inline_bodies = 0;  // in s3_blobs
    };
    BodyCounts body_counts();
    // At startup: removes spool leftovers and object files no record points to.
    void collect_garbage();

    // ---- buckets ----
    std::optional<Bucket> get_bucket(const core::lmdb::Txn& txn, std::string_view name) const;
    void put_bucket(core::lmdb::WriteTxn& txn, const Bucket& b);
    void delete_bucket(core::lmdb::WriteTxn& txn, std::string_view name);
    std::vector<Bucket> list_buckets(const core::lmdb::Txn& txn) const;
    // No objects (and, with count_uploads, no multipart uploads either).
    bool bucket_empty(const core::lmdb::Txn& txn, std::string_view name, bool count_uploads = true) const;

    // ---- objects ----
    std::optional<Entry> get_entry(const core::lmdb::Txn& txn, std::string_view bucket, std::string_view key) const;
    // Stores the entry (removes it when it has no versions).
    void put_entry(core::lmdb::WriteTxn& txn, std::string_view bucket, const Entry& e);
    // Visits the bucket's entries with key >= `from`, in key order, until fn returns false.
    void scan(const core::lmdb::Txn& txn, std::string_view bucket, std::string_view from,
              const std::function<bool(const Entry&)>& fn) const;

    // ---- multipart uploads ----
    std::optional<Upload> get_upload(const core::lmdb::Txn& txn, std::string_view id) const;
    void put_upload(core::lmdb::WriteTxn& txn, const Upload& u);
    void delete_upload(core::lmdb::WriteTxn& txn, std::string_view id);
    std::vector<Upload> list_uploads(const core::lmdb::Txn& txn, std::string_view bucket) const;
    // Completed uploads (DBI s3_completed: upload id -> JSON of the result), so that a
    // repeated CompleteMultipartUpload answers what the first did. Kept a day.
    std::optional<std::string> get_completed(const core::lmdb::Txn& txn, std::string_view id) const;
    void put_completed(core::lmdb::WriteTxn& txn, std::string_view id, std::string_view result_json,
                       std::int64_t now_ms);

    // Wipes every bucket, object and upload, and their files.
    void reset();

private:
    std::string slot(std::string_view bucket, std::string_view key) const;
    std::vector<Entry> read_slot(const core::lmdb::Txn& txn, std::string_view slot) const;

    core::lmdb::Env& env_;
    std::string root_;
    std::string objects_;
    std::string spool_;  // where versions before 2026-11-27 spooled bodies: removed at start
    bool fsync_;
    mutable std::array<std::atomic<bool>, 256> made_{};  // objects/<xx>/ known to exist
    core::lmdb::Dbi buckets_;
    core::lmdb::Dbi objects_db_;
    core::lmdb::Dbi uploads_;
    core::lmdb::Dbi blobs_;
    core::lmdb::Dbi completed_;
};

// Encoding helpers, exposed for tests. encode_entries writes the JSON directly;
// encode_entries_json builds it with nlohmann (the fallback for strings that are not
// valid UTF-8, which it replaces with U+FFFD, and the reference the tests compare to).
std::string encode_entries(const std::vector<Entry>& entries);
std::string encode_entries_json(const std::vector<Entry>& entries);
std::vector<Entry> decode_entries(std::string_view data);

}  // namespace stratus::s3

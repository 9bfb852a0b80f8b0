// S3's storage: the aws-chunked upload decoder and the LMDB object store (key order,
// keys past LMDB's key size sharing a slot, versions, uploads, garbage collection).
#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "s3/store.hpp"
#include "s3/upload.hpp"

using namespace stratus::s3;
namespace lmdb = stratus::core::lmdb;
namespace fs = std::filesystem;

namespace {

using stratus::test::TempDir;

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Feeds `wire` to a sink in pieces of `step` bytes.
void feed(UploadSink& sink, std::string_view wire, std::size_t step) {
    for (std::size_t i = 0; i < wire.size(); i += step) sink.write(wire.substr(i, step));
    sink.finish();
}

}  // namespace

TEST_CASE("aws-chunked bodies decode the same however the bytes arrive") {
    TempDir dir;
    std::string wire =
        "5;chunk-signature=aaaa\r\nhello\r\n6;chunk-signature=bbbb\r\n world\r\n0;chunk-signature=cccc\r\n"
        "x-amz-checksum-crc32:DUoRhQ==\r\nx-amz-trailer-signature:dddd\r\n\r\n";
    for (std::size_t step : {1, 2, 7, 64, 4096}) {
        CAPTURE(step);
        UploadOptions o;
        o.aws_chunked = true;
        o.signed_chunks = true;
        o.checksum = ChecksumAlgorithm::crc32;
        UploadSink sink(dir.path, o);
        feed(sink, wire, step);
        CHECK(sink.framing_error().empty());
        CHECK(sink.size() == 11);
        CHECK(slurp(sink.path()) == "hello world");
        CHECK(base64_encode(sink.checksum()) == "DUoRhQ==");
        CHECK(sink.trailers().at("x-amz-checksum-crc32") == "DUoRhQ==");
        CHECK(sink.trailer_signature() == "dddd");
        REQUIRE(sink.chunks().size() == 3);
        CHECK(sink.chunks()[0].signature == "aaaa");
        CHECK(sink.chunks()[2].sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}

TEST_CASE("broken aws-chunked framing is reported, not stored") {
    TempDir dir;
    UploadOptions o;
    o.aws_chunked = true;
    SUBCASE("bad size") {
        UploadSink sink(dir.path, o);
        feed(sink, "zz\r\nhello\r\n0\r\n\r\n", 3);
        CHECK_FALSE(sink.framing_error().empty());
    }
    SUBCASE("truncated") {
        UploadSink sink(dir.path, o);
        feed(sink, "a\r\nhello", 3);
        CHECK_FALSE(sink.framing_error().empty());
    }
    SUBCASE("data longer than its chunk") {
        UploadSink sink(dir.path, o);
        feed(sink, "2\r\nhello\r\n0\r\n\r\n", 4);
        CHECK_FALSE(sink.framing_error().empty());
    }
    SUBCASE("unsigned trailer form without trailers") {
        UploadSink sink(dir.path, o);
        feed(sink, "3\r\nabc\r\n0\r\n\r\n", 5);
        CHECK(sink.framing_error().empty());
        CHECK(sink.size() == 3);
    }
}

TEST_CASE("plain bodies: MD5 and size; the file goes away unless released") {
    TempDir dir;
    std::string path;
    {
        UploadSink sink(dir.path, UploadOptions{});
        feed(sink, std::string(300000, 'q'), 65536);
        CHECK(sink.size() == 300000);
        CHECK(fs::file_size(sink.path()) == 300000);
        path = sink.path();
    }
    CHECK_FALSE(fs::exists(path));
}

namespace {

// Deterministic bytes that are not one repeated pattern (a block swapped with another shows).
std::string pseudo_random(std::size_t n) {
    std::string s(n, '\0');
    std::uint32_t x = 2463534242u;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x);
    }
    return s;
}

// Does what the server does with a sink: reads into buffer() when it offers one (else
// passes its own bytes), `step` bytes at most per read, and waits while pause() says so.
void feed_like_server(UploadSink& sink, std::string_view wire, std::size_t step) {
    auto wait_unless_ready = [&](bool drain) {
        std::mutex m;
        std::condition_variable cv;
        bool resumed = false;
        std::function<void()> resume = [&] {
            std::lock_guard lock(m);
            resumed = true;
            cv.notify_all();
        };
        if (!sink.pause(drain, resume)) return;
        std::unique_lock lock(m);
        REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return resumed; }));
    };
    while (!wire.empty()) {
        auto into = sink.buffer();
        std::size_t n = std::min(step, wire.size());
        if (into.empty()) {
            sink.write(wire.substr(0, n));
        } else {
            n = std::min(n, into.size());
            std::memcpy(into.data(), wire.data(), n);
            sink.write(std::string_view(into.data(), n));
        }
        wire.remove_prefix(n);
        wait_unless_ready(false);
    }
    wait_unless_ready(true);
    sink.finish();
}

}  // namespace

// Large bodies are hashed and written on the sink's own threads (pipeline_min and up):
// the file and the digests must be exactly those of the synchronous path, whether the
// bytes are read into the sink's blocks or handed over from elsewhere.
TEST_CASE("large bodies: pipelined hashing and writing match the bytes however they arrive") {
    TempDir dir;
    std::string body = pseudo_random(3 * pipeline_block + 12345);
    UploadOptions o;
    o.checksum = ChecksumAlgorithm::crc32c;
    o.expected_size = body.size();
    auto d = make_digest(ChecksumAlgorithm::crc32c);
    d->update(body);
    std::string crc = d->final();
    for (std::size_t step : {std::size_t{65536}, std::size_t{100000}, std::size_t{3 * 1024 * 1024}}) {
        CAPTURE(step);
        SUBCASE("read into the sink's blocks") {
            UploadSink sink(dir.path, o);
            feed_like_server(sink, body, step);
            CHECK(sink.size() == body.size());
            CHECK(sink.md5() == md5_raw(body));
            CHECK(sink.checksum() == crc);
            CHECK(slurp(sink.path()) == body);
        }
        SUBCASE("handed over, finish() without a drain") {
            UploadSink sink(dir.path, o);
            feed(sink, body, step);
            CHECK(sink.md5() == md5_raw(body));
            CHECK(sink.checksum() == crc);
            CHECK(slurp(sink.path()) == body);
        }
    }
}

TEST_CASE("large aws-chunked bodies: pipelined decoding keeps payload, digests and chunk hashes") {
    TempDir dir;
    std::string payload = pseudo_random(2 * pipeline_block + 777);
    std::string wire;
    std::vector<std::string> chunk_hashes;
    for (std::size_t at = 0; at < payload.size(); at += 65536) {
        std::string_view c = std::string_view(payload).substr(at, 65536);
        char head[64];
        std::snprintf(head, sizeof head, "%zx;chunk-signature=sig\r\n", c.size());
        wire += head;
        wire += c;
        wire += "\r\n";
        auto sha = make_digest(ChecksumAlgorithm::sha256);
        sha->update(c);
        chunk_hashes.push_back(hex_encode(sha->final()));
    }
    wire += "0;chunk-signature=last\r\n\r\n";
    UploadOptions o;
    o.aws_chunked = true;
    o.signed_chunks = true;
    o.expected_size = wire.size();
    for (std::size_t step : {std::size_t{1000}, std::size_t{65536}, std::size_t{262144}}) {
        CAPTURE(step);
        UploadSink sink(dir.path, o);
        feed_like_server(sink, wire, step);
        CHECK(sink.framing_error().empty());
        CHECK(sink.size() == payload.size());
        CHECK(sink.md5() == md5_raw(payload));
        CHECK(slurp(sink.path()) == payload);
        REQUIRE(sink.chunks().size() == chunk_hashes.size() + 1);
        for (std::size_t i = 0; i < chunk_hashes.size(); ++i) CHECK(sink.chunks()[i].sha256 == chunk_hashes[i]);
    }
}

// A client that disconnects mid-upload: the sink is dropped with blocks still queued.
TEST_CASE("an abandoned large upload stops its threads and leaves no file") {
    TempDir dir;
    std::string body = pseudo_random(3 * pipeline_block);
    UploadOptions o;
    o.expected_size = 10 * pipeline_block;
    std::string path;
    {
        UploadSink sink(dir.path, o);
        path = sink.path();
        for (std::size_t at = 0; at < body.size(); at += 65536) sink.write(std::string_view(body).substr(at, 65536));
    }
    CHECK_FALSE(fs::exists(path));
    CHECK(fs::is_empty(dir.path));
}

TEST_CASE("object store: key order, long keys sharing a slot, scan from a key") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path + "/db");
    Store store(env, dir.path + "/s3", false);
    std::string long_a = std::string(600, 'k') + "a", long_b = std::string(600, 'k') + "b";
    std::vector<std::string> keys = {"b", "a/b", "a", long_b, long_a, "\xc3\xa9", "z", std::string(600, 'k')};
    env.write([&](lmdb::WriteTxn& txn) {
        Bucket b;
        b.name = "bkt";
        store.put_bucket(txn, b);
        for (auto& k : keys) {
            Entry e{k, {Version{}}};
            e.versions[0].size = k.size();
            store.put_entry(txn, "bkt", e);
        }
        // Another bucket whose name extends this one's must not leak into its scans.
        Entry other{"a", {Version{}}};
        store.put_entry(txn, "bkt2", other);
    });
    std::vector<std::string> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::string> seen;
    env.read([&](lmdb::ReadTxn& txn) {
        store.scan(txn, "bkt", "", [&](const Entry& e) {
            seen.push_back(e.key);
            return true;
        });
        CHECK(store.get_entry(txn, "bkt", long_a)->versions[0].size == long_a.size());
        CHECK(store.get_entry(txn, "bkt", long_b)->key == long_b);
        CHECK_FALSE(store.get_entry(txn, "bkt", std::string(600, 'k') + "c").has_value());
    });
    CHECK(seen == sorted);
    seen.clear();
    env.read([&](lmdb::ReadTxn& txn) {
        store.scan(txn, "bkt", long_b, [&](const Entry& e) {
            seen.push_back(e.key);
            return true;
        });
    });
    CHECK(seen == std::vector<std::string>{long_b, "z", "\xc3\xa9"});
    // Removing one key of a shared slot keeps the other.
    env.write([&](lmdb::WriteTxn& txn) { store.put_entry(txn, "bkt", Entry{long_a, {}}); });
    env.read([&](lmdb::ReadTxn& txn) {
        CHECK_FALSE(store.get_entry(txn, "bkt", long_a).has_value());
        CHECK(store.get_entry(txn, "bkt", long_b).has_value());
        CHECK_FALSE(store.bucket_empty(txn, "bkt"));
    });
}

TEST_CASE("object store: versions and uploads survive encoding; garbage collection keeps live files") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path + "/db");
    Store store(env, dir.path + "/s3", false);
    auto make_file = [&](const std::string& content) {
        std::string p = store.spool_dir() + "/tmp-" + content;
        std::ofstream(p) << content;
        return store.adopt(p);
    };
    std::string live = make_file("live"), part = make_file("part"), orphan = make_file("orphan");
    Version v;
    v.version_id = "v1";
    v.file = live;
    v.meta = {{"a", "1"}};
    v.headers = {{"Content-Type", "text/plain"}};
    v.tags = {{"t", "x"}};
    v.checksum_algorithm = "CRC32";
    v.checksum = "AAAAAA==";
    v.checksum_type = "FULL_OBJECT";
    Version marker;
    marker.version_id = "v2";
    marker.delete_marker = true;
    Upload u;
    u.id = "up1";
    u.bucket = "bkt";
    u.key = "k";
    u.parts[1] = Part{1, part, 4, "\"e\"", "00", 5, ""};
    env.write([&](lmdb::WriteTxn& txn) {
        store.put_entry(txn, "bkt", Entry{"k", {marker, v}});
        store.put_upload(txn, u);
    });
    env.read([&](lmdb::ReadTxn& txn) {
        auto e = store.get_entry(txn, "bkt", "k");
        REQUIRE(e.has_value());
        CHECK(e->current() == nullptr);  // newest is a delete marker
        CHECK(e->versions[1].meta.at("a") == "1");
        CHECK(e->versions[1].tags[0].second == "x");
        CHECK(e->versions[1].checksum_algorithm == "CRC32");
        auto up = store.get_upload(txn, "up1");
        REQUIRE(up.has_value());
        CHECK(up->parts.at(1).file == part);
        CHECK(store.list_uploads(txn, "bkt").size() == 1);
    });
    std::string leftover = store.spool_dir() + "/upload-leftover";  // a body a crash cut short
    std::ofstream(leftover) << "x";
    store.collect_garbage();
    CHECK(fs::exists(store.file_path(live)));
    CHECK(fs::exists(store.file_path(part)));
    CHECK_FALSE(fs::exists(store.file_path(orphan)));
    CHECK_FALSE(fs::exists(leftover));
    // Spooled files are adopted within their directory: the id keeps the directory's prefix.
    std::string spooled = store.spool_dir() + "/upload-abc";
    std::ofstream(spooled) << "y";
    std::string id = store.adopt(spooled);
    CHECK(fs::path(spooled).parent_path().filename().string() == id.substr(0, 2));
    CHECK(fs::exists(store.file_path(id)));
    CHECK_FALSE(fs::exists(spooled));
    store.reset();
    CHECK_FALSE(fs::exists(store.file_path(live)));
    env.read([&](lmdb::ReadTxn& txn) { CHECK(store.list_buckets(txn).empty()); });
}

TEST_CASE("object store: the direct entry encoder says what nlohmann's would") {
    Version full;
    full.version_id = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY";
    full.file = "m0123456789abcdef0123456789abcdef";
    full.size = 18446744073709551615ull;
    full.last_modified_ms = 1764201600123;
    full.etag = "\"9b2cf535f27731c974343645a3985328-2\"";
    full.headers = {{"Content-Type", "text/html; charset=\"utf-8\""}, {"Cache-Control", "max-age=60"}};
    full.meta = {{"emoji", "\xF0\x9F\x98\x80"}, {"ctl", std::string("a\x01\x1f\n\r\t\\/b")}, {"", ""}};
    full.checksum_algorithm = "CRC64NVME";
    full.checksum = "AAAAAAAAAAA=";
    full.checksum_type = "COMPOSITE";
    full.tags = {{"k", "v"}, {"quote\"d", "back\\slash"}};
    full.part_sizes = {5242880, 1};
    full.storage_class = "GLACIER";
    Version marker;
    marker.delete_marker = true;
    marker.version_id = "null";
    std::vector<std::vector<Entry>> cases = {
        {},
        {Entry{"k", {}}},
        {Entry{"a/b/\xE2\x82\xAC.txt", {full, marker}}, Entry{std::string("nul\0key", 7), {Version{}}}},
    };
    for (auto& entries : cases) {
        std::string direct = encode_entries(entries);
        CHECK(nlohmann::json::parse(direct) == nlohmann::json::parse(encode_entries_json(entries)));
        auto back = decode_entries(direct);
        REQUIRE(back.size() == entries.size());
        for (std::size_t i = 0; i < back.size(); ++i) {
            CHECK(back[i].key == entries[i].key);
            REQUIRE(back[i].versions.size() == entries[i].versions.size());
            for (std::size_t j = 0; j < back[i].versions.size(); ++j)
                CHECK(encode_entries({Entry{"x", {back[i].versions[j]}}}) ==
                      encode_entries({Entry{"x", {entries[i].versions[j]}}}));
        }
    }
    // Not UTF-8 (a lone continuation byte, an overlong, a surrogate, a cut sequence): the
    // nlohmann path, which replaces the bytes, so the record still parses.
    for (std::string bad : {"\x80", "\xC0\xAF", "\xED\xA0\x80", "ok\xE2\x82", "\xF5\x80\x80\x80"}) {
        CAPTURE(bad);
        Version v;
        v.meta = {{"m", bad}};
        std::vector<Entry> e{Entry{"k", {v}}};
        CHECK(encode_entries(e) == encode_entries_json(e));
        CHECK_NOTHROW(decode_entries(encode_entries(e)));
    }
}

TEST_CASE("object store: inline bodies are written, read and dropped with their transaction") {
    TempDir dir;
    auto env = lmdb::Env::open(dir.path + "/db");
    Store store(env, dir.path + "/s3", false);
    std::string id = env.write([&](lmdb::WriteTxn& txn) { return store.put_inline(txn, "small body"); });
    CHECK(Store::is_inline(id));
    CHECK_FALSE(Store::is_inline(Store::new_file_id()));
    Version v;
    v.file = id;
    v.size = 10;
    CHECK(store.read_body(v, 100) == "small body");
    CHECK_FALSE(store.read_body(v, 5).has_value());  // over the limit
    CHECK(store.body_counts().files == 0);
    CHECK(store.body_counts().inline_bodies == 1);
    // An aborted transaction drops nothing; files in the list are left to remove_files.
    try {
        env.write([&](lmdb::WriteTxn& txn) {
            store.drop_inline(txn, {id});
            throw std::runtime_error("abort");
        });
    } catch (const std::runtime_error&) {
    }
    CHECK(store.read_body(v, 100) == "small body");
    env.write([&](lmdb::WriteTxn& txn) { store.drop_inline(txn, {id, "", Store::new_file_id()}); });
    CHECK_FALSE(store.read_body(v, 100).has_value());
    // Unreferenced inline bodies (none should exist) go at the next start; referenced stay.
    std::string kept = env.write([&](lmdb::WriteTxn& txn) {
        std::string k = store.put_inline(txn, "kept");
        Version kv;
        kv.file = k;
        kv.size = 4;
        store.put_entry(txn, "bkt", Entry{"key", {kv}});
        store.put_inline(txn, "orphan");
        return k;
    });
    CHECK(store.body_counts().inline_bodies == 2);
    store.collect_garbage();
    CHECK(store.body_counts().inline_bodies == 1);
    Version kv;
    kv.file = kept;
    kv.size = 4;
    CHECK(store.read_body(kv, 100) == "kept");
    store.reset();
    CHECK(store.body_counts().files == 0);
    CHECK(store.body_counts().inline_bodies == 0);
}

TEST_CASE("upload sink: small PutObject bodies stay in memory, larger ones spill to a file") {
    TempDir dir;
    UploadOptions o;
    o.inline_max = 100;
    o.expected_size = 50;
    {
        UploadSink sink(dir.path, o);
        feed(sink, std::string(100, 'a'), 7);
        CHECK(sink.in_memory());
        CHECK(sink.path().empty());
        CHECK(sink.memory() == std::string(100, 'a'));
        CHECK(sink.size() == 100);
    }
    CHECK(fs::is_empty(dir.path));
    {
        // Announced small, turned out larger (aws-chunked bodies announce their framing).
        UploadSink sink(dir.path, o);
        std::string body = pseudo_random(1000);
        feed(sink, body, 33);
        CHECK_FALSE(sink.in_memory());
        CHECK(slurp(sink.path()) == body);
        CHECK(sink.size() == 1000);
    }
    CHECK(fs::is_empty(dir.path));
    {
        o.expected_size = 100000;  // announced large: a file from the start
        UploadSink sink(dir.path, o);
        CHECK_FALSE(sink.path().empty());
        feed(sink, "tiny", 4);
        CHECK_FALSE(sink.in_memory());
        CHECK(slurp(sink.path()) == "tiny");
    }
}

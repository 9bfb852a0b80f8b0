#include "s3/store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <system_error>

#include "core/log.hpp"

namespace stratus::s3 {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// LMDB's default maximum key size (mdb_env_get_maxkeysize).
constexpr std::size_t max_lmdb_key = 511;

json tags_json(const std::vector<std::pair<std::string, std::string>>& tags) {
    json a = json::array();
    for (auto& [k, v] : tags) a.push_back(json::array({k, v}));
    return a;
}

std::vector<std::pair<std::string, std::string>> tags_from(const json& a) {
    std::vector<std::pair<std::string, std::string>> out;
    if (a.is_array())
        for (auto& t : a) out.emplace_back(t[0].get<std::string>(), t[1].get<std::string>());
    return out;
}

json version_json(const Version& v) {
    json j = {{"v", v.version_id}, {"s", v.size}, {"t", v.last_modified_ms}};
    if (v.delete_marker) j["d"] = true;
    if (!v.file.empty()) j["f"] = v.file;
    if (!v.etag.empty()) j["e"] = v.etag;
    if (!v.headers.empty()) j["h"] = v.headers;
    if (!v.meta.empty()) j["m"] = v.meta;
    if (!v.checksum_algorithm.empty()) {
        j["ca"] = v.checksum_algorithm;
        j["c"] = v.checksum;
        j["ct"] = v.checksum_type;
    }
    if (!v.tags.empty()) j["g"] = tags_json(v.tags);
    if (!v.part_sizes.empty()) j["p"] = v.part_sizes;
    if (v.storage_class != "STANDARD") j["sc"] = v.storage_class;
    if (!v.acl.empty()) j["a"] = v.acl;
    return j;
}

Version version_from(const json& j) {
    Version v;
    v.version_id = j.at("v").get<std::string>();
    v.size = j.at("s").get<std::uint64_t>();
    v.last_modified_ms = j.at("t").get<std::int64_t>();
    v.delete_marker = j.value("d", false);
    v.file = j.value("f", "");
    v.etag = j.value("e", "");
    if (auto it = j.find("h"); it != j.end()) v.headers = it->get<std::map<std::string, std::string>>();
    if (auto it = j.find("m"); it != j.end()) v.meta = it->get<std::map<std::string, std::string>>();
    if (auto it = j.find("ca"); it != j.end()) {
        v.checksum_algorithm = it->get<std::string>();
        v.checksum = j.value("c", "");
        v.checksum_type = j.value("ct", "FULL_OBJECT");
    }
    if (auto it = j.find("g"); it != j.end()) v.tags = tags_from(*it);
    if (auto it = j.find("p"); it != j.end()) v.part_sizes = it->get<std::vector<std::uint64_t>>();
    v.storage_class = j.value("sc", "STANDARD");
    v.acl = j.value("a", "");
    return v;
}

std::string hex_random(std::size_t bytes) {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    while (out.size() < bytes * 2) {
        auto r = engine();
        for (int i = 0; i < 16 && out.size() < bytes * 2; ++i, r >>= 4) out += digits[r & 15];
    }
    return out;
}

void fsync_dir(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

// UTF-8 as RFC 3629 has it (no overlongs, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        std::size_t n = 0;
        if (c >= 0xC2 && c <= 0xDF) n = 1;
        else if (c >= 0xE0 && c <= 0xEF) n = 2;
        else if (c >= 0xF0 && c <= 0xF4) n = 3;
        else return false;
        if (s.size() - i <= n) return false;
        auto c1 = static_cast<unsigned char>(s[i + 1]);
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
            return false;
        for (std::size_t k = 1; k <= n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += n + 1;
    }
    return true;
}

// A JSON string; false (out unusable) when s is not valid UTF-8.
bool put_string(std::string& out, std::string_view s) {
    if (!valid_utf8(s)) return false;
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    std::size_t run = 0;  // start of the bytes not yet copied
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.substr(run, i - run));
        run = i + 1;
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 15];
        }
    }
    out.append(s.substr(run));
    out += '"';
    return true;
}

template <class N>
void put_number(std::string& out, N n) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
    out.append(buf, end);
}

// What version_json(v).dump() says, written directly (PutObject's commit encodes an
// entry per request; nlohmann's tree costs about four times as much). False when a
// string is not valid UTF-8: the caller then takes nlohmann's path, which replaces it.
bool put_version(std::string& out, const Version& v) {
    auto field = [&](const char* name) {
        out += ",\"";
        out += name;
        out += "\":";
    };
    out += "{\"v\":";
    if (!put_string(out, v.version_id)) return false;
    field("s");
    put_number(out, v.size);
    field("t");
    put_number(out, v.last_modified_ms);
    if (v.delete_marker) out += ",\"d\":true";
    if (!v.file.empty()) {
        field("f");
        if (!put_string(out, v.file)) return false;
    }
    if (!v.etag.empty()) {
        field("e");
        if (!put_string(out, v.etag)) return false;
    }
    for (auto [name, map] : {std::pair{"h", &v.headers}, std::pair{"m", &v.meta}}) {
        if (map->empty()) continue;
        field(name);
        out += '{';
        bool first = true;
        for (auto& [k, val] : *map) {
            if (!first) out += ',';
            first = false;
            if (!put_string(out, k)) return false;
            out += ':';
            if (!put_string(out, val)) return false;
        }
        out += '}';
    }
    if (!v.checksum_algorithm.empty()) {
        field("ca");
        if (!put_string(out, v.checksum_algorithm)) return false;
        field("c");
        if (!put_string(out, v.checksum)) return false;
        field("ct");
        if (!put_string(out, v.checksum_type)) return false;
    }
    if (!v.tags.empty()) {
        field("g");
        out += '[';
        for (std::size_t i = 0; i < v.tags.size(); ++i) {
            if (i) out += ',';
            out += '[';
            if (!put_string(out, v.tags[i].first)) return false;
            out += ',';
            if (!put_string(out, v.tags[i].second)) return false;
            out += ']';
        }
        out += ']';
    }
    if (!v.part_sizes.empty()) {
        field("p");
        out += '[';
        for (std::size_t i = 0; i < v.part_sizes.size(); ++i) {
            if (i) out += ',';
            put_number(out, v.part_sizes[i]);
        }
        out += ']';
    }
    if (v.storage_class != "STANDARD") {
        field("sc");
        if (!put_string(out, v.storage_class)) return false;
    }
    if (!v.acl.empty()) {
        field("a");
        if (!put_string(out, v.acl)) return false;
    }
    out += '}';
    return true;
}

}  // namespace

std::string encode_entries(const std::vector<Entry>& entries) {
    std::string out = "[";
    bool ok = true;
    for (std::size_t i = 0; ok && i < entries.size(); ++i) {
        if (i) out += ',';
        out += "{\"k\":";
        ok = put_string(out, entries[i].key);
        out += ",\"vs\":[";
        for (std::size_t j = 0; ok && j < entries[i].versions.size(); ++j) {
            if (j) out += ',';
            ok = put_version(out, entries[i].versions[j]);
        }
        out += "]}";
    }
    out += ']';
    if (ok) return out;
    return encode_entries_json(entries);
}

std::string encode_entries_json(const std::vector<Entry>& entries) {
    json a = json::array();
    for (auto& e : entries) {
        json vs = json::array();
        for (auto& v : e.versions) vs.push_back(version_json(v));
        a.push_back(json{{"k", e.key}, {"vs", std::move(vs)}});
    }
    return a.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<Entry> decode_entries(std::string_view data) {
    std::vector<Entry> out;
    json a = json::parse(data);
    for (auto& j : a) {
        Entry e;
        e.key = j.at("k").get<std::string>();
        for (auto& v : j.at("vs")) e.versions.push_back(version_from(v));
        out.push_back(std::move(e));
    }
    return out;
}

Store::Store(core::lmdb::Env& env, std::string root, bool fsync)
    : env_(env), root_(std::move(root)), objects_(root_ + "/objects"), spool_(root_ + "/spool"), fsync_(fsync),
      buckets_(env.open_db("s3_buckets")), objects_db_(env.open_db("s3_objects")), uploads_(env.open_db("s3_uploads")),
      blobs_(env.open_db("s3_blobs")), completed_(env.open_db("s3_completed")) {
    fs::create_directories(objects_);
}

std::string Store::spool_dir() const {
    std::string xx = hex_random(1);
    std::string dir = objects_ + "/" + xx;
    // The 256 directories are made as first used, not at startup (256 mkdirs are most of
    // a start's file system work, and slow when the disk is busy).
    auto& made = made_[std::stoul(xx, nullptr, 16)];
    if (!made.load(std::memory_order_relaxed)) {
        fs::create_directories(dir);
        made.store(true, std::memory_order_relaxed);
    }
    return dir;
}

std::string Store::new_file_id() { return hex_random(16); }

std::string Store::file_path(std::string_view id) const {
    return objects_ + "/" + std::string(id.substr(0, 2)) + "/" + std::string(id);
}

std::string Store::adopt(const std::string& spool_path) {
    std::string id = new_file_id();
    // Spooled in objects/<xx>/ (spool_dir()): the id takes that prefix, the rename stays in
    // the directory.
    auto parent = fs::path(spool_path).parent_path();
    if (parent.parent_path() == fs::path(objects_) && parent.filename().string().size() == 2)
        id.replace(0, 2, parent.filename().string());
    std::string dir = objects_ + "/" + id.substr(0, 2);
    std::string target = dir + "/" + id;
    if (::rename(spool_path.c_str(), target.c_str()) != 0) {
        if (errno != ENOENT) throw std::system_error(errno, std::generic_category(), "rename " + spool_path);
        fs::create_directories(dir);
        if (::rename(spool_path.c_str(), target.c_str()) != 0)
            throw std::system_error(errno, std::generic_category(), "rename " + spool_path);
    }
    if (fsync_) fsync_dir(dir);
    return id;
}

void Store::remove_files(const std::vector<std::string>& ids) {
    for (auto& id : ids)
        if (!id.empty() && !is_inline(id)) ::unlink(file_path(id).c_str());
}

std::string Store::put_inline(core::lmdb::WriteTxn& txn, std::string_view bytes) {
    std::string id = "m" + new_file_id();
    txn.put(blobs_, id, bytes);
    return id;
}

std::optional<std::string_view> Store::inline_body(const core::lmdb::Txn& txn, std::string_view id) const {
    return txn.get(blobs_, id);
}

void Store::drop_inline(core::lmdb::WriteTxn& txn, const std::vector<std::string>& ids) {
    for (auto& id : ids)
        if (is_inline(id)) txn.del(blobs_, id);
}

std::optional<std::string> Store::read_body(const Version& v, std::size_t max_bytes) {
    if (v.size > max_bytes) return std::nullopt;
    if (v.file.empty()) return std::string();
    if (is_inline(v.file))
        return env_.read([&](core::lmdb::ReadTxn& txn) -> std::optional<std::string> {
            auto b = inline_body(txn, v.file);
            if (!b) return std::nullopt;
            return std::string(*b);
        });
    // Files are never rewritten (a new body gets a new file): what opens is v's body, or
    // it was deleted in between.
    int fd = ::open(file_path(v.file).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string out(static_cast<std::size_t>(v.size), '\0');
    std::size_t got = 0;
    while (got < out.size()) {
        ssize_t n = ::read(fd, out.data() + got, out.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    ::close(fd);
    if (got != out.size()) return std::nullopt;
    return out;
}

Store::BodyCounts Store::body_counts() {
    BodyCounts counts;
    std::error_code ec;
    for (auto& dir : fs::directory_iterator(objects_, ec))
        for (auto it = fs::directory_iterator(dir.path(), ec); it != fs::directory_iterator(); it.increment(ec))
            ++counts.files;
    env_.read([&](core::lmdb::ReadTxn& txn) {
        auto c = core::lmdb::Cursor::open(txn, blobs_);
        for (bool ok = c.first(); ok; ok = c.next()) ++counts.inline_bodies;
    });
    return counts;
}

void Store::collect_garbage() {
    std::error_code ec;
    fs::remove_all(spool_, ec);  // the shared spool directory of versions before 2026-11-27
    std::set<std::string> live;
    env_.read([&](core::lmdb::ReadTxn& txn) {
        auto c = core::lmdb::Cursor::open(txn, objects_db_);
        for (bool ok = c.first(); ok; ok = c.next())
            for (auto& e : decode_entries(c.value()))
                for (auto& v : e.versions)
                    if (!v.file.empty()) live.insert(v.file);
        auto u = core::lmdb::Cursor::open(txn, uploads_);
        for (bool ok = u.first(); ok; ok = u.next()) {
            json j = json::parse(u.value());
            for (auto& [n, p] : j.at("parts").items()) live.insert(p.at("f").get<std::string>());
        }
    });
    // Inline bodies are written with their record, so none should be unreferenced; a
    // check costs one pass over their keys.
    std::size_t removed_inline = env_.write([&](core::lmdb::WriteTxn& txn) {
        std::size_t n = 0;
        auto c = core::lmdb::Cursor::open(txn, blobs_);
        for (bool ok = c.first(); ok; ok = c.next())
            if (!live.contains(std::string(c.key()))) {
                c.del();
                ++n;
            }
        return n;
    });
    if (removed_inline) core::log::warn("s3: removed {} unreferenced inline object bod(y/ies)", removed_inline);
    std::size_t removed = 0;
    for (auto& dir : fs::directory_iterator(objects_, ec))
        for (auto& f : fs::directory_iterator(dir.path(), ec))
            if (!live.contains(f.path().filename().string())) {
                fs::remove(f.path(), ec);
                ++removed;
            }
    if (removed) core::log::info("s3: removed {} unreferenced object file(s)", removed);
}

std::optional<Bucket> Store::get_bucket(const core::lmdb::Txn& txn, std::string_view name) const {
    auto v = txn.get(buckets_, name);
    if (!v) return std::nullopt;
    // Every object call reads its bucket; the record rarely changes, so each thread keeps
    // the last one it parsed, reused while the stored bytes are the same.
    struct Parsed {
        std::string name, raw;
        Bucket bucket;
    };
    thread_local Parsed last;
    if (last.name == name && last.raw == *v) return last.bucket;
    json j = json::parse(*v);
    Bucket b;
    b.name = std::string(name);
    b.created_ms = j.at("created").get<std::int64_t>();
    b.region = j.value("region", "us-east-1");
    b.versioning = j.value("versioning", "");
    if (auto it = j.find("configs"); it != j.end()) b.configs = it->get<std::map<std::string, std::string>>();
    if (auto it = j.find("tags"); it != j.end()) {
        b.tags = tags_from(*it);
        b.has_tags = true;
    }
    last = Parsed{std::string(name), std::string(*v), b};
    return b;
}

void Store::put_bucket(core::lmdb::WriteTxn& txn, const Bucket& b) {
    json j = {{"created", b.created_ms}, {"region", b.region}, {"versioning", b.versioning}, {"configs", b.configs}};
    if (b.has_tags) j["tags"] = tags_json(b.tags);
    txn.put(buckets_, b.name, j.dump(-1, ' ', false, json::error_handler_t::replace));
}

void Store::delete_bucket(core::lmdb::WriteTxn& txn, std::string_view name) { txn.del(buckets_, name); }

std::vector<Bucket> Store::list_buckets(const core::lmdb::Txn& txn) const {
    std::vector<std::string> names;
    {
        auto c = core::lmdb::Cursor::open(txn, buckets_);
        for (bool ok = c.first(); ok; ok = c.next()) names.emplace_back(c.key());
    }
    std::vector<Bucket> out;
    for (auto& n : names)
        if (auto b = get_bucket(txn, n)) out.push_back(std::move(*b));
    return out;
}

bool Store::bucket_empty(const core::lmdb::Txn& txn, std::string_view name, bool count_uploads) const {
    std::string prefix = std::string(name) + '\0';
    auto c = core::lmdb::Cursor::open(txn, objects_db_);
    if (c.seek(prefix) && c.key().starts_with(prefix)) return false;
    if (!count_uploads) return true;
    auto u = core::lmdb::Cursor::open(txn, uploads_);
    for (bool ok = u.first(); ok; ok = u.next())
        if (json::parse(u.value()).at("bucket").get<std::string>() == name) return false;
    return true;
}

std::string Store::slot(std::string_view bucket, std::string_view key) const {
    std::string s(bucket);
    s += '\0';
    std::size_t room = max_lmdb_key - s.size();
    s += key.substr(0, room);
    return s;
}

std::vector<Entry> Store::read_slot(const core::lmdb::Txn& txn, std::string_view slot_key) const {
    auto v = txn.get(objects_db_, slot_key);
    if (!v) return {};
    return decode_entries(*v);
}

std::optional<Entry> Store::get_entry(const core::lmdb::Txn& txn, std::string_view bucket, std::string_view key) const {
    auto v = txn.get(objects_db_, slot(bucket, key));
    if (!v) return std::nullopt;
    for (auto& e : decode_entries(*v))
        if (e.key == key) return std::move(e);
    return std::nullopt;
}

void Store::put_entry(core::lmdb::WriteTxn& txn, std::string_view bucket, const Entry& e) {
    std::string s = slot(bucket, e.key);
    auto entries = read_slot(txn, s);
    auto it = std::lower_bound(entries.begin(), entries.end(), e.key,
                               [](const Entry& a, const std::string& k) { return a.key < k; });
    bool found = it != entries.end() && it->key == e.key;
    if (e.versions.empty()) {
        if (found) entries.erase(it);
    } else if (found) {
        *it = e;
    } else {
        entries.insert(it, e);
    }
    if (entries.empty())
        txn.del(objects_db_, s);
    else
        txn.put(objects_db_, s, encode_entries(entries));
}

void Store::scan(const core::lmdb::Txn& txn, std::string_view bucket, std::string_view from,
                 const std::function<bool(const Entry&)>& fn) const {
    std::string prefix = std::string(bucket) + '\0';
    auto c = core::lmdb::Cursor::open(txn, objects_db_);
    for (bool ok = c.seek(slot(bucket, from)); ok && c.key().starts_with(prefix); ok = c.next()) {
        for (auto& e : decode_entries(c.value())) {
            if (e.key < from) continue;
            if (!fn(e)) return;
        }
    }
}

namespace {

json upload_json(const Upload& u) {
    json parts = json::object();
    for (auto& [n, p] : u.parts)
        parts[std::to_string(n)] = {{"f", p.file}, {"s", p.size}, {"e", p.etag}, {"m", p.md5}, {"t", p.last_modified_ms},
                                    {"c", p.checksum}};
    return {{"bucket", u.bucket}, {"key", u.key}, {"initiated", u.initiated_ms}, {"proto", version_json(u.prototype)},
            {"parts", std::move(parts)}};
}

}  // namespace

std::optional<Upload> Store::get_upload(const core::lmdb::Txn& txn, std::string_view id) const {
    auto v = txn.get(uploads_, id);
    if (!v) return std::nullopt;
    json j = json::parse(*v);
    Upload u;
    u.id = std::string(id);
    u.bucket = j.at("bucket").get<std::string>();
    u.key = j.at("key").get<std::string>();
    u.initiated_ms = j.at("initiated").get<std::int64_t>();
    u.prototype = version_from(j.at("proto"));
    for (auto& [n, p] : j.at("parts").items()) {
        Part part;
        part.number = std::stoi(n);
        part.file = p.at("f").get<std::string>();
        part.size = p.at("s").get<std::uint64_t>();
        part.etag = p.at("e").get<std::string>();
        part.md5 = p.at("m").get<std::string>();
        part.last_modified_ms = p.at("t").get<std::int64_t>();
        part.checksum = p.value("c", "");
        u.parts[part.number] = std::move(part);
    }
    return u;
}

void Store::put_upload(core::lmdb::WriteTxn& txn, const Upload& u) {
    txn.put(uploads_, u.id, upload_json(u).dump(-1, ' ', false, json::error_handler_t::replace));
}

void Store::delete_upload(core::lmdb::WriteTxn& txn, std::string_view id) { txn.del(uploads_, id); }

std::vector<Upload> Store::list_uploads(const core::lmdb::Txn& txn, std::string_view bucket) const {
    std::vector<std::string> ids;
    {
        auto c = core::lmdb::Cursor::open(txn, uploads_);
        for (bool ok = c.first(); ok; ok = c.next()) ids.emplace_back(c.key());
    }
    std::vector<Upload> out;
    for (auto& id : ids)
        if (auto u = get_upload(txn, id); u && u->bucket == bucket) out.push_back(std::move(*u));
    std::sort(out.begin(), out.end(), [](const Upload& a, const Upload& b) {
        return a.key != b.key ? a.key < b.key : a.initiated_ms < b.initiated_ms;
    });
    return out;
}

std::optional<std::string> Store::get_completed(const core::lmdb::Txn& txn, std::string_view id) const {
    auto v = txn.get(completed_, id);
    if (!v || v->size() < 8) return std::nullopt;
    return std::string(v->substr(8));
}

void Store::put_completed(core::lmdb::WriteTxn& txn, std::string_view id, std::string_view result_json,
                          std::int64_t now_ms) {
    // Value: u64be(completion time ms) then the JSON. Records older than a day go as new
    // ones come: each completion looks at the 256 records after its own id (ids are
    // random, so every record is looked at as completions go on) and drops expired ones.
    constexpr std::int64_t keep_ms = 24 * 3600 * 1000LL;
    std::vector<std::string> old;
    {
        auto c = core::lmdb::Cursor::open(txn, completed_);
        int seen = 0;
        for (bool ok = c.seek(id); ok && ++seen <= 256; ok = c.next()) {
            auto v = c.value();
            if (v.size() < 8) continue;
            std::int64_t t = 0;
            for (int i = 0; i < 8; ++i) t = (t << 8) | static_cast<unsigned char>(v[static_cast<std::size_t>(i)]);
            if (now_ms - t > keep_ms) old.emplace_back(c.key());
        }
    }
    for (auto& k : old) txn.del(completed_, k);
    std::string value(8, '\0');
    for (int i = 0; i < 8; ++i) value[static_cast<std::size_t>(i)] = static_cast<char>((static_cast<std::uint64_t>(now_ms) >> (56 - 8 * i)) & 0xFF);
    value += result_json;
    txn.put(completed_, id, value);
}

void Store::reset() {
    env_.write([&](core::lmdb::WriteTxn& txn) {
        txn.clear(completed_);
        txn.clear(buckets_);
        txn.clear(objects_db_);
        txn.clear(uploads_);
        txn.clear(blobs_);
    });
    std::error_code ec;
    for (auto& made : made_) made.store(false, std::memory_order_relaxed);
    for (auto& e : fs::directory_iterator(objects_, ec)) fs::remove_all(e.path(), ec);
}

}  // namespace stratus::s3

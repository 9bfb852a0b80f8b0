#include "dynamo/streams/stream_store.hpp"

#include <fmt/format.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "core/crypto.hpp"
#include "core/log.hpp"

namespace stratus::dynamo::streams {

namespace lmdb = core::lmdb;
using json = nlohmann::json;

namespace {

constexpr std::string_view seq_key = "stream_seq";
constexpr unsigned char record_format = 1;  // stored on disk

std::string u32be(std::uint32_t v) {
    std::string s(4, '\0');
    for (int i = 3; i >= 0; --i, v >>= 8) s[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xFF);
    return s;
}

std::string u64be(std::uint64_t v) {
    std::string s(8, '\0');
    for (int i = 7; i >= 0; --i, v >>= 8) s[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xFF);
    return s;
}

std::uint64_t read_be(std::string_view s, std::size_t n) {
    if (s.size() < n) throw std::runtime_error("stream record truncated");
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
    return v;
}

void put_blob(std::string& out, std::string_view bytes) {
    out += u32be(static_cast<std::uint32_t>(bytes.size()));
    out.append(bytes);
}

std::string_view take_blob(std::string_view& in) {
    auto n = static_cast<std::size_t>(read_be(in, 4));
    in.remove_prefix(4);
    if (in.size() < n) throw std::runtime_error("stream record truncated");
    std::string_view b = in.substr(0, n);
    in.remove_prefix(n);
    return b;
}

std::int64_t system_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string_view event_name(EventName e) {
    switch (e) {
        case EventName::insert: return "INSERT";
        case EventName::modify: return "MODIFY";
        case EventName::remove: return "REMOVE";
    }
    return "INSERT";
}

std::optional<ViewType> parse_view_type(std::string_view name) {
    if (name == "KEYS_ONLY") return ViewType::keys_only;
    if (name == "NEW_IMAGE") return ViewType::new_image;
    if (name == "OLD_IMAGE") return ViewType::old_image;
    if (name == "NEW_AND_OLD_IMAGES") return ViewType::new_and_old_images;
    return std::nullopt;
}

std::string_view view_type_name(ViewType v) {
    switch (v) {
        case ViewType::keys_only: return "KEYS_ONLY";
        case ViewType::new_image: return "NEW_IMAGE";
        case ViewType::old_image: return "OLD_IMAGE";
        case ViewType::new_and_old_images: return "NEW_AND_OLD_IMAGES";
    }
    return "KEYS_ONLY";
}

std::size_t Record::size_bytes() const {
    std::size_t n = item_size(keys);
    if (new_image) n += item_size(*new_image);
    if (old_image) n += item_size(*old_image);
    return n;
}

std::string encode_record(const Record& r) {
    // format u8 | event u8 | flags u8 (1: by the service) | created ms i64be |
    // keys, new image, old image: u32be length + encode_item (length 0: absent)
    std::string out;
    out += static_cast<char>(record_format);
    out += static_cast<char>(r.event);
    out += static_cast<char>(r.by_service ? 1 : 0);
    out += u64be(static_cast<std::uint64_t>(r.created_ms));
    put_blob(out, encode_item(r.keys));
    put_blob(out, r.new_image ? encode_item(*r.new_image) : std::string());
    put_blob(out, r.old_image ? encode_item(*r.old_image) : std::string());
    return out;
}

Record decode_record(SequenceNumber seq, std::string_view in) {
    if (in.size() < 11 || static_cast<unsigned char>(in[0]) != record_format)
        throw std::runtime_error("unknown stream record format");
    Record r;
    r.seq = seq;
    auto e = static_cast<unsigned char>(in[1]);
    if (e < 1 || e > 3) throw std::runtime_error("bad stream record event");
    r.event = static_cast<EventName>(e);
    r.by_service = in[2] == 1;
    r.created_ms = static_cast<std::int64_t>(read_be(in.substr(3), 8));
    in.remove_prefix(11);
    r.keys = decode_item(take_blob(in));
    if (auto b = take_blob(in); !b.empty()) r.new_image = decode_item(b);
    if (auto b = take_blob(in); !b.empty()) r.old_image = decode_item(b);
    return r;
}

json record_json(const Record& r, ViewType view, std::string_view region, Form form, std::string_view stream_arn) {
    json d = json::object();
    // Whole seconds: "rounded down to the closest second" (StreamRecord's documentation).
    d["ApproximateCreationDateTime"] = r.created_ms / 1000;
    d["Keys"] = item_to_json(r.keys);
    if (r.new_image) d["NewImage"] = item_to_json(*r.new_image);
    if (r.old_image) d["OldImage"] = item_to_json(*r.old_image);
    d["SequenceNumber"] = r.seq.str();
    d["SizeBytes"] = r.size_bytes();
    d["StreamViewType"] = view_type_name(view);
    // eventID: unique per record and the same on every read of it.
    std::string id = core::crypto::hex(core::crypto::sha256(fmt::format("{}#{}", stream_arn, r.seq.value()))).substr(0, 32);
    json rec = {{"eventID", id},
                {"eventName", event_name(r.event)},
                {"eventVersion", "1.1"},
                {"eventSource", "aws:dynamodb"},
                {"awsRegion", region},
                {"dynamodb", std::move(d)}};
    if (form == Form::event) rec["eventSourceARN"] = stream_arn;
    if (r.by_service) {
        // TTL deletions (developer guide, "DynamoDB Streams and Time to Live"). The Streams
        // API's Identity shape spells its members PrincipalId / Type; stream events
        // principalId / type.
        if (form == Form::event)
            rec["userIdentity"] = {{"type", "Service"}, {"principalId", "dynamodb.amazonaws.com"}};
        else
            rec["userIdentity"] = {{"PrincipalId", "dynamodb.amazonaws.com"}, {"Type", "Service"}};
    }
    return rec;
}

const Shard* Stream::shard(std::string_view shard_id) const {
    for (auto& s : shards)
        if (s.id == shard_id) return &s;
    return nullptr;
}

json Stream::to_json() const {
    json sh = json::array();
    for (auto& s : shards) {
        json j = {{"id", s.id}, {"parent", s.parent}, {"start", s.start.value()}, {"created", s.created_ms}};
        if (s.end) {
            j["end"] = s.end->value();
            j["closed"] = s.closed_ms;
        }
        sh.push_back(std::move(j));
    }
    return {{"id", id},
            {"arn", arn},
            {"label", label},
            {"table", table},
            {"view", view_type_name(view)},
            {"keys", key_names},
            {"created", created_ms},
            {"enabled", enabled},
            {"disabled", disabled_ms},
            {"trim", trim_horizon.value()},
            {"shards", std::move(sh)}};
}

Stream Stream::from_json(const json& j) {
    Stream s;
    s.id = j.at("id").get<std::uint32_t>();
    s.arn = j.at("arn").get<std::string>();
    s.label = j.at("label").get<std::string>();
    s.table = j.at("table").get<std::string>();
    s.view = parse_view_type(j.at("view").get<std::string>()).value_or(ViewType::keys_only);
    s.key_names = j.at("keys").get<std::vector<std::string>>();
    s.created_ms = j.at("created").get<std::int64_t>();
    s.enabled = j.at("enabled").get<bool>();
    s.disabled_ms = j.value("disabled", std::int64_t{0});
    s.trim_horizon = SequenceNumber(j.value("trim", std::uint64_t{0}));
    for (auto& x : j.at("shards")) {
        Shard sh;
        sh.id = x.at("id").get<std::string>();
        sh.parent = x.value("parent", "");
        sh.start = SequenceNumber(x.at("start").get<std::uint64_t>());
        sh.created_ms = x.value("created", std::int64_t{0});
        if (x.contains("end")) {
            sh.end = SequenceNumber(x["end"].get<std::uint64_t>());
            sh.closed_ms = x.value("closed", std::int64_t{0});
        }
        s.shards.push_back(std::move(sh));
    }
    return s;
}

StreamStore::StreamStore(lmdb::Env& env, lmdb::Dbi counter_db, StreamOptions options)
    : now_ms(system_now_ms), env_(env), options_(std::move(options)), streams_(env.open_db("ddb_streams")),
      records_(env.open_db("ddb_stream_records")), counter_(counter_db) {}

std::string StreamStore::record_key(std::uint32_t stream, SequenceNumber seq) const {
    return u32be(stream) + u64be(seq.value());
}

SequenceNumber StreamStore::next(const lmdb::Txn& txn) const {
    auto v = txn.get(counter_, seq_key);
    return SequenceNumber(v ? read_be(*v, 8) : 1);
}

SequenceNumber StreamStore::take_seq(lmdb::WriteTxn& txn) {
    SequenceNumber s = next(txn);
    txn.put(counter_, seq_key, u64be(s.value() + 1));
    return s;
}

Shard StreamStore::new_shard(lmdb::WriteTxn& txn, const std::string& parent, std::int64_t now) const {
    thread_local std::mt19937 salt{std::random_device{}()};
    Shard s;
    s.id = make_shard_id(now, static_cast<std::uint32_t>(salt()));
    s.parent = parent;
    s.start = next(txn);
    s.created_ms = now;
    return s;
}

void StreamStore::close_open_shard(lmdb::WriteTxn& txn, Stream& s, std::int64_t now) {
    if (s.shards.empty() || s.shards.back().end) return;
    // A number no record gets: every record of the shard is below it, every later one
    // above, so the ranges of parent and child never overlap (even for an empty shard).
    s.shards.back().end = take_seq(txn);
    s.shards.back().closed_ms = now;
}

void StreamStore::put_stream(lmdb::WriteTxn& txn, const Stream& s) { txn.put(streams_, s.arn, s.to_json().dump()); }

void StreamStore::create(lmdb::WriteTxn& txn, TableDef& table, ViewType view, std::uint32_t id) {
    std::int64_t now = now_ms();
    Stream s;
    s.id = id;
    s.label = stream_label(now);
    // Labels name streams of one table: a re-enable within the same millisecond gets the
    // next one.
    while (txn.get(streams_, table.arn + "/stream/" + s.label)) s.label = stream_label(++now);
    s.arn = table.arn + "/stream/" + s.label;
    s.table = table.name;
    s.view = view;
    s.key_names.push_back(table.key.hash.name);
    if (table.key.range) s.key_names.push_back(table.key.range->name);
    s.created_ms = now;
    s.trim_horizon = next(txn);
    s.shards.push_back(new_shard(txn, "", now));
    put_stream(txn, s);
    table.stream_enabled = true;
    table.stream_view_type = std::string(view_type_name(view));
    table.stream_label = s.label;
    table.stream_id = id;
}

void StreamStore::disable(lmdb::WriteTxn& txn, TableDef& table) {
    table.stream_enabled = false;
    if (table.stream_label.empty()) return;
    auto found = find(txn, table.arn + "/stream/" + table.stream_label);
    if (!found || !found->enabled) return;
    std::int64_t now = now_ms();
    found->enabled = false;
    found->disabled_ms = now;
    close_open_shard(txn, *found, now);
    put_stream(txn, *found);
}

void StreamStore::append(lmdb::WriteTxn& txn, const TableDef& table, const Item* old_item, const Item* new_item,
                         std::string_view new_bytes, bool by_service) {
    if (!table.stream_enabled || table.stream_id == 0) return;
    if (!old_item && !new_item) return;
    std::optional<std::string> old_bytes;
    if (old_item) {
        old_bytes = encode_item(*old_item);
        // The encoding is canonical (maps and sets sorted): equal bytes, equal items.
        if (new_item && *old_bytes == new_bytes) return;
    }
    auto view = parse_view_type(table.stream_view_type).value_or(ViewType::keys_only);
    Record r;
    r.event = !old_item ? EventName::insert : new_item ? EventName::modify : EventName::remove;
    r.created_ms = now_ms();
    r.by_service = by_service;
    r.keys = key_of(new_item ? *new_item : *old_item, table.key);
    // The images the view type keeps, and only those, are stored.
    std::string value;
    value += static_cast<char>(record_format);
    value += static_cast<char>(r.event);
    value += static_cast<char>(by_service ? 1 : 0);
    value += u64be(static_cast<std::uint64_t>(r.created_ms));
    put_blob(value, encode_item(r.keys));
    bool want_new = view == ViewType::new_image || view == ViewType::new_and_old_images;
    bool want_old = view == ViewType::old_image || view == ViewType::new_and_old_images;
    put_blob(value, want_new && new_item ? new_bytes : std::string_view());
    put_blob(value, want_old && old_bytes ? std::string_view(*old_bytes) : std::string_view());
    SequenceNumber seq = take_seq(txn);
    txn.put(records_, record_key(table.stream_id, seq), value);
    txn.after_commit([this] { notify(); });
}

std::optional<Stream> StreamStore::find(const lmdb::Txn& txn, std::string_view arn) const {
    if (!arn.starts_with("arn:")) return std::nullopt;
    auto v = txn.get(streams_, arn);
    if (!v) return std::nullopt;
    return Stream::from_json(json::parse(*v));
}

std::vector<Stream> StreamStore::list(const lmdb::Txn& txn) const {
    std::vector<Stream> out;
    auto c = lmdb::Cursor::open(txn, streams_);
    for (bool ok = c.first(); ok; ok = c.next()) out.push_back(Stream::from_json(json::parse(c.value())));
    return out;
}

std::vector<Record> StreamStore::read(const lmdb::Txn& txn, const Stream& stream, SequenceNumber from,
                                      std::optional<SequenceNumber> to, std::size_t limit,
                                      std::size_t max_bytes) const {
    std::vector<Record> out;
    std::string prefix = u32be(stream.id);
    std::size_t bytes = 0;
    auto c = lmdb::Cursor::open(txn, records_);
    for (bool ok = c.seek(record_key(stream.id, from)); ok && out.size() < limit; ok = c.next()) {
        std::string_view k = c.key();
        if (!k.starts_with(prefix) || k.size() != 12) break;
        SequenceNumber seq(read_be(k.substr(4), 8));
        if (to && *to < seq) break;
        Record r = decode_record(seq, c.value());
        bytes += r.size_bytes();
        if (!out.empty() && bytes > max_bytes) break;
        out.push_back(std::move(r));
    }
    return out;
}

bool StreamStore::rotate(std::string_view arn) {
    return env_.write([&](lmdb::WriteTxn& txn) {
        auto s = find(txn, arn);
        if (!s || !s->enabled || s->shards.empty()) return false;
        std::int64_t now = now_ms();
        std::string parent = s->shards.back().id;
        close_open_shard(txn, *s, now);
        s->shards.push_back(new_shard(txn, parent, now));
        put_stream(txn, *s);
        return true;
    });
}

std::size_t StreamStore::maintain() {
    std::int64_t now = now_ms();
    std::int64_t cutoff = now - options_.retention_ms;
    // Decide from a snapshot; each stream's work runs in its own short write transaction.
    struct Work {
        std::string arn;
        bool trim = false, rotate = false, drop = false, forget_shards = false;
    };
    std::vector<Work> work = env_.read([&](lmdb::ReadTxn& txn) {
        std::vector<Work> out;
        for (auto& s : list(txn)) {
            Work w{s.arn};
            if (!s.enabled && s.disabled_ms <= cutoff) w.drop = true;
            if (s.enabled && !s.shards.empty() && !s.shards.back().end &&
                s.shards.back().created_ms <= now - options_.rotation_ms)
                w.rotate = true;
            for (auto& sh : s.shards)
                if (sh.end && sh.closed_ms <= cutoff) w.forget_shards = true;
            auto oldest = read(txn, s, s.trim_horizon, std::nullopt, 1, SIZE_MAX);
            if (!oldest.empty() && oldest.front().created_ms <= cutoff) w.trim = true;
            if (w.trim || w.rotate || w.drop || w.forget_shards) out.push_back(std::move(w));
        }
        return out;
    });
    std::size_t trimmed = 0;
    for (auto& w : work) {
        // At most this many deletions per transaction, so writers are not held up.
        constexpr std::size_t batch = 4096;
        for (bool more = true; more;) {
            more = false;
            trimmed += env_.write([&](lmdb::WriteTxn& txn) -> std::size_t {
                auto s = find(txn, w.arn);
                if (!s) return 0;
                std::string prefix = u32be(s->id);
                std::size_t n = 0;
                if (w.drop) {
                    auto c = lmdb::Cursor::open(txn, records_);
                    for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix) && n < batch; ++n) {
                        c.del();
                        ok = c.next();
                    }
                    more = n == batch;
                    if (!more) txn.del(streams_, s->arn);
                    return n;
                }
                if (w.trim) {
                    std::optional<SequenceNumber> last;
                    {
                        auto c = lmdb::Cursor::open(txn, records_);
                        for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix) && n < batch;) {
                            Record r = decode_record(SequenceNumber(read_be(c.key().substr(4), 8)), c.value());
                            if (r.created_ms > cutoff) break;
                            last = r.seq;
                            c.del();
                            ++n;
                            ok = c.next();
                        }
                    }
                    more = n == batch;
                    if (last && s->trim_horizon <= *last) s->trim_horizon = SequenceNumber(last->value() + 1);
                }
                if (w.rotate && !more && s->enabled && !s->shards.empty() && !s->shards.back().end) {
                    std::string parent = s->shards.back().id;
                    close_open_shard(txn, *s, now);
                    s->shards.push_back(new_shard(txn, parent, now));
                }
                // A closed shard whose records have all expired goes from the stream.
                std::erase_if(s->shards, [&](const Shard& sh) { return sh.end && sh.closed_ms <= cutoff; });
                put_stream(txn, *s);
                return n;
            });
        }
    }
    if (trimmed) core::log::debug("dynamodb streams: trimmed {} record(s) past retention", trimmed);
    return trimmed;
}

void StreamStore::subscribe(std::function<void()> fn) {
    std::lock_guard lock(subscribers_mutex_);
    subscribers_.push_back(std::move(fn));
}

void StreamStore::notify() {
    std::lock_guard lock(subscribers_mutex_);
    for (auto& fn : subscribers_) fn();
}

void StreamStore::reset(lmdb::WriteTxn& txn) {
    txn.clear(streams_);
    txn.clear(records_);
}

}  // namespace stratus::dynamo::streams

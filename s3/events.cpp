#include "s3/events.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/http_types.hpp"
#include "s3/ops.hpp"
#include "s3/xml.hpp"

namespace stratus::s3 {

namespace {

constexpr std::size_t max_pending = 10000;

// "s3:ObjectCreated:*" matches "ObjectCreated:Put"; exact names match themselves.
bool event_matches(std::string_view pattern, std::string_view name) {
    if (pattern.starts_with("s3:")) pattern.remove_prefix(3);
    if (pattern.ends_with(":*")) return name.starts_with(pattern.substr(0, pattern.size() - 1));
    return pattern == name;
}

// Keys in event records are URL-encoded with '+' for spaces, as S3 sends them.
std::string event_key(std::string_view key) {
    std::string enc = core::uri_encode(key, false);
    std::string out;
    for (std::size_t i = 0; i < enc.size(); ++i) {
        if (enc.compare(i, 3, "%20") == 0) {
            out += '+';
            i += 2;
        } else {
            out += enc[i];
        }
    }
    return out;
}

}  // namespace

std::vector<EventRecord> build_records(const std::string& notification_xml, const ObjectChange& change,
                                       std::uint64_t sequence) {
    std::vector<EventRecord> out;
    auto doc = parse_xml(notification_xml);
    if (!doc) return out;
    // botocore writes LambdaFunctionConfigurations as <CloudFunctionConfiguration> with
    // <CloudFunction>; the documented form is <LambdaFunctionConfiguration>/<LambdaFunctionArn>.
    for (auto& c : doc->children) {
        if (c.name != "CloudFunctionConfiguration" && c.name != "LambdaFunctionConfiguration") continue;
        std::string arn = c.child_text("CloudFunction").value_or(c.child_text("LambdaFunctionArn").value_or(""));
        bool matched = false;
        for (auto* e : c.all("Event")) matched = matched || event_matches(e->text, change.event_name);
        if (!matched) continue;
        bool keep = true;
        if (auto* f = c.child("Filter"))
            if (auto* k = f->child("S3Key"))
                for (auto* rule : k->all("FilterRule")) {
                    std::string name = rule->child_text("Name").value_or("");
                    std::string value = rule->child_text("Value").value_or("");
                    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                    if (name == "prefix" && !change.key.starts_with(value)) keep = false;
                    if (name == "suffix" && !change.key.ends_with(value)) keep = false;
                }
        if (!keep) continue;
        std::string id = c.child_text("Id").value_or("");
        nlohmann::json object = {{"key", event_key(change.key)}, {"sequencer", fmt::format("{:016X}", sequence)}};
        if (change.event_name.starts_with("ObjectCreated")) {
            object["size"] = change.size;
            object["eTag"] = change.etag;
        }
        if (!change.version_id.empty()) object["versionId"] = change.version_id;
        nlohmann::json record = {
            {"eventVersion", "2.1"},
            {"eventSource", "aws:s3"},
            {"awsRegion", "us-east-1"},
            {"eventTime", iso8601(change.time_ms)},
            {"eventName", change.event_name},
            {"userIdentity", {{"principalId", "AWS:000000000000"}}},
            {"requestParameters", {{"sourceIPAddress", change.source_ip.empty() ? "127.0.0.1" : change.source_ip}}},
            {"responseElements", {{"x-amz-request-id", change.request_id}, {"x-amz-id-2", "stratus"}}},
            {"s3",
             {{"s3SchemaVersion", "1.0"},
              {"configurationId", id},
              {"bucket",
               {{"name", change.bucket},
                {"ownerIdentity", {{"principalId", "000000000000"}}},
                {"arn", "arn:aws:s3:::" + change.bucket}}},
              {"object", object}}}};
        nlohmann::json event = {{"Records", nlohmann::json::array({record})}};
        out.push_back({arn, id, event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
    }
    return out;
}

namespace {

constexpr std::string_view seq_key = "\xff\xffseq";

std::string u64be(std::uint64_t v) {
    std::string s(8, '\0');
    for (int i = 7; i >= 0; --i, v >>= 8) s[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xFF);
    return s;
}

std::uint64_t read_u64be(std::string_view s) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
    return v;
}

}  // namespace

EventOutbox::EventOutbox(core::lmdb::Env& env) : env_(env), dbi_(env.open_db("s3_events")) {}

void EventOutbox::stage(core::lmdb::WriteTxn& txn, const std::string& notification_xml, const ObjectChange& change) {
    if (notification_xml.empty()) return;
    auto last = txn.get(dbi_, seq_key);
    std::uint64_t seq = std::max<std::uint64_t>(last ? read_u64be(*last) + 1 : 1,
                                                static_cast<std::uint64_t>(std::max<std::int64_t>(change.time_ms, 0)) * 1000);
    auto records = build_records(notification_xml, change, seq);
    if (records.empty()) return;
    for (auto& r : records) {
        nlohmann::json v = {{"f", r.function_arn}, {"c", r.configuration_id}, {"r", r.record_json}};
        txn.put(dbi_, u64be(seq), v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        ++seq;
    }
    txn.put(dbi_, seq_key, u64be(seq - 1));
    txn.after_commit([this, records = std::move(records)]() mutable { committed(std::move(records)); });
}

void EventOutbox::committed(std::vector<EventRecord> records) {
    std::lock_guard lock(mutex_);
    if (tap_)
        for (auto& r : records) {
            if (tapped_.size() >= max_pending) tapped_.pop_front();
            tapped_.push_back(std::move(r));
        }
    for (auto& fn : subscribers_) fn();
}

std::vector<EventOutbox::Pending> EventOutbox::pending(std::size_t max) {
    std::vector<Pending> out;
    env_.read([&](core::lmdb::ReadTxn& txn) {
        auto c = core::lmdb::Cursor::open(txn, dbi_);
        for (bool ok = c.first(); ok && out.size() < max && c.key().size() == 8; ok = c.next()) {
            auto j = nlohmann::json::parse(c.value(), nullptr, false);
            if (!j.is_object()) continue;
            out.push_back({fmt::format("{:016x}", read_u64be(c.key())),
                           {j.value("f", ""), j.value("c", ""), j.value("r", "")}});
        }
    });
    return out;
}

void EventOutbox::acknowledge(const std::vector<std::string>& ids) {
    if (ids.empty()) return;
    env_.write([&](core::lmdb::WriteTxn& txn) {
        for (auto& id : ids) {
            std::uint64_t v = 0;
            try {
                v = std::stoull(id, nullptr, 16);
            } catch (const std::exception&) {
                continue;
            }
            txn.del(dbi_, u64be(v));
        }
    });
}

std::size_t EventOutbox::size() {
    return env_.read([&](core::lmdb::ReadTxn& txn) {
        std::size_t n = txn.entries(dbi_);
        return txn.get(dbi_, seq_key) ? n - 1 : n;
    });
}

void EventOutbox::subscribe(std::function<void()> fn) {
    std::lock_guard lock(mutex_);
    subscribers_.push_back(std::move(fn));
}

void EventOutbox::enable_tap() {
    std::lock_guard lock(mutex_);
    tap_ = true;
}

std::vector<EventRecord> EventOutbox::drain_tap() {
    std::lock_guard lock(mutex_);
    std::vector<EventRecord> out(std::make_move_iterator(tapped_.begin()), std::make_move_iterator(tapped_.end()));
    tapped_.clear();
    return out;
}

void EventOutbox::reset(core::lmdb::WriteTxn& txn) {
    // The sequence survives: sequencers keep growing.
    std::optional<std::string> last;
    if (auto v = txn.get(dbi_, seq_key)) last = std::string(*v);
    txn.clear(dbi_);
    if (last) txn.put(dbi_, seq_key, *last);
    std::lock_guard lock(mutex_);
    tapped_.clear();
}

}  // namespace stratus::s3

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

void EventSink::publish(const std::string& notification_xml, const ObjectChange& change) {
    std::lock_guard lock(mutex_);
    for (auto& r : build_records(notification_xml, change, ++sequence_ + static_cast<std::uint64_t>(change.time_ms) * 1000)) {
        if (queue_.size() >= max_pending) queue_.pop_front();  // nobody consumes: keep the newest
        queue_.push_back(std::move(r));
    }
}

std::vector<EventRecord> EventSink::drain() {
    std::lock_guard lock(mutex_);
    std::vector<EventRecord> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
    queue_.clear();
    return out;
}

std::size_t EventSink::pending() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

}  // namespace stratus::s3

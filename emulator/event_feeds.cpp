#include "emulator/event_feeds.hpp"

#include <nlohmann/json.hpp>

namespace stratus::emulator {

namespace {

namespace ds = dynamo::streams;
namespace lmdb = core::lmdb;

// Lambda reads at most 6 MB per batch; the source stops a little above that.
constexpr std::size_t max_read_bytes = 8 * 1024 * 1024;

class StreamFeed final : public lambda::StreamEventSource {
public:
    StreamFeed(lmdb::Env& env, ds::StreamStore& streams) : env_(env), streams_(streams) {}

    bool exists(const std::string& arn) override {
        return env_.read([&](lmdb::ReadTxn& txn) { return streams_.find(txn, arn).has_value(); });
    }

    std::vector<lambda::StreamShardInfo> shards(const std::string& arn) override {
        return env_.read([&](lmdb::ReadTxn& txn) {
            std::vector<lambda::StreamShardInfo> out;
            if (auto s = streams_.find(txn, arn))
                for (auto& sh : s->shards) out.push_back({sh.id, sh.parent, sh.end.has_value()});
            return out;
        });
    }

    lambda::StreamBatch read(const std::string& arn, const std::string& shard_id, const std::string& after,
                             std::size_t limit) override {
        return env_.read([&](lmdb::ReadTxn& txn) {
            lambda::StreamBatch batch;
            auto s = streams_.find(txn, arn);
            if (!s) return batch;
            const ds::Shard* sh = s->shard(shard_id);
            if (!sh) {
                batch.shard_end = true;  // past retention: nothing more to read there
                return batch;
            }
            ds::SequenceNumber from = sh->start;
            if (!after.empty())
                if (auto seq = ds::SequenceNumber::parse(after)) from = ds::SequenceNumber(seq->value() + 1);
            // Records gone past the retention period are skipped.
            from = std::max(from, s->trim_horizon);
            auto records = streams_.read(txn, *s, from, sh->end, limit, max_read_bytes);
            for (auto& r : records)
                batch.records.push_back({r.seq.str(),
                                         ds::record_json(r, s->view, streams_.options().region, ds::Form::event, s->arn)
                                             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                                         r.created_ms});
            if (sh->end) {
                ds::SequenceNumber next = records.empty() ? from : ds::SequenceNumber(records.back().seq.value() + 1);
                batch.shard_end = *sh->end < next || streams_.read(txn, *s, next, sh->end, 1, SIZE_MAX).empty();
            }
            return batch;
        });
    }

    std::string latest(const std::string&) override {
        return env_.read([&](lmdb::ReadTxn& txn) {
            auto next = streams_.next(txn);
            return ds::SequenceNumber(next.value() - 1).str();
        });
    }

    void subscribe(std::function<void()> fn) override { streams_.subscribe(std::move(fn)); }

private:
    lmdb::Env& env_;
    ds::StreamStore& streams_;
};

class S3Feed final : public lambda::S3EventSource {
public:
    explicit S3Feed(std::shared_ptr<s3::EventOutbox> outbox) : outbox_(std::move(outbox)) {}

    std::vector<lambda::S3EventData> pending(std::size_t max) override {
        std::vector<lambda::S3EventData> out;
        for (auto& p : outbox_->pending(max))
            out.push_back({std::move(p.id), std::move(p.record.function_arn), std::move(p.record.record_json)});
        return out;
    }
    void acknowledge(const std::vector<std::string>& ids) override { outbox_->acknowledge(ids); }
    void subscribe(std::function<void()> fn) override { outbox_->subscribe(std::move(fn)); }

private:
    std::shared_ptr<s3::EventOutbox> outbox_;
};

}  // namespace

std::shared_ptr<lambda::StreamEventSource> stream_feed(lmdb::Env& env, ds::StreamStore& streams) {
    return std::make_shared<StreamFeed>(env, streams);
}

std::shared_ptr<lambda::S3EventSource> s3_feed(std::shared_ptr<s3::EventOutbox> outbox) {
    return std::make_shared<S3Feed>(std::move(outbox));
}

}  // namespace stratus::emulator

#include "core/dispatcher.hpp"
#include "core/protocol.hpp"
#include "lambda/triggers.hpp"

namespace stratus::emulator {

namespace {

nlohmann::json schedule_json(const lambda::ScheduleSpec& s) {
    nlohmann::json j = {{"Name", s.name}, {"ScheduleExpression", s.expression}, {"Function", s.function},
                        {"State", s.enabled ? "ENABLED" : "DISABLED"}};
    if (s.input) j["Input"] = *s.input;
    if (s.input_path) j["InputPath"] = *s.input_path;
    if (s.input_template) {
        j["InputTransformer"] = {{"InputTemplate", *s.input_template}};
        if (s.input_paths_map) j["InputTransformer"]["InputPathsMap"] = nlohmann::json::parse(*s.input_paths_map, nullptr, false);
    }
    return j;
}

core::Response json_ok(const nlohmann::json& body) {
    return core::json_response(core::internal_protocol(), body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

nlohmann::json body_object(const core::Request& r) {
    auto in = nlohmann::json::parse(r.body, nullptr, false);
    if (!in.is_object()) throw core::AwsError::validation("body must be a JSON object");
    return in;
}

}  // namespace

void add_trigger_endpoints(core::Dispatcher& dispatcher, TriggerEndpoints ep) {
    lambda::Triggers* triggers = &ep.triggers;
    dispatcher.add_internal("POST", "/_stratus/schedules/", [triggers](const core::Request& r) {
        constexpr std::string_view prefix = "/_stratus/schedules/";
        std::string rest = r.decoded_path().substr(prefix.size());
        if (!rest.ends_with("/run") || rest.size() <= 4)
            throw core::AwsError("NotFound", "POST /_stratus/schedules/{name}/run", 404);
        std::string id = triggers->run_schedule(rest.substr(0, rest.size() - 4));
        return json_ok({{"RequestId", id}});
    });
    dispatcher.add_internal("GET", "/_stratus/schedules", [triggers](const core::Request&) {
        nlohmann::json list = nlohmann::json::array();
        for (auto& s : triggers->schedules()) list.push_back(schedule_json(s));
        return json_ok({{"Schedules", list}});
    });
    dispatcher.add_internal("GET", "/_stratus/lambda/event-source-mappings/", [triggers](const core::Request& r) {
        constexpr std::string_view prefix = "/_stratus/lambda/event-source-mappings/";
        std::string rest = r.decoded_path().substr(prefix.size());
        if (!rest.ends_with("/failures") || rest.size() <= 9)
            throw core::AwsError("NotFound", "GET /_stratus/lambda/event-source-mappings/{uuid}/failures", 404);
        nlohmann::json list = nlohmann::json::array();
        for (auto& f : triggers->failed_batches(rest.substr(0, rest.size() - 9))) list.push_back(nlohmann::json::parse(f));
        return json_ok({{"Failures", list}});
    });
    if (!ep.test_api) return;
    dispatcher.add_internal("POST", "/_stratus/test/lambda/schedule", [triggers](const core::Request& r) {
        auto in = body_object(r);
        lambda::ScheduleSpec s;
        s.name = in.value("name", "");
        s.expression = in.value("expression", "");
        s.function = in.value("function", "");
        s.enabled = in.value("enabled", true);
        auto opt = [&](const char* k) -> std::optional<std::string> {
            if (!in.contains(k)) return std::nullopt;
            return in[k].is_string() ? in[k].get<std::string>() : in[k].dump();
        };
        s.input = opt("input");
        s.input_path = opt("input_path");
        s.input_paths_map = opt("input_paths_map");
        s.input_template = opt("input_template");
        if (in.value("remove", false))
            triggers->remove_schedule(s.name);
        else
            triggers->declare_schedule(s);
        return json_ok(nlohmann::json::object());
    });
    dynamo::streams::StreamStore* streams = &ep.streams;
    dispatcher.add_internal("POST", "/_stratus/test/dynamodb/streams/rotate", [streams](const core::Request& r) {
        auto in = body_object(r);
        bool done = streams->rotate(in.value("StreamArn", ""));
        return json_ok({{"rotated", done}});
    });
    auto outbox = ep.outbox;
    outbox->enable_tap();
    dispatcher.add_internal("GET", "/_stratus/test/s3/events", [outbox](const core::Request&) {
        nlohmann::json out = nlohmann::json::array();
        for (auto& r : outbox->drain_tap())
            out.push_back({{"functionArn", r.function_arn},
                           {"configurationId", r.configuration_id},
                           {"event", nlohmann::json::parse(r.record_json)}});
        return json_ok(out);
    });
    dispatcher.add_internal("GET", "/_stratus/test/s3/outbox", [outbox](const core::Request&) {
        return json_ok({{"pending", outbox->size()}});
    });
}

}  // namespace stratus::emulator

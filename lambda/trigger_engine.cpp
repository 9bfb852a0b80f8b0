#include "lambda/trigger_engine.hpp"

#include <fmt/format.h>

#include <deque>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/protocol.hpp"
#include "lambda/function.hpp"
#include "lambda/schedule_input.hpp"
#include "lambda/trigger_engine_impl.hpp"

namespace stratus::lambda {

using json = nlohmann::json;
namespace lmdb = core::lmdb;
using core::AwsError;

namespace {

std::int64_t system_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

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

std::string prefix_of(const std::string& uuid) { return uuid + '\0'; }

json spec_json(const EventSourceMappingSpec& s) {
    return {{"function", s.function},
            {"source", s.event_source_arn},
            {"batch", s.batch_size},
            {"start", s.starting_position},
            {"enabled", s.enabled},
            {"window", s.maximum_batching_window_seconds},
            {"filters", s.filter_patterns},
            {"retries", s.maximum_retry_attempts},
            {"age", s.maximum_record_age_seconds},
            {"bisect", s.bisect_batch_on_function_error},
            {"report", s.report_batch_item_failures},
            {"destination", s.on_failure_destination},
            {"parallel", s.parallelization_factor}};
}

EventSourceMappingSpec spec_from(const json& j) {
    EventSourceMappingSpec s;
    s.function = j.at("function").get<std::string>();
    s.event_source_arn = j.at("source").get<std::string>();
    s.batch_size = j.value("batch", 100);
    s.starting_position = j.value("start", "TRIM_HORIZON");
    s.enabled = j.value("enabled", true);
    s.maximum_batching_window_seconds = j.value("window", 0);
    s.filter_patterns = j.value("filters", std::vector<std::string>{});
    s.maximum_retry_attempts = j.value("retries", -1);
    s.maximum_record_age_seconds = j.value("age", -1);
    s.bisect_batch_on_function_error = j.value("bisect", false);
    s.report_batch_item_failures = j.value("report", false);
    s.on_failure_destination = j.value("destination", "");
    s.parallelization_factor = j.value("parallel", 1);
    return s;
}

json schedule_json(const Schedule& s) {
    json j = {{"name", s.spec.name},
              {"expression", s.spec.expression},
              {"function", s.spec.function},
              {"enabled", s.spec.enabled},
              {"anchor", s.anchor}};
    if (s.spec.input) j["input"] = *s.spec.input;
    if (s.spec.input_path) j["input_path"] = *s.spec.input_path;
    if (s.spec.input_paths_map) j["input_paths_map"] = *s.spec.input_paths_map;
    if (s.spec.input_template) j["input_template"] = *s.spec.input_template;
    return j;
}

ScheduleSpec schedule_spec_from(const json& j) {
    ScheduleSpec s;
    s.name = j.at("name").get<std::string>();
    s.expression = j.at("expression").get<std::string>();
    s.function = j.at("function").get<std::string>();
    s.enabled = j.value("enabled", true);
    auto opt = [&](const char* k) -> std::optional<std::string> {
        if (!j.contains(k)) return std::nullopt;
        return j[k].get<std::string>();
    };
    s.input = opt("input");
    s.input_path = opt("input_path");
    s.input_paths_map = opt("input_paths_map");
    s.input_template = opt("input_template");
    return s;
}

}  // namespace

// ---------------------------------------------------------------- Mapping

json Mapping::configuration(std::string_view state) const {
    json on_failure = json::object();
    if (!spec.on_failure_destination.empty()) on_failure["Destination"] = spec.on_failure_destination;
    json types = json::array();
    if (spec.report_batch_item_failures) types.push_back("ReportBatchItemFailures");
    json c = {{"UUID", uuid},
              {"StartingPosition", spec.starting_position},
              {"BatchSize", spec.batch_size},
              {"MaximumBatchingWindowInSeconds", spec.maximum_batching_window_seconds},
              {"ParallelizationFactor", spec.parallelization_factor},
              {"EventSourceArn", spec.event_source_arn},
              {"FunctionArn", function_arn},
              {"LastModified", last_modified},
              {"LastProcessingResult", last_result},
              {"State", state},
              {"StateTransitionReason", "User action"},
              {"DestinationConfig", {{"OnFailure", on_failure}}},
              {"MaximumRecordAgeInSeconds", spec.maximum_record_age_seconds},
              {"BisectBatchOnFunctionError", spec.bisect_batch_on_function_error},
              {"MaximumRetryAttempts", spec.maximum_retry_attempts},
              {"TumblingWindowInSeconds", 0},
              {"FunctionResponseTypes", types},
              {"EventSourceMappingArn", fmt::format("arn:aws:lambda:{}:{}:event-source-mapping:{}", region, account, uuid)}};
    if (!spec.filter_patterns.empty()) {
        json filters = json::array();
        for (auto& p : spec.filter_patterns) filters.push_back({{"Pattern", p}});
        c["FilterCriteria"] = {{"Filters", filters}};
    }
    return c;
}

std::string Mapping::to_json() const {
    return json{{"uuid", uuid},
                {"spec", spec_json(spec)},
                {"function_arn", function_arn},
                {"modified", last_modified},
                {"result", last_result}}
        .dump();
}

Mapping Mapping::from_json(std::string_view text) {
    json j = json::parse(text);
    Mapping m;
    m.uuid = j.at("uuid").get<std::string>();
    m.spec = spec_from(j.at("spec"));
    m.function_arn = j.value("function_arn", lambda::function_arn(m.spec.function));
    m.last_modified = j.value("modified", 0.0);
    m.last_result = j.value("result", "No records processed");
    for (auto& p : m.spec.filter_patterns) {
        try {
            m.patterns.push_back(EventPattern::parse(p));
        } catch (const std::exception&) {
            // Validated when declared; a stored pattern that no longer parses matches nothing.
        }
    }
    return m;
}

// ---------------------------------------------------------------- Impl

TriggerEngine::Impl::Impl(lmdb::Env& e, Invoker& inv, TriggerOptions options)
    : env(e), invoker(inv), o(std::move(options)), esm_db(e.open_db("lambda_esm")),
      checkpoint_db(e.open_db("lambda_esm_checkpoints")), failure_db(e.open_db("lambda_esm_failures")),
      schedule_db(e.open_db("lambda_schedules")) {
    if (!o.now_ms) o.now_ms = system_now_ms;
}

std::int64_t TriggerEngine::Impl::now_ms() const { return o.now_ms(); }

void TriggerEngine::Impl::note(const std::string& function, const std::string& line) const {
    core::log::info("lambda: {}: {}", function, line);
    if (o.log) o.log(function, line);
}

void TriggerEngine::Impl::persist(const Mapping& m) {
    env.write([&](lmdb::WriteTxn& txn) { txn.put(esm_db, m.uuid, m.to_json()); });
}

std::optional<Mapping> TriggerEngine::Impl::find(const std::string& uuid) {
    std::lock_guard lock(mutex);
    auto it = mappings.find(uuid);
    if (it == mappings.end()) return std::nullopt;
    return it->second;
}

void TriggerEngine::Impl::start_poller(const std::string& uuid) {
    if (!started || stopping || pollers.count(uuid)) return;
    pollers.emplace(uuid, std::thread([this, uuid] { poll(uuid); }));
}

void TriggerEngine::Impl::add(Mapping m) {
    // StartingPosition LATEST: the checkpoints of "now", stored with the mapping, so what
    // is written from here on is delivered even if the poller starts later.
    std::vector<std::pair<std::string, json>> checkpoints;
    if (m.spec.starting_position == "LATEST" && o.streams) {
        std::string latest = o.streams->latest(m.spec.event_source_arn);
        for (auto& sh : o.streams->shards(m.spec.event_source_arn))
            checkpoints.emplace_back(sh.id, sh.closed ? json{{"after", ""}, {"done", true}}
                                                      : json{{"after", latest}, {"done", false}});
    }
    env.write([&](lmdb::WriteTxn& txn) {
        txn.put(esm_db, m.uuid, m.to_json());
        for (auto& [shard, cp] : checkpoints) txn.put(checkpoint_db, prefix_of(m.uuid) + shard, cp.dump());
    });
    std::lock_guard lock(mutex);
    std::string uuid = m.uuid;
    mappings[uuid] = std::move(m);
    ++config_gen;
    start_poller(uuid);
    cv.notify_all();
}

void TriggerEngine::Impl::replace(Mapping m) {
    persist(m);
    std::lock_guard lock(mutex);
    mappings[m.uuid] = std::move(m);
    ++config_gen;
    cv.notify_all();
}

void TriggerEngine::Impl::remove(const std::string& uuid) {
    {
        std::lock_guard lock(mutex);
        mappings.erase(uuid);
        ++config_gen;
        if (auto it = pollers.find(uuid); it != pollers.end()) {
            // The poller sees its mapping gone and ends within a moment; joined at stop().
            retired.push_back(std::move(it->second));
            pollers.erase(it);
        }
        cv.notify_all();
    }
    env.write([&](lmdb::WriteTxn& txn) {
        txn.del(esm_db, uuid);
        std::string prefix = prefix_of(uuid);
        for (auto dbi : {checkpoint_db, failure_db}) {
            auto c = lmdb::Cursor::open(txn, dbi);
            for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix);) {
                c.del();
                ok = c.next();
            }
        }
    });
}

Mapping TriggerEngine::Impl::validate(const EventSourceMappingSpec& spec) {
    auto invalid = [](std::string m) { return AwsError("InvalidParameterValueException", std::move(m), 400); };
    auto fn = invoker.describe(spec.function);
    // AWS: "Function does not exist" for CreateEventSourceMapping of an unknown function.
    if (!fn) throw AwsError("ResourceNotFoundException", "Function does not exist", 404);
    const std::string& arn = spec.event_source_arn;
    if (arn.empty()) throw invalid("EventSourceArn is required: stratus maps DynamoDB streams only");
    if (!arn.starts_with("arn:aws:dynamodb:") || arn.find("/stream/") == std::string::npos)
        throw invalid("Unsupported event source: " + arn +
                      " (stratus maps DynamoDB streams; SQS, Kinesis, Kafka, MQ and DocumentDB sources are not "
                      "implemented)");
    // AWS wording unsure: what Lambda answers for a stream that does not exist.
    if (!o.streams || !o.streams->exists(arn)) throw invalid("Stream not found: " + arn);
    if (spec.starting_position != "TRIM_HORIZON" && spec.starting_position != "LATEST")
        throw invalid("Unsupported starting position for DynamoDB streams: " + spec.starting_position +
                      " (TRIM_HORIZON or LATEST)");
    auto range = [&](const char* name, int v, int lo, int hi) {
        if (v < lo || v > hi)
            throw AwsError::validation(fmt::format(
                "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member must have value {} {}",
                v, name, v < lo ? "greater than or equal to" : "less than or equal to", v < lo ? lo : hi));
    };
    range("batchSize", spec.batch_size, 1, 10000);
    range("maximumBatchingWindowInSeconds", spec.maximum_batching_window_seconds, 0, 300);
    range("maximumRetryAttempts", spec.maximum_retry_attempts, -1, 10000);
    range("maximumRecordAgeInSeconds", spec.maximum_record_age_seconds, -1, 604800);
    range("parallelizationFactor", spec.parallelization_factor, 1, 10);
    if (spec.maximum_record_age_seconds >= 0 && spec.maximum_record_age_seconds < 60)
        throw invalid("MaximumRecordAgeInSeconds must be -1 or between 60 and 604800");  // AWS wording unsure
    if (spec.filter_patterns.size() > 5) throw invalid("FilterCriteria may have at most 5 filters");  // AWS wording unsure
    Mapping m;
    m.spec = spec;
    m.spec.function = fn->name;
    m.function_arn = fn->arn;
    for (auto& p : spec.filter_patterns) {
        if (p.size() > 4096) throw invalid("Invalid filter pattern definition.");
        try {
            m.patterns.push_back(EventPattern::parse(p));
        } catch (const std::invalid_argument& e) {
            throw invalid(fmt::format("Invalid filter pattern definition. ({})", e.what()));
        }
    }
    if (!spec.on_failure_destination.empty()) {
        const std::string& d = spec.on_failure_destination;
        if (!d.starts_with("arn:aws:sqs:") && !d.starts_with("arn:aws:sns:") && !d.starts_with("arn:aws:s3:::"))
            throw invalid("The destination ARN " + d + " is invalid: an on-failure destination of a stream mapping is an "
                          "SQS queue, an SNS topic or an S3 bucket");
    }
    m.last_modified = static_cast<double>(now_ms()) / 1000.0;
    return m;
}

void TriggerEngine::Impl::record_failure(const Mapping& m, const std::string& shard,
                                         const std::vector<StreamRecordData>& batch, const char* condition,
                                         int invocations, const std::optional<InvokeResult>& last) {
    if (batch.empty()) return;
    const std::string& dest = m.spec.on_failure_destination;
    note(m.spec.function, fmt::format("[stratus] event source mapping {}: gave up on {} record(s) of {} ({}, sequence "
                                      "numbers {} to {}){}",
                                      m.uuid, batch.size(), shard, condition, batch.front().sequence_number,
                                      batch.back().sequence_number,
                                      dest.empty() ? "; discarded (no on-failure destination)" : "; sent to " + dest));
    if (dest.empty()) return;
    json response = {{"statusCode", 200}, {"executedVersion", "$LATEST"}};
    if (last && last->function_error) response["functionError"] = "Unhandled";
    if (last && last->error) {
        response["statusCode"] = last->error->status();
        response["functionError"] = last->error->code();
    }
    json record = {
        {"requestContext",
         {{"requestId", last ? last->request_id : core::random_uuid()},
          {"functionArn", m.function_arn},
          {"condition", condition},
          {"approximateInvokeCount", invocations}}},
        {"responseContext", response},
        {"version", "1.0"},
        {"timestamp", core::iso8601(now_ms())},
        {"DDBStreamBatchInfo",
         {{"shardId", shard},
          {"startSequenceNumber", batch.front().sequence_number},
          {"endSequenceNumber", batch.back().sequence_number},
          {"approximateArrivalOfFirstRecord", core::iso8601(batch.front().created_ms)},
          {"approximateArrivalOfLastRecord", core::iso8601(batch.back().created_ms)},
          {"batchSize", batch.size()},
          {"streamArn", m.spec.event_source_arn}}}};
    env.write([&](lmdb::WriteTxn& txn) {
        std::string prefix = prefix_of(m.uuid);
        std::uint64_t n = 0;
        {
            auto c = lmdb::Cursor::open(txn, failure_db);
            if (c.seek_lt(prefix + u64be(UINT64_MAX)) && c.key().starts_with(prefix)) n = read_u64be(c.key().substr(prefix.size())) + 1;
        }
        txn.put(failure_db, prefix + u64be(n), record.dump());
    });
}

// ---------------------------------------------------------------- the poller

namespace {

struct Checkpoint {
    std::string after;
    bool done = false;
};

// One mapping's reading and invoking. Runs on its own thread; the mapping's settings are
// re-read from the engine before each batch.
class Poller {
public:
    Poller(TriggerEngine::Impl& e, std::string uuid) : e_(e), uuid_(std::move(uuid)) {}

    void run() {
        load_checkpoints();
        for (;;) {
            std::optional<Mapping> m;
            std::uint64_t gen = 0;
            {
                std::lock_guard lock(e_.mutex);
                if (e_.stopping) return;
                auto it = e_.mappings.find(uuid_);
                if (it == e_.mappings.end()) return;
                m = it->second;
                gen = e_.stream_gen + e_.config_gen;
            }
            Step s{false, 0};
            if (m->spec.enabled && e_.o.streams) {
                try {
                    s = step(*m);
                } catch (const std::exception& ex) {
                    core::log::error("lambda: event source mapping {}: {}", uuid_, ex.what());
                    s.wake_at = e_.now_ms() + 1000;
                }
            }
            if (s.progressed) continue;
            // Nothing to do: sleep until a stream commit, a settings change, the end of the
            // batching window, or a second (a safety net: wake-ups are never missed, as the
            // generation was read before the source).
            std::int64_t wait_ms = 1000;
            if (s.wake_at) wait_ms = std::clamp<std::int64_t>(s.wake_at - e_.now_ms(), 0, 1000);
            std::unique_lock lock(e_.mutex);
            e_.cv.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] {
                return e_.stopping || e_.stream_gen + e_.config_gen != gen;
            });
        }
    }

private:
    struct Step {
        bool progressed;
        std::int64_t wake_at;  // ms; 0: none
    };

    bool interrupted() {
        std::lock_guard lock(e_.mutex);
        if (e_.stopping) return true;
        auto it = e_.mappings.find(uuid_);
        return it == e_.mappings.end() || !it->second.spec.enabled;
    }

    // Waits `ms` unless the engine stops or the mapping goes (true: interrupted).
    bool sleep(std::int64_t ms) {
        std::unique_lock lock(e_.mutex);
        std::uint64_t gen = e_.config_gen;
        e_.cv.wait_for(lock, std::chrono::milliseconds(ms), [&] { return e_.stopping || e_.config_gen != gen; });
        lock.unlock();
        return interrupted();
    }

    void load_checkpoints() {
        std::string prefix = prefix_of(uuid_);
        e_.env.read([&](lmdb::ReadTxn& txn) {
            auto c = lmdb::Cursor::open(txn, e_.checkpoint_db);
            for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
                json j = json::parse(c.value(), nullptr, false);
                if (!j.is_object()) continue;
                checkpoints_[std::string(c.key().substr(prefix.size()))] = {j.value("after", ""), j.value("done", false)};
            }
        });
    }

    void save(const std::string& shard, const Checkpoint& cp) {
        checkpoints_[shard] = cp;
        e_.env.write([&](lmdb::WriteTxn& txn) {
            txn.put(e_.checkpoint_db, prefix_of(uuid_) + shard, json{{"after", cp.after}, {"done", cp.done}}.dump());
        });
    }

    void set_result(const std::string& result) {
        std::optional<Mapping> copy;
        {
            std::lock_guard lock(e_.mutex);
            auto it = e_.mappings.find(uuid_);
            if (it == e_.mappings.end() || it->second.last_result == result) return;
            it->second.last_result = result;
            copy = it->second;
        }
        e_.persist(*copy);
    }

    std::optional<InvokeResult> invoke(const Mapping& m, const std::vector<StreamRecordData>& batch) {
        std::string payload = "{\"Records\":[";
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (i) payload += ',';
            payload += batch[i].json;
        }
        payload += "]}";
        struct Wait {
            std::mutex mutex;
            std::condition_variable cv;
            std::optional<InvokeResult> result;
        };
        auto w = std::make_shared<Wait>();
        InvokeInput in;
        in.payload = std::move(payload);
        e_.invoker.invoke(m.function_arn, std::move(in), [w](InvokeResult r) {
            std::lock_guard lock(w->mutex);
            w->result = std::move(r);
            w->cv.notify_all();
        });
        for (;;) {
            {
                std::unique_lock lock(w->mutex);
                if (w->cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return w->result.has_value(); }))
                    return std::move(w->result);
            }
            // Abandoned (its batch runs again from the checkpoint) only when stratus stops
            // or the mapping is deleted; a disable waits for the invocation in flight.
            std::lock_guard lock(e_.mutex);
            if (e_.stopping || !e_.mappings.count(uuid_)) return std::nullopt;
        }
    }

    // ReportBatchItemFailures: nullopt when the whole batch succeeded, else the index of
    // the first failed record (0 for a response Lambda treats as a complete failure).
    static std::optional<std::size_t> failed_from(const std::string& payload, const std::vector<StreamRecordData>& b) {
        json r = json::parse(payload, nullptr, false);
        if (r.is_discarded() || r.is_null()) return std::nullopt;
        if (!r.is_object()) return std::nullopt;
        auto it = r.find("batchItemFailures");
        if (it == r.end() || it->is_null()) return std::nullopt;
        if (!it->is_array()) return 0;
        if (it->empty()) return std::nullopt;
        std::optional<std::size_t> first;
        for (auto& f : *it) {
            // An identifier that is missing, empty or not in the batch fails the whole batch
            // (Lambda developer guide, "Reporting batch item failures").
            if (!f.is_object() || !f.contains("itemIdentifier") || !f["itemIdentifier"].is_string()) return 0;
            std::string id = f["itemIdentifier"].get<std::string>();
            std::optional<std::size_t> at;
            for (std::size_t i = 0; i < b.size(); ++i)
                if (b[i].sequence_number == id) at = i;
            if (!at) return 0;
            if (!first || *at < *first) first = at;
        }
        return first;
    }

    // Invokes for `records` until they are done with: succeeded, or given up (retries,
    // record age) and recorded as failed. Checkpoints as it goes. False: interrupted.
    bool deliver(const Mapping& m, const std::string& shard, std::vector<StreamRecordData> records) {
        struct Sub {
            std::vector<StreamRecordData> records;
            int attempts = 0;     // failed invocations that count as retries
            int invocations = 0;  // of these records, for the failure record
        };
        std::deque<Sub> work;
        work.push_back({std::move(records), 0, 0});
        auto checkpoint = [&](const StreamRecordData& r) { save(shard, {r.sequence_number, false}); };
        while (!work.empty()) {
            if (interrupted()) return false;
            Sub& s = work.front();
            if (m.spec.maximum_record_age_seconds >= 0) {
                std::int64_t oldest_ok = e_.now_ms() - static_cast<std::int64_t>(m.spec.maximum_record_age_seconds) * 1000;
                std::size_t n = 0;
                while (n < s.records.size() && s.records[n].created_ms < oldest_ok) ++n;
                if (n > 0) {
                    std::vector<StreamRecordData> old(s.records.begin(), s.records.begin() + static_cast<long>(n));
                    e_.record_failure(m, shard, old, "RecordAgeExceeded", s.invocations, std::nullopt);
                    checkpoint(old.back());
                    s.records.erase(s.records.begin(), s.records.begin() + static_cast<long>(n));
                    if (s.records.empty()) work.pop_front();
                    continue;
                }
            }
            auto res = invoke(m, s.records);
            if (!res) return false;
            ++s.invocations;
            bool ok = !res->error && !res->function_error;
            std::optional<std::size_t> first_failed;
            if (ok && m.spec.report_batch_item_failures) first_failed = failed_from(res->payload, s.records);
            if (ok && !first_failed) {
                checkpoint(s.records.back());
                set_result("OK");
                work.pop_front();
                continue;
            }
            if (res->error && res->error->code() == "TooManyRequestsException") {
                // Throttled: not a failure of the batch; wait and try again.
                if (sleep(e_.o.retry_delay.count())) return false;
                continue;
            }
            if (first_failed && *first_failed > 0) {
                // The records before the first reported failure are done.
                checkpoint(s.records[*first_failed - 1]);
                s.records.erase(s.records.begin(), s.records.begin() + static_cast<long>(*first_failed));
            }
            set_result("PROBLEM: Function call failed");
            if (m.spec.bisect_batch_on_function_error && s.records.size() > 1) {
                // Split in two and retry each half: "splitting a batch does not count towards
                // the retry quota" (Lambda developer guide).
                std::size_t half = s.records.size() / 2;
                Sub a{{s.records.begin(), s.records.begin() + static_cast<long>(half)}, s.attempts, s.invocations};
                Sub b{{s.records.begin() + static_cast<long>(half), s.records.end()}, s.attempts, s.invocations};
                work.pop_front();
                work.push_front(std::move(b));
                work.push_front(std::move(a));
                continue;
            }
            ++s.attempts;
            if (m.spec.maximum_retry_attempts >= 0 && s.attempts > m.spec.maximum_retry_attempts) {
                e_.record_failure(m, shard, s.records, "RetryAttemptsExhausted", s.invocations, res);
                checkpoint(s.records.back());
                work.pop_front();
                continue;
            }
            std::int64_t delay = e_.o.retry_delay.count() << std::min(s.attempts - 1, 16);
            if (sleep(std::min<std::int64_t>(delay, e_.o.max_retry_delay.count()))) return false;
        }
        return true;
    }

    Step step(const Mapping& m) {
        const std::string& arn = m.spec.event_source_arn;
        auto shards = e_.o.streams->shards(arn);
        std::set<std::string> listed;
        for (auto& s : shards) listed.insert(s.id);
        const StreamShardInfo* cur = nullptr;
        for (auto& s : shards) {
            if (checkpoints_[s.id].done) continue;
            // A parent shard is read to its end before its children.
            if (!s.parent.empty() && listed.count(s.parent) && !checkpoints_[s.parent].done) continue;
            cur = &s;
            break;
        }
        if (!cur) return {false, 0};
        std::size_t limit = static_cast<std::size_t>(m.spec.batch_size);
        StreamBatch batch = e_.o.streams->read(arn, cur->id, checkpoints_[cur->id].after, limit);
        if (batch.records.empty()) {
            if (!batch.shard_end) return {false, 0};
            save(cur->id, {checkpoints_[cur->id].after, true});
            return {true, 0};
        }
        // MaximumBatchingWindowInSeconds: wait for a full batch that long.
        std::int64_t window = static_cast<std::int64_t>(m.spec.maximum_batching_window_seconds) * 1000;
        if (window > 0 && batch.records.size() < limit && !batch.shard_end) {
            if (!window_started_) window_started_ = e_.now_ms();
            if (e_.now_ms() < window_started_ + window) return {false, window_started_ + window};
        }
        window_started_ = 0;
        // Lambda's 6 MB payload limit for a synchronous invocation.
        std::size_t total = 16, n = 0;
        for (auto& r : batch.records) {
            total += r.json.size() + 1;
            if (total > max_sync_payload && n > 0) break;
            ++n;
        }
        batch.records.resize(n);
        std::string last = batch.records.back().sequence_number;
        std::vector<StreamRecordData> selected;
        if (m.spec.filter_patterns.empty()) {
            selected = std::move(batch.records);
        } else {
            // Records no filter matches are dropped (and checkpointed past), as Lambda does.
            for (auto& r : batch.records) {
                json j = json::parse(r.json, nullptr, false);
                for (auto& p : m.patterns)
                    if (p.matches(j)) {
                        selected.push_back(std::move(r));
                        break;
                    }
            }
        }
        if (!selected.empty() && !deliver(m, cur->id, std::move(selected))) return {true, 0};
        save(cur->id, {last, false});
        return {true, 0};
    }

    TriggerEngine::Impl& e_;
    std::string uuid_;
    std::map<std::string, Checkpoint> checkpoints_;
    std::int64_t window_started_ = 0;
};

}  // namespace

void TriggerEngine::Impl::poll(const std::string& uuid) {
    Poller p(*this, uuid);
    try {
        p.run();
    } catch (const std::exception& e) {
        core::log::error("lambda: event source mapping {} stopped: {}", uuid, e.what());
    }
}

// ---------------------------------------------------------------- TriggerEngine

TriggerEngine::TriggerEngine(lmdb::Env& env, Invoker& invoker, TriggerOptions options)
    : impl_(std::make_shared<Impl>(env, invoker, std::move(options))) {
    Impl& e = *impl_;
    e.env.read([&](lmdb::ReadTxn& txn) {
        auto c = lmdb::Cursor::open(txn, e.esm_db);
        for (bool ok = c.first(); ok; ok = c.next()) {
            try {
                Mapping m = Mapping::from_json(c.value());
                e.mappings[m.uuid] = std::move(m);
            } catch (const std::exception& ex) {
                core::log::error("lambda: unreadable event source mapping {}: {}", c.key(), ex.what());
            }
        }
        auto s = lmdb::Cursor::open(txn, e.schedule_db);
        for (bool ok = s.first(); ok; ok = s.next()) {
            try {
                json j = json::parse(s.value());
                Schedule sc{schedule_spec_from(j), ScheduleExpression::parse(j.at("expression").get<std::string>()),
                            j.value("anchor", std::int64_t{0}), std::nullopt};
                e.schedules[sc.spec.name] = std::move(sc);
            } catch (const std::exception& ex) {
                core::log::error("lambda: unreadable schedule {}: {}", s.key(), ex.what());
            }
        }
    });
}

TriggerEngine::~TriggerEngine() { stop(); }

void TriggerEngine::start() {
    Impl& e = *impl_;
    std::weak_ptr<Impl> weak = impl_;
    if (e.o.streams)
        e.o.streams->subscribe([weak] {
            if (auto p = weak.lock()) {
                std::lock_guard lock(p->mutex);
                ++p->stream_gen;
                p->cv.notify_all();
            }
        });
    if (e.o.s3_events)
        e.o.s3_events->subscribe([weak] {
            if (auto p = weak.lock()) {
                std::lock_guard lock(p->mutex);
                ++p->s3_gen;
                p->cv.notify_all();
            }
        });
    std::lock_guard lock(e.mutex);
    e.started = true;
    for (auto& [uuid, m] : e.mappings) e.start_poller(uuid);
    if (e.o.s3_events) e.s3_thread = std::thread([&e] {
        // S3 events: handed to invoke_event (durable, retried twice), then acknowledged.
        for (;;) {
            std::uint64_t gen;
            {
                std::lock_guard l(e.mutex);
                if (e.stopping) return;
                gen = e.s3_gen;
            }
            std::vector<S3EventData> events;
            try {
                events = e.o.s3_events->pending(64);
            } catch (const std::exception& ex) {
                core::log::error("lambda: reading S3 events: {}", ex.what());
            }
            std::vector<std::string> done;
            bool stalled = false;
            for (auto& ev : events) {
                try {
                    InvokeInput in;
                    in.payload = ev.payload;
                    e.invoker.invoke_event(ev.function_arn, std::move(in));
                    done.push_back(ev.id);
                } catch (const AwsError& err) {
                    // No such function (or a payload it can never take): S3 would have
                    // refused the configuration; the event cannot be delivered.
                    core::log::warn("lambda: dropping an S3 event for {}: {}", ev.function_arn, err.message());
                    done.push_back(ev.id);
                } catch (const std::exception& ex) {
                    core::log::error("lambda: S3 event for {} not queued: {}", ev.function_arn, ex.what());
                    stalled = true;
                    break;
                }
            }
            if (!done.empty()) {
                try {
                    e.o.s3_events->acknowledge(done);
                } catch (const std::exception& ex) {
                    core::log::error("lambda: acknowledging S3 events: {}", ex.what());
                    stalled = true;
                }
            }
            if (!events.empty() && !stalled) continue;
            std::unique_lock l(e.mutex);
            e.cv.wait_for(l, std::chrono::seconds(1), [&] { return e.stopping || e.s3_gen != gen; });
        }
    });
    e.schedule_thread = std::thread([&e] {
        for (;;) {
            std::vector<std::pair<ScheduleSpec, std::int64_t>> due;
            {
                std::unique_lock l(e.mutex);
                if (e.stopping) return;
                std::int64_t now = e.now_ms() / 1000;
                std::optional<std::int64_t> earliest;
                for (auto& [name, s] : e.schedules) {
                    if (!s.spec.enabled) continue;
                    if (!s.next) s.next = s.expression.next(now, s.anchor);
                    if (!s.next) continue;
                    if (*s.next <= now) {
                        due.emplace_back(s.spec, *s.next);
                        s.next = s.expression.next(now, s.anchor);
                        if (!s.next) continue;
                    }
                    if (!earliest || *s.next < *earliest) earliest = s.next;
                }
                if (due.empty()) {
                    std::uint64_t gen = e.config_gen;
                    std::int64_t wait_ms = earliest ? std::max<std::int64_t>(*earliest * 1000 - e.now_ms(), 10) : 60000;
                    e.cv.wait_for(l, std::chrono::milliseconds(std::min<std::int64_t>(wait_ms, 60000)),
                                  [&] { return e.stopping || e.config_gen != gen; });
                    continue;
                }
            }
            for (auto& [spec, at] : due) {
                try {
                    std::string event = scheduled_event(spec.name, at, core::random_uuid());
                    InvokeInput in;
                    in.payload = target_input(spec, event);
                    e.invoker.invoke_event(spec.function, std::move(in));
                } catch (const std::exception& ex) {
                    core::log::warn("lambda: schedule {} could not invoke {}: {}", spec.name, spec.function, ex.what());
                }
            }
        }
    });
}

void TriggerEngine::stop() {
    Impl& e = *impl_;
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(e.mutex);
        e.stopping = true;
        e.cv.notify_all();
        for (auto& [uuid, t] : e.pollers) threads.push_back(std::move(t));
        e.pollers.clear();
        for (auto& t : e.retired) threads.push_back(std::move(t));
        e.retired.clear();
    }
    for (auto& t : threads)
        if (t.joinable()) t.join();
    if (e.s3_thread.joinable()) e.s3_thread.join();
    if (e.schedule_thread.joinable()) e.schedule_thread.join();
}

std::string TriggerEngine::declare_mapping(const EventSourceMappingSpec& spec) {
    Impl& e = *impl_;
    Mapping m = e.validate(spec);
    std::optional<Mapping> existing;
    {
        std::lock_guard lock(e.mutex);
        for (auto& [uuid, other] : e.mappings)
            if (other.spec.function == m.spec.function && other.spec.event_source_arn == m.spec.event_source_arn)
                existing = other;
    }
    if (existing) {
        // Declared again (a re-deploy): the settings change, the position stays.
        m.uuid = existing->uuid;
        m.spec.starting_position = existing->spec.starting_position;
        m.last_result = existing->last_result;
        e.replace(std::move(m));
        return existing->uuid;
    }
    m.uuid = core::random_uuid();
    std::string uuid = m.uuid;
    e.add(std::move(m));
    return uuid;
}

void TriggerEngine::remove_mapping(const std::string& uuid) { impl_->remove(uuid); }

void TriggerEngine::declare_schedule(const ScheduleSpec& spec) {
    Impl& e = *impl_;
    bool name_ok = !spec.name.empty() && spec.name.size() <= 64;
    for (char c : spec.name)
        name_ok = name_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_');
    if (!name_ok)
        throw AwsError::validation(fmt::format("1 validation error detected: Value '{}' at 'name' failed to satisfy "
                                               "constraint: Member must satisfy regular expression pattern: "
                                               "[\\.\\-_A-Za-z0-9]+",
                                               spec.name));
    std::optional<ScheduleExpression> expr;
    try {
        expr = ScheduleExpression::parse(spec.expression);
    } catch (const std::invalid_argument& ex) {
        // EventBridge's message, and the reason.
        throw AwsError::validation(fmt::format("Parameter ScheduleExpression is not valid. ({})", ex.what()));
    }
    try {
        validate_target_input(spec);
    } catch (const std::invalid_argument& ex) {
        throw AwsError::validation(fmt::format("Invalid target input: {}", ex.what()));
    }
    auto fn = e.invoker.describe(spec.function);
    if (!fn) throw AwsError::resource_not_found("Function not found: " + spec.function);
    Schedule s{spec, *expr, e.now_ms() / 1000, std::nullopt};
    {
        std::lock_guard lock(e.mutex);
        auto it = e.schedules.find(spec.name);
        // Declared again with the same expression (a re-deploy): rate() keeps its rhythm.
        if (it != e.schedules.end() && it->second.spec.expression == spec.expression) s.anchor = it->second.anchor;
    }
    e.env.write([&](lmdb::WriteTxn& txn) { txn.put(e.schedule_db, spec.name, schedule_json(s).dump()); });
    std::lock_guard lock(e.mutex);
    e.schedules[spec.name] = std::move(s);
    ++e.config_gen;
    e.cv.notify_all();
}

void TriggerEngine::remove_schedule(const std::string& name) {
    Impl& e = *impl_;
    e.env.write([&](lmdb::WriteTxn& txn) { txn.del(e.schedule_db, name); });
    std::lock_guard lock(e.mutex);
    e.schedules.erase(name);
    ++e.config_gen;
    e.cv.notify_all();
}

std::string TriggerEngine::run_schedule(const std::string& name) {
    Impl& e = *impl_;
    std::optional<ScheduleSpec> spec;
    {
        std::lock_guard lock(e.mutex);
        auto it = e.schedules.find(name);
        if (it != e.schedules.end()) spec = it->second.spec;
    }
    // EventBridge's wording for an unknown rule.
    if (!spec) throw AwsError::resource_not_found(fmt::format("Rule {} does not exist on EventBus default.", name));
    std::string event = scheduled_event(name, e.now_ms() / 1000, core::random_uuid());
    InvokeInput in;
    in.payload = target_input(*spec, event);
    return e.invoker.invoke_event(spec->function, std::move(in));
}

std::vector<ScheduleSpec> TriggerEngine::schedules() {
    Impl& e = *impl_;
    std::lock_guard lock(e.mutex);
    std::vector<ScheduleSpec> out;
    for (auto& [name, s] : e.schedules) out.push_back(s.spec);
    return out;
}

std::vector<std::string> TriggerEngine::failed_batches(const std::string& uuid) {
    Impl& e = *impl_;
    std::vector<std::string> out;
    std::string prefix = prefix_of(uuid);
    e.env.read([&](lmdb::ReadTxn& txn) {
        auto c = lmdb::Cursor::open(txn, e.failure_db);
        for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) out.emplace_back(c.value());
    });
    return out;
}

void TriggerEngine::reset() {
    Impl& e = *impl_;
    std::vector<std::string> uuids;
    {
        std::lock_guard lock(e.mutex);
        for (auto& [uuid, m] : e.mappings) uuids.push_back(uuid);
    }
    for (auto& u : uuids) e.remove(u);
    e.env.write([&](lmdb::WriteTxn& txn) {
        txn.clear(e.esm_db);
        txn.clear(e.checkpoint_db);
        txn.clear(e.failure_db);
        txn.clear(e.schedule_db);
    });
    std::lock_guard lock(e.mutex);
    e.schedules.clear();
    ++e.config_gen;
    e.cv.notify_all();
}

}  // namespace stratus::lambda

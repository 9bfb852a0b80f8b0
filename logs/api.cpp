#include "logs/api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/net.hpp"
#include "core/server.hpp"
#include "lambda/logs.hpp"
#include "logs/filter_pattern.hpp"

namespace stratus::logs {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view region = "us-east-1";
constexpr std::string_view account = "000000000000";
constexpr std::string_view lambda_prefix = "/aws/lambda/";
constexpr std::size_t max_response_bytes = 1024 * 1024;  // GetLogEvents / FilterLogEvents pages
constexpr std::int64_t day_ms = 86'400'000;

core::AwsError invalid(std::string message) { return {"InvalidParameterException", std::move(message), 400}; }
core::AwsError not_found(std::string message) { return {"ResourceNotFoundException", std::move(message), 400}; }
core::AwsError group_not_found() { return not_found("The specified log group does not exist."); }
core::AwsError stream_not_found() { return not_found("The specified log stream does not exist."); }

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// ---- input ----

std::optional<std::string> opt_string(const json& in, const char* key) {
    auto it = in.find(key);
    if (it == in.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) throw core::AwsError::serialization(fmt::format("{} must be a string", key));
    return it->get<std::string>();
}

std::optional<std::int64_t> opt_int(const json& in, const char* key) {
    auto it = in.find(key);
    if (it == in.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_integer()) throw core::AwsError::serialization(fmt::format("{} must be an integer", key));
    return it->get<std::int64_t>();
}

bool opt_bool(const json& in, const char* key, bool fallback) {
    auto it = in.find(key);
    if (it == in.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) throw core::AwsError::serialization(fmt::format("{} must be a boolean", key));
    return it->get<bool>();
}

std::string required(const json& in, const char* key) {
    auto v = opt_string(in, key);
    if (!v) throw invalid(fmt::format("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", key));
    return *v;
}

void validate_group_name(const std::string& name, const char* member = "logGroupName") {
    bool ok = !name.empty() && name.size() <= 512;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && std::string_view("._-/#").find(c) == std::string_view::npos) ok = false;
    if (!ok)
        throw invalid(fmt::format("1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member must "
                                  "satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
                                  name, member));
}

void validate_stream_name(const std::string& name) {
    if (name.empty() || name.size() > 512 || name.find_first_of(":*") != std::string::npos)
        throw invalid(fmt::format("1 validation error detected: Value '{}' at 'logStreamName' failed to satisfy constraint: "
                                  "Member must satisfy regular expression pattern: [^:*]*",
                                  name));
}

std::size_t limit_of(const json& in, const char* key, std::int64_t max, std::int64_t fallback) {
    auto v = opt_int(in, key);
    if (!v) return static_cast<std::size_t>(fallback);
    if (*v < 1 || *v > max)
        throw invalid(fmt::format("1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member must "
                                  "have value {} {}",
                                  *v, key, *v < 1 ? "greater than or equal to" : "less than or equal to", *v < 1 ? 1 : max));
    return static_cast<std::size_t>(*v);
}

std::map<std::string, std::string> tags_of(const json& in, const char* key) {
    std::map<std::string, std::string> out;
    auto it = in.find(key);
    if (it == in.end() || it->is_null()) return out;
    if (!it->is_object()) throw core::AwsError::serialization(fmt::format("{} must be a map", key));
    for (auto& [k, v] : it->items()) {
        if (!v.is_string()) throw core::AwsError::serialization("tag values must be strings");
        if (k.empty() || k.size() > 128 || k.starts_with("aws:"))
            throw invalid(fmt::format("1 validation error detected: Value '{}' at 'tags' failed to satisfy constraint: "
                                      "Map keys must satisfy constraint: [Member must have length less than or equal to 128, "
                                      "Member must have length greater than or equal to 1]",
                                      k));
        if (v.get<std::string>().size() > 256)
            throw invalid("1 validation error detected: Value at 'tags' failed to satisfy constraint: Map value must "
                          "satisfy constraint: [Member must have length less than or equal to 256]");
        out[k] = v.get<std::string>();
    }
    if (out.size() > 50) throw invalid("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50");
    return out;
}

// A group's name from logGroupName, or logGroupIdentifier (a name or an ARN).
std::string group_from_identifier(const std::string& id) {
    if (!id.starts_with("arn:")) return id;
    auto pos = id.find(":log-group:");
    if (pos == std::string::npos) throw invalid("The specified log group identifier is not valid.");
    std::string name = id.substr(pos + 11);
    if (name.ends_with(":*")) name.resize(name.size() - 2);
    return name;
}

std::string group_of(const json& in, bool required_member = true) {
    auto name = opt_string(in, "logGroupName");
    auto id = opt_string(in, "logGroupIdentifier");
    if (name && id) throw invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.");
    if (id) return group_from_identifier(*id);
    if (!name) {
        if (!required_member) return {};
        throw invalid("Either LogGroupName or LogGroupIdentifier must be provided.");
    }
    return *name;
}

std::string group_arn(const std::string& name) { return fmt::format("arn:aws:logs:{}:{}:log-group:{}", region, account, name); }

// "2026/12/02/[$LATEST]000...": the stream of lines logged without one (by stratus itself,
// or before streams were kept), by their day.
std::string unassigned_stream(std::int64_t time_ms) {
    std::time_t t = static_cast<std::time_t>(time_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y/%m/%d", &tm);
    return fmt::format("{}/[$LATEST]{}", buf, std::string(32, '0'));
}

std::string stream_of(const lambda::LogView& l) { return l.stream.empty() ? unassigned_stream(l.time_ms) : std::string(l.stream); }

bool is_function_name(std::string_view n) {
    if (n.empty() || n.size() > 64) return false;
    for (char c : n)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    return true;
}

const std::set<int>& retention_days() {
    static const std::set<int> days{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653};
    return days;
}

std::string event_id(std::uint64_t seq) { return fmt::format("{:056}", seq); }

// ---- state ----

struct GroupMeta {
    std::int64_t created = 0;
    std::optional<int> retention;
    std::map<std::string, std::string> tags;
    std::string group_class = "STANDARD";
    std::map<std::string, std::int64_t> streams;  // made by CreateLogStream: creation time

    json to_json() const {
        json j = {{"created", created}, {"tags", tags}, {"class", group_class}, {"streams", streams}};
        if (retention) j["retention"] = *retention;
        return j;
    }
    static GroupMeta from_json(const json& j) {
        GroupMeta g;
        g.created = j.value("created", std::int64_t{0});
        if (j.contains("retention")) g.retention = j["retention"].get<int>();
        g.tags = j.value("tags", std::map<std::string, std::string>{});
        g.group_class = j.value("class", std::string("STANDARD"));
        g.streams = j.value("streams", std::map<std::string, std::int64_t>{});
        return g;
    }
};

struct Where {
    lambda::LogBook* book;
    std::string key;
    bool function_group;
};

struct StreamAgg {
    std::int64_t created = 0, first = 0, last = 0, ingest = 0;
    bool has_events = false;
};

struct FilterQuery {
    std::string group;
    Where where;
    std::set<std::string> names;
    std::optional<std::string> prefix;
    std::int64_t start = INT64_MIN, end = INT64_MAX;
    std::int64_t cutoff = INT64_MIN;  // retention
    FilterPattern pattern;
    std::size_t limit = 10000;
    std::string key;  // the query without its window (tail followers)
};

struct FilterPage {
    json events = json::array();
    std::uint64_t last_seen = 0;  // seq of the last line scanned
    bool full = false;            // stopped at the limit / size: more may follow
};

// A FilterLogEvents nextToken: "p-<seq>" continues after seq; "t-<seq>-<0|1>" is a tail
// token (see api.hpp), 1 when the caller is a follower.
struct TailToken {
    bool tail = false;
    bool follower = false;
    std::uint64_t after = 0;
    std::string text() const { return tail ? fmt::format("t-{}-{}", after, follower ? 1 : 0) : fmt::format("p-{}", after); }
    static TailToken parse(const std::string& s) {
        TailToken t;
        try {
            if (s.starts_with("p-")) {
                t.after = std::stoull(s.substr(2));
                return t;
            }
            if (s.starts_with("t-") && s.size() > 4) {
                t.tail = true;
                t.follower = s.back() == '1';
                t.after = std::stoull(s.substr(2, s.size() - 4));
                return t;
            }
        } catch (const std::exception&) {
        }
        throw invalid("The specified nextToken is invalid.");
    }
};

class LogsService final : public core::Service, public std::enable_shared_from_this<LogsService> {
public:
    LogsService(core::Runtime& runtime, core::lmdb::Env& env, lambda::LogBook& functions, LogsOptions options)
        : runtime_(runtime), env_(env), functions_(functions),
          custom_(options.budget_per_group, options.data_dir.empty() ? std::string() : (fs::path(options.data_dir) / "logs").string()),
          dbi_(env_.open_db("logs_groups", MDB_CREATE)) {
        env_.read([&](core::lmdb::ReadTxn& txn) {
            auto c = core::lmdb::Cursor::open(txn, dbi_);
            for (bool ok = c.first(); ok; ok = c.next()) {
                auto j = json::parse(c.value(), nullptr, false);
                if (j.is_object()) groups_[std::string(c.key())] = GroupMeta::from_json(j);
            }
        });
    }

    std::string_view name() const override { return "logs"; }
    const core::Protocol& protocol() const override { return protocol_; }
    core::ServiceRoute route() const override {
        core::ServiceRoute r;
        r.target_prefixes = {"Logs_20140328."};
        r.signing_names = {"logs"};
        return r;
    }
    core::BodyPolicy body_policy(const core::Request&) const override {
        core::BodyPolicy p;
        p.limit = 2 * 1024 * 1024;  // PutLogEvents batches are at most 1 MB of events
        return p;
    }

    void handle(core::Request&& request, core::Reply reply) override {
        std::string_view target = request.headers.get_or("x-amz-target", "");
        auto dot = target.find('.');
        std::string op(dot == std::string_view::npos ? std::string_view{} : target.substr(dot + 1));
        json in = json::parse(request.body.empty() ? std::string_view("{}") : std::string_view(request.body), nullptr, false);
        if (in.is_discarded() || !in.is_object()) throw core::AwsError::serialization("Malformed JSON in request body");
        if (op == "FilterLogEvents") return filter_log_events(in, std::move(reply));
        json out;
        if (op == "DescribeLogGroups") out = describe_log_groups(in);
        else if (op == "DescribeLogStreams") out = describe_log_streams(in);
        else if (op == "GetLogEvents") out = get_log_events(in);
        else if (op == "CreateLogGroup") out = create_log_group(in);
        else if (op == "CreateLogStream") out = create_log_stream(in);
        else if (op == "PutLogEvents") out = put_log_events(in);
        else if (op == "DeleteLogGroup") out = delete_log_group(in);
        else if (op == "PutRetentionPolicy") out = put_retention(in);
        else if (op == "DeleteRetentionPolicy") out = delete_retention(in);
        else if (op == "TagLogGroup") out = tag(required(in, "logGroupName"), tags_of(in, "tags"), {});
        else if (op == "UntagLogGroup") out = tag(required(in, "logGroupName"), {}, keys_of(in, "tags"));
        else if (op == "ListTagsLogGroup") out = list_tags(required(in, "logGroupName"));
        else if (op == "TagResource") out = tag(arn_group(in), tags_of(in, "tags"), {});
        else if (op == "UntagResource") out = tag(arn_group(in), {}, keys_of(in, "tagKeys"));
        else if (op == "ListTagsForResource") out = list_tags(arn_group(in));
        else throw core::AwsError::unknown_operation();
        send(reply, out, op);
    }

    void reset() override {
        std::lock_guard lock(mutex_);
        groups_.clear();
        env_.write([&](core::lmdb::WriteTxn& txn) { txn.clear(dbi_); });
        custom_.clear();
    }

private:
    void send(const core::Reply& reply, const json& out, std::string_view op) {
        core::Response r = core::json_response(
            protocol_, out.is_null() ? std::string() : out.dump(-1, ' ', false, json::error_handler_t::replace));
        r.operation = std::string(op);
        reply(std::move(r));
    }

    static std::vector<std::string> keys_of(const json& in, const char* key) {
        auto it = in.find(key);
        if (it == in.end() || !it->is_array()) throw invalid(fmt::format("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", key));
        std::vector<std::string> out;
        for (auto& k : *it) {
            if (!k.is_string()) throw core::AwsError::serialization("tag keys must be strings");
            out.push_back(k.get<std::string>());
        }
        return out;
    }

    static std::string arn_group(const json& in) {
        std::string arn = required(in, "resourceArn");
        if (!arn.starts_with("arn:aws:logs:") || arn.find(":log-group:") == std::string::npos)
            throw invalid("The specified resource ARN is not valid.");
        return group_from_identifier(arn);
    }

    Where where(const std::string& group) {
        if (group.starts_with(lambda_prefix)) {
            std::string fn = group.substr(lambda_prefix.size());
            if (is_function_name(fn)) return {&functions_, fn, true};
        }
        return {&custom_, "g" + core::crypto::sha256_hex(group).substr(0, 32), false};
    }

    static bool has_lines(const Where& w) {
        bool found = false;
        w.book->scan(w.key, 0, false, 0, [&](const lambda::LogView&) {
            found = true;
            return false;
        });
        return found;
    }

    // Under mutex_. A group exists when made by CreateLogGroup, or (a function's) when it has lines.
    bool exists(const std::string& group) {
        if (groups_.count(group)) return true;
        auto w = where(group);
        return w.function_group && has_lines(w);
    }

    void persist(const std::string& group) {
        auto it = groups_.find(group);
        env_.write([&](core::lmdb::WriteTxn& txn) {
            if (it == groups_.end()) txn.del(dbi_, group);
            else txn.put(dbi_, group, it->second.to_json().dump());
        });
    }

    // A function group's record, made on first need (retention, tags, streams on a group
    // that so far only had lines).
    GroupMeta& meta(const std::string& group) {
        auto it = groups_.find(group);
        if (it != groups_.end()) return it->second;
        GroupMeta g;
        g.created = now_ms();
        where(group).book->scan(where(group).key, 0, false, 0, [&](const lambda::LogView& l) {
            g.created = l.ingest_ms;
            return false;
        });
        return groups_[group] = g;
    }

    std::int64_t cutoff(const std::string& group) {
        auto it = groups_.find(group);
        if (it == groups_.end() || !it->second.retention) return INT64_MIN;
        return now_ms() - static_cast<std::int64_t>(*it->second.retention) * day_ms;
    }

    // ---- groups ----

    json describe_log_groups(const json& in) {
        auto prefix = opt_string(in, "logGroupNamePrefix");
        auto pattern = opt_string(in, "logGroupNamePattern");
        if (prefix && pattern) throw invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.");
        std::size_t limit = limit_of(in, "limit", 50, 50);
        auto token = opt_string(in, "nextToken");
        std::set<std::string> wanted_ids;
        if (auto it = in.find("logGroupIdentifiers"); it != in.end() && it->is_array())
            for (auto& id : *it)
                if (id.is_string()) wanted_ids.insert(group_from_identifier(id.get<std::string>()));
        std::lock_guard lock(mutex_);
        std::map<std::string, json> all;
        auto add = [&](const std::string& name, std::int64_t created, std::optional<int> retention, const std::string& cls) {
            if (prefix && !name.starts_with(*prefix)) return;
            if (pattern) {
                std::string a = name, b = *pattern;
                std::transform(a.begin(), a.end(), a.begin(), ::tolower);
                std::transform(b.begin(), b.end(), b.begin(), ::tolower);
                if (a.find(b) == std::string::npos) return;
            }
            if (!wanted_ids.empty() && !wanted_ids.count(name)) return;
            if (token && name <= *token) return;
            json g = {{"logGroupName", name},
                      {"creationTime", created},
                      {"metricFilterCount", 0},
                      {"arn", group_arn(name) + ":*"},
                      {"logGroupArn", group_arn(name)},
                      {"storedBytes", stored_bytes(name)},
                      {"logGroupClass", cls},
                      {"deletionProtectionEnabled", false}};
            if (retention) g["retentionInDays"] = *retention;
            all[name] = std::move(g);
        };
        for (auto& [name, g] : groups_) add(name, g.created, g.retention, g.group_class);
        for (auto& fn : functions_.names()) {
            std::string name = std::string(lambda_prefix) + fn;
            if (groups_.count(name) || !is_function_name(fn)) continue;
            std::int64_t created = 0;
            functions_.scan(fn, 0, false, 0, [&](const lambda::LogView& l) {
                created = l.ingest_ms;
                return false;
            });
            add(name, created, std::nullopt, "STANDARD");
        }
        json out = {{"logGroups", json::array()}};
        for (auto& [name, g] : all) {
            if (out["logGroups"].size() == limit) {
                out["nextToken"] = out["logGroups"].back()["logGroupName"];
                break;
            }
            out["logGroups"].push_back(std::move(g));
        }
        return out;
    }

    std::int64_t stored_bytes(const std::string& group) {
        std::int64_t bytes = 0;
        auto w = where(group);
        w.book->scan(w.key, 0, false, 0, [&](const lambda::LogView& l) {
            bytes += static_cast<std::int64_t>(l.text.size());
            return true;
        });
        return bytes;
    }

    json create_log_group(const json& in) {
        std::string name = required(in, "logGroupName");
        validate_group_name(name);
        auto tags = tags_of(in, "tags");
        auto cls = opt_string(in, "logGroupClass").value_or("STANDARD");
        if (cls != "STANDARD" && cls != "INFREQUENT_ACCESS" && cls != "DELIVERY")
            throw invalid(fmt::format("1 validation error detected: Value '{}' at 'logGroupClass' failed to satisfy constraint: "
                                      "Member must satisfy enum value set: [DELIVERY, STANDARD, INFREQUENT_ACCESS]",
                                      cls));
        std::lock_guard lock(mutex_);
        if (exists(name)) throw core::AwsError("ResourceAlreadyExistsException", "The specified log group already exists", 400);
        GroupMeta g;
        g.created = now_ms();
        g.tags = std::move(tags);
        g.group_class = cls;
        groups_[name] = std::move(g);
        persist(name);
        return nullptr;
    }

    json delete_log_group(const json& in) {
        std::string name = required(in, "logGroupName");
        validate_group_name(name);
        std::lock_guard lock(mutex_);
        if (!exists(name)) throw group_not_found();
        groups_.erase(name);
        persist(name);
        auto w = where(name);
        w.book->erase(w.key);
        return nullptr;
    }

    json put_retention(const json& in) {
        std::string name = required(in, "logGroupName");
        validate_group_name(name);
        auto days = opt_int(in, "retentionInDays");
        if (!days) throw invalid("1 validation error detected: Value null at 'retentionInDays' failed to satisfy constraint: Member must not be null");
        if (!retention_days().count(static_cast<int>(*days))) {
            std::string set;
            for (int d : retention_days()) set += (set.empty() ? "" : ", ") + std::to_string(d);
            throw invalid(fmt::format("1 validation error detected: Value '{}' at 'retentionInDays' failed to satisfy constraint: "
                                      "Member must satisfy enum value set: [{}]",
                                      *days, set));
        }
        std::lock_guard lock(mutex_);
        if (!exists(name)) throw group_not_found();
        meta(name).retention = static_cast<int>(*days);
        persist(name);
        return nullptr;
    }

    json delete_retention(const json& in) {
        std::string name = required(in, "logGroupName");
        std::lock_guard lock(mutex_);
        if (!exists(name)) throw group_not_found();
        meta(name).retention.reset();
        persist(name);
        return nullptr;
    }

    json tag(const std::string& group, const std::map<std::string, std::string>& add, const std::vector<std::string>& remove) {
        std::lock_guard lock(mutex_);
        if (!exists(group)) throw group_not_found();
        auto& g = meta(group);
        for (auto& [k, v] : add) g.tags[k] = v;
        for (auto& k : remove) g.tags.erase(k);
        if (g.tags.size() > 50) throw core::AwsError("TooManyTagsException", "A resource can have no more than 50 tags.", 400);
        persist(group);
        return nullptr;
    }

    json list_tags(const std::string& group) {
        std::lock_guard lock(mutex_);
        if (!exists(group)) throw group_not_found();
        auto it = groups_.find(group);
        return {{"tags", it == groups_.end() ? json::object() : json(it->second.tags)}};
    }

    // ---- streams ----

    // Every stream of a group: made by CreateLogStream or holding lines.
    std::map<std::string, StreamAgg> streams_of(const std::string& group) {
        std::map<std::string, StreamAgg> out;
        if (auto it = groups_.find(group); it != groups_.end())
            for (auto& [name, created] : it->second.streams) out[name].created = created;
        auto w = where(group);
        std::int64_t floor = cutoff(group);
        w.book->scan(w.key, 0, false, 0, [&](const lambda::LogView& l) {
            auto& a = out[stream_of(l)];
            if (a.created == 0) a.created = l.ingest_ms;
            if (l.time_ms < floor) return true;
            if (!a.has_events || l.time_ms < a.first) a.first = l.time_ms;
            if (!a.has_events || l.time_ms > a.last) a.last = l.time_ms;
            a.ingest = std::max(a.ingest, l.ingest_ms);
            a.has_events = true;
            return true;
        });
        return out;
    }

    // Under mutex_: made by CreateLogStream (a lookup), else holding lines (a scan).
    bool has_stream(const std::string& group, const std::string& stream) {
        if (auto it = groups_.find(group); it != groups_.end() && it->second.streams.count(stream)) return true;
        bool found = false;
        auto w = where(group);
        w.book->scan(w.key, 0, false, 0, [&](const lambda::LogView& l) {
            found = l.stream.empty() ? unassigned_stream(l.time_ms) == stream : l.stream == stream;
            return !found;
        });
        return found;
    }

    json describe_log_streams(const json& in) {
        std::string group = group_of(in);
        auto prefix = opt_string(in, "logStreamNamePrefix");
        std::string order = opt_string(in, "orderBy").value_or("LogStreamName");
        if (order != "LogStreamName" && order != "LastEventTime")
            throw invalid(fmt::format("1 validation error detected: Value '{}' at 'orderBy' failed to satisfy constraint: Member "
                                      "must satisfy enum value set: [LogStreamName, LastEventTime]",
                                      order));
        if (prefix && order == "LastEventTime") throw invalid("Cannot order by LastEventTime with a logStreamNamePrefix.");
        bool descending = opt_bool(in, "descending", false);
        std::size_t limit = limit_of(in, "limit", 50, 50);
        std::size_t offset = 0;
        if (auto t = opt_string(in, "nextToken")) {
            try {
                offset = std::stoull(*t);
            } catch (const std::exception&) {
                throw invalid("The specified nextToken is invalid.");
            }
        }
        std::lock_guard lock(mutex_);
        if (!exists(group)) throw group_not_found();
        std::vector<std::pair<std::string, StreamAgg>> list;
        for (auto& [name, a] : streams_of(group))
            if (!prefix || name.starts_with(*prefix)) list.emplace_back(name, a);
        if (order == "LastEventTime")
            std::stable_sort(list.begin(), list.end(), [](auto& a, auto& b) { return a.second.last < b.second.last; });
        if (descending) std::reverse(list.begin(), list.end());
        json out = {{"logStreams", json::array()}};
        for (std::size_t i = offset; i < list.size(); ++i) {
            if (out["logStreams"].size() == limit) {
                out["nextToken"] = std::to_string(i);
                break;
            }
            auto& [name, a] = list[i];
            json s = {{"logStreamName", name},
                      {"creationTime", a.created},
                      {"arn", fmt::format("{}:log-stream:{}", group_arn(group), name)},
                      {"storedBytes", 0}};  // "no longer supported for log streams, always zero"
            if (a.has_events) {
                s["firstEventTimestamp"] = a.first;
                s["lastEventTimestamp"] = a.last;
                s["lastIngestionTime"] = a.ingest;
            }
            out["logStreams"].push_back(std::move(s));
        }
        return out;
    }

    json create_log_stream(const json& in) {
        std::string group = required(in, "logGroupName");
        std::string stream = required(in, "logStreamName");
        validate_group_name(group);
        validate_stream_name(stream);
        std::lock_guard lock(mutex_);
        if (!exists(group)) throw group_not_found();
        if (has_stream(group, stream))
            throw core::AwsError("ResourceAlreadyExistsException", "The specified log stream already exists", 400);
        meta(group).streams[stream] = now_ms();
        persist(group);
        return nullptr;
    }

    // ---- events ----

    json put_log_events(const json& in) {
        std::string group = required(in, "logGroupName");
        std::string stream = required(in, "logStreamName");
        validate_group_name(group);
        validate_stream_name(stream);
        auto it = in.find("logEvents");
        if (it == in.end() || !it->is_array())
            throw invalid("1 validation error detected: Value null at 'logEvents' failed to satisfy constraint: Member must not be null");
        if (it->empty() || it->size() > 10000)
            throw invalid(fmt::format("1 validation error detected: Value '{}' at 'logEvents' failed to satisfy constraint: Member "
                                      "must have length {} ",
                                      it->size(), it->empty() ? "greater than or equal to 1" : "less than or equal to 10000"));
        std::vector<lambda::LogBook::Event> events;
        std::size_t batch_bytes = 0;
        std::int64_t previous = INT64_MIN;
        for (auto& e : *it) {
            if (!e.is_object()) throw core::AwsError::serialization("log events must be objects");
            auto ts = opt_int(e, "timestamp");
            auto msg = opt_string(e, "message");
            if (!ts || !msg) throw invalid("1 validation error detected: Value null at 'logEvents.member.timestamp' failed to satisfy constraint: Member must not be null");
            if (msg->empty())
                throw invalid("1 validation error detected: Value '' at 'logEvents.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1");
            if (*ts < previous) throw invalid("Log events in a single PutLogEvents request must be in chronological order.");
            previous = *ts;
            batch_bytes += msg->size() + 26;
            events.push_back({*ts, std::move(*msg)});
        }
        if (batch_bytes > 1048576) throw invalid("Upload too large: " + std::to_string(batch_bytes) + " bytes exceeds limit of 1048576");
        if (events.back().time_ms - events.front().time_ms > day_ms)
            throw invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.");
        std::lock_guard lock(mutex_);
        if (!exists(group)) throw group_not_found();
        if (!has_stream(group, stream)) throw stream_not_found();
        // Too new (over 2 h ahead), too old (over 14 days) or past the group's retention:
        // refused and said so, as AWS does; the rest stored.
        std::int64_t now = now_ms();
        std::int64_t floor = std::max(now - 14 * day_ms, cutoff(group));
        json rejected = json::object();
        std::vector<lambda::LogBook::Event> keep;
        for (std::size_t i = 0; i < events.size(); ++i) {
            auto& e = events[i];
            if (e.time_ms > now + 2 * 3'600'000) {
                if (!rejected.contains("tooNewLogEventStartIndex")) rejected["tooNewLogEventStartIndex"] = i;
            } else if (e.time_ms < floor) {
                rejected[e.time_ms < now - 14 * day_ms ? "tooOldLogEventEndIndex" : "expiredLogEventEndIndex"] = i + 1;
            } else {
                keep.push_back(std::move(e));
            }
        }
        auto w = where(group);
        std::uint64_t seq = keep.empty() ? w.book->last_seq() : w.book->append_events(w.key, stream, std::move(keep));
        json out = {{"nextSequenceToken", fmt::format("{:056}", seq)}};
        if (!rejected.empty()) out["rejectedLogEventsInfo"] = rejected;
        return out;
    }

    json get_log_events(const json& in) {
        std::string group = group_of(in);
        std::string stream = required(in, "logStreamName");
        auto start = opt_int(in, "startTime").value_or(INT64_MIN);
        auto end = opt_int(in, "endTime").value_or(INT64_MAX);
        std::size_t limit = limit_of(in, "limit", 10000, 10000);
        bool from_head = opt_bool(in, "startFromHead", false);
        auto token = opt_string(in, "nextToken");
        // Tokens: "f/<seq>/s" reads forward after seq, "b/<seq>/s" backward before it.
        char direction = from_head ? 'f' : 'b';
        std::uint64_t position = 0;
        if (token) {
            if (token->size() < 5 || (token->front() != 'f' && token->front() != 'b') || (*token)[1] != '/' || !token->ends_with("/s"))
                throw invalid("The specified nextToken is invalid.");
            direction = token->front();
            try {
                position = std::stoull(token->substr(2, token->size() - 4));
            } catch (const std::exception&) {
                throw invalid("The specified nextToken is invalid.");
            }
        }
        std::lock_guard lock(mutex_);
        if (!exists(group)) throw group_not_found();
        if (!has_stream(group, stream)) throw stream_not_found();
        auto w = where(group);
        std::int64_t floor = cutoff(group);
        struct Ev {
            std::uint64_t seq;
            json j;
        };
        std::vector<Ev> got;
        std::size_t bytes = 0;
        auto visit = [&](const lambda::LogView& l) {
            if (l.time_ms < start || l.time_ms > end || l.time_ms < floor) return true;
            if (l.stream.empty() ? unassigned_stream(l.time_ms) != stream : l.stream != stream) return true;
            bytes += l.text.size() + 26;
            if (bytes > max_response_bytes && !got.empty()) return false;
            got.push_back({l.seq, {{"timestamp", l.time_ms}, {"message", l.text}, {"ingestionTime", l.ingest_ms}}});
            return got.size() < limit;
        };
        if (direction == 'f') {
            w.book->scan(w.key, position, false, 0, visit);
        } else {
            w.book->scan(w.key, 0, true, token ? position : 0, visit);
            std::reverse(got.begin(), got.end());
        }
        json out = {{"events", json::array()}};
        for (auto& e : got) out["events"].push_back(std::move(e.j));
        // At either end the token given comes back (clients stop when it repeats).
        std::uint64_t fwd = got.empty() ? (direction == 'f' ? position : (token ? position - (position > 0) : w.book->last_seq()))
                                        : got.back().seq;
        std::uint64_t back = got.empty() ? (direction == 'b' && token ? position : fwd + 1) : got.front().seq;
        out["nextForwardToken"] = fmt::format("f/{:056}/s", fwd);
        out["nextBackwardToken"] = fmt::format("b/{:056}/s", back);
        return out;
    }

    FilterPage run_filter(const FilterQuery& q, std::uint64_t after) {
        FilterPage page;
        page.last_seen = after;
        std::size_t bytes = 0;
        bool stream_filter = !q.names.empty() || q.prefix;
        bool everything = q.pattern.matches_everything();
        std::uint64_t newest = q.where.book->scan(q.where.key, after, false, 0, [&](const lambda::LogView& l) {
            if (page.events.size() >= q.limit || bytes >= max_response_bytes) {
                page.full = true;
                return false;
            }
            page.last_seen = l.seq;
            if (l.time_ms < q.start || l.time_ms > q.end || l.time_ms < q.cutoff) return true;
            if (!everything && !q.pattern.matches(l.text)) return true;
            std::string stream = stream_of(l);
            if (stream_filter) {
                if (!q.names.empty() && !q.names.count(stream)) return true;
                if (q.prefix && !stream.starts_with(*q.prefix)) return true;
            }
            bytes += l.text.size() + stream.size() + 120;
            page.events.push_back({{"logStreamName", std::move(stream)},
                                   {"timestamp", l.time_ms},
                                   {"message", l.text},
                                   {"ingestionTime", l.ingest_ms},
                                   {"eventId", event_id(l.seq)}});
            return true;
        }, q.pattern.required_text());
        // With a needle the scan skips lines without it: it went to the end all the same.
        if (!page.full) page.last_seen = std::max(page.last_seen, newest);
        return page;
    }

    void filter_log_events(const json& in, core::Reply reply) {
        FilterQuery q;
        q.group = group_of(in);
        auto names = in.find("logStreamNames");
        if (names != in.end() && !names->is_null()) {
            if (!names->is_array()) throw core::AwsError::serialization("logStreamNames must be a list");
            if (names->empty() || names->size() > 100)
                throw invalid("1 validation error detected: Value at 'logStreamNames' failed to satisfy constraint: Member must have length between 1 and 100");
            for (auto& n : *names)
                if (n.is_string()) q.names.insert(n.get<std::string>());
        }
        q.prefix = opt_string(in, "logStreamNamePrefix");
        if (!q.names.empty() && q.prefix)
            throw invalid("Cannot specify both logStreamNames and logStreamNamePrefix in the same request.");
        auto start = opt_int(in, "startTime");
        auto end = opt_int(in, "endTime");
        if (start) q.start = *start;
        if (end) q.end = *end;
        if (start && end && *end < *start) throw invalid("End time must be greater than or equal to start time.");
        std::string pattern = opt_string(in, "filterPattern").value_or("");
        try {
            q.pattern = FilterPattern::parse(pattern);
        } catch (const std::invalid_argument& e) {
            throw invalid(fmt::format("Invalid filter pattern: {}", e.what()));
        }
        q.limit = limit_of(in, "limit", 10000, 10000);
        bool interleaved = opt_bool(in, "interleaved", false);
        std::optional<TailToken> token;
        if (auto t = opt_string(in, "nextToken")) token = TailToken::parse(*t);
        std::string stream_key;
        for (auto& n : q.names) stream_key += n + ",";
        q.key = fmt::format("{}\n{}\n{}\n{}", q.group, pattern, stream_key, q.prefix.value_or(""));
        bool follower = token && token->follower;
        {
            std::lock_guard lock(mutex_);
            if (!exists(q.group)) throw group_not_found();
            q.where = where(q.group);
            q.cutoff = cutoff(q.group);
            if (!token && interleaved) {
                // The same query again shortly after a tail wait ended empty: a follower.
                auto it = timed_out_.find(q.key);
                if (it != timed_out_.end()) {
                    follower = std::chrono::steady_clock::now() - it->second < std::chrono::seconds(12);
                    timed_out_.erase(it);
                }
            }
        }
        std::uint64_t after = token ? token->after : 0;
        FilterPage page = run_filter(q, after);
        bool open_end = !end || *end >= now_ms();
        bool tail = interleaved && open_end && !page.full;
        if (tail && token && token->tail && page.events.empty()) {
            // Wait for lines after the token (see api.hpp).
            wait(std::make_shared<Waiter>(std::move(q), std::move(reply), page.last_seen, follower), follower);
            return;
        }
        json out = {{"events", std::move(page.events)}, {"searchedLogStreams", json::array()}};
        if (page.full) out["nextToken"] = TailToken{false, false, page.last_seen}.text();
        else if (tail) out["nextToken"] = TailToken{true, follower, page.last_seen}.text();
        send(reply, out, "FilterLogEvents");
    }

    struct Waiter {
        Waiter(FilterQuery&& query, core::Reply&& r, std::uint64_t a, bool f)
            : q(std::move(query)), reply(std::move(r)), after(a), follower(f) {}
        FilterQuery q;
        core::Reply reply;
        std::uint64_t after;
        bool follower;
        std::uint64_t seen = 0;  // the book's last seq when last looked
        std::chrono::steady_clock::time_point deadline;
        std::unique_ptr<net::steady_timer> timer;
    };

    void wait(std::shared_ptr<Waiter> w, bool follower) {
        w->deadline = std::chrono::steady_clock::now() + (follower ? std::chrono::milliseconds(20000) : std::chrono::milliseconds(1500));
        w->seen = w->q.where.book->last_seq();
        w->timer = std::make_unique<net::steady_timer>(runtime_.io_context());
        poll(std::move(w));
    }

    void poll(std::shared_ptr<Waiter> w) {
        // Every 50 ms: whether the book has new lines, and if so whether any match.
        w->timer->expires_after(std::chrono::milliseconds(50));
        auto* timer = w->timer.get();
        timer->async_wait([self = shared_from_this(), w = std::move(w)](const boost::system::error_code& ec) mutable {
            bool expired = ec || std::chrono::steady_clock::now() >= w->deadline;
            std::uint64_t last = w->q.where.book->last_seq();
            if (last != w->seen || expired) {
                w->seen = last;
                FilterPage page = self->run_filter(w->q, w->after);
                w->after = page.last_seen;
                bool found = !page.events.empty();
                if (found || expired) {
                    json out = {{"events", std::move(page.events)}, {"searchedLogStreams", json::array()}};
                    if (found || w->follower || page.full) {
                        out["nextToken"] = TailToken{!page.full, w->follower, page.last_seen}.text();
                    } else {
                        std::lock_guard lock(self->mutex_);
                        auto now = std::chrono::steady_clock::now();
                        std::erase_if(self->timed_out_, [&](auto& e) { return now - e.second > std::chrono::seconds(12); });
                        self->timed_out_[w->q.key] = now;
                    }
                    self->send(w->reply, out, "FilterLogEvents");
                    return;
                }
            }
            self->poll(std::move(w));
        });
    }

    core::Protocol protocol_{core::Wire::json11, "", false};
    core::Runtime& runtime_;
    core::lmdb::Env& env_;
    lambda::LogBook& functions_;
    lambda::LogBook custom_;
    core::lmdb::Dbi dbi_;
    std::mutex mutex_;
    std::map<std::string, GroupMeta> groups_;
    std::map<std::string, std::chrono::steady_clock::time_point> timed_out_;
};

}  // namespace

std::shared_ptr<core::Service> make_service(core::Runtime& runtime, core::lmdb::Env& env, lambda::LogBook& function_logs,
                                            LogsOptions options) {
    return std::make_shared<LogsService>(runtime, env, function_logs, std::move(options));
}

}  // namespace stratus::logs

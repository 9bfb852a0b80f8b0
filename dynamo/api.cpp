#include "dynamo/api.hpp"

#include <fmt/format.h>

#include <chrono>
#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include "core/group_commit.hpp"
#include "core/json_parse.hpp"
#include "core/log.hpp"
#include "core/protocol.hpp"
#include <nlohmann/json.hpp>

#include "dynamo/ops/ops.hpp"
#include "dynamo/store/store.hpp"
#include "dynamo/streams/ops.hpp"

namespace stratus::dynamo {

namespace {

// Deepest JSON nesting a request may have. DynamoDB's own limit on attribute values is 32
// levels; checking the raw text first keeps hostile bodies ([[[[...) from reaching a
// recursive parser.
constexpr int max_json_depth = 64;

bool too_deep(std::string_view body) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < body.size(); ++i) {
        char c = body[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max_json_depth) return true;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return false;
}

// A JSON 1.0 body as DynamoDB reads it: at most max_json_depth deep, an object.
nlohmann::json parse_input(const core::Request& request) {
    if (too_deep(request.body)) throw core::AwsError::serialization("Request nesting too deep");
    nlohmann::json input = core::parse_json(request.body.empty() ? std::string_view("{}") : std::string_view(request.body));
    // DynamoDB answers text that is not JSON with a bare
    // {"__type":"com.amazon.coral.service#SerializationException"}: no message, no position
    // (dynalite, written against DynamoDB, answers so; AWS does not document it).
    if (input.is_discarded()) throw core::AwsError::serialization("");
    return input;
}

std::string_view operation_of(const core::Request& request) {
    std::string_view target = request.headers.get_or("x-amz-target", "");
    auto dot = target.find('.');
    return dot == std::string_view::npos ? std::string_view{} : target.substr(dot + 1);
}

// DynamoDB Streams: shares DynamoDB's error namespace and the store's streams.
class StreamsService final : public core::Service {
public:
    StreamsService(streams::StreamStore& store, core::lmdb::Env& env) : ctx_{store, env} {}

    std::string_view name() const override { return "dynamodbstreams"; }
    const core::Protocol& protocol() const override { return protocol_; }
    core::ServiceRoute route() const override {
        core::ServiceRoute r;
        r.target_prefixes = {"DynamoDBStreams_20120810."};
        return r;
    }
    core::BodyPolicy body_policy(const core::Request&) const override {
        core::BodyPolicy p;
        p.limit = 1024 * 1024;
        return p;
    }
    void handle(core::Request&& request, core::Reply reply) override {
        std::string_view op_name = operation_of(request);
        auto it = streams::operations().find(op_name);
        if (it == streams::operations().end()) throw core::AwsError::unknown_operation();
        nlohmann::json output = it->second(ctx_, parse_input(request));
        core::Response r = core::json_response(protocol_, output.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        r.operation = std::string(op_name);
        reply(std::move(r));
    }

private:
    core::Protocol protocol_{core::Wire::json10, "com.amazonaws.dynamodb.v20120810#", true};
    streams::ApiContext ctx_;
};

class DynamoServiceImpl final : public DynamoService {
public:
    DynamoServiceImpl(core::lmdb::Env& env, std::string endpoint)
        : store_(env), ctx_{store_, "us-east-1", "000000000000", std::move(endpoint), [] {
                                return std::chrono::duration<double>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                    .count();
                            }} {}

    ~DynamoServiceImpl() override {
        {
            std::lock_guard lock(sweeper_mutex_);
            stopping_ = true;
        }
        sweeper_cv_.notify_all();
        if (sweeper_.joinable()) sweeper_.join();
    }

    std::shared_ptr<core::Service> streams_api() override { return streams_api_; }
    streams::StreamStore& streams() override { return store_.streams(); }

    // Long work runs on one maintenance thread, never on the I/O threads: TTL deletions
    // and stream trimming every `period`, and, as soon as they are recorded (or found at
    // startup), GSI backfills and the removal of dropped tables' items in bounded steps.
    void start_maintenance(std::chrono::milliseconds period) {
        ctx_.wake_maintenance = [this] {
            {
                std::lock_guard lock(sweeper_mutex_);
                maintenance_due_ = true;
            }
            sweeper_cv_.notify_all();
        };
        sweeper_ = std::thread([this, period] {
            auto next_sweep = std::chrono::steady_clock::now() + period;
            std::unique_lock lock(sweeper_mutex_);
            for (;;) {
                sweeper_cv_.wait_until(lock, next_sweep, [this] { return stopping_ || maintenance_due_; });
                if (stopping_) return;
                bool due = std::exchange(maintenance_due_, false);
                lock.unlock();
                if (due) run_maintenance();
                if (std::chrono::steady_clock::now() >= next_sweep) {
                    try {
                        sweep_expired(ctx_, ctx_.now());
                    } catch (const std::exception& e) {
                        core::log::error("TTL sweep failed: {}", e.what());
                    }
                    try {
                        store_.streams().maintain();
                    } catch (const std::exception& e) {
                        core::log::error("stream maintenance failed: {}", e.what());
                    }
                    next_sweep = std::chrono::steady_clock::now() + period;
                }
                lock.lock();
            }
        });
    }

    std::string_view name() const override { return "dynamodb"; }
    const core::Protocol& protocol() const override { return protocol_; }
    core::ServiceRoute route() const override {
        core::ServiceRoute r;
        r.target_prefixes = {"DynamoDB_20120810."};
        r.signing_names = {"dynamodb"};
        return r;
    }
    core::BodyPolicy body_policy(const core::Request&) const override {
        core::BodyPolicy p;
        p.limit = 16 * 1024 * 1024;  // DynamoDB's request size limit (BatchWriteItem's 16 MB)
        return p;
    }

    void handle(core::Request&& request, core::Reply reply) override {
        std::string_view op_name = operation_of(request);
        auto it = operations().find(op_name);
        if (it == operations().end()) {
            // DynamoDB answers an unknown target with a bare UnknownOperationException.
            throw core::AwsError::unknown_operation();
        }
        if (op_name == "PutItem") {
            if (auto put = put_item_fast(request.body))
                return write_grouped(nlohmann::json(), request,
                                     [put = std::move(put)](Context& ctx, const nlohmann::json&) { return put(ctx); },
                                     op_name, std::move(reply));
        }
        if (grouped(op_name)) return write_grouped(parse_input(request), request, it->second, op_name, std::move(reply));
        if (op_name == "ExecuteStatement" || op_name == "BatchExecuteStatement" || op_name == "ExecuteTransaction") {
            nlohmann::json input = parse_input(request);
            if (partiql_writes(input)) return write_grouped(std::move(input), request, it->second, op_name, std::move(reply));
            return reply(answer(it->second(ctx_, input), op_name));
        }
        if (op_name == "GetItem") {
            if (auto text = get_item_fast(ctx_, request.body)) {
                core::Response r = core::json_response(protocol_, std::move(*text));
                r.operation = "GetItem";
                return reply(std::move(r));
            }
        }
        if (auto text = text_operations().find(op_name); text != text_operations().end()) {
            core::Response r = core::json_response(protocol_, text->second(ctx_, parse_input(request)));
            r.operation = std::string(op_name);
            return reply(std::move(r));
        }
        nlohmann::json output = it->second(ctx_, parse_input(request));
        reply(answer(output, op_name));
    }

    nlohmann::json create_table(const nlohmann::json& in) override { return call("CreateTable", in)["TableDescription"]; }
    std::optional<nlohmann::json> describe_table(const std::string& name) override {
        try {
            return call("DescribeTable", {{"TableName", name}})["Table"];
        } catch (const core::AwsError& e) {
            if (e.code() == "ResourceNotFoundException") return std::nullopt;
            throw;
        }
    }
    nlohmann::json update_table(const nlohmann::json& in) override { return call("UpdateTable", in)["TableDescription"]; }
    void update_time_to_live(const nlohmann::json& in) override { call("UpdateTimeToLive", in); }
    nlohmann::json describe_time_to_live(const std::string& name) override {
        return call("DescribeTimeToLive", {{"TableName", name}})["TimeToLiveDescription"];
    }
    void delete_table(const std::string& name) override { call("DeleteTable", {{"TableName", name}}); }

    void reset() override {
        store_.env().write([&](core::lmdb::WriteTxn& txn) { store_.reset(txn); });
        std::lock_guard lock(ctx_.tokens->mutex);
        ctx_.tokens->entries.clear();
    }

private:
    // A null output is an empty body (TagResource, UntagResource answer nothing).
    core::Response answer(const nlohmann::json& output, std::string_view op_name) const {
        core::Response r = core::json_response(
            protocol_, output.is_null() ? std::string() : output.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        r.operation = std::string(op_name);
        return r;
    }

    // The item writes commit in groups on one committer thread (core/group_commit.hpp):
    // the I/O thread parses the request and goes back to its connections; the committer
    // runs every waiting write in one LMDB transaction, in arrival order, each seeing what
    // its predecessors in the group wrote (conditions included), commits once (with
    // --durability full, one fsync for the group), then answers each client.
    static bool grouped(std::string_view op) {
        return op == "PutItem" || op == "UpdateItem" || op == "DeleteItem" || op == "BatchWriteItem" ||
               op == "TransactWriteItems";
    }

    struct GroupedWrite {
        nlohmann::json input;
        nlohmann::json output;
        std::exception_ptr error;
        core::Request meta;  // what rendering an error needs
    };

    // PartiQL requests whose statements write (INSERT, UPDATE, DELETE, or EXISTS as a
    // transaction's condition) commit through the group committer too. Anything else,
    // however malformed, runs as a read: a write statement not recognised here (say,
    // behind a comment) still commits correctly, in a transaction of its own.
    static bool partiql_writes(const nlohmann::json& input) {
        auto writes = [](const nlohmann::json& statement) {
            if (!statement.is_string()) return false;
            const std::string& text = statement.get_ref<const std::string&>();
            std::size_t i = text.find_first_not_of(" \t\r\n(");
            if (i == std::string::npos) return false;
            std::size_t end = text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", i);
            std::string word = text.substr(i, end == std::string::npos ? std::string::npos : end - i);
            for (char& c : word) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
            return word == "INSERT" || word == "UPDATE" || word == "DELETE" || word == "EXISTS";
        };
        if (!input.is_object()) return false;
        if (auto st = input.find("Statement"); st != input.end()) return writes(*st);
        for (const char* list : {"Statements", "TransactStatements"})
            if (auto l = input.find(list); l != input.end() && l->is_array())
                for (const auto& entry : *l)
                    if (entry.is_object())
                        if (auto st = entry.find("Statement"); st != entry.end() && writes(*st)) return true;
        return false;
    }

    void write_grouped(nlohmann::json input, const core::Request& request,
                       std::function<nlohmann::json(Context&, const nlohmann::json&)> op, std::string_view op_name,
                       core::Reply reply) {
        auto w = std::make_shared<GroupedWrite>();
        w->input = std::move(input);
        w->meta.method = request.method;
        w->meta.request_id = request.request_id;
        commits_.submit(
            [this, w, op = std::move(op)](core::lmdb::WriteTxn& txn) {
                // The operation's own env.write runs in the group's transaction.
                core::lmdb::JoinWrites join(txn);
                std::uint64_t before = txn.writes();
                try {
                    w->output = op(ctx_, w->input);
                    w->error = nullptr;
                } catch (...) {
                    // A full map: the whole group grows the map and runs again. A failure
                    // after the operation wrote part of its change: the group runs again
                    // without it (GroupCommit), so nothing of it stays. Otherwise (every
                    // validation and condition failure) the failure is only its own answer.
                    if (txn.map_full() || txn.writes() != before) throw;
                    w->error = std::current_exception();
                }
            },
            [this, w, op_name = std::string(op_name), reply = std::move(reply)](std::exception_ptr error) {
                if (!error) error = w->error;
                if (!error) return reply(answer(w->output, op_name));
                try {
                    std::rethrow_exception(error);
                } catch (const core::AwsError& e) {
                    reply(core::render_error(protocol_, e, w->meta));
                } catch (const std::exception& e) {
                    core::log::error("dynamodb request {} failed: {}", w->meta.request_id, e.what());
                    reply(core::render_error(protocol_, core::AwsError::internal(), w->meta));
                }
            });
    }

    // Steps of Store::maintenance_step until nothing is pending. Each step is one job of
    // the group committer, so it queues with the clients' writes instead of holding the
    // writer for long; steps are short (a fraction of a millisecond) and the thread then
    // rests eight times as long as the step took, so a backfill takes at most about a
    // ninth of a core, in slices too short to delay an I/O thread much (bench/dynamodb.py
    // measures GetItem's p99 during a 100,000-item backfill: with a rest of 3x, a quarter
    // of a core, the p99 under load rose by half).
    void run_maintenance() {
        constexpr std::size_t step_items = 32;
        constexpr int rest_factor = 8;
        for (;;) {
            auto started = std::chrono::steady_clock::now();
            auto more = std::make_shared<bool>(false);
            std::promise<std::exception_ptr> finished;
            auto result = finished.get_future();
            commits_.submit([this, more](core::lmdb::WriteTxn& txn) { *more = store_.maintenance_step(txn, step_items); },
                            [&finished](std::exception_ptr e) { finished.set_value(e); });
            if (auto error = result.get()) {
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& e) {
                    core::log::error("DynamoDB maintenance step failed: {}", e.what());
                }
                return;  // tried again at the next wake-up (or restart)
            }
            if (!*more) return;
            auto took = std::chrono::steady_clock::now() - started;
            std::unique_lock lock(sweeper_mutex_);
            if (sweeper_cv_.wait_for(lock,
                                     std::max<std::chrono::steady_clock::duration>(rest_factor * took,
                                                                                   std::chrono::microseconds(500)),
                                     [this] { return stopping_; }))
                return;
        }
    }

    nlohmann::json call(std::string_view op, const nlohmann::json& in) {
        auto it = operations().find(op);
        if (it == operations().end()) throw std::logic_error("no DynamoDB operation " + std::string(op));
        return it->second(ctx_, in);
    }

    core::Protocol protocol_{core::Wire::json10, "com.amazonaws.dynamodb.v20120810#", true};
    Store store_;
    Context ctx_;
    std::shared_ptr<StreamsService> streams_api_ = std::make_shared<StreamsService>(store_.streams(), store_.env());
    std::thread sweeper_;
    std::mutex sweeper_mutex_;
    std::condition_variable sweeper_cv_;
    bool stopping_ = false;
    bool maintenance_due_ = true;  // at startup: resume what a previous run left
    // Last: destroyed first, running what was submitted while the rest still lives.
    core::lmdb::GroupCommit commits_{store_.env()};
};

}  // namespace

std::shared_ptr<DynamoService> make_service(core::lmdb::Env& env, std::string endpoint_address,
                                            std::chrono::milliseconds ttl_period) {
    auto s = std::make_shared<DynamoServiceImpl>(env, std::move(endpoint_address));
    s->start_maintenance(ttl_period);
    return s;
}

}  // namespace stratus::dynamo

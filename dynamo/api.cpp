#include "dynamo/api.hpp"

#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/group_commit.hpp"
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
    nlohmann::json input = nlohmann::json::parse(request.body.empty() ? std::string_view("{}") : std::string_view(request.body),
                                                 nullptr, false);
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

    // TTL deletions (and stream trimming) run on their own thread, never on the I/O threads.
    void start_ttl_sweeper(std::chrono::milliseconds period) {
        sweeper_ = std::thread([this, period] {
            std::unique_lock lock(sweeper_mutex_);
            while (!sweeper_cv_.wait_for(lock, period, [this] { return stopping_; })) {
                lock.unlock();
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
        if (grouped(op_name)) return write_grouped(request, it->second, op_name, std::move(reply));
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

    void write_grouped(const core::Request& request, const Operation& op, std::string_view op_name,
                       core::Reply reply) {
        auto w = std::make_shared<GroupedWrite>();
        w->input = parse_input(request);
        w->meta.method = request.method;
        w->meta.request_id = request.request_id;
        commits_.submit(
            [this, w, op](core::lmdb::WriteTxn& txn) {
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
    // Last: destroyed first, running what was submitted while the rest still lives.
    core::lmdb::GroupCommit commits_{store_.env()};
};

}  // namespace

std::shared_ptr<DynamoService> make_service(core::lmdb::Env& env, std::string endpoint_address,
                                            std::chrono::milliseconds ttl_period) {
    auto s = std::make_shared<DynamoServiceImpl>(env, std::move(endpoint_address));
    s->start_ttl_sweeper(ttl_period);
    return s;
}

}  // namespace stratus::dynamo

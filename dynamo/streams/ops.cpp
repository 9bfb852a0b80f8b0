#include "dynamo/streams/ops.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/protocol.hpp"
#include "dynamo/ops/input.hpp"

namespace stratus::dynamo::streams {

using json = nlohmann::json;
namespace lmdb = core::lmdb;

namespace {

core::AwsError stream_not_found(std::string_view arn) {
    return core::AwsError::resource_not_found(fmt::format("Requested resource not found: Stream: {} not found", arn));
}

core::AwsError trimmed(std::string_view what) {
    return core::AwsError("TrimmedDataAccessException", std::string(what), 400);
}

// StreamArn: required, 37..1024 characters (the shape's constraints); then it must name a
// stream ARN.
std::string require_stream_arn(const json& in, input::Violations& v) {
    auto arn = input::opt_string(in, "StreamArn");
    if (!arn) {
        v.add_null("streamArn");
        return {};
    }
    if (arn->size() < 37) v.add(*arn, "streamArn", "Member must have length greater than or equal to 37");
    if (arn->size() > 1024) v.add(*arn, "streamArn", "Member must have length less than or equal to 1024");
    return *arn;
}

void check_shard_id(input::Violations& v, const std::optional<std::string>& id, std::string_view member) {
    if (!id) return;
    if (id->size() < 28) v.add(*id, member, "Member must have length greater than or equal to 28");
    if (id->size() > 65) v.add(*id, member, "Member must have length less than or equal to 65");
}

std::optional<std::int64_t> opt_limit(const json& in, input::Violations& v, std::int64_t max) {
    auto limit = input::opt_int(in, "Limit");
    if (limit && *limit < 1) v.add(std::to_string(*limit), "limit", "Member must have value greater than or equal to 1");
    if (limit && *limit > max)
        v.add(std::to_string(*limit), "limit", fmt::format("Member must have value less than or equal to {}", max));
    return limit;
}

Stream load(ApiContext& ctx, const lmdb::Txn& txn, const std::string& arn) {
    // A string that is not a stream ARN at all is a ValidationException (AWS wording
    // unsure); a well-formed one that names no stream is ResourceNotFoundException.
    if (!StreamArn::parse(arn)) throw core::AwsError::validation("Invalid StreamArn");
    auto s = ctx.store.find(txn, arn);
    if (!s) throw stream_not_found(arn);
    return std::move(*s);
}

json shard_json(const Shard& sh) {
    json range = {{"StartingSequenceNumber", sh.start.str()}};
    if (sh.end) range["EndingSequenceNumber"] = sh.end->str();
    json j = {{"ShardId", sh.id}, {"SequenceNumberRange", std::move(range)}};
    if (!sh.parent.empty()) j["ParentShardId"] = sh.parent;
    return j;
}

std::string format_time(std::int64_t ms) {
    // As Kinesis (whose errors DynamoDB Streams shares) prints times in this message.
    return core::iso8601(ms);
}

}  // namespace

const std::map<std::string, Operation, std::less<>>& operations() {
    static const std::map<std::string, Operation, std::less<>> ops = {
        {"ListStreams", list_streams},
        {"DescribeStream", describe_stream},
        {"GetShardIterator", get_shard_iterator},
        {"GetRecords", get_records},
    };
    return ops;
}

json list_streams(ApiContext& ctx, const json& in) {
    input::require_object(in);
    input::Violations v;
    auto table = input::opt_string(in, "TableName");
    input::check_table_name(v, table, "tableName", false);
    auto limit = opt_limit(in, v, 100);
    auto start = input::opt_string(in, "ExclusiveStartStreamArn");
    if (start && start->size() < 37) v.add(*start, "exclusiveStartStreamArn", "Member must have length greater than or equal to 37");
    v.throw_if_any();
    std::size_t max = limit ? static_cast<std::size_t>(*limit) : 100;
    // Streams of deleted tables stay listed while readable (24 hours). A TableName with no
    // stream (or no table) gives an empty list (AWS behaviour for a missing table unsure).
    auto all = ctx.env.read([&](lmdb::ReadTxn& txn) { return ctx.store.list(txn); });
    json streams = json::array();
    std::optional<std::string> last;
    bool more = false;
    for (auto& s : all) {
        if (table && s.table != *table) continue;
        if (start && s.arn <= *start) continue;
        if (streams.size() == max) {
            more = true;
            break;
        }
        streams.push_back({{"StreamArn", s.arn}, {"TableName", s.table}, {"StreamLabel", s.label}});
        last = s.arn;
    }
    json out = {{"Streams", std::move(streams)}};
    if (more && last) out["LastEvaluatedStreamArn"] = *last;
    return out;
}

json describe_stream(ApiContext& ctx, const json& in) {
    input::require_object(in);
    input::Violations v;
    std::string arn = require_stream_arn(in, v);
    auto limit = opt_limit(in, v, 100);
    auto start = input::opt_string(in, "ExclusiveStartShardId");
    check_shard_id(v, start, "exclusiveStartShardId");
    std::optional<std::string> child_of;
    if (const json* filter = input::opt_object(in, "ShardFilter")) {
        auto type = input::opt_string(*filter, "Type");
        if (type && *type != "CHILD_SHARDS")
            v.add(*type, "shardFilter.type", "Member must satisfy enum value set: [CHILD_SHARDS]");
        auto id = input::opt_string(*filter, "ShardId");
        check_shard_id(v, id, "shardFilter.shardId");
        // AWS wording unsure: a CHILD_SHARDS filter needs the parent's id.
        if (type && !id) throw core::AwsError::validation("ShardFilter.ShardId must be specified for CHILD_SHARDS");
        child_of = id;
    }
    v.throw_if_any();
    std::size_t max = limit ? static_cast<std::size_t>(*limit) : 100;
    return ctx.env.read([&](lmdb::ReadTxn& txn) {
        Stream s = load(ctx, txn, arn);
        json shards = json::array();
        bool started = !start;
        std::optional<std::string> last;
        bool more = false;
        for (auto& sh : s.shards) {
            if (!started) {
                started = sh.id == *start;
                continue;
            }
            if (child_of && sh.parent != *child_of) continue;
            if (shards.size() == max) {
                more = true;
                break;
            }
            shards.push_back(shard_json(sh));
            last = sh.id;
        }
        json keys = json::array();
        for (std::size_t i = 0; i < s.key_names.size(); ++i)
            keys.push_back({{"AttributeName", s.key_names[i]}, {"KeyType", i == 0 ? "HASH" : "RANGE"}});
        json d = {{"StreamArn", s.arn},
                  {"StreamLabel", s.label},
                  {"StreamStatus", s.enabled ? "ENABLED" : "DISABLED"},
                  {"StreamViewType", view_type_name(s.view)},
                  {"CreationRequestDateTime", static_cast<double>(s.created_ms) / 1000.0},
                  {"TableName", s.table},
                  {"KeySchema", std::move(keys)},
                  {"Shards", std::move(shards)}};
        if (more && last) d["LastEvaluatedShardId"] = *last;
        return json{{"StreamDescription", std::move(d)}};
    });
}

json get_shard_iterator(ApiContext& ctx, const json& in) {
    input::require_object(in);
    input::Violations v;
    std::string arn = require_stream_arn(in, v);
    auto shard_id = input::opt_string(in, "ShardId");
    if (!shard_id) v.add_null("shardId");
    check_shard_id(v, shard_id, "shardId");
    auto type = input::opt_string(in, "ShardIteratorType");
    if (!type)
        v.add_null("shardIteratorType");
    else if (*type != "TRIM_HORIZON" && *type != "LATEST" && *type != "AT_SEQUENCE_NUMBER" &&
             *type != "AFTER_SEQUENCE_NUMBER")
        v.add(*type, "shardIteratorType",
              "Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]");
    auto seq_text = input::opt_string(in, "SequenceNumber");
    if (seq_text && seq_text->size() < 21)
        v.add(*seq_text, "sequenceNumber", "Member must have length greater than or equal to 21");
    if (seq_text && seq_text->size() > 40)
        v.add(*seq_text, "sequenceNumber", "Member must have length less than or equal to 40");
    v.throw_if_any();
    bool by_number = *type == "AT_SEQUENCE_NUMBER" || *type == "AFTER_SEQUENCE_NUMBER";
    // AWS wording unsure for these three.
    if (by_number && !seq_text)
        throw core::AwsError::validation("Must specify a SequenceNumber for ShardIteratorType " + *type);
    if (!by_number && seq_text)
        throw core::AwsError::validation("SequenceNumber cannot be specified for ShardIteratorType " + *type);
    std::optional<SequenceNumber> seq;
    if (seq_text) {
        seq = SequenceNumber::parse(*seq_text);
        if (!seq) throw core::AwsError::validation("Invalid SequenceNumber: " + *seq_text);
    }
    return ctx.env.read([&](lmdb::ReadTxn& txn) {
        Stream s = load(ctx, txn, arn);
        const Shard* sh = s.shard(*shard_id);
        if (!sh)
            throw core::AwsError::resource_not_found(
                fmt::format("Requested resource not found: Shard does not exist: {}", *shard_id));
        SequenceNumber position;
        if (*type == "TRIM_HORIZON") {
            position = std::max(sh->start, s.trim_horizon);
        } else if (*type == "LATEST") {
            position = sh->end ? SequenceNumber(sh->end->value() + 1) : ctx.store.next(txn);
        } else {
            if (*seq < sh->start || (sh->end && *sh->end < *seq))
                throw core::AwsError::validation(fmt::format(
                    "Invalid SequenceNumber: {} is not in the range of shard {}", seq->str(), sh->id));
            if (*seq < s.trim_horizon)
                throw trimmed(fmt::format("Attempted to access data beyond the trim horizon: SequenceNumber {} of shard {} "
                                          "is older than 24 hours",
                                          seq->str(), sh->id));
            position = *type == "AT_SEQUENCE_NUMBER" ? *seq : SequenceNumber(seq->value() + 1);
        }
        ShardIterator it{s.arn, sh->id, position, ctx.store.now_ms()};
        return json{{"ShardIterator", it.str()}};
    });
}

json get_records(ApiContext& ctx, const json& in) {
    input::require_object(in);
    input::Violations v;
    auto text = input::opt_string(in, "ShardIterator");
    if (!text) v.add_null("shardIterator");
    else if (text->empty()) v.add(*text, "shardIterator", "Member must have length greater than or equal to 1");
    else if (text->size() > 2048) v.add(*text, "shardIterator", "Member must have length less than or equal to 2048");
    // GetRecords' Limit is at most 1000: the API reference names LimitExceededException for
    // larger values, but a constraint violation of a member is answered, as elsewhere in
    // DynamoDB, as ValidationException (AWS behaviour unsure).
    auto limit = opt_limit(in, v, static_cast<std::int64_t>(max_get_records));
    v.throw_if_any();
    auto it = ShardIterator::parse(*text);
    if (!it) throw core::AwsError::validation("Invalid ShardIterator");  // AWS wording unsure
    std::int64_t now = ctx.store.now_ms();
    if (now - it->issued_ms > iterator_lifetime_ms)
        throw core::AwsError("ExpiredIteratorException",
                             fmt::format("Iterator expired. The iterator was created at time {} while right now it is {} "
                                         "which is further in the future than the tolerated delay of {} milliseconds.",
                                         format_time(it->issued_ms), format_time(now), iterator_lifetime_ms),
                             400);
    std::size_t max = limit ? static_cast<std::size_t>(*limit) : max_get_records;
    return ctx.env.read([&](lmdb::ReadTxn& txn) {
        auto s = ctx.store.find(txn, it->stream_arn);
        if (!s) throw stream_not_found(it->stream_arn);
        const Shard* sh = s->shard(it->shard_id);
        if (!sh || it->position < s->trim_horizon)
            throw trimmed("Attempted to access data beyond the trim horizon: the shard's records at the iterator's "
                          "position are older than 24 hours");
        auto records = ctx.store.read(txn, *s, it->position, sh->end, max, max_get_records_bytes);
        json list = json::array();
        for (auto& r : records) list.push_back(record_json(r, s->view, ctx.region, Form::streams_api, s->arn));
        SequenceNumber next = records.empty() ? it->position : SequenceNumber(records.back().seq.value() + 1);
        json out = {{"Records", std::move(list)}};
        // A closed shard read to its end has no next iterator: the reader moves on to its
        // child shards.
        bool exhausted = sh->end && (*sh->end < next || ctx.store.read(txn, *s, next, sh->end, 1, SIZE_MAX).empty());
        if (!exhausted) out["NextShardIterator"] = ShardIterator{s->arn, sh->id, next, now}.str();
        return out;
    });
}

}  // namespace stratus::dynamo::streams

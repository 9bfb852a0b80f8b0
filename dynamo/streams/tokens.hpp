// The opaque tokens of DynamoDB Streams, each a type that parses and formats itself
// (STYLE.md): sequence numbers, shard ids, stream ARNs and shard iterators.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stratus::dynamo::streams {

// A record's position: one counter for every stream of the daemon, stored with the
// records (so it only grows, across restarts too). On the wire a decimal string of 21
// digits, "1" followed by the counter zero-padded to 20 digits: botocore wants at least
// 21 characters (the SequenceNumber shape's min), the KCL compares them as big integers,
// and fixed width keeps string order equal to numeric order. AWS's are 21-40 digits.
class SequenceNumber {
public:
    SequenceNumber() = default;
    explicit SequenceNumber(std::uint64_t value) : value_(value) {}
    // nullopt unless `text` is one of ours (any other decimal string names no record here).
    static std::optional<SequenceNumber> parse(std::string_view text);
    std::string str() const;
    std::uint64_t value() const { return value_; }
    auto operator<=>(const SequenceNumber&) const = default;

private:
    std::uint64_t value_ = 0;
};

// "shardId-" + 20 digits (creation time, ms) + "-" + 8 hex digits, AWS's layout
// ("shardId-00000001414576573621-f55eea83").
std::string make_shard_id(std::int64_t created_ms, std::uint32_t salt);

// arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/stream/LABEL
struct StreamArn {
    std::string region, account, table, label;
    static std::optional<StreamArn> parse(std::string_view text);
    std::string str() const;
};

// A stream's label: the creation time as "2015-05-11T21:21:33.291", as AWS makes them.
std::string stream_label(std::int64_t created_ms);

// Where a reader is in a shard: the next sequence number to return, and when the iterator
// was handed out (iterators expire after 15 minutes). On the wire:
// "<stream ARN>|1|<base64 of shard id, position, issue time>" (AWS's iterators also start
// with the stream ARN and "|1|"; clients treat the rest as opaque).
struct ShardIterator {
    std::string stream_arn;
    std::string shard_id;
    SequenceNumber position;
    std::int64_t issued_ms = 0;

    static std::optional<ShardIterator> parse(std::string_view text);
    std::string str() const;
};

}  // namespace stratus::dynamo::streams

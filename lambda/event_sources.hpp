// What lambda/'s triggers read their events from. lambda/ names no other service
// (shared/DESIGN.md): these are the small interfaces its event sources implement, and
// emulator/ adapts DynamoDB's streams and S3's event outbox to them. Standard library only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace stratus::lambda {

// ---- DynamoDB streams (event source mappings)

struct StreamShardInfo {
    std::string id;
    std::string parent;  // empty: none (or no longer retained)
    bool closed = false;
};

struct StreamRecordData {
    std::string sequence_number;
    // The record as a Lambda event carries it (eventID ... dynamodb, eventSourceARN,
    // userIdentity), JSON text.
    std::string json;
    std::int64_t created_ms = 0;  // ApproximateCreationDateTime, for MaximumRecordAgeInSeconds
};

struct StreamBatch {
    std::vector<StreamRecordData> records;
    // The shard is closed and nothing follows the records returned: read its children next.
    bool shard_end = false;
};

class StreamEventSource {
public:
    virtual ~StreamEventSource() = default;
    // Whether `stream_arn` names a stream (enabled, or disabled and still readable).
    virtual bool exists(const std::string& stream_arn) = 0;
    // Its shards, parents before their children (empty when the stream is gone).
    virtual std::vector<StreamShardInfo> shards(const std::string& stream_arn) = 0;
    // Records of the shard after the checkpoint `after` (a sequence number this source
    // returned, or latest()'s value; empty: from the oldest record retained), in order, at
    // most `limit`. Records past the retention period are skipped, not reported.
    virtual StreamBatch read(const std::string& stream_arn, const std::string& shard_id, const std::string& after,
                             std::size_t limit) = 0;
    // A checkpoint after every record written so far (StartingPosition LATEST).
    virtual std::string latest(const std::string& stream_arn) = 0;
    // `fn` runs after every commit that adds records to any stream (any thread; quick).
    virtual void subscribe(std::function<void()> fn) = 0;
};

// ---- S3 event notifications

struct S3EventData {
    std::string id;            // the outbox entry; acknowledge() takes it
    std::string function_arn;  // the LambdaFunctionConfiguration's target
    std::string payload;       // {"Records": [...]} as the function receives it
};

class S3EventSource {
public:
    virtual ~S3EventSource() = default;
    // Up to `max` undelivered events, oldest first (they stay until acknowledged).
    virtual std::vector<S3EventData> pending(std::size_t max) = 0;
    // Removes delivered events from the outbox.
    virtual void acknowledge(const std::vector<std::string>& ids) = 0;
    // `fn` runs after every commit that adds events (any thread; quick).
    virtual void subscribe(std::function<void()> fn) = 0;
};

}  // namespace stratus::lambda

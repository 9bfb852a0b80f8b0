// S3 event notifications: a bucket's stored NotificationConfiguration turns object
// changes into event records shaped as AWS delivers them to Lambda, kept in a durable
// outbox written in the same LMDB transaction as the object's metadata: an acknowledged
// PUT (or copy, multipart completion, delete, delete marker) has its events stored, even
// if stratus is killed right after answering. A consumer (Lambda's S3 trigger, wired by
// emulator/) takes them with pending() and removes them with acknowledge() once it has
// stored them itself: at least once, nothing lost in between.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/lmdb.hpp"

namespace stratus::s3 {

struct ObjectChange {
    std::string bucket;
    std::string key;
    std::string event_name;  // "ObjectCreated:Put", "ObjectRemoved:Delete", ...
    std::uint64_t size = 0;
    std::string etag;        // unquoted
    std::string version_id;  // empty when unversioned
    std::int64_t time_ms = 0;
    std::string request_id;
    std::string source_ip;
};

// One record for one matching configuration.
struct EventRecord {
    std::string function_arn;     // the LambdaFunctionConfiguration's target
    std::string configuration_id;
    std::string record_json;      // {"Records":[{...}]} as Lambda receives it
};

// The matching rules: event names with wildcards ("s3:ObjectCreated:*") and the
// prefix/suffix key filter. Returns one record per matching LambdaFunctionConfiguration
// of `notification_xml`.
std::vector<EventRecord> build_records(const std::string& notification_xml, const ObjectChange& change,
                                       std::uint64_t sequence);

// DBI s3_events: u64be(sequence) -> {"f": function ARN, "c": configuration id, "r": record};
// "\xff\xffseq" -> u64be(last sequence) (so sequencers grow even once the outbox empties).
// A change's sequence is at least its time in microseconds, and above every earlier one:
// it is also the records' "sequencer".
class EventOutbox {
public:
    explicit EventOutbox(core::lmdb::Env& env);

    // In the transaction that records the change: one entry per matching configuration.
    void stage(core::lmdb::WriteTxn& txn, const std::string& notification_xml, const ObjectChange& change);

    struct Pending {
        std::string id;
        EventRecord record;
    };
    // Up to `max` entries, oldest first.
    std::vector<Pending> pending(std::size_t max);
    void acknowledge(const std::vector<std::string>& ids);
    std::size_t size();
    // `fn` runs after each commit that staged entries (any thread; quick).
    void subscribe(std::function<void()> fn);

    // Tests (/_stratus/test/s3/events): once enabled, a copy of every committed record is
    // kept in memory (the newest 10,000) until drained, whoever consumes the outbox.
    void enable_tap();
    std::vector<EventRecord> drain_tap();

    void reset(core::lmdb::WriteTxn& txn);

private:
    void committed(std::vector<EventRecord> records);

    core::lmdb::Env& env_;
    core::lmdb::Dbi dbi_;
    std::mutex mutex_;
    std::vector<std::function<void()>> subscribers_;
    bool tap_ = false;
    std::deque<EventRecord> tapped_;
};

}  // namespace stratus::s3

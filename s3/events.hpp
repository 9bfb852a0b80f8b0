// S3 event notifications: a bucket's stored NotificationConfiguration turns object
// changes into event records shaped as AWS delivers them to Lambda, pushed into an
// in-process stream. The Lambda trigger issue consumes the stream (drain()).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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

class EventSink {
public:
    // Called after the change committed, with the bucket's notification configuration.
    void publish(const std::string& notification_xml, const ObjectChange& change);
    // Takes every pending record (oldest first).
    std::vector<EventRecord> drain();
    std::size_t pending() const;

private:
    mutable std::mutex mutex_;
    std::deque<EventRecord> queue_;
    std::uint64_t sequence_ = 0;
};

}  // namespace stratus::s3

// What invokes functions besides direct calls: event source mappings (DynamoDB streams),
// S3 notifications and schedules. The app model (emulator/app) declares them through
// Triggers; the Lambda API's *EventSourceMapping operations manage the same mappings.
//
// Contract between lambda/ (which runs these) and emulator/ (which declares them). Fields may
// be added; existing ones keep their meaning. Standard library only.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace stratus::lambda {

// CreateEventSourceMapping's input, typed.
struct EventSourceMappingSpec {
    std::string function;          // name or ARN
    std::string event_source_arn;  // a DynamoDB stream ARN
    int batch_size = 100;
    std::string starting_position = "TRIM_HORIZON";  // or LATEST
    bool enabled = true;
    int maximum_batching_window_seconds = 0;
    std::vector<std::string> filter_patterns;  // each an AWS event filter pattern (JSON text)
    int maximum_retry_attempts = -1;           // -1: until the record expires
    int maximum_record_age_seconds = -1;       // -1: no limit
    bool bisect_batch_on_function_error = false;
    bool report_batch_item_failures = false;   // FunctionResponseTypes ["ReportBatchItemFailures"]
    std::string on_failure_destination;        // an ARN; empty: none
    // Accepted as AWS does (1-10); stratus reads each shard with one invocation at a time
    // whatever the factor, which keeps every key's order (and any order across keys).
    int parallelization_factor = 1;
};

// An EventBridge schedule rule targeting a function.
struct ScheduleSpec {
    std::string name;        // unique; declaring a name again replaces it
    std::string expression;  // "rate(5 minutes)", "cron(0 12 * * ? *)"
    std::string function;    // name or ARN
    bool enabled = true;
    std::optional<std::string> input;       // constant JSON Input
    std::optional<std::string> input_path;  // JSONPath into the event
    // InputTransformer: InputPathsMap as JSON object text, and the InputTemplate.
    std::optional<std::string> input_paths_map;
    std::optional<std::string> input_template;
};

class Triggers {
public:
    virtual ~Triggers() = default;
    // Creates the mapping, or updates the one with the same function and source ARN
    // (re-deploying an app declares again); returns its UUID. Throws core::AwsError for a
    // bad spec (unknown function, unknown stream, bad pattern).
    virtual std::string declare_mapping(const EventSourceMappingSpec& spec) = 0;
    virtual void remove_mapping(const std::string& uuid) = 0;
    // Creates or replaces a schedule; throws core::AwsError for a bad expression.
    virtual void declare_schedule(const ScheduleSpec& spec) = 0;
    virtual void remove_schedule(const std::string& name) = 0;
    // Fires a schedule now (tests, `stratus` CLI), as if its time had come (also when it is
    // disabled: an explicit request). Throws ResourceNotFoundException for an unknown name.
    // Returns the asynchronous invocation's request id.
    virtual std::string run_schedule(const std::string& name) = 0;

    // The schedules declared, by name.
    virtual std::vector<ScheduleSpec> schedules() = 0;
    // What a mapping sent to its on-failure destination (batches given up after their
    // retries or past MaximumRecordAgeInSeconds), oldest first, as JSON texts in AWS's
    // invocation record shape (requestContext, responseContext, DDBStreamBatchInfo).
    // stratus keeps them for inspection (/_stratus/lambda/event-source-mappings/{uuid}/failures)
    // instead of sending them to the SQS / SNS / S3 destination.
    virtual std::vector<std::string> failed_batches(const std::string& uuid) = 0;
};

}  // namespace stratus::lambda

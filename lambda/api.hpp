// Lambda's control and invoke APIs on the AWS port: REST-JSON under /2015-03-31/ (and
// the other dated prefixes the Lambda API uses).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/lmdb.hpp"
#include "core/service.hpp"
#include "lambda/event_sources.hpp"
#include "lambda/invoker.hpp"
#include "lambda/logs.hpp"
#include "lambda/triggers.hpp"

namespace stratus::core {
class Runtime;
}

namespace stratus::lambda {

struct LambdaOptions {
    std::string data_dir;       // code is unpacked under <data_dir>/lambda/code
    std::string runtimes_dir;   // empty: found beside the binary or in the source tree
    std::string endpoint_url;   // "http://127.0.0.1:4566", given to handlers
    unsigned default_concurrency = 10;
    std::size_t queue_size = 100;
    std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
    std::chrono::milliseconds retry_delay{1000};
    // Reads an S3 object (bucket, key, version id) for Code.S3Bucket / S3Key, throwing S3's
    // AwsError; unset: code from S3 is refused.
    std::function<std::string(const std::string&, const std::string&, const std::optional<std::string>&)> read_s3_object;
    // Where triggers read their events (emulator/ adapts DynamoDB's streams and S3's event
    // outbox); unset: no stream mappings / no S3 triggers.
    std::shared_ptr<StreamEventSource> stream_source;
    std::shared_ptr<S3EventSource> s3_events;
    // Function URLs: GetFunctionUrlConfig answers the host form
    // (http://{id}.lambda-url.us-east-1.localhost:PORT/) instead of the path form
    // ({endpoint_url}/_lambda-url/{id}/); both are served either way.
    bool url_host_names = false;
    // First delay before an event source mapping retries a failed batch (doubles per try).
    std::chrono::milliseconds mapping_retry_delay{100};
};

// A function whose code is a directory on disk (the app model's functions).
struct FunctionSpec {
    std::string name;
    std::string runtime;
    std::string handler;
    std::string code_dir;
    int timeout = 3;
    int memory_size = 128;
    std::map<std::string, std::string> environment;
    std::optional<int> reserved_concurrency;
    // Layer version ARNs, in order (publish_layer_directory's, or any published version).
    std::vector<std::string> layers;
};

// The Lambda service on the AWS port, and the Invoker the rest of stratus uses.
class LambdaService : public core::Service, public Invoker {
public:
    // Creates or replaces the function; its code is read from spec.code_dir, never copied.
    // Runtimes beyond the API's list of the form nodejs<N>.x / python3.<N> are accepted
    // (they run on the machine's node / python3).
    virtual void declare_function(const FunctionSpec& spec) = 0;
    // Publishes (or reuses) a version of layer `name` read in place from `dir` (the app
    // model's layer directories; changes in it reach the functions using it, as code
    // changes do). Returns the version ARN. Throws AwsError.
    virtual std::string publish_layer_directory(const std::string& name, const std::string& dir,
                                                const std::vector<std::string>& compatible_runtimes,
                                                const std::string& description) = 0;
    // Deletes a function (its logs stay); no-op when unknown.
    virtual void remove_function(const std::string& name) = 0;
    virtual LogBook& logs() = 0;
    // Event source mappings, S3 triggers and schedules (what the app model declares).
    virtual Triggers& triggers() = 0;
    // The file holding the function's deployment package (Code.Location serves it); empty
    // when there is none (unknown function, code declared as a directory).
    virtual std::string code_package(const std::string& name) = 0;
    // Stops the triggers and kills every sandbox: on the main io_context, at daemon shutdown.
    virtual void shutdown() = 0;
};

std::shared_ptr<LambdaService> make_service(core::Runtime& runtime, core::lmdb::Env& env, LambdaOptions options);

// The directory holding the runtimes' bootstraps: `configured` when set, else
// <exe>/../share/stratus/runtimes when it exists, else the source tree's lambda/runtimes.
std::string find_runtimes_dir(const std::string& configured);

}  // namespace stratus::lambda

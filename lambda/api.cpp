#include "lambda/api.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <random>
#include <regex>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/base64.hpp"
#include "core/log.hpp"
#include "core/server.hpp"
#include "lambda/api_json.hpp"
#include "lambda/function.hpp"
#include "lambda/function_url.hpp"
#include "lambda/layers.hpp"
#include "lambda/scheduler.hpp"
#include "lambda/store.hpp"
#include "lambda/streaming.hpp"
#include "lambda/trigger_engine.hpp"

namespace stratus::lambda {

namespace fs = std::filesystem;
using core::AwsError;
using nlohmann::json;

namespace {

using api_json::opt;
using api_json::parse_body;

// Asynchronous (Event) payloads: 1 MB since October 2025 (was 256 KB). The error's wording
// for them is assumed to match the synchronous one.
constexpr std::size_t max_event_payload = 1024 * 1024;

AwsError invalid_parameter(std::string message) {
    return AwsError("InvalidParameterValueException", std::move(message), 400);
}
AwsError not_found(std::string_view name, std::optional<std::string> qualifier = std::nullopt) {
    return AwsError::resource_not_found(
        fmt::format("Function not found: {}{}", function_arn(name), qualifier ? ":" + *qualifier : ""));
}
AwsError conflict(std::string message) { return AwsError("ResourceConflictException", std::move(message), 409); }

void validate_range(const char* field, int value, int lo, int hi) {
    if (value < lo)
        throw AwsError::validation(fmt::format(
            "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member must have value "
            "greater than or equal to {}",
            value, field, lo));
    if (value > hi)
        throw AwsError::validation(fmt::format(
            "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member must have value less "
            "than or equal to {}",
            value, field, hi));
}

std::map<std::string, std::string> parse_environment(const json& in) {
    std::map<std::string, std::string> vars;
    auto env = in.find("Environment");
    if (env == in.end() || !env->is_object()) return vars;
    auto v = env->find("Variables");
    if (v == env->end() || !v->is_object()) return vars;
    static constexpr std::string_view reserved[] = {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"};
    std::string used;
    for (auto& [k, val] : v->items()) {
        if (!val.is_string()) throw AwsError::serialization("Environment variable values must be strings");
        for (auto r : reserved)
            if (k == r) used += (used.empty() ? "" : ", ") + k;
        vars[k] = val.get<std::string>();
    }
    if (!used.empty())
        throw invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment variables you have "
            "provided contains reserved keys that are currently not supported for modification. Reserved keys used "
            "in this request: " + used);
    return vars;
}

void validate_runtime(const std::string& runtime) {
    if (!known_runtime(runtime))
        throw invalid_parameter(fmt::format(
            "Value {} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs18.x, "
            "nodejs20.x, nodejs22.x, python3.8, python3.9, python3.10, python3.11, python3.12, python3.13, provided, "
            "provided.al2, provided.al2023]",
            runtime));
}

// nodejs<N>.x or python3.<N>: what declare_function accepts beyond the known runtimes.
bool runs_on_machine(std::string_view runtime) {
    auto digits = [](std::string_view d) {
        return !d.empty() && d.size() <= 3 && d.find_first_not_of("0123456789") == std::string_view::npos;
    };
    if (runtime.starts_with("nodejs") && runtime.ends_with(".x"))
        return digits(runtime.substr(6, runtime.size() - 8));
    if (runtime.starts_with("python3.")) return digits(runtime.substr(8));
    return false;
}

struct Segments {
    std::vector<std::string> parts;  // decoded, without the empty first one
};

std::vector<std::string> split_path(const std::string& path) {
    std::vector<std::string> out;
    std::size_t i = 1;
    while (i <= path.size()) {
        auto j = path.find('/', i);
        if (j == std::string::npos) j = path.size();
        out.push_back(core::percent_decode(std::string_view(path).substr(i, j - i)));
        i = j + 1;
    }
    return out;
}

class Service final : public LambdaService {
public:
    Service(core::Runtime& runtime, core::lmdb::Env& env, LambdaOptions o)
        : options_(std::move(o)), store_(env, (fs::path(options_.data_dir) / "lambda" / "code").string()),
          layers_(env, (fs::path(options_.data_dir) / "lambda" / "layers").string(),
                  [this](const json& content) { return zip_from(content); }),
          scheduler_(runtime, SchedulerOptions{find_runtimes_dir(options_.runtimes_dir), options_.endpoint_url,
                                               options_.default_concurrency, options_.queue_size,
                                               options_.idle_timeout, std::chrono::milliseconds(50),
                                               options_.retry_delay,
                                               [this](const std::string& ref) { return lookup(ref); },
                                               (fs::path(options_.data_dir) / "lambda" / "logs").string()}),
          triggers_(env, *this,
                    TriggerOptions{options_.stream_source, options_.s3_events, options_.mapping_retry_delay,
                                   std::chrono::seconds(10),
                                   [this](const std::string& fn, const std::string& line) {
                                       scheduler_.logs().append(fn, line);
                                   },
                                   {}}) {
        // Event invocations accepted (202) before a crash or restart run now.
        for (auto& e : store_.events()) {
            std::optional<Target> t;
            try {
                t = resolve(parse_function_ref(e.function), true);
            } catch (const std::exception&) {
            }
            if (!t) {
                store_.erase_event(e.request_id);
                continue;
            }
            core::log::info("lambda: resuming event invocation {} of {}", e.request_id, e.function);
            scheduler_.invoke_event(std::move(t->fn), e.payload, e.request_id,
                                    [this, id = e.request_id](const InvokeResult&) { store_.erase_event(id); }, e.function,
                                    t->invoked_arn);
        }
    }

    std::string_view name() const override { return "lambda"; }
    const core::Protocol& protocol() const override { return protocol_; }
    core::ServiceRoute route() const override {
        // Every dated API prefix of the Lambda REST API (functions, tags, event invoke
        // configs, layers, function URLs / concurrency).
        core::ServiceRoute r;
        r.signing_names = {"lambda"};
        r.host_suffixes = {std::string(url_host_suffix)};
        r.path_prefixes = {std::string(url_path_prefix), "/2015-03-31/", "/2017-03-31/", "/2017-10-31/", "/2018-10-31/", "/2019-09-25/",
                           "/2019-09-30/", "/2020-04-22/", "/2020-06-30/", "/2021-10-31/", "/2021-11-15/"};
        return r;
    }
    core::BodyPolicy body_policy(const core::Request&) const override {
        // Invoke payloads are limited to 6 MB (checked per operation); CreateFunction with
        // a base64 zip up to 50 MB.
        core::BodyPolicy p;
        p.limit = 70 * 1024 * 1024;
        return p;
    }

    bool anonymous(const core::Request& head) const override {
        // A function URL with AuthType NONE is public; AWS_IAM ones are checked as any
        // Lambda call (SigV4, under --verify-signatures). An unknown URL is answered 403.
        auto t = url_target(head);
        if (!t) return false;
        auto u = const_cast<FunctionStore&>(store_).get_url(t->id);
        return !u || u->auth_type == "NONE";
    }

    void handle(core::Request&& request, core::Reply reply) override {
        if (auto t = url_target(request)) return serve_url(std::move(request), *t, std::move(reply));
        auto parts = split_path(request.path);
        const std::string& m = request.method;
        auto is = [&](std::size_t n, std::initializer_list<const char*> fixed) {
            // parts[0] is the dated prefix; compare the fixed segments at their positions.
            if (parts.size() != n) return false;
            std::size_t i = 1;
            for (const char* f : fixed) {
                if (*f && parts[i] != f) return false;
                ++i;
            }
            return true;
        };
        auto run = [&](const char* op, auto&& fn) {
            core::Response r = fn();
            r.operation = op;
            reply(std::move(r));
        };
        const std::string& date = parts.empty() ? std::string() : parts[0];
        if (parts.size() >= 2 && parts[1] == "functions") {
            if (parts.size() == 2 || (parts.size() == 3 && parts[2].empty())) {
                if (m == "POST" && date == "2015-03-31") return run("CreateFunction", [&] { return create_function(request); });
                if (m == "GET" && date == "2015-03-31") return run("ListFunctions", [&] { return list_functions(request); });
            }
            if (parts.size() >= 3 && !parts[2].empty()) {
                const std::string& fname = parts[2];
                if (parts.size() == 3) {
                    if (m == "GET") return run("GetFunction", [&] { return get_function(request, fname); });
                    if (m == "DELETE") return run("DeleteFunction", [&] { return delete_function(request, fname); });
                }
                if (is(4, {"functions", "", "configuration"})) {
                    if (m == "GET")
                        return run("GetFunctionConfiguration", [&] { return get_configuration(request, fname); });
                    if (m == "PUT")
                        return run("UpdateFunctionConfiguration", [&] { return update_configuration(request, fname); });
                }
                if (is(4, {"functions", "", "code"}) && m == "PUT")
                    return run("UpdateFunctionCode", [&] { return update_code(request, fname); });
                if (is(4, {"functions", "", "invocations"}) && m == "POST") return invoke(std::move(request), fname, std::move(reply));
                if (is(4, {"functions", "", "concurrency"})) {
                    if (m == "PUT") return run("PutFunctionConcurrency", [&] { return put_concurrency(request, fname); });
                    if (m == "DELETE")
                        return run("DeleteFunctionConcurrency", [&] { return delete_concurrency(fname); });
                    if (m == "GET") return run("GetFunctionConcurrency", [&] { return get_concurrency(fname); });
                }
                if (is(4, {"functions", "", "policy"})) {
                    if (m == "POST") return run("AddPermission", [&] { return add_permission(request, fname); });
                    if (m == "GET") return run("GetPolicy", [&] { return get_policy(request, fname); });
                }
                if (is(5, {"functions", "", "policy", ""}) && m == "DELETE")
                    return run("RemovePermission", [&] { return remove_permission(request, fname, parts[4]); });
                if (is(4, {"functions", "", "versions"}) && date == "2015-03-31") {
                    if (m == "POST") return run("PublishVersion", [&] { return publish_version(request, fname); });
                    if (m == "GET") return run("ListVersionsByFunction", [&] { return list_versions(request, fname); });
                }
                if (is(4, {"functions", "", "aliases"}) && date == "2015-03-31") {
                    if (m == "POST") return run("CreateAlias", [&] { return create_alias(request, fname); });
                    if (m == "GET") return run("ListAliases", [&] { return list_aliases(request, fname); });
                }
                if (is(5, {"functions", "", "aliases", ""}) && date == "2015-03-31") {
                    const std::string& alias = parts[4];
                    if (m == "GET") return run("GetAlias", [&] { return get_alias(fname, alias); });
                    if (m == "PUT") return run("UpdateAlias", [&] { return update_alias(request, fname, alias); });
                    if (m == "DELETE") return run("DeleteAlias", [&] { return delete_alias(fname, alias); });
                }
            }
        }
        if (parts.size() == 4 && parts[1] == "functions" && date == "2021-10-31") {
            const std::string& fname = parts[2];
            if (parts[3] == "url") {
                if (m == "POST") return run("CreateFunctionUrlConfig", [&] { return create_url(request, fname); });
                if (m == "GET") return run("GetFunctionUrlConfig", [&] { return get_url(request, fname); });
                if (m == "PUT") return run("UpdateFunctionUrlConfig", [&] { return update_url(request, fname); });
                if (m == "DELETE") return run("DeleteFunctionUrlConfig", [&] { return delete_url(request, fname); });
            }
            if (parts[3] == "urls" && m == "GET")
                return run("ListFunctionUrlConfigs", [&] { return list_urls(request, fname); });
        }
        if (parts.size() == 4 && parts[1] == "functions" && parts[3] == "response-streaming-invocations" &&
            date == "2021-11-15" && m == "POST")
            return invoke_stream(std::move(request), parts[2], std::move(reply));
        if (parts.size() >= 2 && parts[1] == "event-source-mappings" && date == "2015-03-31") {
            if (parts.size() == 2 || (parts.size() == 3 && parts[2].empty())) {
                if (m == "POST") return run("CreateEventSourceMapping", [&] { return triggers_.create_mapping_api(request); });
                if (m == "GET") return run("ListEventSourceMappings", [&] { return triggers_.list_mappings_api(request); });
            } else if (parts.size() == 3) {
                const std::string& uuid = parts[2];
                if (m == "GET") return run("GetEventSourceMapping", [&] { return triggers_.get_mapping_api(uuid); });
                if (m == "PUT")
                    return run("UpdateEventSourceMapping", [&] { return triggers_.update_mapping_api(request, uuid); });
                if (m == "DELETE")
                    return run("DeleteEventSourceMapping", [&] { return triggers_.delete_mapping_api(uuid); });
            }
        }
        if (parts.size() >= 2 && parts[1] == "layers" && date == "2018-10-31") {
            std::string op;
            auto [body, status] = layers_.handle(request, parts, op);
            return run(op.c_str(), [&] { return status == 204 ? no_content() : respond(body, status); });
        }
        if (parts.size() == 3 && parts[1] == "tags" && date == "2017-03-31") {
            const std::string& arn = parts[2];
            if (m == "GET") return run("ListTags", [&] { return list_tags(arn); });
            if (m == "POST") return run("TagResource", [&] { return tag_resource(request, arn); });
            if (m == "DELETE") return run("UntagResource", [&] { return untag_resource(request, arn); });
        }
        // Not sure what AWS answers for a path no Lambda operation has (API Gateway-style
        // front ends answer 404 UnknownOperationException); we answer that.
        throw AwsError("UnknownOperationException", fmt::format("Unknown operation {} {}", request.method, request.path),
                       404);
    }

    void reset() override {
        layers_.reset();
        triggers_.reset();
        for (auto& f : store_.all()) scheduler_.update(f.name, std::nullopt);
        store_.clear();
        scheduler_.logs().clear();
    }

    void declare_function(const FunctionSpec& spec) override {
        validate_function_name(spec.name);
        // An app may name a runtime newer or older than the listed ones (nodejs24.x,
        // python3.14): it runs on the machine's node / python3 (the app model says so).
        if (!known_runtime(spec.runtime) && !runs_on_machine(spec.runtime)) validate_runtime(spec.runtime);
        if (!fs::is_directory(spec.code_dir))
            throw invalid_parameter("code directory " + spec.code_dir + " does not exist");
        Function f;
        if (auto old = store_.get(spec.name)) f = *old;
        f.name = spec.name;
        f.runtime = spec.runtime;
        f.handler = spec.handler;
        f.role = fmt::format("arn:aws:iam::{}:role/{}-role", account, spec.name);
        f.code_dir = fs::absolute(spec.code_dir).string();
        f.external_code = true;
        f.timeout = spec.timeout;
        f.memory_size = spec.memory_size;
        f.environment = spec.environment;
        f.reserved_concurrency = spec.reserved_concurrency;
        f.layers = layers_.resolve(json(spec.layers));
        f.opt_dir = layers_.merge(f.name, f.layers);
        f.code_sha256 = sha256_base64(f.code_dir);
        f.code_size = 0;
        f.last_modified = now_last_modified();
        f.revision_id = core::random_uuid();
        store_.put(f);
        scheduler_.update(f.name, f);
    }

    std::string publish_layer_directory(const std::string& name, const std::string& dir,
                                        const std::vector<std::string>& compatible_runtimes,
                                        const std::string& description) override {
        return layers_.publish_directory(name, dir, compatible_runtimes, description);
    }

    void remove_function(const std::string& name) override {
        auto f = store_.get(name);
        if (!f) return;
        erase_function(*f);
    }

    LogBook& logs() override { return scheduler_.logs(); }
    Triggers& triggers() override { return triggers_; }
    void start_triggers() { triggers_.start(); }
    std::string code_package(const std::string& name) override {
        try {
            return store_.package_path(resolve(parse_function_ref(name), false).fn);
        } catch (const std::exception&) {
            return {};
        }
    }
    void shutdown() override {
        triggers_.stop();
        scheduler_.shutdown();
    }

    std::optional<FunctionInfo> describe(std::string_view function) override {
        try {
            auto t = resolve(parse_function_ref(function), false);
            return FunctionInfo{t.fn.name, t.invoked_arn, t.fn.timeout};
        } catch (const AwsError&) {
            return std::nullopt;
        }
    }

    void invoke(std::string_view function, InvokeInput input, std::function<void(InvokeResult)> done) override {
        std::optional<Target> t;
        try {
            t = resolve(parse_function_ref(function), true);
        } catch (const AwsError& e) {
            InvokeResult r;
            r.request_id = input.request_id;
            r.error = e;
            return done(std::move(r));
        }
        if (input.payload.empty()) input.payload = "{}";
        scheduler_.invoke(std::move(t->fn), std::move(input), std::move(done), std::move(t->invoked_arn));
    }

    std::string invoke_event(std::string_view function, InvokeInput input,
                             std::function<void(const InvokeResult&)> finished) override {
        auto ref = parse_function_ref(function);
        auto t = resolve(ref, true);
        return queue_event(std::move(t), ref, std::move(input), std::move(finished));
    }

private:
    // What a reference names, resolved: the version to run, and how the caller named it.
    struct Target {
        Function fn;                          // $LATEST or a published version
        std::optional<std::string> qualifier;  // as named: "$LATEST", "3", "live"
        std::optional<Alias> alias;
        std::string invoked_arn;               // the ARN as named (the context's invokedFunctionArn)
    };

    // ResourceNotFoundException when the function, version or alias does not exist.
    // `route`: an alias with a RoutingConfig sends this call to its additional version
    // with that version's weight (an invocation); else the alias's primary version.
    Target resolve(const FunctionRef& ref, bool route) {
        auto latest = store_.get(ref.name);
        if (!latest) throw not_found(ref.name, ref.qualifier);
        Target t;
        t.qualifier = ref.qualifier;
        t.invoked_arn = ref.qualifier ? latest->arn() + ":" + *ref.qualifier : latest->arn();
        if (!ref.qualifier || *ref.qualifier == "$LATEST") {
            t.fn = std::move(*latest);
            return t;
        }
        std::string version = *ref.qualifier;
        if (!is_version_number(version)) {
            auto a = store_.get_alias(ref.name, version);
            if (!a) throw not_found(ref.name, ref.qualifier);
            version = a->version;
            if (route && !a->weights.empty()) {
                auto& [extra, weight] = *a->weights.begin();
                if (std::uniform_real_distribution<double>(0.0, 1.0)(rng()) < weight) version = extra;
            }
            t.alias = std::move(a);
        }
        if (version == "$LATEST") {
            t.fn = std::move(*latest);
            return t;
        }
        auto v = store_.get_version(ref.name, version);
        if (!v) throw not_found(ref.name, ref.qualifier);
        t.fn = std::move(*v);
        return t;
    }

    static std::mt19937_64& rng() {
        thread_local std::mt19937_64 g{std::random_device{}()};
        return g;
    }

    // For the scheduler's retries of Event invocations.
    std::optional<Function> lookup(const std::string& ref) {
        try {
            return resolve(parse_function_ref(ref), true).fn;
        } catch (const std::exception&) {
            return std::nullopt;
        }
    }

    // Stored before the caller hears of it: an accepted event survives a crash. The stored
    // reference keeps the qualifier, so that a resumed event runs what it named.
    std::string queue_event(Target t, const FunctionRef& ref, InvokeInput input,
                            std::function<void(const InvokeResult&)> finished) {
        if (input.payload.size() > max_event_payload)
            throw AwsError("RequestEntityTooLargeException",
                           fmt::format("Request must be smaller than {} bytes for the InvokeFunction operation",
                                       max_event_payload),
                           413);
        if (input.payload.empty()) input.payload = "{}";
        std::string id = input.request_id.empty() ? core::random_uuid() : std::move(input.request_id);
        std::string named = ref.qualifier ? ref.name + ":" + *ref.qualifier : ref.name;
        store_.put_event({id, named, input.payload});
        scheduler_.invoke_event(std::move(t.fn), std::move(input.payload), id,
                                [this, id, finished = std::move(finished)](const InvokeResult& r) {
                                    store_.erase_event(id);
                                    if (finished) finished(r);
                                },
                                named, std::move(t.invoked_arn));
        return id;
    }

    // The reference in the path, with the Qualifier query parameter when `request` is given.
    FunctionRef ref_of(const std::string& ref_text, const core::Request* request) {
        auto ref = parse_function_ref(ref_text);
        if (request) {
            if (auto q = request->query_param("Qualifier")) {
                static const std::regex pattern("[a-zA-Z0-9-_$]{1,128}");
                if (!std::regex_match(*q, pattern))
                    throw AwsError::validation(fmt::format(
                        "1 validation error detected: Value '{}' at 'qualifier' failed to satisfy constraint: Member "
                        "must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+",
                        *q));
                if (ref.qualifier && *ref.qualifier != *q)
                    throw invalid_parameter("The derived qualifier from the function name does not match the specified qualifier.");
                ref.qualifier = *q;
            }
        }
        return ref;
    }

    // The function, version or alias a path (and its Qualifier) names.
    Target load_target(const std::string& ref_text, const core::Request* request, bool route = false) {
        return resolve(ref_of(ref_text, request), route);
    }

    // $LATEST, for the operations that change a function (they take no qualifier but
    // $LATEST). A qualifier naming anything else is answered as AWS answers an unknown one.
    Function load(const std::string& ref_text) {
        auto ref = parse_function_ref(ref_text);
        auto f = store_.get(ref.name);
        if (!f) throw not_found(ref.name, ref.qualifier);
        if (ref.qualifier && *ref.qualifier != "$LATEST") throw not_found(ref.name, ref.qualifier);
        return *f;
    }

    // The function with its versions, aliases and their sandboxes; its logs stay.
    void erase_function(const Function& f) {
        std::vector<Function> versions;
        store_.erase(f.name, &versions);
        scheduler_.update(f.name, std::nullopt);
        for (auto& v : versions)
            if (v.code_dir != f.code_dir) store_.remove_code(v);
        store_.remove_code(f);
    }

    core::Response respond(json body, int status = 200) {
        return core::json_response(protocol_, body.dump(-1, ' ', false, json::error_handler_t::replace), status);
    }
    core::Response no_content() {
        core::Response r;
        r.status = 204;
        return r;
    }

    // Decoded zip bytes and their provenance, from a CreateFunction Code or an
    // UpdateFunctionCode body.
    std::string zip_from(const json& code) {
        if (auto zip = opt<std::string>(code, "ZipFile")) {
            auto bytes = core::base64_decode(*zip);
            if (!bytes) throw invalid_parameter("Invalid base64 payload");
            return std::move(*bytes);
        }
        if (code.contains("S3Bucket") || code.contains("S3Key") || code.contains("S3ObjectVersion")) {
            auto bucket = opt<std::string>(code, "S3Bucket");
            auto key = opt<std::string>(code, "S3Key");
            // AWS's wording when one is missing is not confirmed; the error code is.
            if (!bucket || !key) throw invalid_parameter("Please provide both S3Bucket and S3Key for function code from S3.");
            if (!options_.read_s3_object) throw invalid_parameter("Code from S3 is not available in this stratus");
            try {
                return options_.read_s3_object(*bucket, *key, opt<std::string>(code, "S3ObjectVersion"));
            } catch (const AwsError& e) {
                // What Lambda answers when its GetObject of the code fails.
                throw invalid_parameter(fmt::format("Error occurred while GetObject. S3 Error Code: {}. S3 Error Message: {}",
                                                    e.code(), e.message()));
            }
        }
        if (code.contains("ImageUri")) throw invalid_parameter("Container images are not supported by stratus");
        throw invalid_parameter("Please provide a source for function code.");
    }

    core::Response create_function(const core::Request& request) {
        json in = parse_body(request.body);
        auto name = opt<std::string>(in, "FunctionName");
        if (!name) throw AwsError::validation("1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null");
        validate_function_name(*name);
        if (in.value("PackageType", "Zip") != "Zip") throw invalid_parameter("Container images are not supported by stratus");
        Function f;
        f.name = *name;
        f.runtime = opt<std::string>(in, "Runtime").value_or("");
        if (f.runtime.empty()) throw invalid_parameter("Runtime is required for .zip file deployment packages.");
        validate_runtime(f.runtime);
        f.handler = opt<std::string>(in, "Handler").value_or("");
        if (f.handler.empty()) throw invalid_parameter("Handler is required for .zip file deployment packages.");
        f.role = opt<std::string>(in, "Role").value_or("");
        if (f.role.empty()) throw AwsError::validation("1 validation error detected: Value null at 'role' failed to satisfy constraint: Member must not be null");
        f.description = opt<std::string>(in, "Description").value_or("");
        f.timeout = opt<int>(in, "Timeout").value_or(3);
        validate_range("timeout", f.timeout, 1, 900);
        f.memory_size = opt<int>(in, "MemorySize").value_or(128);
        validate_range("memorySize", f.memory_size, 128, 10240);
        f.environment = parse_environment(in);
        if (auto tags = in.find("Tags"); tags != in.end() && tags->is_object())
            for (auto& [k, v] : tags->items())
                if (v.is_string()) f.tags[k] = v.get<std::string>();
        if (auto l = in.find("Layers"); l != in.end() && !l->is_null()) {
            f.layers = layers_.resolve(*l);
            f.opt_dir = layers_.merge(f.name, f.layers);
        }
        auto code = in.find("Code");
        if (code == in.end() || !code->is_object()) throw invalid_parameter("Please provide a source for function code.");
        std::string zip = zip_from(*code);
        if (store_.get(f.name)) throw conflict("Function already exist: " + f.name);
        f.code_dir = store_.unpack(f.name, zip);
        f.code_sha256 = sha256_base64(zip);
        f.code_size = static_cast<std::int64_t>(zip.size());
        f.last_modified = now_last_modified();
        f.revision_id = core::random_uuid();
        if (!store_.create(f)) {
            store_.remove_code(f);
            throw conflict("Function already exist: " + f.name);
        }
        if (opt<bool>(in, "Publish").value_or(false)) return respond(publish(f.name, {}, {}, {}).configuration(), 201);
        return respond(f.configuration(), 201);
    }

    core::Response list_functions(const core::Request& request) {
        std::string marker = request.query_param("Marker").value_or("");
        std::size_t max = max_items(request);
        std::optional<std::string> next;
        auto fns = store_.list(marker, max, next);
        json out = {{"Functions", json::array()}};
        for (auto& f : fns) out["Functions"].push_back(f.configuration());
        if (next) out["NextMarker"] = *next;
        return respond(out);
    }

    // FunctionConfiguration of what a (qualified) reference names: FunctionArn as named
    // ("...:f:live" for an alias, whose version's configuration it is).
    json target_configuration(const Target& t) {
        json c = t.fn.configuration();
        c["FunctionArn"] = t.invoked_arn;
        return c;
    }

    core::Response get_function(const core::Request& request, const std::string& ref) {
        Target t = load_target(ref, &request);
        const Function& f = t.fn;
        json out = {{"Configuration", target_configuration(t)}, {"Code", {{"RepositoryType", "S3"}}}};
        // AWS gives a presigned S3 URL valid for 10 minutes; stratus serves the package itself.
        if (!store_.package_path(f).empty())
            out["Code"]["Location"] = fmt::format("{}/_stratus/lambda/code/{}?revision={}", options_.endpoint_url,
                                                  core::uri_encode(f.key()), f.revision_id);
        auto latest = store_.get(f.name);
        if (latest) {
            out["Tags"] = latest->tags;
            if (latest->reserved_concurrency)
                out["Concurrency"] = {{"ReservedConcurrentExecutions", *latest->reserved_concurrency}};
        }
        return respond(out);
    }

    core::Response get_configuration(const core::Request& request, const std::string& ref) {
        return respond(target_configuration(load_target(ref, &request)));
    }

    core::Response delete_function(const core::Request& request, const std::string& ref) {
        Target t = load_target(ref, &request);
        if (!t.qualifier) {
            erase_function(t.fn);
            scheduler_.logs().erase(t.fn.name);
            return no_content();
        }
        if (*t.qualifier == "$LATEST") throw invalid_parameter("Deletion of $LATEST version is not allowed.");
        // AWS's wording for an alias given to DeleteFunction is not confirmed; the code is.
        if (t.alias) throw invalid_parameter("Deletion of aliases is not allowed through DeleteFunction; use DeleteAlias.");
        const Function& v = t.fn;
        std::string users;
        for (auto& a : store_.aliases(v.name))
            if (a.version == v.version || a.weights.contains(v.version)) users += (users.empty() ? "" : ", ") + a.name;
        // AWS refuses to delete a version an alias points at (ResourceConflictException); the
        // exact wording is not confirmed.
        if (!users.empty())
            throw conflict(fmt::format("Unable to delete version because the following aliases reference it: [{}]", users));
        store_.erase_version(v.name, v.version);
        scheduler_.update(v.key(), std::nullopt);
        if (!store_.code_in_use(v.name, v.code_dir, v.version)) store_.remove_code(v);
        return no_content();
    }

    core::Response update_code(const core::Request& request, const std::string& ref) {
        json in = parse_body(request.body);
        Function f = load(ref);
        check_revision(in, f);
        std::string zip = zip_from(in);
        if (in.value("DryRun", false)) return respond(f.configuration());
        std::string dir = store_.unpack(f.name, zip);
        Function old = f;
        f.code_dir = dir;
        f.external_code = false;
        f.code_sha256 = sha256_base64(zip);
        f.code_size = static_cast<std::int64_t>(zip.size());
        f.last_modified = now_last_modified();
        f.revision_id = core::random_uuid();
        store_.put(f);
        scheduler_.update(f.name, f);
        // Sandboxes still running the old code keep their working directory; the files
        // go once they are retired (Linux keeps open files alive). A published version
        // running them keeps them.
        if (!store_.code_in_use(old.name, old.code_dir)) store_.remove_code(old);
        if (opt<bool>(in, "Publish").value_or(false)) return respond(publish(f.name, {}, {}, {}).configuration());
        return respond(f.configuration());
    }

    core::Response update_configuration(const core::Request& request, const std::string& ref) {
        json in = parse_body(request.body);
        Function f = load(ref);
        check_revision(in, f);
        if (auto v = opt<std::string>(in, "Runtime")) {
            validate_runtime(*v);
            f.runtime = *v;
        }
        if (auto v = opt<std::string>(in, "Handler")) f.handler = *v;
        if (auto v = opt<std::string>(in, "Role")) f.role = *v;
        if (auto v = opt<std::string>(in, "Description")) f.description = *v;
        if (auto v = opt<int>(in, "Timeout")) {
            validate_range("timeout", *v, 1, 900);
            f.timeout = *v;
        }
        if (auto v = opt<int>(in, "MemorySize")) {
            validate_range("memorySize", *v, 128, 10240);
            f.memory_size = *v;
        }
        if (in.contains("Environment")) f.environment = parse_environment(in);
        if (auto l = in.find("Layers"); l != in.end() && !l->is_null()) {
            f.layers = layers_.resolve(*l);
            f.opt_dir = layers_.merge(f.name, f.layers);
        }
        f.last_modified = now_last_modified();
        f.revision_id = core::random_uuid();
        store_.put(f);
        scheduler_.update(f.name, f);
        return respond(f.configuration());
    }

    static AwsError precondition_failed() {
        return AwsError("PreconditionFailedException",
                        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias "
                        "API to retrieve the latest Revision Id",
                        412);
    }

    void check_revision(const json& in, const Function& f) {
        if (auto v = opt<std::string>(in, "RevisionId"); v && *v != f.revision_id) throw precondition_failed();
    }

    // ---- versions ----

    // Whether a version holds what $LATEST holds now (code and configuration): AWS then
    // publishes nothing and answers with that version.
    static bool same_snapshot(const Function& v, const Function& latest) {
        return v.code_sha256 == latest.code_sha256 && v.runtime == latest.runtime && v.handler == latest.handler &&
               v.role == latest.role && v.timeout == latest.timeout && v.memory_size == latest.memory_size &&
               v.environment == latest.environment && v.opt_dir == latest.opt_dir;  // opt_dir: named by the layers' ARNs
    }

    // Publishes $LATEST as the next version (or answers the last one when nothing changed).
    Function publish(const std::string& name, std::optional<std::string> code_sha256, std::optional<std::string> revision,
                     std::optional<std::string> description) {
        for (int attempt = 0; attempt < 16; ++attempt) {
            auto latest = store_.get(name);
            if (!latest) throw not_found(name);
            if (code_sha256 && *code_sha256 != latest->code_sha256)
                throw invalid_parameter(fmt::format(
                    "CodeSHA256 ({}) is different from current CodeSHA256 in $LATEST ({}). Please try again", *code_sha256,
                    latest->code_sha256));
            if (revision && *revision != latest->revision_id) throw precondition_failed();
            // A declared directory may have changed on disk without its hash changing:
            // such functions always get a new version.
            if (latest->last_version > 0 && !latest->external_code) {
                auto last = store_.get_version(name, std::to_string(latest->last_version));
                if (last && same_snapshot(*last, *latest)) return *last;
            }
            Function v = *latest;
            v.version = std::to_string(latest->last_version + 1);
            v.last_version = 0;
            v.tags.clear();
            v.policy_statements = "[]";
            v.policy_revision.clear();
            v.reserved_concurrency.reset();
            if (description) v.description = *description;
            v.last_modified = now_last_modified();
            v.revision_id = core::random_uuid();
            if (latest->external_code) {
                v.code_dir = store_.snapshot(name, latest->code_dir);
                v.external_code = false;
            }
            Function l = *latest;
            l.last_version = latest->last_version + 1;
            if (store_.publish(l, *latest, v)) return v;
            if (v.code_dir != latest->code_dir) store_.remove_code(v);  // raced with a change: again
        }
        throw conflict("The function changed while its version was being published. Please try again.");
    }

    core::Response publish_version(const core::Request& request, const std::string& ref) {
        json in = parse_body(request.body);
        Function f = load(ref);
        return respond(publish(f.name, opt<std::string>(in, "CodeSha256"), opt<std::string>(in, "RevisionId"),
                               opt<std::string>(in, "Description"))
                           .configuration(),
                       201);
    }

    static std::size_t max_items(const core::Request& request, std::size_t fallback = 50) {
        auto mi = request.query_param("MaxItems");
        if (!mi) return fallback;
        int v = 0;
        try {
            v = std::stoi(*mi);
        } catch (const std::exception&) {
            throw AwsError::validation("MaxItems must be a number");
        }
        validate_range("maxItems", v, 1, 10000);
        return static_cast<std::size_t>(v);
    }

    core::Response list_versions(const core::Request& request, const std::string& ref) {
        Function latest = load(ref);
        // At most 50 per page, whatever MaxItems says (the API documents it so).
        std::size_t max = std::min<std::size_t>(max_items(request), 50);
        std::string marker = request.query_param("Marker").value_or("");
        std::vector<json> all;
        json l = latest.configuration();
        l["FunctionArn"] = latest.arn() + ":$LATEST";
        all.push_back(std::move(l));
        for (auto& v : store_.versions(latest.name)) all.push_back(v.configuration());
        std::size_t start = 0;
        if (!marker.empty()) {
            while (start < all.size() && all[start]["Version"] != marker) ++start;
            if (start < all.size()) ++start;
        }
        json out = {{"Versions", json::array()}};
        for (std::size_t i = start; i < all.size() && out["Versions"].size() < max; ++i) {
            out["Versions"].push_back(all[i]);
            if (out["Versions"].size() == max && i + 1 < all.size()) out["NextMarker"] = all[i]["Version"];
        }
        return respond(out);
    }

    // ---- aliases ----

    static void validate_alias_name(const std::string& name) {
        static const std::regex pattern("[a-zA-Z0-9-_]{1,128}");
        if (!std::regex_match(name, pattern) || is_version_number(name))
            throw AwsError::validation(fmt::format(
                "1 validation error detected: Value '{}' at 'name' failed to satisfy constraint: Member must satisfy "
                "regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
                name));
    }

    // A FunctionVersion an alias may point at: $LATEST or an existing version.
    void check_alias_version(const Function& f, const std::string& version) {
        if (version != "$LATEST" && !is_version_number(version))
            throw AwsError::validation(fmt::format(
                "1 validation error detected: Value '{}' at 'functionVersion' failed to satisfy constraint: Member must "
                "satisfy regular expression pattern: (\\$LATEST|[0-9]+)",
                version));
        if (version != "$LATEST" && !store_.get_version(f.name, version)) throw not_found(f.name, version);
    }

    // RoutingConfig.AdditionalVersionWeights: one published version other than the primary
    // one, weight 0..1, the primary not $LATEST. (AWS's wordings for the last three are as
    // remembered from its answers, not confirmed against the live service.)
    std::map<std::string, double> parse_routing(const json& in, const Function& f, const std::string& primary) {
        std::map<std::string, double> weights;
        auto rc = in.find("RoutingConfig");
        if (rc == in.end() || rc->is_null()) return weights;
        if (!rc->is_object()) throw AwsError::serialization("RoutingConfig has the wrong type");
        auto w = rc->find("AdditionalVersionWeights");
        if (w == rc->end() || w->is_null()) return weights;
        if (!w->is_object()) throw AwsError::serialization("AdditionalVersionWeights has the wrong type");
        for (auto& [version, weight] : w->items()) {
            if (!weight.is_number()) throw AwsError::serialization("AdditionalVersionWeights has the wrong type");
            double d = weight.get<double>();
            if (d < 0.0 || d > 1.0)
                throw AwsError::validation(fmt::format(
                    "1 validation error detected: Value '{{{}={}}}' at 'routingConfig.additionalVersionWeights' failed to "
                    "satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal "
                    "to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]",
                    version, d));
            if (!is_version_number(version))
                throw AwsError::validation(fmt::format(
                    "1 validation error detected: Value '{{{}={}}}' at 'routingConfig.additionalVersionWeights' failed "
                    "to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression "
                    "pattern: [0-9]+]",
                    version, d));
            weights[version] = d;
        }
        if (weights.size() > 1)
            throw invalid_parameter("Number of items in AdditionalVersionWeights cannot be greater than 1");
        for (auto& [version, d] : weights) {
            if (primary == "$LATEST")
                throw invalid_parameter("$LATEST is not supported for an alias pointing to more than 1 version");
            if (version == primary)
                throw invalid_parameter(fmt::format(
                    "Invalid function version {}. Function version {} is already included in routing configuration.",
                    version, version));
            if (!store_.get_version(f.name, version)) throw not_found(f.name, version);
        }
        return weights;
    }

    AwsError alias_not_found(const std::string& function, const std::string& name) {
        return AwsError::resource_not_found(fmt::format("Cannot find alias arn: {}:{}", function_arn(function), name));
    }

    core::Response create_alias(const core::Request& request, const std::string& ref) {
        json in = parse_body(request.body);
        Function f = load(ref);
        auto name = opt<std::string>(in, "Name");
        auto version = opt<std::string>(in, "FunctionVersion");
        for (auto [value, field] : {std::pair{&name, "name"}, {&version, "functionVersion"}})
            if (!*value)
                throw AwsError::validation(fmt::format(
                    "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                    field));
        validate_alias_name(*name);
        check_alias_version(f, *version);
        Alias a;
        a.function = f.name;
        a.name = *name;
        a.version = *version;
        a.description = opt<std::string>(in, "Description").value_or("");
        a.weights = parse_routing(in, f, a.version);
        a.revision_id = core::random_uuid();
        if (!store_.create_alias(a)) throw conflict("Alias already exists: " + a.arn());
        return respond(a.configuration(), 201);
    }

    core::Response get_alias(const std::string& ref, const std::string& name) {
        Function f = load(ref);
        auto a = store_.get_alias(f.name, name);
        if (!a) throw alias_not_found(f.name, name);
        return respond(a->configuration());
    }

    core::Response update_alias(const core::Request& request, const std::string& ref, const std::string& name) {
        json in = parse_body(request.body);
        Function f = load(ref);
        auto a = store_.get_alias(f.name, name);
        if (!a) throw alias_not_found(f.name, name);
        if (auto v = opt<std::string>(in, "RevisionId"); v && *v != a->revision_id) throw precondition_failed();
        if (auto v = opt<std::string>(in, "FunctionVersion")) {
            check_alias_version(f, *v);
            a->version = *v;
        }
        if (auto v = opt<std::string>(in, "Description")) a->description = *v;
        if (in.contains("RoutingConfig"))
            a->weights = parse_routing(in, f, a->version);
        else if (!a->weights.empty()) {
            json keep = {{"RoutingConfig", {{"AdditionalVersionWeights", a->weights}}}};
            a->weights = parse_routing(keep, f, a->version);  // the new primary must still fit
        }
        a->revision_id = core::random_uuid();
        store_.put_alias(*a);
        return respond(a->configuration());
    }

    core::Response delete_alias(const std::string& ref, const std::string& name) {
        Function f = load(ref);
        // DeleteAlias lists no ResourceNotFoundException: an unknown alias is a success.
        store_.erase_alias(f.name, name);
        return no_content();
    }

    core::Response list_aliases(const core::Request& request, const std::string& ref) {
        Function f = load(ref);
        std::size_t max = max_items(request);
        std::string marker = request.query_param("Marker").value_or("");
        auto version = request.query_param("FunctionVersion");
        json out = {{"Aliases", json::array()}};
        for (auto& a : store_.aliases(f.name)) {
            if (!marker.empty() && a.name <= marker) continue;
            if (version && a.version != *version) continue;
            if (out["Aliases"].size() == max) {
                out["NextMarker"] = out["Aliases"].back()["Name"];
                break;
            }
            out["Aliases"].push_back(a.configuration());
        }
        return respond(out);
    }

    // ---- function URLs ----

    std::string url_for(const FunctionUrl& u) const {
        if (!options_.url_host_names) return fmt::format("{}{}{}/", options_.endpoint_url, url_path_prefix, u.id);
        std::string_view ep = options_.endpoint_url;
        auto colon = ep.rfind(':');
        std::string port = colon == std::string_view::npos || colon < 6 ? "" : std::string(ep.substr(colon));
        return fmt::format("http://{}{}{}/", u.id, url_host_suffix, port);
    }

    // The function (and alias) a URL call names: Qualifier is an alias or nothing.
    std::pair<Function, std::string> url_owner(const core::Request& request, const std::string& ref_text) {
        auto ref = ref_of(ref_text, &request);
        std::string q = ref.qualifier.value_or("");
        if (!q.empty()) {
            static const std::regex pattern("[0-9a-zA-Z-_]{1,128}");
            if (!std::regex_match(q, pattern) || is_version_number(q))
                throw AwsError::validation(fmt::format(
                    "1 validation error detected: Value '{}' at 'qualifier' failed to satisfy constraint: Member must "
                    "satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)",
                    q));
        }
        auto t = resolve(ref, false);
        return {store_.get(t.fn.name).value_or(t.fn), q};
    }

    static std::string enum_member(const json& in, const char* key, const char* field,
                                   std::initializer_list<std::string_view> allowed) {
        auto v = opt<std::string>(in, key);
        if (!v) return {};
        for (auto a : allowed)
            if (*v == a) return *v;
        std::string set;
        for (auto a : allowed) set += (set.empty() ? "" : ", ") + std::string(a);
        throw AwsError::validation(fmt::format(
            "1 validation error detected: Value '{}' at '{}' failed to satisfy constraint: Member must satisfy enum "
            "value set: [{}]",
            *v, field, set));
    }

    json url_answer(const FunctionUrl& u, bool with_modified) {
        json c = u.configuration(url_for(u));
        if (!with_modified) c.erase("LastModifiedTime");
        return c;
    }

    core::Response create_url(const core::Request& request, const std::string& ref) {
        json in = parse_body(request.body);
        auto [f, q] = url_owner(request, ref);
        FunctionUrl u;
        u.function = f.name;
        u.qualifier = q;
        u.auth_type = enum_member(in, "AuthType", "authType", {"NONE", "AWS_IAM"});
        if (u.auth_type.empty())
            throw AwsError::validation("1 validation error detected: Value null at 'authType' failed to satisfy "
                                       "constraint: Member must not be null");
        u.invoke_mode = enum_member(in, "InvokeMode", "invokeMode", {"BUFFERED", "RESPONSE_STREAM"});
        if (u.invoke_mode.empty()) u.invoke_mode = "BUFFERED";
        if (auto c = in.find("Cors"); c != in.end() && !c->is_null()) {
            validate_url_cors(*c);
            u.cors = c->dump();
        }
        std::string id;
        for (char ch : core::random_uuid())
            if (ch != '-') id.push_back(ch);
        u.id = id;
        u.created = u.modified = core::iso8601(now_ms());
        if (!store_.create_url(u))
            throw conflict(fmt::format(
                "Failed to create function url config for [functionArn = {}]. Error message:  FunctionUrlConfig exists "
                "for this Lambda function",
                u.function_arn()));
        return respond(url_answer(u, false), 201);
    }

    FunctionUrl existing_url(const core::Request& request, const std::string& ref) {
        auto [f, q] = url_owner(request, ref);
        auto u = store_.url_of(f.name, q);
        if (!u) throw AwsError::resource_not_found("The resource you requested does not exist.");
        return *u;
    }

    core::Response get_url(const core::Request& request, const std::string& ref) {
        return respond(url_answer(existing_url(request, ref), true));
    }

    core::Response update_url(const core::Request& request, const std::string& ref) {
        json in = parse_body(request.body);
        FunctionUrl u = existing_url(request, ref);
        if (auto v = enum_member(in, "AuthType", "authType", {"NONE", "AWS_IAM"}); !v.empty()) u.auth_type = v;
        if (auto v = enum_member(in, "InvokeMode", "invokeMode", {"BUFFERED", "RESPONSE_STREAM"}); !v.empty())
            u.invoke_mode = v;
        if (auto c = in.find("Cors"); c != in.end()) {
            validate_url_cors(*c);
            u.cors = c->is_null() ? "null" : c->dump();
        }
        u.modified = core::iso8601(now_ms());
        store_.put_url(u);
        return respond(url_answer(u, true));
    }

    core::Response delete_url(const core::Request& request, const std::string& ref) {
        store_.erase_url(existing_url(request, ref).id);
        return no_content();
    }

    core::Response list_urls(const core::Request& request, const std::string& ref) {
        Function f = load(ref);
        std::size_t max = max_items(request);
        std::string marker = request.query_param("Marker").value_or("");
        json out = {{"FunctionUrlConfigs", json::array()}};
        auto all = store_.urls(f.name);
        std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.id < b.id; });
        std::string last;
        for (auto& u : all) {
            if (!marker.empty() && u.id <= marker) continue;
            if (out["FunctionUrlConfigs"].size() == max) {
                out["NextMarker"] = last;
                break;
            }
            out["FunctionUrlConfigs"].push_back(url_answer(u, true));
            last = u.id;
        }
        return respond(out);
    }

    // A request to a function URL: its function (or alias) invoked with a payload 2.0 event.
    void serve_url(core::Request&& request, const UrlTarget& target, core::Reply reply) {
        auto u = store_.get_url(target.id);
        if (!u) return reply(url_error(403, "Forbidden"));
        if (auto pre = url_preflight(*u, request)) return reply(std::move(*pre));
        if (request.body.size() > max_sync_payload)
            return reply(url_error(413, fmt::format("Request must be smaller than {} bytes for the InvokeFunction operation",
                                                    max_sync_payload)));
        FunctionRef ref{u->function, u->qualifier.empty() ? std::nullopt : std::optional<std::string>(u->qualifier)};
        std::optional<Target> t;
        try {
            t = resolve(ref, true);
        } catch (const AwsError&) {
            return reply(url_error(403, "Forbidden"));
        }
        InvokeInput input;
        input.payload = url_event(request, target, *u, now_ms());
        input.request_id = request.request_id;
        auto req = std::make_shared<core::Request>();
        req->method = request.method;
        req->headers = std::move(request.headers);
        req->request_id = request.request_id;
        if (u->invoke_mode == "RESPONSE_STREAM") return stream_url(std::move(*t), std::move(input), *u, req, std::move(reply));
        scheduler_.invoke(std::move(t->fn), std::move(input),
                          [u = *u, req, reply = std::move(reply)](InvokeResult res) {
                              core::Response r = url_response(res);
                              url_cors_headers(u, *req, r);
                              r.headers.set("x-amzn-RequestId", req->request_id);
                              r.operation = "FunctionUrl";
                              reply(std::move(r));
                          },
                          std::move(t->invoked_arn));
    }

    // RESPONSE_STREAM: the answer's head goes out with the first piece the handler streams
    // (its HTTP prelude, when it used awslambda.HttpResponseStream.from), the body as it
    // comes. A handler that does not stream is answered as a buffered one.
    // A RequestResponse invocation's input from an Invoke / InvokeWithResponseStream
    // request (the body moves into it; an empty one is {}).
    static InvokeInput request_response_input(core::Request& request) {
        InvokeInput input;
        input.payload = request.body.empty() ? std::string("{}") : std::move(request.body);
        input.tail = core::iequals(request.headers.get_or("X-Amz-Log-Type", "None"), "Tail");
        input.client_context = std::string(request.headers.get_or("X-Amz-Client-Context", ""));
        input.request_id = request.request_id;
        return input;
    }

    void stream_url(Target t, InvokeInput input, const FunctionUrl& u, std::shared_ptr<core::Request> req,
                    core::Reply reply) {
        struct State {
            core::Reply reply;
            std::shared_ptr<core::BodyStream> stream;
            std::string pending;  // a prelude still incomplete
            FunctionUrl url;
            std::shared_ptr<core::Request> req;
            void start(core::Response&& head, std::string first) {
                url_cors_headers(url, *req, head);
                head.headers.set("x-amzn-RequestId", req->request_id);
                head.operation = "FunctionUrl";
                stream = std::make_shared<core::BodyStream>();
                head.stream = stream;
                stream->write(std::move(first));
                auto r = std::move(reply);
                reply = nullptr;
                r(std::move(head));
            }
        };
        auto st = std::make_shared<State>();
        st->reply = std::move(reply);
        st->url = u;
        st->req = std::move(req);
        auto on_chunk = [st](std::string_view bytes, std::string_view type) {
            if (st->stream) return st->stream->write(std::string(bytes));
            if (type == http_prelude_type) {
                st->pending.append(bytes);
                std::string rest;
                if (auto head = split_http_prelude(st->pending, rest)) st->start(std::move(*head), std::move(rest));
                return;
            }
            core::Response head;
            head.status = 200;
            head.headers.set("Content-Type", "application/octet-stream");
            st->start(std::move(head), std::string(bytes));
        };
        auto done = [st](InvokeResult res) {
            if (st->stream) return st->stream->finish();
            core::Response r;
            if (res.payload.empty() && !res.error && !res.function_error) {
                // Streamed nothing (or a prelude without its delimiter): an empty 200.
                r.status = 200;
                r.headers.set("Content-Type", "application/octet-stream");
            } else {
                r = url_response(res);
            }
            url_cors_headers(st->url, *st->req, r);
            r.headers.set("x-amzn-RequestId", st->req->request_id);
            r.operation = "FunctionUrl";
            auto reply = std::move(st->reply);
            reply(std::move(r));
        };
        scheduler_.invoke(std::move(t.fn), std::move(input), std::move(done), std::move(t.invoked_arn), std::move(on_chunk));
    }

    // InvokeWithResponseStream: an event stream of PayloadChunk messages as the handler
    // streams, then InvokeComplete (with ErrorCode / ErrorDetails when it failed, LogResult
    // when asked for). The head goes out with the first piece; errors before it (unknown
    // function, throttling) are answered as Invoke answers them.
    void invoke_stream(core::Request&& request, const std::string& ref_text, core::Reply reply) {
        FunctionRef ref = ref_of(ref_text, &request);
        Target t = resolve(ref, true);
        std::string type(request.headers.get_or("X-Amz-Invocation-Type", "RequestResponse"));
        if (type != "RequestResponse" && type != "DryRun")
            throw AwsError::validation(fmt::format(
                "1 validation error detected: Value '{}' at 'invocationType' failed to satisfy constraint: Member must "
                "satisfy enum value set: [RequestResponse, DryRun]",
                type));
        if (request.body.size() > max_sync_payload)
            throw AwsError("RequestEntityTooLargeException",
                           fmt::format("Request must be smaller than {} bytes for the InvokeFunction operation",
                                       max_sync_payload),
                           413);
        if (!request.body.empty() && json::parse(request.body, nullptr, false).is_discarded())
            throw AwsError("InvalidRequestContentException",
                           "Could not parse request body into json: Could not parse payload into json", 400);
        if (type == "DryRun") {
            core::Response r = no_content();
            r.operation = "InvokeWithResponseStream";
            return reply(std::move(r));
        }
        InvokeInput input = request_response_input(request);
        struct State {
            core::Reply reply;
            std::shared_ptr<core::BodyStream> stream;
            std::string version;
            std::shared_ptr<core::Request> meta;
            core::Response head() const {
                core::Response r;
                r.status = 200;
                r.headers.set("Content-Type", "application/vnd.amazon.eventstream");
                r.headers.set("X-Amz-Executed-Version", version);
                r.operation = "InvokeWithResponseStream";
                return r;
            }
        };
        auto st = std::make_shared<State>();
        st->reply = std::move(reply);
        st->version = t.fn.version;
        st->meta = std::make_shared<core::Request>();
        st->meta->method = request.method;
        st->meta->request_id = request.request_id;
        auto on_chunk = [st](std::string_view bytes, std::string_view) {
            if (!st->stream) {
                core::Response r = st->head();
                st->stream = std::make_shared<core::BodyStream>();
                r.stream = st->stream;
                auto reply = std::move(st->reply);
                st->reply = nullptr;
                reply(std::move(r));
            }
            st->stream->write(event_message("PayloadChunk", "application/octet-stream", bytes));
        };
        auto done = [this, st](InvokeResult res) {
            if (res.error && !st->stream) {
                core::Response r = core::render_error(protocol_, *res.error, *st->meta);
                r.operation = "InvokeWithResponseStream";
                return st->reply(std::move(r));
            }
            std::string out;
            json complete = json::object();
            if (res.error) {
                complete["ErrorCode"] = res.error->code();
                complete["ErrorDetails"] = res.error->message();
            } else if (res.function_error) {
                auto e = json::parse(res.payload, nullptr, false);
                complete["ErrorCode"] = e.is_object() ? e.value("errorType", "Unhandled") : "Unhandled";
                complete["ErrorDetails"] = e.is_object() ? e.value("errorMessage", res.payload) : res.payload;
            } else if (!res.payload.empty()) {
                out += event_message("PayloadChunk", "application/octet-stream", res.payload);  // did not stream
            }
            if (!res.log_tail.empty()) complete["LogResult"] = res.log_tail;
            out += event_message("InvokeComplete", "application/json", complete.dump());
            if (st->stream) {
                st->stream->write(std::move(out));
                st->stream->finish();
                return;
            }
            core::Response r = st->head();
            r.body = std::move(out);
            st->reply(std::move(r));
        };
        scheduler_.invoke(std::move(t.fn), std::move(input), std::move(done), std::move(t.invoked_arn), std::move(on_chunk));
    }

    core::Response put_concurrency(const core::Request& request, const std::string& ref) {
        json in = parse_body(request.body);
        auto n = opt<int>(in, "ReservedConcurrentExecutions");
        if (!n) throw AwsError::validation("1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null");
        validate_range("reservedConcurrentExecutions", *n, 0, 1000);
        Function f = load(ref);
        f.reserved_concurrency = *n;
        store_.put(f);
        scheduler_.update(f.name, f);
        return respond({{"ReservedConcurrentExecutions", *n}});
    }

    core::Response delete_concurrency(const std::string& ref) {
        Function f = load(ref);
        f.reserved_concurrency.reset();
        store_.put(f);
        scheduler_.update(f.name, f);
        return no_content();
    }

    core::Response get_concurrency(const std::string& ref) {
        Function f = load(ref);
        json out = json::object();
        if (f.reserved_concurrency) out["ReservedConcurrentExecutions"] = *f.reserved_concurrency;
        return respond(out);
    }

    core::Response add_permission(const core::Request& request, const std::string& ref) {
        json in = parse_body(request.body);
        // A version or alias has a policy of its own on AWS; stratus keeps its statements
        // in the function's, with the qualified ARN as their Resource.
        Target t = load_target(ref, &request);
        Function f = *store_.get(t.fn.name);
        auto sid = opt<std::string>(in, "StatementId");
        auto action = opt<std::string>(in, "Action");
        auto principal = opt<std::string>(in, "Principal");
        for (auto [value, field] : {std::pair{&sid, "statementId"}, {&action, "action"}, {&principal, "principal"}})
            if (!*value)
                throw AwsError::validation(fmt::format("1 validation error detected: Value null at '{}' failed to "
                                                       "satisfy constraint: Member must not be null",
                                                       field));
        json statements = json::parse(f.policy_statements);
        for (auto& s : statements)
            if (s["Sid"] == *sid)
                throw conflict(fmt::format("The statement id ({}) provided already exists. Please provide a new "
                                           "statement id, or remove the existing statement.",
                                           *sid));
        json st = {{"Sid", *sid}, {"Effect", "Allow"}, {"Action", *action}, {"Resource", t.invoked_arn}};
        if (principal->find('.') != std::string::npos && principal->find(':') == std::string::npos)
            st["Principal"] = {{"Service", *principal}};
        else if (*principal == "*")
            st["Principal"] = "*";
        else
            st["Principal"] = {{"AWS", principal->find(':') == std::string::npos
                                           ? fmt::format("arn:aws:iam::{}:root", *principal)
                                           : *principal}};
        json condition = json::object();
        if (auto v = opt<std::string>(in, "SourceArn")) condition["ArnLike"] = {{"AWS:SourceArn", *v}};
        if (auto v = opt<std::string>(in, "SourceAccount")) condition["StringEquals"] = {{"AWS:SourceAccount", *v}};
        if (!condition.empty()) st["Condition"] = condition;
        statements.push_back(st);
        f.policy_statements = statements.dump();
        f.policy_revision = core::random_uuid();
        store_.put(f);
        return respond({{"Statement", st.dump()}}, 201);
    }

    core::Response get_policy(const core::Request& request, const std::string& ref) {
        Target t = load_target(ref, &request);
        Function f = *store_.get(t.fn.name);
        json statements = json::array();
        for (auto& st : json::parse(f.policy_statements))
            if (st.value("Resource", "") == t.invoked_arn) statements.push_back(st);
        if (statements.empty()) throw AwsError::resource_not_found("The resource you requested does not exist.");
        json policy = {{"Version", "2012-10-17"}, {"Id", "default"}, {"Statement", statements}};
        return respond({{"Policy", policy.dump()}, {"RevisionId", f.policy_revision}});
    }

    core::Response remove_permission(const core::Request& request, const std::string& ref, const std::string& sid) {
        Target t = load_target(ref, &request);
        Function f = *store_.get(t.fn.name);
        json statements = json::parse(f.policy_statements);
        auto before = statements.size();
        json kept = json::array();
        for (auto& s : statements)
            if (s["Sid"] != sid || s.value("Resource", "") != t.invoked_arn) kept.push_back(s);
        if (kept.size() == before)
            throw AwsError::resource_not_found(fmt::format("Statement {} is not found in resource policy.", sid));
        f.policy_statements = kept.dump();
        f.policy_revision = core::random_uuid();
        store_.put(f);
        return no_content();
    }

    Function load_by_arn(const std::string& arn) {
        auto ref = parse_function_ref(arn);
        if (!arn.starts_with("arn:")) throw AwsError::validation("The resource ARN is not valid");
        auto f = store_.get(ref.name);
        if (!f) throw not_found(ref.name);
        return *f;
    }

    core::Response list_tags(const std::string& arn) { return respond({{"Tags", load_by_arn(arn).tags}}); }

    core::Response tag_resource(const core::Request& request, const std::string& arn) {
        json in = parse_body(request.body);
        Function f = load_by_arn(arn);
        if (auto tags = in.find("Tags"); tags != in.end() && tags->is_object())
            for (auto& [k, v] : tags->items())
                if (v.is_string()) f.tags[k] = v.get<std::string>();
        store_.put(f);
        return no_content();
    }

    core::Response untag_resource(const core::Request& request, const std::string& arn) {
        Function f = load_by_arn(arn);
        for (auto& p : request.query_params())
            if (p.name == "tagKeys") f.tags.erase(p.value);
        store_.put(f);
        return no_content();
    }

    void invoke(core::Request&& request, const std::string& ref_text, core::Reply reply) {
        FunctionRef ref = ref_of(ref_text, &request);
        Target t = resolve(ref, true);
        std::string type(request.headers.get_or("X-Amz-Invocation-Type", "RequestResponse"));
        if (type != "RequestResponse" && type != "Event" && type != "DryRun")
            throw AwsError::validation(fmt::format(
                "1 validation error detected: Value '{}' at 'invocationType' failed to satisfy constraint: Member must "
                "satisfy enum value set: [Event, RequestResponse, DryRun]",
                type));
        std::size_t limit = type == "Event" ? max_event_payload : max_sync_payload;
        if (request.body.size() > limit)
            throw AwsError("RequestEntityTooLargeException",
                           fmt::format("Request must be smaller than {} bytes for the InvokeFunction operation", limit),
                           413);
        if (!request.body.empty()) {
            auto j = json::parse(request.body, nullptr, false);
            if (j.is_discarded())
                throw AwsError("InvalidRequestContentException",
                               "Could not parse request body into json: Could not parse payload into json", 400);
        }
        if (type == "DryRun") {
            core::Response r = no_content();
            r.operation = "Invoke";
            return reply(std::move(r));
        }
        if (type == "Event") {
            InvokeInput input;
            input.payload = std::move(request.body);
            input.request_id = request.request_id;
            queue_event(std::move(t), ref, std::move(input), {});
            core::Response r;
            r.status = 202;
            r.operation = "Invoke";
            return reply(std::move(r));
        }
        InvokeInput input = request_response_input(request);
        auto meta = std::make_shared<core::Request>();
        meta->method = request.method;
        meta->request_id = request.request_id;
        std::string executed = t.fn.version;
        scheduler_.invoke(std::move(t.fn), std::move(input), [this, meta, executed, reply = std::move(reply)](InvokeResult res) {
            core::Response r;
            if (res.error) {
                r = core::render_error(protocol_, *res.error, *meta);
            } else {
                r.status = 200;
                r.headers.set("Content-Type", "application/json");
                r.headers.set("X-Amz-Executed-Version", executed);
                if (res.function_error) r.headers.set("X-Amz-Function-Error", "Unhandled");
                if (!res.log_tail.empty()) r.headers.set("X-Amz-Log-Result", res.log_tail);
                r.body = std::move(res.payload);
            }
            r.operation = "Invoke";
            reply(std::move(r));
        }, std::move(t.invoked_arn));
    }

    core::Protocol protocol_{core::Wire::rest_json, "", false};
    LambdaOptions options_;
    FunctionStore store_;
    Layers layers_;
    Scheduler scheduler_;
    TriggerEngine triggers_;  // last: its threads stop before the rest goes
};

}  // namespace

std::string find_runtimes_dir(const std::string& configured) {
    if (!configured.empty()) return fs::absolute(configured).string();
    if (const char* env = std::getenv("STRATUS_RUNTIMES_DIR"); env && *env) return fs::absolute(env).string();
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto installed = exe.parent_path().parent_path() / "share" / "stratus" / "runtimes";
        if (fs::exists(installed / "node" / "bootstrap.cjs", ec)) return installed.string();
    }
    return STRATUS_RUNTIMES_SOURCE_DIR;
}

std::shared_ptr<LambdaService> make_service(core::Runtime& runtime, core::lmdb::Env& env, LambdaOptions options) {
    auto s = std::make_shared<Service>(runtime, env, std::move(options));
    s->start_triggers();
    return s;
}

}  // namespace stratus::lambda

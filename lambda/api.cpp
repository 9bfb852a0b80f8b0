#include "lambda/api.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/base64.hpp"
#include "core/log.hpp"
#include "core/server.hpp"
#include "lambda/api_json.hpp"
#include "lambda/function.hpp"
#include "lambda/layers.hpp"
#include "lambda/scheduler.hpp"
#include "lambda/store.hpp"
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
                                               [this](const std::string& name) { return store_.get(name); },
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
            auto f = store_.get(e.function);
            if (!f) {
                store_.erase_event(e.request_id);
                continue;
            }
            core::log::info("lambda: resuming event invocation {} of {}", e.request_id, e.function);
            scheduler_.invoke_event(std::move(*f), e.payload, e.request_id,
                                    [this, id = e.request_id](const InvokeResult&) { store_.erase_event(id); });
        }
    }

    std::string_view name() const override { return "lambda"; }
    const core::Protocol& protocol() const override { return protocol_; }
    core::ServiceRoute route() const override {
        // Every dated API prefix of the Lambda REST API (functions, tags, event invoke
        // configs, layers, function URLs / concurrency).
        core::ServiceRoute r;
        r.signing_names = {"lambda"};
        r.path_prefixes = {"/2015-03-31/", "/2017-03-31/", "/2017-10-31/", "/2018-10-31/", "/2019-09-25/",
                           "/2019-09-30/", "/2020-04-22/", "/2020-06-30/", "/2021-10-31/"};
        return r;
    }
    core::BodyPolicy body_policy(const core::Request&) const override {
        // Invoke payloads are limited to 6 MB (checked per operation); CreateFunction with
        // a base64 zip up to 50 MB.
        core::BodyPolicy p;
        p.limit = 70 * 1024 * 1024;
        return p;
    }

    void handle(core::Request&& request, core::Reply reply) override {
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
                    if (m == "GET") return run("GetPolicy", [&] { return get_policy(fname); });
                }
                if (is(5, {"functions", "", "policy", ""}) && m == "DELETE")
                    return run("RemovePermission", [&] { return remove_permission(fname, parts[4]); });
            }
        }
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
        f.code_sha256 = sha256_base64(f.code_dir);
        f.code_size = 0;
        f.last_modified = now_last_modified();
        f.revision_id = core::random_uuid();
        store_.put(f);
        scheduler_.update(f.name, f);
    }

    void remove_function(const std::string& name) override {
        auto f = store_.get(name);
        if (!f) return;
        store_.erase(f->name);
        scheduler_.update(f->name, std::nullopt);
        store_.remove_code(*f);
    }

    LogBook& logs() override { return scheduler_.logs(); }
    Triggers& triggers() override { return triggers_; }
    void start_triggers() { triggers_.start(); }
    std::string code_package(const std::string& name) override {
        auto f = store_.get(name);
        return f ? store_.package_path(*f) : std::string();
    }
    void shutdown() override {
        triggers_.stop();
        scheduler_.shutdown();
    }

    std::optional<FunctionInfo> describe(std::string_view function) override {
        std::optional<Function> f;
        try {
            f = find(function);
        } catch (const AwsError&) {
            return std::nullopt;
        }
        if (!f) return std::nullopt;
        return FunctionInfo{f->name, f->arn(), f->timeout};
    }

    void invoke(std::string_view function, InvokeInput input, std::function<void(InvokeResult)> done) override {
        std::optional<Function> f;
        try {
            f = find(function);
            if (!f) throw not_found(parse_function_ref(function).name);
        } catch (const AwsError& e) {
            InvokeResult r;
            r.request_id = input.request_id;
            r.error = e;
            return done(std::move(r));
        }
        if (input.payload.empty()) input.payload = "{}";
        scheduler_.invoke(std::move(*f), std::move(input), std::move(done));
    }

    std::string invoke_event(std::string_view function, InvokeInput input,
                             std::function<void(const InvokeResult&)> finished) override {
        auto f = find(function);
        if (!f) throw not_found(parse_function_ref(function).name);
        return queue_event(std::move(*f), std::move(input), std::move(finished));
    }

private:
    // The function a name or ARN names (nullopt: none); ValidationException for a
    // malformed reference, ResourceNotFoundException for a qualifier other than $LATEST.
    std::optional<Function> find(std::string_view ref_text) {
        auto ref = parse_function_ref(ref_text);
        auto f = store_.get(ref.name);
        if (f && ref.qualifier && *ref.qualifier != "$LATEST") throw not_found(ref.name, ref.qualifier);
        return f;
    }

    // Stored before the caller hears of it: an accepted event survives a crash.
    std::string queue_event(Function f, InvokeInput input, std::function<void(const InvokeResult&)> finished) {
        if (input.payload.size() > max_event_payload)
            throw AwsError("RequestEntityTooLargeException",
                           fmt::format("Request must be smaller than {} bytes for the InvokeFunction operation",
                                       max_event_payload),
                           413);
        if (input.payload.empty()) input.payload = "{}";
        std::string id = input.request_id.empty() ? core::random_uuid() : std::move(input.request_id);
        store_.put_event({id, f.name, input.payload});
        scheduler_.invoke_event(std::move(f), std::move(input.payload), id,
                                [this, id, finished = std::move(finished)](const InvokeResult& r) {
                                    store_.erase_event(id);
                                    if (finished) finished(r);
                                });
        return id;
    }

    Function load(const std::string& ref_text, std::optional<std::string>* qualifier_out = nullptr,
                  const core::Request* request = nullptr) {
        auto ref = parse_function_ref(ref_text);
        if (request) {
            if (auto q = request->query_param("Qualifier")) {
                if (ref.qualifier && *ref.qualifier != *q)
                    throw invalid_parameter("The derived qualifier from the function name does not match the specified qualifier.");
                ref.qualifier = *q;
            }
        }
        auto f = store_.get(ref.name);
        if (!f) throw not_found(ref.name, ref.qualifier);
        // Only $LATEST exists: versions and aliases are not implemented.
        if (ref.qualifier && *ref.qualifier != "$LATEST") throw not_found(ref.name, ref.qualifier);
        if (qualifier_out) *qualifier_out = ref.qualifier;
        return *f;
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
        return respond(f.configuration(), 201);
    }

    core::Response list_functions(const core::Request& request) {
        std::string marker = request.query_param("Marker").value_or("");
        std::size_t max = 50;
        if (auto mi = request.query_param("MaxItems")) {
            int v = 0;
            try {
                v = std::stoi(*mi);
            } catch (const std::exception&) {
                throw AwsError::validation("MaxItems must be a number");
            }
            validate_range("maxItems", v, 1, 10000);
            max = static_cast<std::size_t>(v);
        }
        std::optional<std::string> next;
        auto fns = store_.list(marker, max, next);
        json out = {{"Functions", json::array()}};
        for (auto& f : fns) out["Functions"].push_back(f.configuration());
        if (next) out["NextMarker"] = *next;
        return respond(out);
    }

    core::Response get_function(const core::Request& request, const std::string& ref) {
        Function f = load(ref, nullptr, &request);
        json out = {{"Configuration", f.configuration()}, {"Code", {{"RepositoryType", "S3"}}}};
        // AWS gives a presigned S3 URL valid for 10 minutes; stratus serves the package itself.
        if (!store_.package_path(f).empty())
            out["Code"]["Location"] = fmt::format("{}/_stratus/lambda/code/{}?revision={}", options_.endpoint_url,
                                                  core::uri_encode(f.name), f.revision_id);
        out["Tags"] = f.tags;
        if (f.reserved_concurrency) out["Concurrency"] = {{"ReservedConcurrentExecutions", *f.reserved_concurrency}};
        return respond(out);
    }

    core::Response get_configuration(const core::Request& request, const std::string& ref) {
        return respond(load(ref, nullptr, &request).configuration());
    }

    core::Response delete_function(const core::Request& request, const std::string& ref) {
        std::optional<std::string> q;
        Function f = load(ref, &q, &request);
        if (q) throw invalid_parameter("Deletion of $LATEST version is not allowed.");
        store_.erase(f.name);
        scheduler_.update(f.name, std::nullopt);
        scheduler_.logs().erase(f.name);
        store_.remove_code(f);
        return no_content();
    }

    core::Response update_code(const core::Request& request, const std::string& ref) {
        json in = parse_body(request.body);
        Function f = load(ref);
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
        // go once they are retired (Linux keeps open files alive).
        store_.remove_code(old);
        return respond(f.configuration());
    }

    core::Response update_configuration(const core::Request& request, const std::string& ref) {
        json in = parse_body(request.body);
        Function f = load(ref);
        if (auto v = opt<std::string>(in, "RevisionId"); v && *v != f.revision_id)
            throw AwsError("PreconditionFailedException",
                           "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias "
                           "API to retrieve the latest Revision Id",
                           412);
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
        Function f = load(ref, nullptr, &request);
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
        json st = {{"Sid", *sid}, {"Effect", "Allow"}, {"Action", *action}, {"Resource", f.arn()}};
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

    core::Response get_policy(const std::string& ref) {
        Function f = load(ref);
        json statements = json::parse(f.policy_statements);
        if (statements.empty()) throw AwsError::resource_not_found("The resource you requested does not exist.");
        json policy = {{"Version", "2012-10-17"}, {"Id", "default"}, {"Statement", statements}};
        return respond({{"Policy", policy.dump()}, {"RevisionId", f.policy_revision}});
    }

    core::Response remove_permission(const std::string& ref, const std::string& sid) {
        Function f = load(ref);
        json statements = json::parse(f.policy_statements);
        auto before = statements.size();
        json kept = json::array();
        for (auto& s : statements)
            if (s["Sid"] != sid) kept.push_back(s);
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

    void invoke(core::Request&& request, const std::string& ref, core::Reply reply) {
        Function f = load(ref, nullptr, &request);
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
            queue_event(std::move(f), std::move(input), {});
            core::Response r;
            r.status = 202;
            r.operation = "Invoke";
            return reply(std::move(r));
        }
        InvokeInput input;
        input.payload = request.body.empty() ? std::string("{}") : std::move(request.body);
        input.tail = core::iequals(request.headers.get_or("X-Amz-Log-Type", "None"), "Tail");
        input.client_context = std::string(request.headers.get_or("X-Amz-Client-Context", ""));
        input.request_id = request.request_id;
        auto meta = std::make_shared<core::Request>();
        meta->method = request.method;
        meta->request_id = request.request_id;
        scheduler_.invoke(std::move(f), std::move(input), [this, meta, reply = std::move(reply)](InvokeResult res) {
            core::Response r;
            if (res.error) {
                r = core::render_error(protocol_, *res.error, *meta);
            } else {
                r.status = 200;
                r.headers.set("Content-Type", "application/json");
                r.headers.set("X-Amz-Executed-Version", "$LATEST");
                if (res.function_error) r.headers.set("X-Amz-Function-Error", "Unhandled");
                if (!res.log_tail.empty()) r.headers.set("X-Amz-Log-Result", res.log_tail);
                r.body = std::move(res.payload);
            }
            r.operation = "Invoke";
            reply(std::move(r));
        });
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

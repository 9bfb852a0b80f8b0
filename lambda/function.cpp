#include "lambda/function.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/base64.hpp"
#include "core/crypto.hpp"
#include "core/error.hpp"
#include "core/protocol.hpp"
#include "lambda/logs.hpp"

namespace stratus::lambda {

using nlohmann::json;

std::string function_arn(std::string_view name) {
    return fmt::format("arn:aws:lambda:{}:{}:function:{}", region, account, name);
}

std::string Function::arn() const { return function_arn(name); }
std::string Function::version_arn() const { return version == "$LATEST" ? arn() : arn() + ":" + version; }
std::string Function::key() const { return version == "$LATEST" ? name : name + ":" + version; }

bool is_version_number(std::string_view q) {
    return !q.empty() && q.size() <= 10 && q.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string Alias::arn() const { return function_arn(function) + ":" + name; }

json Alias::configuration() const {
    json c = {{"AliasArn", arn()}, {"Name", name}, {"FunctionVersion", version}, {"Description", description},
              {"RevisionId", revision_id}};
    if (!weights.empty()) c["RoutingConfig"] = {{"AdditionalVersionWeights", weights}};
    return c;
}

std::string Alias::to_json() const {
    return json{{"function", function}, {"name", name},     {"version", version},
                {"description", description}, {"weights", weights}, {"revision_id", revision_id}}
        .dump();
}

Alias Alias::from_json(std::string_view text) {
    json j = json::parse(text);
    Alias a;
    a.function = j.at("function");
    a.name = j.at("name");
    a.version = j.at("version");
    a.description = j.value("description", "");
    a.weights = j.at("weights").get<std::map<std::string, double>>();
    a.revision_id = j.value("revision_id", "");
    return a;
}

json Function::configuration() const {
    json c = {
        {"FunctionName", name},
        {"FunctionArn", version_arn()},
        {"Runtime", runtime},
        {"Role", role},
        {"Handler", handler},
        {"CodeSize", code_size},
        {"Description", description},
        {"Timeout", timeout},
        {"MemorySize", memory_size},
        {"LastModified", last_modified},
        {"CodeSha256", code_sha256},
        {"Version", version},
        {"TracingConfig", {{"Mode", "PassThrough"}}},
        {"RevisionId", revision_id},
        {"State", "Active"},
        {"LastUpdateStatus", "Successful"},
        {"PackageType", "Zip"},
        {"Architectures", json::array({"x86_64"})},
        {"EphemeralStorage", {{"Size", 512}}},
        {"SnapStart", {{"ApplyOn", "None"}, {"OptimizationStatus", "Off"}}},
        {"LoggingConfig", {{"LogFormat", "Text"}, {"LogGroup", "/aws/lambda/" + name}}},
    };
    if (!environment.empty()) c["Environment"] = {{"Variables", environment}};
    if (!layers.empty()) {
        c["Layers"] = json::array();
        for (auto& l : layers) c["Layers"].push_back({{"Arn", l.arn}, {"CodeSize", l.code_size}});
    }
    return c;
}

std::string Function::to_json() const {
    json j = {{"name", name},
              {"runtime", runtime},
              {"handler", handler},
              {"role", role},
              {"description", description},
              {"timeout", timeout},
              {"memory_size", memory_size},
              {"environment", environment},
              {"code_dir", code_dir},
              {"external_code", external_code},
              {"code_sha256", code_sha256},
              {"code_size", code_size},
              {"last_modified", last_modified},
              {"revision_id", revision_id},
              {"tags", tags},
              {"policy_statements", policy_statements},
              {"policy_revision", policy_revision},
              {"version", version},
              {"last_version", last_version}};
    if (reserved_concurrency) j["reserved_concurrency"] = *reserved_concurrency;
    if (!layers.empty()) {
        j["layers"] = json::array();
        for (auto& l : layers)
            j["layers"].push_back({{"arn", l.arn}, {"code_size", l.code_size}, {"dir", l.dir}, {"external", l.external}});
        j["opt_dir"] = opt_dir;
    }
    return j.dump();
}

Function Function::from_json(std::string_view text) {
    json j = json::parse(text);
    Function f;
    f.name = j.at("name");
    f.runtime = j.at("runtime");
    f.handler = j.at("handler");
    f.role = j.at("role");
    f.description = j.at("description");
    f.timeout = j.at("timeout");
    f.memory_size = j.at("memory_size");
    f.environment = j.at("environment").get<std::map<std::string, std::string>>();
    f.code_dir = j.at("code_dir");
    f.external_code = j.at("external_code");
    f.code_sha256 = j.at("code_sha256");
    f.code_size = j.at("code_size");
    f.last_modified = j.at("last_modified");
    f.revision_id = j.at("revision_id");
    f.tags = j.at("tags").get<std::map<std::string, std::string>>();
    f.policy_statements = j.at("policy_statements");
    f.policy_revision = j.value("policy_revision", "");
    f.version = j.value("version", "$LATEST");
    f.last_version = j.value("last_version", 0);
    if (j.contains("reserved_concurrency")) f.reserved_concurrency = j["reserved_concurrency"].get<int>();
    if (j.contains("layers")) {
        for (auto& l : j["layers"]) f.layers.push_back({l.at("arn"), l.at("code_size"), l.at("dir"), l.value("external", false)});
        f.opt_dir = j.value("opt_dir", "");
    }
    return f;
}

namespace {
// [a-zA-Z0-9-_]{1,64}: a plain function name.
bool plain_function_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}
}  // namespace

void validate_function_name(std::string_view name) {
    if (!plain_function_name(name))
        throw core::AwsError::validation(fmt::format(
            "1 validation error detected: Value '{}' at 'functionName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{{2}}(-gov)?-[a-z]+-\\d{{1}}:)?(\\d{{12}}:)?(function:)?([a-zA-Z0-9-_]+)"
            "(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
            name));
}

FunctionRef parse_function_ref(std::string_view text) {
    // The pattern of the FunctionName parameter in the Lambda API model.
    static const std::regex pattern(
        "(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:[a-z]{2}(?:-gov)?-[a-z]+-\\d{1}:)?(?:\\d{12}:)?(?:function:)?"
        "([a-zA-Z0-9-_]+)(?::(\\$LATEST|[a-zA-Z0-9-_]+))?");
    // A plain name (what the gateway, triggers and most callers pass) cannot match
    // anything but the name group, every optional part ending in ':'; it skips the regex,
    // which costs a few thousand instructions per invocation.
    if (plain_function_name(text)) return FunctionRef{std::string(text), std::nullopt};
    std::match_results<std::string_view::const_iterator> m;
    if (text.size() > 170 || !std::regex_match(text.begin(), text.end(), m, pattern)) {
        validate_function_name(text);  // throws with AWS's wording
    }
    FunctionRef ref;
    ref.name = m[1].str();
    if (ref.name.size() > 64) validate_function_name(ref.name);
    if (m[2].matched) ref.qualifier = m[2].str();
    return ref;
}

bool known_runtime(std::string_view runtime) {
    static constexpr std::string_view runtimes[] = {
        "nodejs18.x",  "nodejs20.x",  "nodejs22.x",  "python3.8",   "python3.9",     "python3.10",
        "python3.11",  "python3.12",  "python3.13",  "provided",    "provided.al2", "provided.al2023",
    };
    for (auto r : runtimes)
        if (r == runtime) return true;
    return false;
}

std::string now_last_modified() {
    // Lambda writes the offset, not "Z": 2024-01-01T00:00:00.000+0000.
    std::string t = core::iso8601(now_ms());
    t.pop_back();
    return t + "+0000";
}

std::string sha256_base64(std::string_view bytes) {
    return core::base64_encode(core::crypto::sha256(bytes));
}

}  // namespace stratus::lambda

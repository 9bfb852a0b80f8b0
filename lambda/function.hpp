// A Lambda function as stratus stores it: its configuration, where its code lives on disk,
// and the settings around it (reserved concurrency, resource policy, tags).
#pragma once

#include <cstddef>

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stratus::lambda {

inline constexpr std::string_view region = "us-east-1";
inline constexpr std::string_view account = "000000000000";
// Lambda's payload limit for synchronous invocations (6 MB).
inline constexpr std::size_t max_sync_payload = 6 * 1024 * 1024;

// A layer version a function uses (lambda/layers.hpp).
struct LayerRef {
    std::string arn;  // the version's ARN
    std::int64_t code_size = 0;
    std::string dir;  // its unpacked content, or the app's layer directory (external)
    // Published from a directory the app model declares: read in place, watched, the merged
    // tree rebuilt when it changes (lambda/scheduler).
    bool external = false;
};

struct Function {
    std::string name;
    std::string runtime;  // "nodejs20.x", "python3.12", "provided.al2023"
    std::string handler;  // "index.handler"
    std::string role;
    std::string description;
    int timeout = 3;       // seconds, 1..900
    int memory_size = 128;  // MB, 128..10240
    std::map<std::string, std::string> environment;
    // Absolute directory holding the unpacked code.
    std::string code_dir;
    // True when the code is a directory declared by the app model (never deleted by us).
    bool external_code = false;
    std::string code_sha256;  // base64 of the SHA-256 of the zip (or of the directory listing)
    std::int64_t code_size = 0;
    std::string last_modified;  // "2024-01-01T00:00:00.000+0000"
    std::string revision_id;
    std::optional<int> reserved_concurrency;
    std::map<std::string, std::string> tags;
    // Resource policy statements, a JSON array (AddPermission / GetPolicy).
    std::string policy_statements = "[]";
    std::string policy_revision;
    // Layers, in order, and the merged tree the sandbox sees as /opt (empty: none).
    std::vector<LayerRef> layers;
    std::string opt_dir;
    // "$LATEST", or the number of a published version (an immutable snapshot: its record
    // never changes, its code directory is its own or shared with others, never rewritten).
    std::string version = "$LATEST";
    // On $LATEST: the highest version number published so far (numbers are never reused).
    int last_version = 0;

    std::string arn() const;
    // The ARN naming this version: unqualified for $LATEST, "...:function:f:3" for a version.
    std::string version_arn() const;
    // What the scheduler keeps warm sandboxes under: "f" for $LATEST, "f:3" for version 3.
    std::string key() const;
    // FunctionConfiguration as the API returns it.
    nlohmann::json configuration() const;
    std::string to_json() const;
    static Function from_json(std::string_view text);
};

std::string function_arn(std::string_view name);

// An alias: a name pointing at a version, optionally sending a share of invocations to a
// second one (RoutingConfig.AdditionalVersionWeights).
struct Alias {
    std::string function;
    std::string name;
    std::string version;  // "$LATEST" or a version number
    std::string description;
    std::map<std::string, double> weights;  // at most one entry: version -> 0.0..1.0
    std::string revision_id;

    std::string arn() const;
    nlohmann::json configuration() const;  // AliasConfiguration
    std::string to_json() const;
    static Alias from_json(std::string_view text);
};

// "1", "42": a version number (what a qualifier of only digits names).
bool is_version_number(std::string_view q);

// What a FunctionName path parameter or ARN names: "f", "f:$LATEST",
// "000000000000:function:f", "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST".
struct FunctionRef {
    std::string name;
    std::optional<std::string> qualifier;
};
// Throws ValidationException when it matches none of the forms.
FunctionRef parse_function_ref(std::string_view text);

// "1 validation error detected: ..." unless the name is 1-64 of [A-Za-z0-9_-].
void validate_function_name(std::string_view name);

// The runtimes stratus runs; anything else is InvalidParameterValueException.
bool known_runtime(std::string_view runtime);

std::string now_last_modified();
std::string sha256_base64(std::string_view bytes);

}  // namespace stratus::lambda

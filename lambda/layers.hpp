// Lambda layers: versions published from a zip (in the request or in stratus's S3), kept in
// LMDB (db lambda_layers) with their content unpacked under <data>/lambda/layers/<name>/<n>/,
// the layer API (Publish / Get / GetByArn / List / ListVersions / Delete, the version
// policies), and the merged /opt tree a function with Layers sees: each layer's files in
// order, a later layer's file replacing an earlier one's, hard-linked (copied across file
// systems) into <data>/lambda/opt/<function>-<hash of the layer list>/. The scheduler points
// the runtimes' module paths at it (see layer_environment).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/http_types.hpp"
#include "core/lmdb.hpp"
#include "lambda/function.hpp"

namespace stratus::lambda {

class Layers {
public:
    // `zip_from` turns a Content object (ZipFile / S3Bucket + S3Key) into zip bytes, throwing
    // the API's errors.
    Layers(core::lmdb::Env& env, std::string root, std::function<std::string(const nlohmann::json&)> zip_from);

    // The layer API under /2018-10-31/layers (parts: the path's segments, the date first).
    // Returns the body and status; sets `op`. Throws AwsError.
    std::pair<nlohmann::json, int> handle(const core::Request& request, const std::vector<std::string>& parts,
                                          std::string& op);
    // A function's Layers parameter: at most 5 version ARNs, each existing. Throws
    // InvalidParameterValueException.
    std::vector<LayerRef> resolve(const nlohmann::json& arns);
    // A version of layer `name` whose content is the directory `dir`, read in place (the app
    // model's layer directories: no zip). The newest version is reused when it is the same
    // directory with the same runtimes and description, else a new one is published.
    // Returns the version's ARN. Throws AwsError (bad name, no such directory).
    std::string publish_directory(const std::string& name, const std::string& dir,
                                  const std::vector<std::string>& compatible_runtimes, const std::string& description);
    // The merged tree of these layers for `function` (made when missing; always remade when
    // a layer is a directory, which may have changed).
    std::string merge(const std::string& function, const std::vector<LayerRef>& layers);
    void reset();

private:
    nlohmann::json version_json(const nlohmann::json& record, bool list_item) const;

    core::lmdb::Env& env_;
    core::lmdb::Dbi dbi_;
    std::string root_;
    std::function<std::string(const nlohmann::json&)> zip_from_;
    std::mutex mutex_;
};

// Remakes the merged tree `opt` of `layers` (after a layer directory changed).
void rebuild_merged(const std::string& opt, const std::vector<LayerRef>& layers);

// What a sandbox's environment gets for a merged tree `opt` (empty: nothing): NODE_PATH,
// PYTHONPATH, PATH and LD_LIBRARY_PATH entries in AWS's order, and "/opt" in the function's
// own variables rewritten to `opt`. `env` holds the defaults and the function's variables.
void layer_environment(const std::string& opt, const std::string& runtime, std::map<std::string, std::string>& env,
                       const std::map<std::string, std::string>& function_env);

}  // namespace stratus::lambda

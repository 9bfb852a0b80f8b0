// Reading an app: finds its config (serverless.yml / serverless.yaml / serverless.json /
// template.yaml / template.yml / template.json) and turns it into an App
// (emulator/app/model.hpp). Every error is a ConfigError naming a file, line and column.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "emulator/app/model.hpp"

namespace stratus::app {

struct LoadOptions {
    std::string stage;   // --stage (serverless); empty: provider.stage or "dev"
    std::map<std::string, std::string> params;  // --param K=V: ${param:K}, SAM Parameters
};

// The config file for `target`: the file itself, or the first of the known names in the
// folder. nullopt when a folder has none.
std::optional<std::string> find_config(const std::string& target);

// Reads and checks the app. Throws ConfigError.
App load_app(const std::string& config_file, const LoadOptions& options);

// A deterministic API id (10 lowercase letters and digits) for `seed`.
std::string api_id(const std::string& seed);

}  // namespace stratus::app

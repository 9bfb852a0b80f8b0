// The app `stratus start` runs: loads its config (emulator/app), deploys it
// (emulator/deploy), syncs its site folder, prints what it serves, watches the config and
// the site folder and redeploys what changed, and answers `stratus deploy` and the CLI's
// name lookups (/_stratus/app, /_stratus/deploy).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "emulator/app/load.hpp"
#include "emulator/deploy.hpp"

namespace stratus::core {
class Dispatcher;
}

namespace stratus::emulator {

class Watcher;

class AppHost {
public:
    // `state_file`: see Deployer.
    AppHost(Services services, std::string config_file, app::LoadOptions options, std::string state_file = "");
    ~AppHost();

    // Reads the app; throws ConfigError. Nothing is deployed yet.
    const app::App& load();
    // Deploys what load() read and syncs the site; throws after undoing on failure.
    std::vector<std::string> deploy();
    // The banner's lines for the app (functions, routes with their URLs, site, notices).
    // `aws` is the AWS endpoint, `site_url` the site port's URL (empty: none).
    std::vector<std::string> banner(const std::string& aws, const std::string& site_url) const;
    // /_stratus/app, /_stratus/deploy, and a redeploy after /_stratus/reset.
    void add_endpoints(core::Dispatcher& dispatcher);
    // Starts watching the config and the site folder.
    void watch();

    struct Result {
        bool ok = true;
        std::vector<std::string> lines;  // changes, or the error
    };
    // Re-reads the config and applies the difference, then syncs the site; never throws.
    Result redeploy(bool after_reset = false);
    Result sync_site();

private:
    Services services_;
    std::string config_file_;
    app::LoadOptions options_;
    std::mutex mutex_;  // one deploy at a time
    app::App loaded_;
    Deployer deployer_;
    std::unique_ptr<Watcher> watcher_;
};

}  // namespace stratus::emulator

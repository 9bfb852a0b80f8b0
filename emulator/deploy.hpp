// Applying an app model (emulator/app) to the running services: tables, buckets and their
// configurations, functions, bucket notifications, stream mappings and schedules, APIs, and
// the site (its folder synced into its bucket). A changed model is applied as a difference
// from what was deployed before. A step that fails undoes the steps before it, so a bad
// deploy leaves what ran before running.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emulator/app/model.hpp"

namespace stratus::dynamo {
class DynamoService;
}
namespace stratus::s3 {
class S3Service;
}
namespace stratus::lambda {
class LambdaService;
class Triggers;
}  // namespace stratus::lambda
namespace stratus::gateway {
class Gateway;
}

namespace stratus::emulator {

class Site;

struct Services {
    dynamo::DynamoService& dynamo;
    s3::S3Service& s3;
    lambda::LambdaService& lambda;
    gateway::Gateway* gateway = nullptr;   // nullptr: no API Gateway in this build
    lambda::Triggers* triggers = nullptr;  // nullptr: no stream / schedule triggers in this build
    Site* site = nullptr;                  // nullptr: no site listener
};

struct SyncResult {
    std::size_t uploaded = 0, deleted = 0, unchanged = 0;
};

class Deployer {
public:
    // `state_file`: where what was deployed is remembered across restarts (the data dir), so
    // a function, API, schedule or stream mapping removed from the config while stratus was
    // stopped is removed at the next start. Empty: not remembered.
    Deployer(Services services, std::string state_file = "");

    // Applies `next` over what this deployer applied before (nothing at first). Returns one
    // line per change ("+ function todo-dev-list", "~ table todos: GSI byUser added",
    // "! table todos: key schema changed ...": reported, not applied). Throws (AwsError,
    // ConfigError) after undoing what it had changed.
    std::vector<std::string> apply(const app::App& next);
    // Forgets what was deployed (after `stratus reset` wiped it): the next apply is a
    // first deploy.
    void forget();
    // Syncs the site's folder into its bucket (puts what changed, deletes what is gone).
    SyncResult sync_site();

    const std::optional<app::App>& current() const { return current_; }
    // The deployed stream ARN a marker stands for (the table's LatestStreamArn), or the value
    // unchanged.
    std::string resolve_stream(const std::string& value) const;

private:
    // What the state file says was deployed by the last run (names and ids only).
    app::App remembered() const;
    void remember(const app::App& deployed) const;

    Services s_;
    std::string state_file_;
    bool forgotten_ = false;
    std::optional<app::App> current_;
    std::map<std::string, std::string> mapping_ids_;  // function + "\n" + source -> UUID
};

}  // namespace stratus::emulator

// One model of a serverless app, whatever it was written in (serverless.yml v3 / v4, SAM,
// plain CloudFormation): functions, APIs, tables, buckets, triggers and the site. Built by
// load_app (emulator/app/load.hpp), applied by emulator/deploy.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "emulator/app/config_error.hpp"
#include "emulator/site.hpp"
#include "gateway/model.hpp"
#include "lambda/triggers.hpp"

namespace stratus::app {

// A stream ARN the app names before its table exists (Fn::GetAtt [Table, StreamArn]): this
// prefix and the table's name, replaced at deploy by the table's LatestStreamArn.
inline constexpr std::string_view stream_arn_marker = "stratus:stream-of:";

// A layer version the app declares (serverless `layers:` with `path`, SAM
// AWS::Serverless::LayerVersion with ContentUri): its directory, read in place. Functions
// name it by this prefix and the layer's name, replaced at deploy by the version's ARN.
inline constexpr std::string_view layer_arn_marker = "stratus:layer-of:";

struct Layer {
    std::string key;  // serverless's layer key, SAM's logical id
    std::string name;  // LayerName
    std::string dir;   // absolute
    std::vector<std::string> compatible_runtimes;
    std::string description;
    Mark mark;
    bool operator==(const Layer&) const = default;
};

struct Function {
    std::string key;   // the short name: serverless's function key, SAM's logical id
    std::string name;  // the deployed name: "service-stage-key", FunctionName, ...
    std::string runtime;
    std::string handler;
    std::string code_dir;  // absolute
    int timeout = 6;
    int memory_size = 1024;
    std::map<std::string, std::string> environment;  // values may hold stream ARN markers
    std::optional<int> reserved_concurrency;
    std::vector<std::string> layers;  // version ARNs or layer markers, in order
    Mark mark;
    bool operator==(const Function&) const = default;
};

struct Table {
    std::string logical_id;
    std::string name;
    nlohmann::json create;  // CreateTable's request (TableName, KeySchema, ... StreamSpecification)
    std::optional<std::string> ttl_attribute;
    Mark mark;
    bool operator==(const Table&) const = default;
};

struct Bucket {
    std::string logical_id;
    std::string name;
    // Bucket configurations by S3 sub-resource ("website", "cors", "versioning",
    // "policy", "notification"), as the S3 API's documents.
    std::map<std::string, std::string> configs;
    Mark mark;
    bool operator==(const Bucket&) const = default;
};

// A function triggered by a bucket's events (serverless `s3`, SAM `S3`, or a
// NotificationConfiguration's LambdaConfigurations).
struct BucketTrigger {
    std::string bucket;    // name
    std::string function;  // deployed name
    std::vector<std::string> events;  // "s3:ObjectCreated:*"
    std::string prefix, suffix;
    bool operator==(const BucketTrigger&) const = default;
};

struct Site {
    emulator::SiteConfig config;
    std::string dir;  // absolute folder synced into config.bucket; empty: none
    std::string api_id;  // the API its API routes reach (for the banner)
    bool operator==(const Site& o) const {
        auto key = [](const Site& s) {
            nlohmann::json routes = nlohmann::json::array();
            for (auto& r : s.config.api_routes) routes.push_back({r.prefix, r.origin_path});
            nlohmann::json errors = nlohmann::json::array();
            for (auto& e : s.config.error_responses) errors.push_back({e.error_code, e.page, e.response_code});
            return nlohmann::json{s.config.bucket, s.config.index, s.config.spa, routes, errors, s.dir, s.api_id};
        };
        return key(*this) == key(o);
    }
};

struct App {
    std::string config_file;  // absolute
    std::string dir;          // the app's folder (absolute)
    std::string kind;         // "serverless" or "sam"
    std::string service;      // serverless service / SAM stack name
    std::string stage = "dev";
    std::string region = "us-east-1";
    std::vector<Function> functions;
    std::vector<Layer> layers;
    std::vector<Table> tables;
    std::vector<Bucket> buckets;
    std::vector<gateway::ApiSpec> apis;
    std::vector<lambda::EventSourceMappingSpec> mappings;  // stream ARNs may be markers
    std::vector<lambda::ScheduleSpec> schedules;
    std::vector<BucketTrigger> bucket_triggers;
    std::optional<Site> site;
    std::map<std::string, std::string> outputs;  // Outputs (values resolved as far as known)
    // Files the config was read from (the config and what ${file(..)} included): watched.
    std::vector<std::string> files;
    std::vector<std::string> notices;  // one line each: accepted but not emulated, runtime mapping ...

    // The function a name refers to: the deployed name or the short name.
    const Function* function(const std::string& name) const {
        for (auto& f : functions)
            if (f.name == name || f.key == name) return &f;
        return nullptr;
    }
};

}  // namespace stratus::app

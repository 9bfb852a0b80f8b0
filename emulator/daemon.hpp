// The daemon: opens the data directory, makes every service, wires them to the
// listeners and runs until a signal. The composition root (shared/DESIGN.md): the only code
// besides the CLI that knows every service.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stratus::emulator {

struct DaemonOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 4566;
    std::string data_dir;  // empty: .stratus beside the app's config, else in the current folder
    bool ephemeral = false;
    std::string log_level = "info";
    bool verify_signatures = false;
    // Key pairs --verify-signatures accepts: the i-th id with the i-th secret (repeated
    // flags), plus every profile of each credentials file (the AWS CLI's format). None at
    // all: $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY, else test / test.
    std::vector<std::string> access_key_ids;
    std::vector<std::string> secret_access_keys;
    std::vector<std::string> credentials_files;
    std::string durability = "normal";
    unsigned threads = 0;
    double idle_timeout = 60;
    bool test_api = false;
    std::uint16_t api_port = 3000;
    std::uint16_t site_port = 8080;
    std::string site_bucket;
    unsigned lambda_concurrency = 10;
    double lambda_idle_timeout = 300;
    std::size_t lambda_queue_size = 100;
    std::string runtimes_dir;
    double log_group_mb = 1;  // bytes of log lines kept per log group (function), oldest first out
    bool function_url_hosts = false;  // GetFunctionUrlConfig answers the host form of URLs
    // The app (`stratus start [DIR|CONFIG]`): a folder holding serverless.yml /
    // serverless.yaml / serverless.json / template.yaml, or the file. Empty: the current
    // folder's, if it has one.
    std::string app;
    std::string stage;                // --stage
    std::vector<std::string> params;  // --param K=V
    bool watch = true;                // redeploy when the config or the site folder changes
};

// Runs `stratus start` in the foreground; returns the process's exit code.
int run_daemon(const DaemonOptions& options);

}  // namespace stratus::emulator

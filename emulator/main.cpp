// stratus: the CLI. `start` runs the daemon (emulator/daemon.hpp); the other commands talk
// to a running daemon over HTTP.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#ifdef STRATUS_MIMALLOC
#include <mimalloc.h>
#endif
#include <nlohmann/json.hpp>
#include <thread>

#include <fmt/format.h>

#include "core/base64.hpp"
#include "core/http_client.hpp"
#include "core/http_types.hpp"
#include "emulator/daemon.hpp"

using namespace stratus;

namespace {

// `stratus logs FN [--tail] [--since 10m]`: prints the function's log lines, and with
// --tail keeps following them.
int run_logs(const std::string& host, std::uint16_t port, const std::string& function, bool follow,
             const std::string& since) {
    std::int64_t since_ms = 0;
    if (!since.empty()) {
        char unit = since.back();
        double n = std::atof(since.c_str());
        double seconds = unit == 'm' ? n * 60 : unit == 'h' ? n * 3600 : unit == 'd' ? n * 86400 : n;
        since_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count() -
                   static_cast<std::int64_t>(seconds * 1000);
    }
    std::uint64_t after = 0;
    for (;;) {
        auto r = core::http_call(host, port, "GET",
                                 fmt::format("/_stratus/lambda/logs/{}?since={}&after={}", core::uri_encode(function),
                                             since_ms, after));
        if (r.status != 200) {
            std::cerr << r.body << "\n";
            return 1;
        }
        auto j = nlohmann::json::parse(r.body);
        for (auto& l : j["lines"]) {
            std::cout << l["text"].get<std::string>() << "\n";
            after = l["seq"].get<std::uint64_t>();
        }
        std::cout.flush();
        if (!follow) return 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
}

// `stratus invoke FN [--data JSON | --path FILE]`: invokes through the Invoke API and
// prints the result, then the invocation's log tail on stderr.
int run_invoke(const std::string& host, std::uint16_t port, const std::string& function, const std::string& data,
               const std::string& path) {
    std::string payload = data;
    if (!path.empty()) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw std::runtime_error("cannot read " + path);
        payload.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    auto r = core::http_call(host, port, "POST",
                             fmt::format("/2015-03-31/functions/{}/invocations", core::uri_encode(function)), payload,
                             {{"X-Amz-Log-Type", "Tail"}, {"Content-Type", "application/json"}});
    std::string function_error, log;
    for (auto& [name, value] : r.headers) {
        if (core::iequals(name, "X-Amz-Function-Error")) function_error = value;
        if (core::iequals(name, "X-Amz-Log-Result")) log = value;
    }
    std::cout << r.body << "\n";
    if (!log.empty()) std::cerr << core::base64_decode(log).value_or("");
    if (r.status != 200) return 1;
    return function_error.empty() ? 0 : 1;
}

int call_daemon(const std::string& host, std::uint16_t port, const std::string& method, const std::string& path);

// The deployed name of an app's function given by its short name (serverless's function
// key, SAM's logical id); other names as they are.
std::string app_function(const std::string& host, std::uint16_t port, const std::string& name) {
    auto r = core::http_call(host, port, "GET", "/_stratus/app");
    if (r.status != 200) return name;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("functions")) return name;
    for (auto& f : j["functions"])
        if (f.value("name", "") == name) return name;
    for (auto& f : j["functions"])
        if (f.value("key", "") == name) return f.value("name", name);
    return name;
}

// `stratus deploy`: prints what changed, or the config error (exit 1).
int run_deploy(const std::string& host, std::uint16_t port) {
    auto r = core::http_call(host, port, "POST", "/_stratus/deploy");
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("changes")) {
        std::cerr << (r.status == 404 ? "the running stratus has no app (start it with `stratus start DIR`)" : r.body) << "\n";
        return 1;
    }
    bool ok = j.value("ok", false);
    for (auto& l : j["changes"]) (ok ? std::cout : std::cerr) << l.get<std::string>() << "\n";
    if (ok && j["changes"].empty()) std::cout << "no change\n";
    return ok ? 0 : 1;
}

// `stratus status`: the daemon's health, and the app it runs.
int run_status(const std::string& host, std::uint16_t port) {
    int rc = call_daemon(host, port, "GET", "/_stratus/health");
    if (rc != 0) return rc;
    auto r = core::http_call(host, port, "GET", "/_stratus/app");
    if (r.status == 200) std::cout << r.body << "\n";
    return 0;
}

// `stratus token --sub ID --aud AUD --scope "a b" --claims JSON --ttl 1h`: a JWT from the
// built-in issuer (POST /_stratus/token), printed alone on stdout.
int run_token(const std::string& host, std::uint16_t port, const std::string& sub, const std::vector<std::string>& aud,
              const std::string& scope, const std::string& claims, const std::string& ttl) {
    nlohmann::json in = nlohmann::json::object();
    if (!sub.empty()) in["sub"] = sub;
    if (aud.size() == 1) in["aud"] = aud[0];
    else if (!aud.empty()) in["aud"] = aud;
    if (!scope.empty()) in["scope"] = scope;
    if (!claims.empty()) {
        in["claims"] = nlohmann::json::parse(claims, nullptr, false);
        if (in["claims"].is_discarded() || !in["claims"].is_object())
            throw std::runtime_error("--claims must be a JSON object");
    }
    if (!ttl.empty()) in["ttl"] = ttl;
    auto r = core::http_call(host, port, "POST", "/_stratus/token", in.dump(), {{"Content-Type", "application/json"}});
    auto out = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status != 200 || !out.is_object() || !out.contains("token")) {
        std::cerr << "stratus: " << r.body << "\n";
        return 1;
    }
    std::cout << out["token"].get<std::string>() << "\n";
    return 0;
}

// `stratus schedule run NAME` fires a schedule now (what the app model declared);
// `stratus schedule list` shows them.
int run_schedule_command(const std::string& host, std::uint16_t port, const std::string& action,
                         const std::string& name) {
    if (action == "list") {
        auto r = core::http_call(host, port, "GET", "/_stratus/schedules");
        std::cout << r.body << "\n";
        return r.status == 200 ? 0 : 1;
    }
    if (action != "run" || name.empty()) {
        std::cerr << "usage: stratus schedule run NAME | stratus schedule list\n";
        return 2;
    }
    auto r = core::http_call(host, port, "POST", fmt::format("/_stratus/schedules/{}/run", core::uri_encode(name)));
    std::cout << r.body << "\n";
    return r.status == 200 ? 0 : 1;
}

int call_daemon(const std::string& host, std::uint16_t port, const std::string& method, const std::string& path) {
    auto r = core::http_call(host, port, method, path);
    std::cout << r.body << "\n";
    return r.status == 200 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef STRATUS_MIMALLOC
    // Freed memory goes back to the system at once. mimalloc's default waits 25 ms and then
    // decommits only when the thread that owns the pages allocates in them again, which a
    // request loop of small blocks may never do: 64 connections of 1 MB Scan pages left
    // ~50 MB of RssAnon behind for good. Measured (strace, wrk): no madvise per GetItem or
    // PutItem, about one per Scan page, which then faults its pages in again (~0.7 ms of a
    // 1 MB page's ~7 ms of CPU).
    mi_option_set(mi_option_decommit_delay, 0);
#endif
    CLI::App app{"stratus: a local serverless cloud (API Gateway, Lambda, DynamoDB, S3) in one daemon"};
    app.set_version_flag("--version", std::string("stratus ") + STRATUS_VERSION);
    app.require_subcommand(1);

    emulator::DaemonOptions o;
    auto* start = app.add_subcommand("start", "Run the daemon in the foreground");
    start->add_option("--host", o.host, "Address to bind (default 127.0.0.1)");
    start->add_option("--port", o.port, "AWS API port (default 4566; 0 picks a free one)");
    start->add_option("app", o.app, "The app: a folder with serverless.yml / template.yaml, or the config file (default: the current folder's, if any)");
    start->add_option("--stage,-s", o.stage, "Stage of a serverless app (default provider.stage, else dev)");
    start->add_option("--param,--parameter-overrides", o.params,
                      "KEY=VALUE for ${param:KEY} (serverless) or a template parameter (SAM); repeatable")
        ->allow_extra_args(false);
    start->add_flag("!--no-watch", o.watch, "Do not redeploy when the config or the site folder changes");
    start->add_option("--data-dir", o.data_dir, "State directory (default .stratus beside the app's config, else in the current folder)");
    start->add_flag("--ephemeral", o.ephemeral, "Keep all state in a temporary directory removed at exit");
    start->add_option("--log-level", o.log_level, "debug, info, warn, error or off (default info)");
    start->add_flag("--verify-signatures", o.verify_signatures,
                    "Check signatures against the key pairs of --access-key-id / --secret-access-key and --credentials-file");
    start->add_option("--access-key-id", o.access_key_ids,
                      "Access key accepted (default $AWS_ACCESS_KEY_ID or test); repeatable, paired in order with --secret-access-key")
        ->allow_extra_args(false);
    start->add_option("--secret-access-key", o.secret_access_keys,
                      "Secret key for verification (default $AWS_SECRET_ACCESS_KEY or test); repeatable")
        ->allow_extra_args(false);
    start->add_option("--credentials-file", o.credentials_files,
                      "A credentials file in the AWS CLI's format: every profile's key pair is accepted; repeatable")
        ->allow_extra_args(false);
    start->add_option("--durability", o.durability,
                      "normal (survives a crash of stratus) or full (fsync every write; survives power loss)")
        ->check(CLI::IsMember({"normal", "full"}));
    start->add_option("--idle-timeout", o.idle_timeout,
                      "Seconds an idle or stalled connection is kept open (default 60)")
        ->check(CLI::PositiveNumber);
    start->add_option("--threads", o.threads, "I/O threads (default: one per core)");
    start->add_option("--api-port", o.api_port,
                      "API Gateway port: the declared REST and HTTP APIs (default 3000; 0 picks a free one)");
    start->add_option("--site-port", o.site_port, "Site port serving --site-bucket (default 8080; 0 picks a free one)");
    start->add_option("--site-bucket", o.site_bucket, "S3 bucket served on the site port as a single-page app");
    start->add_option("--lambda-concurrency", o.lambda_concurrency,
                      "Sandboxes per function when it has no reserved concurrency (default 10; beyond one per core "
                      "they start only while handlers wait on I/O)");
    start->add_option("--lambda-idle-timeout", o.lambda_idle_timeout,
                      "Seconds before an idle Lambda sandbox is stopped (default 300)")
        ->check(CLI::PositiveNumber);
    start->add_option("--lambda-queue-size", o.lambda_queue_size,
                      "Invocations waiting per function before TooManyRequestsException (default 100)");
    start->add_option("--log-group-mb", o.log_group_mb,
                      "Megabytes of log lines kept per log group (each function's /aws/lambda/NAME too), oldest "
                      "first out (default 1)")
        ->check(CLI::PositiveNumber);
    start->add_option("--runtimes-dir", o.runtimes_dir, "Directory of the Lambda runtimes' bootstraps");
    start->add_flag("--function-url-hosts", o.function_url_hosts,
                    "Function URLs as http://{id}.lambda-url.us-east-1.localhost:PORT/ (when such names resolve "
                    "here; default: http://HOST:PORT/_lambda-url/{id}/, both are served)");
    start->add_flag("--enable-test-api", o.test_api, "Serve /_stratus/test/ endpoints (stratus's own tests)")
        ->group("");

    std::string host = "127.0.0.1";
    std::uint16_t port = 4566;
    auto* reset = app.add_subcommand("reset", "Wipe all state of the running daemon");
    auto* status = app.add_subcommand("status", "Show the running daemon's health");
    auto* deploy = app.add_subcommand("deploy", "Re-read the running app's config, apply what changed and sync its site folder");
    for (auto* sub : {reset, status, deploy}) {
        sub->add_option("--host", host, "Daemon address (default 127.0.0.1)");
        sub->add_option("--port", port, "Daemon AWS port (default 4566)");
    }

    std::string function, data, data_path, since;
    bool follow = false;
    auto* logs = app.add_subcommand("logs", "Print a Lambda function's logs");
    logs->add_option("function", function, "Function name")->required();
    logs->add_flag("--tail,-t", follow, "Keep following new lines");
    logs->add_option("--since", since, "Only lines newer than this (30s, 10m, 2h, 1d)");
    auto* invoke = app.add_subcommand("invoke", "Invoke a Lambda function and print its result and log tail");
    invoke->add_option("function", function, "Function name")->required();
    auto* data_opt = invoke->add_option("--data,-d", data, "JSON event");
    invoke->add_option("--path,-p", data_path, "File holding the JSON event")->excludes(data_opt);
    std::string schedule_action, schedule_name;
    auto* schedule = app.add_subcommand("schedule", "Fire a schedule now (run NAME) or list the schedules (list)");
    schedule->add_option("action", schedule_action, "run or list")->required()->check(CLI::IsMember({"run", "list"}));
    schedule->add_option("name", schedule_name, "Schedule (rule) name, for run");
    for (auto* sub : {logs, invoke, schedule}) {
        sub->add_option("--host", host, "Daemon address (default 127.0.0.1)");
        sub->add_option("--port", port, "Daemon AWS port (default 4566)");
    }

    std::string sub, scope, claims, ttl;
    std::vector<std::string> aud;
    auto* token = app.add_subcommand("token", "Print a JWT signed by the built-in issuer (for JWT authorizers)");
    token->add_option("--sub", sub, "Subject (default stratus-user)");
    token->add_option("--aud", aud, "Audience (repeat for several)");
    token->add_option("--scope", scope, "Space-separated scopes (\"read write\")");
    token->add_option("--claims", claims, "More claims, a JSON object");
    token->add_option("--ttl", ttl, "Lifetime: 30m, 1h, 7d or seconds (default 1h)");
    token->add_option("--host", host, "Daemon address (default 127.0.0.1)");
    token->add_option("--port", port, "Daemon AWS port (default 4566)");

    CLI11_PARSE(app, argc, argv);
    try {
        if (*start) return emulator::run_daemon(o);
        if (*reset) return call_daemon(host, port, "POST", "/_stratus/reset");
        if (*status) return run_status(host, port);
        if (*deploy) return run_deploy(host, port);
        if (*logs) return run_logs(host, port, app_function(host, port, function), follow, since);
        if (*invoke) return run_invoke(host, port, app_function(host, port, function), data, data_path);
        if (*token) return run_token(host, port, sub, aud, scope, claims, ttl);
        if (*schedule) return run_schedule_command(host, port, schedule_action, schedule_name);
    } catch (const std::exception& e) {
        std::cerr << "stratus: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

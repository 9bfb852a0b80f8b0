#include "emulator/daemon.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "core/auth.hpp"
#include "core/dispatcher.hpp"
#include "core/lmdb.hpp"
#include "core/log.hpp"
#include "core/server.hpp"
#include "dynamo/api.hpp"
#include "emulator/event_feeds.hpp"
#include "gateway/api.hpp"
#include "lambda/api.hpp"
#include "lambda/function.hpp"
#include "logs/api.hpp"
#include "s3/api.hpp"
#include "emulator/app_host.hpp"
#include "emulator/site.hpp"

namespace stratus::emulator {

namespace fs = std::filesystem;

namespace {

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : std::move(fallback);
}

// Holds the data directory for one daemon: refuses a second daemon on the same directory
// (our LMDB map resizing assumes one process), and removes an ephemeral one at exit.
class DataDir {
public:
    DataDir(const DaemonOptions& o) : ephemeral_(o.ephemeral) {
        if (ephemeral_) {
            std::string tmpl = (fs::temp_directory_path() / "stratus-XXXXXX").string();
            if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary data directory");
            path_ = tmpl;
        } else {
            path_ = fs::absolute(o.data_dir.empty() ? ".stratus" : o.data_dir);
            fs::create_directories(path_);
        }
        lock_fd_ = ::open((path_ / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
            throw std::runtime_error("another stratus is using " + path_.string());
    }
    ~DataDir() {
        if (lock_fd_ >= 0) ::close(lock_fd_);
        if (ephemeral_) {
            std::error_code ec;
            fs::remove_all(path_, ec);
        }
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
    bool ephemeral_;
    int lock_fd_ = -1;
};

// A tiny key-value store over LMDB under /_stratus/test/kv/{key}, only with
// --enable-test-api: lets the core's tests prove that acknowledged writes survive kill -9
// before any service stores anything.
void add_test_api(core::Dispatcher& dispatcher, core::lmdb::Env& env) {
    auto dbi = env.open_db("test_kv", MDB_CREATE);
    static constexpr std::string_view prefix = "/_stratus/test/kv/";
    dispatcher.add_internal("PUT", std::string(prefix), [&env, dbi](const core::Request& r) {
        std::string key = r.decoded_path().substr(prefix.size());
        if (key.empty()) throw core::AwsError::validation("empty key");
        env.write([&](core::lmdb::WriteTxn& txn) { txn.put(dbi, key, r.body); });
        return core::json_response(core::internal_protocol(), "{}");
    });
    dispatcher.add_internal("GET", std::string(prefix), [&env, dbi](const core::Request& r) {
        std::string key = r.decoded_path().substr(prefix.size());
        auto value = env.read([&](core::lmdb::ReadTxn& txn) -> std::optional<std::string> {
            auto v = txn.get(dbi, key);
            if (!v) return std::nullopt;
            return std::string(*v);
        });
        if (!value) throw core::AwsError("NotFound", "no such key", 404);
        core::Response resp;
        resp.headers.set("Content-Type", "application/octet-stream");
        resp.body = std::move(*value);
        return resp;
    });
    dispatcher.on_reset([&env, dbi] { env.write([&](core::lmdb::WriteTxn& txn) { txn.clear(dbi); }); });
}

// GET /_stratus/lambda/logs/{function}?since=<epoch ms>&after=<seq>: a function's log
// lines, for `stratus logs`.
void add_lambda_logs_api(core::Dispatcher& dispatcher, lambda::LambdaService& service) {
    static constexpr std::string_view prefix = "/_stratus/lambda/logs/";
    dispatcher.add_internal("GET", std::string(prefix), [&service](const core::Request& r) {
        std::string name = r.decoded_path().substr(prefix.size());
        auto number = [&r](const char* key) -> std::int64_t {
            auto v = r.query_param(key);
            if (!v) return 0;
            try {
                return std::stoll(*v);
            } catch (const std::exception&) {
                throw core::AwsError::validation(std::string(key) + " must be a number");
            }
        };
        auto lines = service.logs().read(name, number("since"), static_cast<std::uint64_t>(number("after")), 10000);
        nlohmann::json out = {{"lines", nlohmann::json::array()}};
        for (auto& l : lines) out["lines"].push_back({{"time", l.time_ms}, {"seq", l.seq}, {"text", l.text}});
        return core::json_response(core::internal_protocol(), out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    });
}

// GET /_stratus/lambda/code/{function}: the function's deployment package (GetFunction's
// Code.Location points here).
void add_lambda_code_api(core::Dispatcher& dispatcher, lambda::LambdaService& service) {
    static constexpr std::string_view prefix = "/_stratus/lambda/code/";
    dispatcher.add_internal("GET", std::string(prefix), [&service](const core::Request& r) {
        std::string name = r.decoded_path().substr(prefix.size());
        std::string path = service.code_package(name);
        int fd = path.empty() ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat st {};
        if (fd < 0 || ::fstat(fd, &st) != 0) {
            if (fd >= 0) ::close(fd);
            throw core::AwsError("ResourceNotFoundException", "Function not found: " + lambda::function_arn(name), 404);
        }
        core::Response resp;
        resp.status = 200;
        resp.headers.set("Content-Type", "application/zip");
        resp.file = std::make_shared<core::FileBody>(fd, 0, static_cast<std::uint64_t>(st.st_size));
        return resp;
    });
}

}  // namespace

int run_daemon(const DaemonOptions& o) {
    auto level = core::log::parse_level(o.log_level);
    if (!level) {
        std::cerr << "stratus: unknown --log-level '" << o.log_level << "' (debug, info, warn, error, off)\n";
        return 2;
    }
    core::log::set_level(*level);

    // The app, read before anything starts: a config error exits here, with nothing done.
    std::optional<std::string> config;
    if (!o.app.empty()) {
        config = app::find_config(o.app);
        if (!config) {
            std::cerr << "stratus: no serverless.yml, serverless.yaml, serverless.json or template.yaml in " << o.app << "\n";
            return 2;
        }
    } else {
        config = app::find_config(".");
    }
    app::LoadOptions load_options;
    load_options.stage = o.stage;
    for (auto kv : o.params) {
        // SAM CLI's form too: ParameterKey=K,ParameterValue=V.
        if (kv.rfind("ParameterKey=", 0) == 0) {
            auto comma = kv.find(",ParameterValue=");
            if (comma != std::string::npos) kv = kv.substr(13, comma - 13) + "=" + kv.substr(comma + 16);
        }
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
            std::cerr << "stratus: --param takes KEY=VALUE, got '" << kv << "'\n";
            return 2;
        }
        load_options.params[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    DaemonOptions with_dir = o;
    if (with_dir.data_dir.empty() && config) with_dir.data_dir = (fs::path(*config).parent_path() / ".stratus").string();
    DataDir data(with_dir);
    core::lmdb::EnvOptions env_options;
    env_options.durability = o.durability == "full" ? core::lmdb::Durability::full : core::lmdb::Durability::normal;
    fs::create_directories(data.path() / "db");
    auto env = core::lmdb::Env::open((data.path() / "db").string(), env_options);

    core::DispatchOptions dopts;
    dopts.version = STRATUS_VERSION;
    dopts.verify_signatures = o.verify_signatures;
    if (o.access_key_ids.size() > 1 || o.secret_access_keys.size() > 1) {
        if (o.access_key_ids.size() != o.secret_access_keys.size()) {
            std::cerr << "stratus: give as many --secret-access-key as --access-key-id (they pair in order)\n";
            return 1;
        }
        for (std::size_t i = 0; i < o.access_key_ids.size(); ++i)
            dopts.credentials.emplace_back(o.access_key_ids[i], o.secret_access_keys[i]);
    } else if (!o.access_key_ids.empty() || !o.secret_access_keys.empty() || o.credentials_files.empty()) {
        dopts.access_key_id = o.access_key_ids.empty() ? env_or("AWS_ACCESS_KEY_ID", "test") : o.access_key_ids[0];
        dopts.secret_access_key = o.secret_access_keys.empty() ? env_or("AWS_SECRET_ACCESS_KEY", "test")
                                                                : o.secret_access_keys[0];
    }
    for (auto& file : o.credentials_files) {
        std::ifstream in(file);
        if (!in) {
            std::cerr << "stratus: cannot read --credentials-file " << file << "\n";
            return 1;
        }
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        try {
            auto pairs = core::parse_credentials_file(text);
            if (pairs.empty()) throw std::invalid_argument("no aws_access_key_id in it");
            for (auto& p : pairs) dopts.credentials.push_back(std::move(p));
        } catch (const std::invalid_argument& e) {
            std::cerr << "stratus: --credentials-file " << file << ": " << e.what() << "\n";
            return 1;
        }
    }
    core::Dispatcher dispatcher(std::move(dopts));
    core::Runtime runtime(o.threads);
    core::ListenerOptions lo;
    lo.host = o.host;
    lo.port = o.port;
    lo.idle_timeout = std::chrono::milliseconds(static_cast<long>(o.idle_timeout * 1000));
    // Bound before the services are made (they need the real port, for DescribeEndpoints),
    // but nothing is served before runtime.run().
    std::uint16_t port = runtime.listen(lo, dispatcher);
    std::string shown_host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
    std::string address = fmt::format("{}:{}", o.host == "0.0.0.0" || o.host == "::" ? "localhost" : shown_host, port);

    // The app is read once the AWS port is known: its config may name the built-in issuer
    // (${env:STRATUS_ISSUER}), which lives there. A config error exits here, before any
    // service starts.
    std::optional<app::App> app_model;
    if (config) {
        ::setenv("STRATUS_ISSUER", ("http://" + address + "/_stratus").c_str(), 0);
        ::setenv("STRATUS_ENDPOINT", ("http://" + address).c_str(), 0);
        try {
            app_model = app::load_app(*config, load_options);
        } catch (const app::ConfigError& e) {
            std::cerr << "stratus: " << e.what() << "\n";
            return 1;
        }
    }

    auto dynamo_service = dynamo::make_service(env, address);
    dispatcher.add(dynamo_service);
    dispatcher.add(dynamo_service->streams_api());
    lambda::LambdaOptions lambda_options;
    lambda_options.data_dir = data.path().string();
    lambda_options.runtimes_dir = o.runtimes_dir;
    lambda_options.endpoint_url = "http://" + address;
    lambda_options.default_concurrency = o.lambda_concurrency;
    lambda_options.queue_size = o.lambda_queue_size;
    lambda_options.url_host_names = o.function_url_hosts;
    lambda_options.idle_timeout = std::chrono::milliseconds(static_cast<long>(o.lambda_idle_timeout * 1000));
    auto s3_events = std::make_shared<s3::EventOutbox>(env);
    auto s3_service = s3::make_service(env, s3::Options{(data.path() / "s3").string(), o.durability == "full"}, s3_events);
    // Lambda's triggers read DynamoDB's streams and S3's event outbox through these.
    lambda_options.stream_source = stream_feed(env, dynamo_service->streams());
    lambda_options.s3_events = s3_feed(s3_events);
    lambda_options.read_s3_object = [s3_service](const std::string& bucket, const std::string& key,
                                                 const std::optional<std::string>& version) {
        // A deployment package from S3 may be up to 250 MB (Lambda's unzipped limit).
        return s3_service->read_object(bucket, key, version, 250u * 1024 * 1024);
    };
    auto lambda_service = lambda::make_service(runtime, env, std::move(lambda_options));
    dispatcher.add(lambda_service);
    // CloudWatch Logs: the functions' logs as /aws/lambda/{name}, and groups of its own.
    auto log_budget = static_cast<std::size_t>(o.log_group_mb * 1024 * 1024);
    lambda_service->logs().set_budget(log_budget);
    dispatcher.add(logs::make_service(runtime, env, lambda_service->logs(), logs::LogsOptions{data.path().string(), log_budget}));
    add_lambda_logs_api(dispatcher, *lambda_service);
    add_lambda_code_api(dispatcher, *lambda_service);
    add_trigger_endpoints(dispatcher, {lambda_service->triggers(), dynamo_service->streams(), s3_events, o.test_api});
    dispatcher.add(s3_service);
    // API Gateway: user traffic on its own listener; the token issuer's endpoints (and the
    // test-only declarations) on the AWS port.
    gateway::GatewayOptions gateway_options;
    gateway_options.data_dir = data.path().string();
    gateway_options.issuer_url = fmt::format("http://{}/_stratus", address);
    for (const char* alias : {"127.0.0.1", "localhost"})
        gateway_options.issuer_aliases.push_back(fmt::format("http://{}:{}/_stratus", alias, port));
    auto gateway_service = gateway::make_gateway(runtime, lambda_service, std::move(gateway_options));
    core::ListenerOptions api_listener = lo;
    api_listener.port = o.api_port;
    // Every gateway request is a Lambda invocation, whose scheduler and sandbox channels
    // live on the main context: serving the API port there too saves two thread hand-offs
    // per request (~8 syscalls of 21, about half of stratus's CPU per request, measured
    // with strace and /proc on one keep-alive connection).
    api_listener.main_context_only = true;
    std::uint16_t api_port = runtime.listen(api_listener, *gateway_service);
    gateway_service->set_endpoint(fmt::format("{}:{}", shown_host, api_port));
    gateway::add_internal_endpoints(dispatcher, gateway_service, o.test_api);
    dispatcher.on_reset([gateway_service] { gateway_service->reset(); });
    // The site port serves a bucket like a CDN: the app's site, or --site-bucket.
    std::unique_ptr<Site> site;
    std::string site_line, site_url;
    if (!o.site_bucket.empty() || (app_model && app_model->site)) {
        site = std::make_unique<Site>(s3_service, gateway_service.get());
        SiteConfig sc;
        sc.bucket = o.site_bucket;
        if (o.site_bucket.empty()) sc = app_model->site->config;
        site->configure(std::move(sc));
        core::ListenerOptions so = lo;
        so.port = o.site_port;
        std::uint16_t sp = runtime.listen(so, *site);
        site_url = fmt::format("http://{}:{}", shown_host, sp);
        if (!o.site_bucket.empty()) site_line = fmt::format("  site: {} (bucket {})\n", site_url, o.site_bucket);
    }
    // The app: deployed before the banner; a deploy error exits with what it had done undone.
    std::unique_ptr<AppHost> app_host;
    std::string app_lines;
    if (app_model) {
        Services services{*dynamo_service, *s3_service, *lambda_service, gateway_service.get(), &lambda_service->triggers(), site.get()};
        app_host = std::make_unique<AppHost>(services, *config, load_options, (data.path() / "app" / "deployed.json").string());
        try {
            auto t0 = std::chrono::steady_clock::now();
            app_host->load();
            auto t1 = std::chrono::steady_clock::now();
            auto lines = app_host->deploy();
            auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
            core::log::debug("app read in {:.1f} ms, deployed in {:.1f} ms", ms(t0, t1), ms(t1, std::chrono::steady_clock::now()));
            for (auto& l : lines)
                if (l.rfind("! ", 0) == 0) core::log::warn("{}", l.substr(2));
        } catch (const std::exception& e) {
            std::cerr << "stratus: deploying " << *config << " failed: " << e.what() << "\n";
            return 1;
        }
        app_host->add_endpoints(dispatcher);
        if (o.watch) app_host->watch();
        for (auto& l : app_host->banner("http://" + address, site_url)) app_lines += l + "\n";
    }
    if (o.test_api) {
        add_test_api(dispatcher, env);
        dispatcher.add_internal("GET", "/_stratus/test/s3/bodies", [s3_service](const core::Request&) {
            auto c = s3_service->body_counts();
            return core::json_response(core::internal_protocol(), nlohmann::json{{"files", c.files}, {"inline", c.inline_bodies}}.dump());
        });
        // What the app model will do in-process: a function whose code is a directory.
        dispatcher.add_internal("POST", "/_stratus/test/lambda/declare", [lambda_service](const core::Request& r) {
            auto in = nlohmann::json::parse(r.body, nullptr, false);
            if (!in.is_object()) throw core::AwsError::validation("body must be a JSON object");
            lambda::FunctionSpec spec;
            spec.name = in.value("name", "");
            spec.runtime = in.value("runtime", "nodejs20.x");
            spec.handler = in.value("handler", "index.handler");
            spec.code_dir = in.value("code_dir", "");
            spec.timeout = in.value("timeout", 3);
            spec.memory_size = in.value("memory_size", 128);
            if (in.contains("environment")) spec.environment = in["environment"].get<std::map<std::string, std::string>>();
            lambda_service->declare_function(spec);
            return core::json_response(core::internal_protocol(), "{}");
        });
    }
    runtime.on_shutdown([&env] { env.sync(); });
    runtime.on_shutdown([lambda_service] { lambda_service->shutdown(); });

    std::string names;
    for (auto& s : dispatcher.services()) names += (names.empty() ? "" : ", ") + std::string(s->name());
    std::printf("stratus %s listening on http://%s:%u\n  services: %s\n  api: http://%s:%u\n%s%s  data: %s%s\n",
                STRATUS_VERSION, shown_host.c_str(), port, names.c_str(), shown_host.c_str(), api_port,
                site_line.c_str(), app_lines.c_str(), data.path().c_str(), o.ephemeral ? " (ephemeral)" : "");
    std::fflush(stdout);

    runtime.run();
    app_host.reset();
    env.sync();
    core::log::info("stopped");
    return 0;
}

}  // namespace stratus::emulator

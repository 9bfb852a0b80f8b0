#include "emulator/app_host.hpp"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "core/dispatcher.hpp"
#include "core/log.hpp"
#include "emulator/watch.hpp"
#include "gateway/model.hpp"

namespace stratus::emulator {

using json = nlohmann::json;

AppHost::AppHost(Services services, std::string config_file, app::LoadOptions options, std::string state_file)
    : services_(services), config_file_(std::move(config_file)), options_(std::move(options)),
      deployer_(services, std::move(state_file)) {}

AppHost::~AppHost() { watcher_.reset(); }

const app::App& AppHost::load() {
    loaded_ = app::load_app(config_file_, options_);
    return loaded_;
}

std::vector<std::string> AppHost::deploy() {
    std::lock_guard lock(mutex_);
    auto t0 = std::chrono::steady_clock::now();
    auto lines = deployer_.apply(loaded_);
    auto t1 = std::chrono::steady_clock::now();
    auto s = deployer_.sync_site();
    core::log::debug("applied in {:.1f} ms, site synced in {:.1f} ms", std::chrono::duration<double, std::milli>(t1 - t0).count(),
                     std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count());
    if (s.uploaded || s.deleted)
        lines.push_back(fmt::format("~ site: {} file(s) uploaded, {} deleted, {} unchanged", s.uploaded, s.deleted, s.unchanged));
    return lines;
}

std::vector<std::string> AppHost::banner(const std::string& aws, const std::string& site_url) const {
    std::vector<std::string> out;
    const auto& a = loaded_;
    out.push_back(fmt::format("  app: {} ({}, stage {}, {})", a.service, a.kind == "sam" ? "SAM" : "serverless", a.stage,
                              a.config_file));
    if (!a.functions.empty()) {
        out.push_back("  functions:");
        for (auto& f : a.functions)
            out.push_back(fmt::format("    {}{} ({})", f.name, f.key != f.name ? " [" + f.key + "]" : "", f.runtime));
    }
    for (auto& api : a.apis) {
        std::string base = services_.gateway ? services_.gateway->base_url(api.id) : "";
        out.push_back(fmt::format("  {} API {}:{}", api.type == gateway::ApiType::http ? "HTTP" : "REST", api.name,
                                  base.empty() ? " (not served: no API Gateway in this build)" : ""));
        for (auto& r : api.routes) {
            std::string fn = r.function;
            if (auto* f = a.function(r.function)) fn = f->key;
            std::string auth;
            if (!r.authorizer.empty()) {
                auth = " [" + r.authorizer;
                for (auto& s : r.scopes) auth += " " + s;
                auth += "]";
            }
            if (r.api_key_required) auth += " [api key]";
            std::string path = r.method == "$default" ? "/{any}" : r.path;
            std::string method = r.method == "$default" ? "ANY" : r.method;
            out.push_back(fmt::format("    {:<7} {}{} -> {}{}", method, base, path, fn, auth));
        }
    }
    if (a.site) {
        std::string routes;
        for (auto& r : a.site->config.api_routes) routes += ", " + r.prefix + "/* -> API";
        out.push_back(fmt::format("  site: {} (bucket {}{}{})", site_url.empty() ? "(no site port)" : site_url, a.site->config.bucket,
                                  a.site->dir.empty() ? "" : ", from " + a.site->dir, routes));
    }
    for (auto& t : a.tables) out.push_back("  table: " + t.name);
    for (auto& m : a.mappings) {
        std::string src = m.event_source_arn;
        if (src.rfind(app::stream_arn_marker, 0) == 0) src = "stream of " + src.substr(app::stream_arn_marker.size());
        out.push_back("  trigger: " + src + " -> " + m.function);
    }
    for (auto& t : a.bucket_triggers) out.push_back("  trigger: s3://" + t.bucket + "/" + t.prefix + "*" + t.suffix + " -> " + t.function);
    for (auto& s : a.schedules) out.push_back("  schedule: " + s.name + " " + s.expression + " -> " + s.function);
    if (services_.gateway) out.push_back("  issuer: " + aws + "/_stratus");
    for (auto& n : a.notices) out.push_back("  notice: " + n);
    return out;
}

AppHost::Result AppHost::redeploy(bool after_reset) {
    std::lock_guard lock(mutex_);
    Result r;
    try {
        app::App next = app::load_app(config_file_, options_);
        if (after_reset) deployer_.forget();
        r.lines = deployer_.apply(next);
        loaded_ = std::move(next);
        auto s = deployer_.sync_site();
        if (s.uploaded || s.deleted)
            r.lines.push_back(fmt::format("~ site: {} file(s) uploaded, {} deleted, {} unchanged", s.uploaded, s.deleted, s.unchanged));
        if (watcher_) watcher_->watch(loaded_.files, loaded_.site ? loaded_.site->dir : "");
    } catch (const std::exception& e) {
        r.ok = false;
        r.lines = {e.what()};
    }
    return r;
}

AppHost::Result AppHost::sync_site() {
    std::lock_guard lock(mutex_);
    Result r;
    try {
        auto s = deployer_.sync_site();
        r.lines.push_back(fmt::format("~ site: {} file(s) uploaded, {} deleted, {} unchanged", s.uploaded, s.deleted, s.unchanged));
    } catch (const std::exception& e) {
        r.ok = false;
        r.lines = {e.what()};
    }
    return r;
}

void AppHost::watch() {
    watcher_ = std::make_unique<Watcher>([this](Watcher::What what) {
        Result r = what == Watcher::What::config ? redeploy() : sync_site();
        if (!r.ok) {
            core::log::error("redeploy failed, the app keeps running as it was: {}", r.lines.empty() ? "" : r.lines[0]);
            return;
        }
        for (auto& l : r.lines) core::log::info("{} {}", what == Watcher::What::config ? "redeploy:" : "site:", l);
        if (what == Watcher::What::config && r.lines.empty()) core::log::info("redeploy: no change");
    });
    watcher_->watch(loaded_.files, loaded_.site ? loaded_.site->dir : "");
}

void AppHost::add_endpoints(core::Dispatcher& dispatcher) {
    // GET /_stratus/app: what is deployed (the CLI maps short function names with it).
    dispatcher.add_internal("GET", "/_stratus/app", [this](const core::Request&) {
        std::lock_guard lock(mutex_);
        json j = {{"service", loaded_.service}, {"stage", loaded_.stage}, {"kind", loaded_.kind}, {"config", loaded_.config_file}};
        j["functions"] = json::array();
        for (auto& f : loaded_.functions) j["functions"].push_back({{"name", f.name}, {"key", f.key}, {"runtime", f.runtime}});
        j["tables"] = json::array();
        for (auto& t : loaded_.tables) j["tables"].push_back(t.name);
        j["buckets"] = json::array();
        for (auto& b : loaded_.buckets) j["buckets"].push_back(b.name);
        j["apis"] = json::array();
        for (auto& a : loaded_.apis) {
            json api = {{"id", a.id}, {"name", a.name}, {"type", a.type == gateway::ApiType::http ? "http" : "rest"}, {"stage", a.stage}};
            if (services_.gateway) api["url"] = services_.gateway->base_url(a.id);
            api["routes"] = json::array();
            for (auto& r : a.routes) api["routes"].push_back({{"method", r.method}, {"path", r.path}, {"function", r.function}});
            j["apis"].push_back(api);
        }
        j["schedules"] = json::array();
        for (auto& s : loaded_.schedules) j["schedules"].push_back({{"name", s.name}, {"expression", s.expression}, {"function", s.function}});
        if (loaded_.site) j["site"] = {{"bucket", loaded_.site->config.bucket}, {"dir", loaded_.site->dir}};
        j["notices"] = loaded_.notices;
        j["gateway"] = services_.gateway != nullptr;    // APIs served
        j["triggers"] = services_.triggers != nullptr;  // stream mappings and schedules run
        return core::json_response(core::internal_protocol(), j.dump());
    });
    // POST /_stratus/deploy: `stratus deploy`.
    dispatcher.add_internal("POST", "/_stratus/deploy", [this](const core::Request&) {
        Result r = redeploy();
        core::Response resp = core::json_response(core::internal_protocol(), json{{"ok", r.ok}, {"changes", r.lines}}.dump());
        if (!r.ok) resp.status = 400;
        return resp;
    });
    // After a reset wiped tables, buckets and functions, the app is deployed again, empty.
    dispatcher.on_reset([this] {
        Result r = redeploy(true);
        if (!r.ok) core::log::error("redeploy after reset failed: {}", r.lines.empty() ? "" : r.lines[0]);
    });
}

}  // namespace stratus::emulator

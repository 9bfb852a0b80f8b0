#include "emulator/deploy.hpp"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/crypto.hpp"
#include "core/error.hpp"
#include "dynamo/api.hpp"
#include "emulator/site.hpp"
#include "gateway/model.hpp"
#include "lambda/api.hpp"
#include "lambda/function.hpp"
#include "lambda/triggers.hpp"
#include "s3/api.hpp"
#include "s3/website.hpp"

namespace stratus::emulator {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string xml_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '&') out += "&amp;";
        else if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else out += c;
    }
    return out;
}

// The key schema as "id HASH S, sk RANGE N": what a change of it is reported as.
std::string key_schema(const json& key_schema, const json& defs) {
    std::string out;
    for (auto& k : key_schema) {
        std::string name = k.value("AttributeName", "");
        std::string type;
        for (auto& d : defs)
            if (d.value("AttributeName", "") == name) type = d.value("AttributeType", "");
        if (!out.empty()) out += ", ";
        out += name + " " + k.value("KeyType", "") + " " + type;
    }
    return out;
}

std::set<std::string> index_names(const json& list) {
    std::set<std::string> out;
    if (list.is_array())
        for (auto& i : list) out.insert(i.value("IndexName", ""));
    return out;
}

std::string notification_xml(const std::vector<app::BucketTrigger>& triggers) {
    std::string x = "<NotificationConfiguration>";
    int n = 0;
    for (auto& t : triggers) {
        x += "<CloudFunctionConfiguration><Id>stratus-" + std::to_string(++n) + "</Id><CloudFunction>" +
             xml_escape(lambda::function_arn(t.function)) + "</CloudFunction>";
        for (auto& e : t.events) x += "<Event>" + xml_escape(e) + "</Event>";
        if (!t.prefix.empty() || !t.suffix.empty()) {
            x += "<Filter><S3Key>";
            if (!t.prefix.empty()) x += "<FilterRule><Name>prefix</Name><Value>" + xml_escape(t.prefix) + "</Value></FilterRule>";
            if (!t.suffix.empty()) x += "<FilterRule><Name>suffix</Name><Value>" + xml_escape(t.suffix) + "</Value></FilterRule>";
            x += "</S3Key></Filter>";
        }
        x += "</CloudFunctionConfiguration>";
    }
    return x + "</NotificationConfiguration>";
}

// An API as JSON, to tell whether a redeploy changed it (ApiSpec has no ==).
json api_json(const gateway::ApiSpec& a) {
    auto cors = [](const std::optional<gateway::CorsSpec>& c) -> json {
        if (!c) return nullptr;
        return {c->allow_origins, c->allow_methods, c->allow_headers, c->expose_headers, c->allow_credentials,
                c->max_age ? json(*c->max_age) : json()};
    };
    json routes = json::array(), auths = json::array(), responses = json::array();
    for (auto& r : a.routes)
        routes.push_back({r.method, r.path, r.function, r.authorizer, r.scopes, r.api_key_required, cors(r.cors), r.timeout_ms,
                          r.payload_format_version});
    for (auto& x : a.authorizers)
        auths.push_back({x.name, static_cast<int>(x.kind), x.function, x.identity_sources, x.validation_expression,
                         x.result_ttl_seconds, x.payload_format_version, x.simple_responses, x.issuer, x.audiences, x.jwks_uri});
    for (auto& g : a.gateway_responses)
        responses.push_back({g.type, g.status ? json(*g.status) : json(), g.headers, g.templates});
    return {a.id, a.name, static_cast<int>(a.type), a.stage, a.stage_variables, routes, auths, a.api_keys,
            a.binary_media_types, cors(a.cors), responses};
}

std::map<std::string, std::vector<app::BucketTrigger>> by_bucket(const app::App& a) {
    std::map<std::string, std::vector<app::BucketTrigger>> out;
    for (auto& t : a.bucket_triggers) out[t.bucket].push_back(t);
    return out;
}

}  // namespace

Deployer::Deployer(Services services, std::string state_file) : s_(services), state_file_(std::move(state_file)) {}

void Deployer::forget() {
    current_.reset();
    mapping_ids_.clear();
    forgotten_ = true;  // everything was wiped: nothing of the last run is left to remove
}

app::App Deployer::remembered() const {
    app::App a;
    if (state_file_.empty() || forgotten_) return a;
    std::ifstream in(state_file_);
    if (!in) return a;
    json j = json::parse(in, nullptr, false);
    if (!j.is_object()) return a;
    for (auto& n : j.value("functions", json::array())) {
        app::Function f;
        f.name = n.get<std::string>();
        a.functions.push_back(std::move(f));
    }
    for (auto& n : j.value("schedules", json::array())) {
        lambda::ScheduleSpec s;
        s.name = n.get<std::string>();
        a.schedules.push_back(std::move(s));
    }
    for (auto& n : j.value("apis", json::array())) {
        gateway::ApiSpec api;
        api.id = n.get<std::string>();
        api.name = api.id;
        a.apis.push_back(std::move(api));
    }
    for (auto& n : j.value("notified_buckets", json::array())) {
        app::BucketTrigger t;
        t.bucket = n.get<std::string>();
        a.bucket_triggers.push_back(std::move(t));
    }
    return a;
}

void Deployer::remember(const app::App& deployed) const {
    if (state_file_.empty()) return;
    json j = {{"functions", json::array()}, {"schedules", json::array()}, {"apis", json::array()},
              {"notified_buckets", json::array()}, {"mappings", mapping_ids_}};
    for (auto& f : deployed.functions) j["functions"].push_back(f.name);
    for (auto& s : deployed.schedules) j["schedules"].push_back(s.name);
    for (auto& a : deployed.apis) j["apis"].push_back(a.id);
    for (auto& t : deployed.bucket_triggers) j["notified_buckets"].push_back(t.bucket);
    std::error_code ec;
    fs::create_directories(fs::path(state_file_).parent_path(), ec);
    std::string tmp = state_file_ + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << j.dump();
        if (!out) return;
    }
    fs::rename(tmp, state_file_, ec);
}

std::string Deployer::resolve_stream(const std::string& value) const {
    if (value.rfind(app::stream_arn_marker, 0) != 0) return value;
    std::string table = value.substr(app::stream_arn_marker.size());
    auto d = s_.dynamo.describe_table(table);
    if (!d || !d->contains("LatestStreamArn"))
        throw core::AwsError::validation("table " + table + " has no stream: give it a StreamSpecification");
    return (*d)["LatestStreamArn"].get<std::string>();
}

std::vector<std::string> Deployer::apply(const app::App& next) {
    // The first apply compares with what the last run deployed (names only), so what left
    // the config meanwhile is removed.
    const app::App last_run = current_ ? app::App{} : remembered();
    const app::App& prev = current_ ? *current_ : last_run;
    if (!current_ && !state_file_.empty() && !forgotten_) {
        std::ifstream in(state_file_);
        json j = in ? json::parse(in, nullptr, false) : json();
        if (j.is_object() && j.contains("mappings") && j["mappings"].is_object())
            for (auto& [k, v] : j["mappings"].items())
                if (v.is_string() && !mapping_ids_.count(k)) mapping_ids_[k] = v.get<std::string>();
    }
    std::vector<std::string> out;
    std::vector<std::function<void()>> undo;
    try {
        // ---- tables ----
        for (auto& t : next.tables) {
            auto d = s_.dynamo.describe_table(t.name);
            if (!d) {
                s_.dynamo.create_table(t.create);
                undo.push_back([this, n = t.name] { s_.dynamo.delete_table(n); });
                out.push_back("+ table " + t.name);
            } else {
                std::string want = key_schema(t.create["KeySchema"], t.create.value("AttributeDefinitions", json::array()));
                std::string have = key_schema((*d)["KeySchema"], d->value("AttributeDefinitions", json::array()));
                if (want != have) {
                    out.push_back("! table " + t.name + ": the config's key schema (" + want + ") differs from the stored table's (" +
                                  have + "): the table and its data are kept as they are; delete the table to apply it");
                    continue;
                }
                auto have_gsis = index_names(d->value("GlobalSecondaryIndexes", json::array()));
                auto want_list = t.create.value("GlobalSecondaryIndexes", json::array());
                for (auto& g : want_list) {
                    if (have_gsis.count(g.value("IndexName", ""))) continue;
                    json u = {{"TableName", t.name},
                              {"AttributeDefinitions", t.create["AttributeDefinitions"]},
                              {"GlobalSecondaryIndexUpdates", json::array({{{"Create", g}}})}};
                    s_.dynamo.update_table(u);
                    undo.push_back([this, n = t.name, i = g.value("IndexName", "")] {
                        s_.dynamo.update_table({{"TableName", n}, {"GlobalSecondaryIndexUpdates", json::array({{{"Delete", {{"IndexName", i}}}}})}});
                    });
                    out.push_back("~ table " + t.name + ": index " + g.value("IndexName", "") + " added");
                }
                auto want_gsis = index_names(want_list);
                for (auto& name : have_gsis)
                    if (!want_gsis.count(name)) {
                        s_.dynamo.update_table({{"TableName", t.name},
                                                {"GlobalSecondaryIndexUpdates", json::array({{{"Delete", {{"IndexName", name}}}}})}});
                        out.push_back("~ table " + t.name + ": index " + name + " removed");
                    }
                json want_stream = t.create.value("StreamSpecification", json());
                bool have_stream = d->contains("StreamSpecification") && (*d)["StreamSpecification"].value("StreamEnabled", false);
                std::string have_view = have_stream ? (*d)["StreamSpecification"].value("StreamViewType", "") : "";
                std::string want_view = want_stream.is_object() ? want_stream.value("StreamViewType", "") : "";
                if (want_view != have_view) {
                    if (have_stream)
                        s_.dynamo.update_table({{"TableName", t.name}, {"StreamSpecification", {{"StreamEnabled", false}}}});
                    if (!want_view.empty()) s_.dynamo.update_table({{"TableName", t.name}, {"StreamSpecification", want_stream}});
                    out.push_back("~ table " + t.name + ": stream " + (want_view.empty() ? "disabled" : want_view));
                }
            }
            if (t.ttl_attribute) {
                json ttl = s_.dynamo.describe_time_to_live(t.name);
                if (ttl.value("TimeToLiveStatus", "") != "ENABLED" || ttl.value("AttributeName", "") != *t.ttl_attribute)
                    s_.dynamo.update_time_to_live(
                        {{"TableName", t.name}, {"TimeToLiveSpecification", {{"AttributeName", *t.ttl_attribute}, {"Enabled", true}}}});
            }
        }
        for (auto& t : prev.tables) {
            bool kept = false;
            for (auto& n : next.tables) kept = kept || n.name == t.name;
            if (!kept) out.push_back("! table " + t.name + " is no longer in the config: kept with its data");
        }

        // ---- buckets ----
        std::map<std::string, const app::Bucket*> prev_buckets;
        for (auto& b : prev.buckets) prev_buckets[b.name] = &b;
        for (auto& b : next.buckets) {
            auto old = prev_buckets.find(b.name);
            if (old == prev_buckets.end()) {
                s_.s3.create_bucket(b.name);
                if (!current_) out.push_back("+ bucket " + b.name);
            }
            for (auto& [sub, doc] : b.configs) {
                if (old != prev_buckets.end()) {
                    auto o = old->second->configs.find(sub);
                    if (o != old->second->configs.end() && o->second == doc) continue;
                }
                s_.s3.put_bucket_config(b.name, sub, doc);
                if (current_) out.push_back("~ bucket " + b.name + ": " + sub);
            }
            if (old != prev_buckets.end())
                for (auto& [sub, doc] : old->second->configs)
                    if (!b.configs.count(sub)) {
                        if (sub == "versioning")
                            s_.s3.put_bucket_config(b.name, sub, "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>");
                        else
                            s_.s3.delete_bucket_config(b.name, sub);
                        out.push_back("~ bucket " + b.name + ": " + sub + " removed");
                    }
        }

        // ---- layers (directories, read in place) ----
        std::map<std::string, std::string> layer_arns;  // layer name -> version ARN
        auto layer_of = [](const app::App& a, const std::string& name) -> std::optional<app::Layer> {
            for (auto& l : a.layers)
                if (l.name == name) {
                    app::Layer c = l;
                    c.mark = {};
                    return c;
                }
            return std::nullopt;
        };
        for (auto& l : next.layers) {
            layer_arns[l.name] = s_.lambda.publish_layer_directory(l.name, l.dir, l.compatible_runtimes, l.description);
            auto before = layer_of(prev, l.name);
            if (!before) out.push_back("+ layer " + l.name);
            else if (*before != *layer_of(next, l.name)) out.push_back("~ layer " + l.name);
        }
        // (A marker always names a layer of `next` for its functions; the undo of a removed
        // function may name one no longer declared: left out.)
        auto resolve_layer = [&layer_arns](const std::string& ref) -> std::optional<std::string> {
            if (ref.rfind(app::layer_arn_marker, 0) != 0) return ref;
            auto it = layer_arns.find(ref.substr(app::layer_arn_marker.size()));
            if (it == layer_arns.end()) return std::nullopt;
            return it->second;
        };
        // A function using a layer of the app whose declaration changed uses its new version.
        auto layers_changed = [&](const app::Function& f) {
            for (auto& ref : f.layers)
                if (ref.rfind(app::layer_arn_marker, 0) == 0) {
                    std::string name = ref.substr(app::layer_arn_marker.size());
                    if (layer_of(prev, name) != layer_of(next, name)) return true;
                }
            return false;
        };

        // ---- functions ----
        std::map<std::string, const app::Function*> prev_fns;
        for (auto& f : prev.functions) prev_fns[f.name] = &f;
        auto spec_of = [this, resolve_layer](const app::Function& f) {
            lambda::FunctionSpec s;
            s.name = f.name;
            s.runtime = f.runtime;
            s.handler = f.handler;
            s.code_dir = f.code_dir;
            s.timeout = f.timeout;
            s.memory_size = f.memory_size;
            for (auto& [k, v] : f.environment) s.environment[k] = resolve_stream(v);
            s.reserved_concurrency = f.reserved_concurrency;
            for (auto& l : f.layers)
                if (auto arn = resolve_layer(l)) s.layers.push_back(*arn);
            return s;
        };
        for (auto& f : next.functions) {
            auto old = prev_fns.find(f.name);
            if (old != prev_fns.end()) {
                app::Function a = *old->second, b = f;
                a.mark = b.mark = {};  // moved in the file is not changed
                if (a == b && !layers_changed(f)) continue;
            }
            s_.lambda.declare_function(spec_of(f));
            if (old != prev_fns.end()) {
                // (What the last run deployed is known by name only: nothing to restore.)
                if (current_) undo.push_back([this, spec = spec_of(*old->second)] { s_.lambda.declare_function(spec); });
                out.push_back("~ function " + f.name);
            } else {
                undo.push_back([this, n = f.name] { s_.lambda.remove_function(n); });
                out.push_back("+ function " + f.name);
            }
        }
        for (auto& f : prev.functions)
            if (!next.function(f.name)) {
                s_.lambda.remove_function(f.name);
                if (current_) undo.push_back([this, spec = spec_of(f)] { s_.lambda.declare_function(spec); });
                out.push_back("- function " + f.name);
            }

        // ---- bucket notifications (S3 then invokes the functions) ----
        auto want = by_bucket(next), had = by_bucket(prev);
        for (auto& [bucket, triggers] : want) {
            auto h = had.find(bucket);
            if (h != had.end() && h->second == triggers) continue;
            s_.s3.put_bucket_config(bucket, "notification", notification_xml(triggers));
            out.push_back("~ bucket " + bucket + ": " + std::to_string(triggers.size()) + " function trigger(s)");
        }
        for (auto& [bucket, triggers] : had)
            if (!want.count(bucket)) s_.s3.put_bucket_config(bucket, "notification", "<NotificationConfiguration/>");

        // ---- stream mappings and schedules ----
        if (s_.triggers) {
            std::set<std::string> keep;
            for (auto& m : next.mappings) {
                lambda::EventSourceMappingSpec spec = m;
                spec.event_source_arn = resolve_stream(m.event_source_arn);
                std::string key = m.function + "\n" + m.event_source_arn;
                bool fresh = !mapping_ids_.count(key);
                mapping_ids_[key] = s_.triggers->declare_mapping(spec);
                keep.insert(key);
                if (fresh) {
                    undo.push_back([this, key] {
                        s_.triggers->remove_mapping(mapping_ids_[key]);
                        mapping_ids_.erase(key);
                    });
                    out.push_back("+ stream " + m.event_source_arn.substr(m.event_source_arn.find_last_of(":/") + 1) + " -> " + m.function);
                }
            }
            for (auto it = mapping_ids_.begin(); it != mapping_ids_.end();) {
                if (keep.count(it->first)) {
                    ++it;
                    continue;
                }
                s_.triggers->remove_mapping(it->second);
                out.push_back("- stream mapping of " + it->first.substr(0, it->first.find('\n')));
                it = mapping_ids_.erase(it);
            }
            std::set<std::string> schedules;
            for (auto& s : next.schedules) {
                s_.triggers->declare_schedule(s);
                schedules.insert(s.name);
                bool fresh = true;
                for (auto& o : prev.schedules) fresh = fresh && o.name != s.name;
                if (fresh) {
                    undo.push_back([this, n = s.name] { s_.triggers->remove_schedule(n); });
                    out.push_back("+ schedule " + s.name + " " + s.expression + " -> " + s.function);
                }
            }
            for (auto& s : prev.schedules)
                if (!schedules.count(s.name)) {
                    s_.triggers->remove_schedule(s.name);
                    out.push_back("- schedule " + s.name);
                }
        } else if (!current_ && (!next.mappings.empty() || !next.schedules.empty())) {
            out.push_back("! stream and schedule triggers are not served: this build of stratus has no triggers");
        }

        // ---- APIs ----
        if (s_.gateway) {
            std::set<std::string> ids;
            for (auto& a : next.apis) {
                bool fresh = true, same = false;
                for (auto& o : prev.apis)
                    if (o.id == a.id) {
                        fresh = false;
                        same = current_ && api_json(o) == api_json(a);
                    }
                ids.insert(a.id);
                if (same) continue;
                s_.gateway->declare(a);
                if (fresh) {
                    undo.push_back([this, id = a.id] { s_.gateway->remove(id); });
                    out.push_back("+ api " + a.name + " (" + std::to_string(a.routes.size()) + " routes)");
                } else {
                    if (current_)
                        for (auto& o : prev.apis)
                            if (o.id == a.id) undo.push_back([this, old = o] { s_.gateway->declare(old); });
                    out.push_back("~ api " + a.name);
                }
            }
            for (auto& a : prev.apis)
                if (!ids.count(a.id)) {
                    s_.gateway->remove(a.id);
                    out.push_back("- api " + a.name);
                }
        } else if (!current_ && !next.apis.empty()) {
            out.push_back("! APIs are not served: this build of stratus has no API Gateway");
        }

        // ---- site ----
        if (next.site && s_.site) s_.site->configure(next.site->config);
        else if (next.site && !s_.site) out.push_back("! the site is served from the next start (the site port opens at start)");
    } catch (...) {
        for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
            try {
                (*it)();
            } catch (...) {
                // Undo is best effort: the error that made us undo is what the user sees.
            }
        }
        throw;
    }
    current_ = next;
    forgotten_ = false;
    remember(next);
    return out;
}

SyncResult Deployer::sync_site() {
    SyncResult r;
    if (!current_ || !current_->site || current_->site->dir.empty()) return r;
    const auto& site = *current_->site;
    std::error_code ec;
    if (!fs::is_directory(site.dir, ec)) return r;
    std::map<std::string, std::string> remote;
    for (auto& o : s_.s3.list_objects(site.config.bucket)) remote[o.key] = o.etag;
    std::set<std::string> local;
    for (auto it = fs::recursive_directory_iterator(site.dir, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (!it->is_regular_file(ec)) continue;
        std::string key = fs::relative(it->path(), site.dir, ec).generic_string();
        if (key.empty() || key[0] == '.') continue;
        local.insert(key);
        std::ifstream in(it->path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        std::string body = ss.str();
        std::string etag = "\"" + core::crypto::hex(core::crypto::md5(body)) + "\"";
        if (auto rm = remote.find(key); rm != remote.end() && rm->second == etag) {
            ++r.unchanged;
            continue;
        }
        std::map<std::string, std::string> headers;
        auto type = s3::content_type_for(key);
        if (!type.empty()) headers["Content-Type"] = std::string(type);
        // The entry page is revalidated on every load (a redeployed app is seen at once);
        // fingerprinted assets are cached by their ETag like any object.
        if (key == site.config.index || key.ends_with("/" + site.config.index)) headers["Cache-Control"] = "no-cache";
        s_.s3.put_object(site.config.bucket, key, std::move(body), headers);
        ++r.uploaded;
    }
    for (auto& [key, _] : remote)
        if (!local.count(key)) {
            s_.s3.delete_object(site.config.bucket, key);
            ++r.deleted;
        }
    return r;
}

}  // namespace stratus::emulator

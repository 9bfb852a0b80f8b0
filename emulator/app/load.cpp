#include "emulator/app/load.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include "emulator/app/document.hpp"
#include "emulator/app/intrinsics.hpp"
#include "emulator/app/variables.hpp"
#include "core/text.hpp"

namespace stratus::app {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::string_view account = "000000000000";

std::string upper(std::string s) {
    for (auto& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return s;
}
std::string trim(std::string s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t')) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
    return s.substr(i);
}
std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        auto at = s.find(sep, start);
        std::string part = trim(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (!part.empty()) out.push_back(part);
        if (at == std::string::npos) break;
        start = at + 1;
    }
    return out;
}
// SAM's and API Gateway's quoted header values: "'*'" -> "*".
std::string unquote(std::string s) {
    s = trim(s);
    if (s.size() >= 2 && s.front() == '\'' && s.back() == '\'') return s.substr(1, s.size() - 2);
    return s;
}
std::string xml_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += c;
        }
    }
    return out;
}

// serverless's logical ids: "my-fn_x" -> "MyDashfnUnderscorex".
std::string normalize_name(const std::string& key) {
    std::string out;
    for (char c : key) {
        if (c == '-') out += "Dash";
        else if (c == '_') out += "Underscore";
        else out += c;
    }
    if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
    return out;
}

// "arn:aws:lambda:r:a:function:NAME[:qualifier]", an API Gateway integration URI holding
// one, or a plain name -> NAME.
std::string function_from(const std::string& s) {
    std::string arn = s;
    auto f = arn.find("/functions/");
    if (f != std::string::npos) {
        arn = arn.substr(f + 11);
        auto inv = arn.find("/invocations");
        if (inv != std::string::npos) arn = arn.substr(0, inv);
    }
    auto fn = arn.find(":function:");
    if (fn != std::string::npos) {
        std::string name = arn.substr(fn + 10);
        auto colon = name.find(':');
        return colon == std::string::npos ? name : name.substr(0, colon);
    }
    return arn;
}

bool known_runtime(const std::string& r) {
    static const std::set<std::string> known = {"nodejs18.x", "nodejs20.x", "nodejs22.x", "python3.8",
                                                "python3.9",  "python3.10", "python3.11", "python3.12",
                                                "python3.13", "provided",   "provided.al2", "provided.al2023"};
    return known.count(r) > 0;
}

bool machine_runtime(const std::string& r) {
    auto digits = [](const std::string& d) {
        return !d.empty() && d.size() <= 3 && d.find_first_not_of("0123456789") == std::string::npos;
    };
    if (r.rfind("nodejs", 0) == 0 && r.size() > 8 && r.substr(r.size() - 2) == ".x") return digits(r.substr(6, r.size() - 8));
    if (r.rfind("python3.", 0) == 0) return digits(r.substr(8));
    return false;
}

std::string stream_marker(const std::string& table) { return std::string(stream_arn_marker) + table; }

// A literal stream ARN of a table ("arn:aws:dynamodb:r:a:table/T/stream/LABEL") becomes
// the marker of T: the label differs offline.
std::string stream_source(const std::string& arn) {
    auto t = arn.find(":table/");
    auto s = arn.find("/stream/");
    if (arn.rfind("arn:aws:dynamodb:", 0) == 0 && t != std::string::npos && s != std::string::npos && s > t)
        return stream_marker(arn.substr(t + 7, s - t - 7));
    return arn;
}

class Builder {
public:
    Builder(Document& doc, App& app, std::string base, Intrinsics& ix)
        : doc_(doc), app_(app), base_(std::move(base)), ix_(ix) {
        ix_.set_resources([this](const std::string& id) { return ref_of(id); },
                          [this](const std::string& id, const std::string& attr) { return get_att(id, attr); });
    }

    // ---- reading values ----
    const json* at(const std::string& pointer) const {
        json::json_pointer jp(pointer);
        return doc_.root.contains(jp) ? &doc_.root[jp] : nullptr;
    }
    [[noreturn]] void fail(const std::string& pointer, const std::string& message) const { doc_.fail(pointer, message); }
    std::string str(const std::string& pointer) { return ix_.eval_string(*at(pointer), pointer); }
    std::optional<std::string> opt_str(const std::string& pointer) {
        const json* v = at(pointer);
        if (!v || v->is_null()) return std::nullopt;
        return ix_.eval_string(*v, pointer);
    }
    json val(const std::string& pointer) {
        const json* v = at(pointer);
        return v ? ix_.eval(*v, pointer) : json();
    }
    std::optional<long long> opt_int(const std::string& pointer) {
        json v = val(pointer);
        if (v.is_null()) return std::nullopt;
        if (v.is_number_integer()) return v.get<long long>();
        if (v.is_number()) return static_cast<long long>(v.get<double>());
        if (v.is_string()) {
            try {
                std::size_t used = 0;
                long long n = std::stoll(v.get<std::string>(), &used);
                if (used == v.get<std::string>().size()) return n;
            } catch (const std::exception&) {
            }
        }
        fail(pointer, "expected a number, got " + v.dump());
    }
    std::optional<bool> opt_bool(const std::string& pointer) {
        json v = val(pointer);
        if (v.is_null()) return std::nullopt;
        if (v.is_boolean()) return v.get<bool>();
        if (v == "true" || v == "false") return v == "true";
        fail(pointer, "expected true or false, got " + v.dump());
    }
    std::vector<std::string> str_list(const std::string& pointer) {
        json v = val(pointer);
        std::vector<std::string> out;
        if (v.is_null()) return out;
        if (v.is_string()) return {v.get<std::string>()};
        if (!v.is_array()) fail(pointer, "expected a list of strings");
        for (auto& x : v) {
            if (!x.is_string()) fail(pointer, "expected a list of strings");
            out.push_back(x.get<std::string>());
        }
        return out;
    }
    void notice(const std::string& pointer, const std::string& message) {
        app_.notices.push_back(ConfigError::format(doc_.mark(pointer), message));
    }

    // ---- resources ----
    std::string res_ptr() const { return base_ + "/Resources"; }
    std::string res_ptr(const std::string& id) const { return child(res_ptr(), id); }

    void index_resources() {
        const json* res = at(res_ptr());
        if (!res) return;
        if (!res->is_object()) fail(res_ptr(), "Resources must be a mapping");
        for (auto& [id, r] : res->items()) {
            std::string p = res_ptr(id);
            if (!r.is_object() || !r.contains("Type") || !r["Type"].is_string()) fail(p, "resource " + id + " has no Type");
            if (!ix_.resource_enabled(r, p)) continue;
            types_[id] = r["Type"].get<std::string>();
        }
    }
    std::string type_of(const std::string& id) const {
        auto it = types_.find(id);
        return it == types_.end() ? "" : it->second;
    }
    std::vector<std::string> of_type(std::initializer_list<std::string_view> types) const {
        std::vector<std::string> out;
        for (auto& [id, t] : types_)
            for (auto want : types)
                if (t == want) out.push_back(id);
        return out;
    }

    std::string stack() const { return app_.service + (app_.kind == "serverless" ? "-" + app_.stage : ""); }

    std::string physical_name(const std::string& id) {
        if (auto it = names_.find(id); it != names_.end()) return it->second;
        if (!naming_.insert(id).second) fail(res_ptr(id), "resource " + id + "'s name refers to itself");
        std::string t = type_of(id), p = res_ptr(id) + "/Properties";
        std::string name;
        auto prop = [&](const char* key) { return opt_str(child(p, key)); };
        if (t == "AWS::DynamoDB::Table" || t == "AWS::DynamoDB::GlobalTable" || t == "AWS::Serverless::SimpleTable") {
            name = prop("TableName").value_or(stack() + "-" + id);
        } else if (t == "AWS::S3::Bucket") {
            name = prop("BucketName").value_or(core::ascii_lower(stack() + "-" + id));
            if (name.size() > 63) name = name.substr(0, 63);
        } else if (t == "AWS::Lambda::Function" || t == "AWS::Serverless::Function") {
            name = prop("FunctionName").value_or(id);
        } else if (t == "AWS::Serverless::LayerVersion" || t == "AWS::Lambda::LayerVersion") {
            name = prop("LayerName").value_or(id);
        } else if (t == "AWS::ApiGateway::RestApi" || t == "AWS::Serverless::Api" || t == "AWS::ApiGatewayV2::Api" ||
                   t == "AWS::Serverless::HttpApi") {
            name = api_id(stack() + "/" + id);
        } else if (t == "AWS::ApiGateway::Resource") {
            std::string parent = str(child(p, "ParentId"));
            std::string part = str(child(p, "PathPart"));
            name = (parent == "/" ? "" : parent) + "/" + part;
        } else {
            name = id;
        }
        naming_.erase(id);
        names_[id] = name;
        return name;
    }

    std::optional<json> ref_of(const std::string& id) {
        if (app_.kind == "serverless") {
            if (id == "ApiGatewayRestApi") return json(rest_api().id);
            if (id == "HttpApi") return json(http_api().id);
            if (auto f = function_by_logical(id)) return json(*f);
            for (auto& [key, name] : serverless_layers_)
                if (normalize_name(key) + "LambdaLayer" == id) return json(std::string(layer_arn_marker) + name);
        }
        if (type_of(id).empty()) return std::nullopt;
        // Ref of a layer version is its ARN: known at deploy.
        if (type_of(id) == "AWS::Serverless::LayerVersion" || type_of(id) == "AWS::Lambda::LayerVersion")
            return json(std::string(layer_arn_marker) + physical_name(id));
        return json(physical_name(id));
    }

    std::optional<json> get_att(const std::string& id, const std::string& attr) {
        std::string t = type_of(id);
        if (app_.kind == "serverless" && t.empty()) {
            if (auto f = function_by_logical(id); f && attr == "Arn") return json(function_arn(*f));
            if (id == "ApiGatewayRestApi" && attr == "RootResourceId") return json("/");
            if (id == "HttpApi" && attr == "ApiEndpoint") return json("https://" + http_api().id + ".execute-api." + app_.region + ".amazonaws.com");
        }
        if (t.empty()) return std::nullopt;
        std::string name = physical_name(id);
        if (t == "AWS::DynamoDB::Table" || t == "AWS::DynamoDB::GlobalTable" || t == "AWS::Serverless::SimpleTable") {
            if (attr == "Arn") return json(fmt_arn("dynamodb", "table/" + name));
            if (attr == "StreamArn") return json(stream_marker(name));
        } else if (t == "AWS::S3::Bucket") {
            if (attr == "Arn") return json("arn:aws:s3:::" + name);
            if (attr == "DomainName") return json(name + ".s3.amazonaws.com");
            if (attr == "RegionalDomainName") return json(name + ".s3." + app_.region + ".amazonaws.com");
            if (attr == "DualStackDomainName") return json(name + ".s3.dualstack." + app_.region + ".amazonaws.com");
            if (attr == "WebsiteURL") return json("http://" + name + ".s3-website-" + app_.region + ".amazonaws.com");
        } else if (t == "AWS::Lambda::Function" || t == "AWS::Serverless::Function") {
            if (attr == "Arn") return json(function_arn(name));
        } else if (t == "AWS::ApiGateway::RestApi" || t == "AWS::Serverless::Api") {
            if (attr == "RootResourceId") return json("/");
        } else if (t == "AWS::ApiGatewayV2::Api" || t == "AWS::Serverless::HttpApi") {
            if (attr == "ApiEndpoint") return json("https://" + name + ".execute-api." + app_.region + ".amazonaws.com");
            if (attr == "ApiId") return json(name);
        }
        if (attr == "Arn") return json("arn:aws:" + id);
        return std::nullopt;
    }

    std::string fmt_arn(const std::string& service, const std::string& resource) const {
        return "arn:aws:" + service + ":" + app_.region + ":" + std::string(account) + ":" + resource;
    }
    static std::string function_arn(const std::string& name) {
        return "arn:aws:lambda:us-east-1:" + std::string(account) + ":function:" + name;
    }

    // ---- functions ----
    std::optional<std::string> function_by_logical(const std::string& id) {
        for (auto& [key, name] : serverless_functions_)
            if (normalize_name(key) + "LambdaFunction" == id) return name;
        return std::nullopt;
    }
    // A function named by a route or trigger: a short name of this app, a deployed
    // name, or an ARN.
    std::string function_ref(const std::string& s) {
        std::string n = function_from(s);
        if (auto it = serverless_functions_.find(n); it != serverless_functions_.end()) return it->second;
        return n;
    }

    void check_runtime(const std::string& runtime, const std::string& pointer) {
        if (known_runtime(runtime)) return;
        if (machine_runtime(runtime)) {
            notice(pointer, "runtime " + runtime + " runs on this machine's " +
                                (runtime.rfind("nodejs", 0) == 0 ? "node" : "python3"));
            return;
        }
        if (runtime.rfind("provided", 0) == 0) return;
        fail(pointer, "runtime " + runtime + " is not supported (stratus runs nodejs*.x, python3.* and provided.* functions)");
    }

    void check_handler(const Function& f, const std::string& pointer) {
        if (f.runtime.rfind("provided", 0) == 0) {
            if (!fs::exists(fs::path(f.code_dir) / "bootstrap"))
                fail(pointer, "function " + f.key + ": no bootstrap file in " + f.code_dir);
            return;
        }
        auto dot = f.handler.rfind('.');
        if (dot == std::string::npos || dot == 0 || dot + 1 == f.handler.size())
            fail(pointer, "handler '" + f.handler + "' must be file.export (for example src/handler.main)");
        std::string module = f.handler.substr(0, dot);
        std::vector<std::string> candidates;
        if (f.runtime.rfind("python", 0) == 0) {
            auto slash = module.rfind('/');
            std::string head = slash == std::string::npos ? "" : module.substr(0, slash + 1);
            std::string tail = slash == std::string::npos ? module : module.substr(slash + 1);
            std::replace(tail.begin(), tail.end(), '.', '/');
            candidates = {head + tail + ".py"};
        } else {
            candidates = {module + ".js", module + ".mjs", module + ".cjs"};
        }
        for (auto& c : candidates)
            if (fs::exists(fs::path(f.code_dir) / c)) return;
        std::string which = candidates.size() == 1 ? candidates[0] : candidates[0] + " (or .mjs / .cjs)";
        if (f.runtime.rfind("nodejs", 0) == 0 && fs::exists(fs::path(f.code_dir) / (module + ".ts")))
            fail(pointer, "handler file " + module + ".ts is TypeScript: build it to JavaScript first (" + which + " not found)");
        fail(pointer, "handler file " + which + " not found in " + f.code_dir);
    }

    std::map<std::string, std::string> environment(const std::string& pointer) {
        std::map<std::string, std::string> out;
        const json* e = at(pointer);
        if (!e || e->is_null()) return out;
        if (!e->is_object()) fail(pointer, "environment must be a mapping of names to values");
        for (auto& [k, v] : e->items()) {
            std::string p = child(pointer, k);
            json x = ix_.eval(v, p);
            if (is_no_value(x)) continue;
            if (x.is_string()) out[k] = x.get<std::string>();
            else if (x.is_number_integer()) out[k] = std::to_string(x.get<long long>());
            else if (x.is_boolean()) out[k] = x.get<bool>() ? "true" : "false";
            else if (x.is_number()) out[k] = x.dump();
            else if (x.is_null()) out[k] = "";
            else fail(p, "environment variable " + k + " must be a string, got " + x.dump());
        }
        return out;
    }

    // ---- APIs ----
    gateway::ApiSpec& api(const std::string& key, gateway::ApiType type, const std::string& name, const std::string& stage) {
        auto it = apis_.find(key);
        if (it != apis_.end()) return it->second;
        gateway::ApiSpec a;
        a.id = type_of(key).empty() ? api_id(stack() + "/" + key) : physical_name(key);
        a.name = name;
        a.type = type;
        a.stage = type == gateway::ApiType::http ? (stage.empty() ? "$default" : stage) : (stage.empty() ? "dev" : stage);
        api_order_.push_back(key);
        return apis_.emplace(key, std::move(a)).first->second;
    }
    gateway::ApiSpec& rest_api() {
        if (app_.kind == "serverless") return api("ApiGatewayRestApi", gateway::ApiType::rest, app_.stage + "-" + app_.service, app_.stage);
        return api("ServerlessRestApi", gateway::ApiType::rest, app_.service, "Prod");
    }
    gateway::ApiSpec& http_api() {
        // The Serverless Framework deploys its HTTP API on the $default stage only (provider.httpApi
        // has no stage setting; the service's stage names the API, not the URL).
        if (app_.kind == "serverless") return api("HttpApi", gateway::ApiType::http, app_.stage + "-" + app_.service, "$default");
        return api("ServerlessHttpApi", gateway::ApiType::http, app_.service, "$default");
    }

    void add_route(gateway::ApiSpec& a, gateway::RouteSpec r, const std::string& pointer) {
        r.method = upper(r.method);
        if (r.method != "$DEFAULT") {
            if (r.path.empty() || r.path[0] != '/') r.path = "/" + r.path;
            while (r.path.size() > 1 && r.path.back() == '/') r.path.pop_back();
        } else {
            r.method = "$default";
            r.path.clear();
        }
        static const std::set<std::string> methods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY", "$default"};
        if (!methods.count(r.method)) fail(pointer, "unknown HTTP method '" + r.method + "'");
        std::string key = a.id + " " + r.method + " " + r.path;
        if (auto it = route_marks_.find(key); it != route_marks_.end())
            fail(pointer, "two routes collide: " + r.method + " " + (r.path.empty() ? "$default" : r.path) +
                              " is also declared at " + ConfigError::format(it->second, "here").substr(0, ConfigError::format(it->second, "here").size() - 6));
        route_marks_[key] = doc_.mark(pointer);
        a.routes.push_back(std::move(r));
    }
    void add_authorizer(gateway::ApiSpec& a, gateway::AuthorizerSpec spec) {
        for (auto& x : a.authorizers)
            if (x.name == spec.name) return;
        a.authorizers.push_back(std::move(spec));
    }

    gateway::CorsSpec cors_from(const std::string& pointer, const std::vector<std::string>& default_methods) {
        gateway::CorsSpec c;
        json v = val(pointer);
        static const std::vector<std::string> default_headers = {"Content-Type", "X-Amz-Date", "Authorization", "X-Api-Key",
                                                                 "X-Amz-Security-Token", "X-Amz-User-Agent", "X-Amzn-Trace-Id"};
        c.allow_origins = {"*"};
        c.allow_headers = default_headers;
        c.allow_methods = default_methods;
        if (v.is_boolean() || v.is_null()) return c;
        if (v.is_string()) {  // SAM's Cors: "'*'"
            c.allow_origins = {unquote(v.get<std::string>())};
            return c;
        }
        if (!v.is_object()) fail(pointer, "cors must be true or a mapping");
        auto list = [&](std::initializer_list<const char*> keys) -> std::optional<std::vector<std::string>> {
            for (auto* k : keys) {
                if (!v.contains(k)) continue;
                std::vector<std::string> out;
                if (v[k].is_string()) {
                    for (auto& s : split(unquote(v[k].get<std::string>()), ',')) out.push_back(s);
                } else if (v[k].is_array()) {
                    for (auto& s : v[k])
                        if (s.is_string()) out.push_back(unquote(s.get<std::string>()));
                }
                return out;
            }
            return std::nullopt;
        };
        if (auto o = list({"origins", "origin", "allowedOrigins", "AllowOrigin", "AllowOrigins"})) c.allow_origins = *o;
        if (auto h = list({"headers", "allowedHeaders", "AllowHeaders"})) c.allow_headers = *h;
        if (auto m = list({"methods", "allowedMethods", "AllowMethods"})) c.allow_methods = *m;
        if (auto e = list({"exposedResponseHeaders", "ExposeHeaders"})) c.expose_headers = *e;
        for (auto* k : {"allowCredentials", "AllowCredentials"})
            if (v.contains(k)) c.allow_credentials = v[k] == true || v[k] == "true" || v[k] == "'true'";
        for (auto* k : {"maxAge", "MaxAge", "cacheControl"})
            if (v.contains(k) && v[k].is_number_integer()) c.max_age = v[k].get<int>();
            else if (v.contains(k) && v[k].is_string()) {
                try {
                    c.max_age = std::stoi(unquote(v[k].get<std::string>()));
                } catch (const std::exception&) {
                }
            }
        return c;
    }

    // ---- CloudFormation resources common to both formats ----
    void tables() {
        for (auto& id : of_type({"AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"})) {
            std::string p = res_ptr(id) + "/Properties";
            json props = val(p);
            if (!props.is_object()) fail(res_ptr(id), "table " + id + " has no Properties");
            Table t;
            t.logical_id = id;
            t.name = physical_name(id);
            t.mark = doc_.mark(res_ptr(id));
            json c = json::object();
            c["TableName"] = t.name;
            for (auto* k : {"AttributeDefinitions", "KeySchema", "LocalSecondaryIndexes", "BillingMode", "TableClass",
                            "DeletionProtectionEnabled"})
                if (props.contains(k)) c[k] = props[k];
            if (props.contains("GlobalSecondaryIndexes")) c["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"];
            if (props.contains("ProvisionedThroughput")) c["ProvisionedThroughput"] = numbers(props["ProvisionedThroughput"]);
            if (c.contains("GlobalSecondaryIndexes"))
                for (auto& g : c["GlobalSecondaryIndexes"])
                    if (g.contains("ProvisionedThroughput")) g["ProvisionedThroughput"] = numbers(g["ProvisionedThroughput"]);
            if (!c.contains("BillingMode") && !c.contains("ProvisionedThroughput")) c["BillingMode"] = "PAY_PER_REQUEST";
            if (c.contains("BillingMode") && c["BillingMode"] == "PROVISIONED" && !c.contains("ProvisionedThroughput"))
                fail(p, "table " + id + ": BillingMode PROVISIONED needs ProvisionedThroughput");
            if (props.contains("StreamSpecification")) {
                auto& s = props["StreamSpecification"];
                if (s.contains("StreamViewType"))
                    c["StreamSpecification"] = {{"StreamEnabled", true}, {"StreamViewType", s["StreamViewType"]}};
            }
            if (props.contains("SSESpecification") && props["SSESpecification"].contains("SSEEnabled"))
                c["SSESpecification"] = {{"Enabled", props["SSESpecification"]["SSEEnabled"]}};
            if (props.contains("Tags")) c["Tags"] = props["Tags"];
            if (props.contains("TimeToLiveSpecification")) {
                auto& ttl = props["TimeToLiveSpecification"];
                bool enabled = ttl.value("Enabled", false) || ttl.value("Enabled", json()) == "true";
                if (enabled && ttl.contains("AttributeName") && ttl["AttributeName"].is_string())
                    t.ttl_attribute = ttl["AttributeName"].get<std::string>();
            }
            if (!c.contains("KeySchema")) fail(p, "table " + id + " has no KeySchema");
            if (props.contains("KinesisStreamSpecification")) notice(p, "table " + id + ": KinesisStreamSpecification is not emulated");
            t.create = std::move(c);
            app_.tables.push_back(std::move(t));
        }
        for (auto& id : of_type({"AWS::Serverless::SimpleTable"})) {
            std::string p = res_ptr(id) + "/Properties";
            json props = val(p);
            Table t;
            t.logical_id = id;
            t.name = physical_name(id);
            t.mark = doc_.mark(res_ptr(id));
            std::string key = "id", type = "S";
            if (props.is_object() && props.contains("PrimaryKey")) {
                key = props["PrimaryKey"].value("Name", "id");
                std::string ty = props["PrimaryKey"].value("Type", "String");
                type = ty == "Number" ? "N" : ty == "Binary" ? "B" : "S";
            }
            json c = {{"TableName", t.name},
                      {"AttributeDefinitions", json::array({{{"AttributeName", key}, {"AttributeType", type}}})},
                      {"KeySchema", json::array({{{"AttributeName", key}, {"KeyType", "HASH"}}})}};
            if (props.is_object() && props.contains("ProvisionedThroughput"))
                c["ProvisionedThroughput"] = numbers(props["ProvisionedThroughput"]);
            else
                c["BillingMode"] = "PAY_PER_REQUEST";
            t.create = std::move(c);
            app_.tables.push_back(std::move(t));
        }
    }
    static json numbers(json j) {
        for (auto& [k, v] : j.items())
            if (v.is_string()) {
                try {
                    v = std::stoll(v.get<std::string>());
                } catch (const std::exception&) {
                }
            }
        return j;
    }

    Bucket& bucket(const std::string& name, const std::string& logical_id, const std::string& pointer) {
        for (auto& b : app_.buckets)
            if (b.name == name) return b;
        Bucket b;
        b.name = name;
        b.logical_id = logical_id;
        b.mark = doc_.mark(pointer);
        app_.buckets.push_back(std::move(b));
        return app_.buckets.back();
    }

    void buckets() {
        for (auto& id : of_type({"AWS::S3::Bucket"})) {
            std::string p = res_ptr(id) + "/Properties";
            Bucket& b = bucket(physical_name(id), id, res_ptr(id));
            json props = val(p);
            if (!props.is_object()) continue;
            if (props.contains("WebsiteConfiguration")) b.configs["website"] = website_xml(props["WebsiteConfiguration"]);
            if (props.contains("CorsConfiguration")) b.configs["cors"] = cors_xml(props["CorsConfiguration"], child(p, "CorsConfiguration"));
            if (props.contains("VersioningConfiguration"))
                b.configs["versioning"] = "<VersioningConfiguration><Status>" +
                                          xml_escape(props["VersioningConfiguration"].value("Status", "Suspended")) +
                                          "</Status></VersioningConfiguration>";
            if (props.contains("Tags") && props["Tags"].is_array()) {
                std::string x = "<Tagging><TagSet>";
                for (auto& t : props["Tags"])
                    x += "<Tag><Key>" + xml_escape(t.value("Key", "")) + "</Key><Value>" + xml_escape(t.value("Value", "")) + "</Value></Tag>";
                b.configs["tagging"] = x + "</TagSet></Tagging>";
            }
            if (props.contains("NotificationConfiguration")) {
                auto& n = props["NotificationConfiguration"];
                if (n.contains("LambdaConfigurations"))
                    for (auto& l : n["LambdaConfigurations"]) {
                        BucketTrigger t;
                        t.bucket = b.name;
                        t.function = function_ref(l.value("Function", ""));
                        t.events = {l.value("Event", "s3:ObjectCreated:*")};
                        filter_rules(l, t);
                        app_.bucket_triggers.push_back(std::move(t));
                    }
                for (auto* k : {"QueueConfigurations", "TopicConfigurations", "EventBridgeConfiguration"})
                    if (n.contains(k)) notice(child(p, "NotificationConfiguration"), std::string("bucket ") + id + ": " + k + " are not emulated");
            }
        }
        for (auto& id : of_type({"AWS::S3::BucketPolicy"})) {
            std::string p = res_ptr(id) + "/Properties";
            std::string name = str(child(p, "Bucket"));
            json doc = val(child(p, "PolicyDocument"));
            bucket(name, "", res_ptr(id)).configs["policy"] = doc.dump();
        }
    }
    void filter_rules(const json& config, BucketTrigger& t) {
        if (!config.contains("Filter")) return;
        auto& f = config["Filter"];
        const json* rules = nullptr;
        if (f.contains("S3Key") && f["S3Key"].contains("Rules")) rules = &f["S3Key"]["Rules"];
        if (!rules || !rules->is_array()) return;
        for (auto& r : *rules) {
            std::string name = core::ascii_lower(r.value("Name", ""));
            if (name == "prefix") t.prefix = r.value("Value", "");
            if (name == "suffix") t.suffix = r.value("Value", "");
        }
    }
    static std::string website_xml(const json& w) {
        std::string x = "<WebsiteConfiguration>";
        if (w.contains("RedirectAllRequestsTo")) {
            auto& r = w["RedirectAllRequestsTo"];
            x += "<RedirectAllRequestsTo><HostName>" + xml_escape(r.value("HostName", "")) + "</HostName>";
            if (r.contains("Protocol")) x += "<Protocol>" + xml_escape(r.value("Protocol", "")) + "</Protocol>";
            x += "</RedirectAllRequestsTo>";
        }
        if (w.contains("IndexDocument"))
            x += "<IndexDocument><Suffix>" + xml_escape(w.value("IndexDocument", "index.html")) + "</Suffix></IndexDocument>";
        if (w.contains("ErrorDocument"))
            x += "<ErrorDocument><Key>" + xml_escape(w.value("ErrorDocument", "error.html")) + "</Key></ErrorDocument>";
        if (w.contains("RoutingRules") && w["RoutingRules"].is_array()) {
            x += "<RoutingRules>";
            for (auto& r : w["RoutingRules"]) {
                x += "<RoutingRule>";
                if (r.contains("RoutingRuleCondition")) {
                    auto& c = r["RoutingRuleCondition"];
                    x += "<Condition>";
                    if (c.contains("KeyPrefixEquals")) x += "<KeyPrefixEquals>" + xml_escape(c["KeyPrefixEquals"].get<std::string>()) + "</KeyPrefixEquals>";
                    if (c.contains("HttpErrorCodeReturnedEquals"))
                        x += "<HttpErrorCodeReturnedEquals>" + xml_escape(c["HttpErrorCodeReturnedEquals"].is_string() ? c["HttpErrorCodeReturnedEquals"].get<std::string>() : c["HttpErrorCodeReturnedEquals"].dump()) + "</HttpErrorCodeReturnedEquals>";
                    x += "</Condition>";
                }
                x += "<Redirect>";
                if (r.contains("RedirectRule"))
                    for (auto& [k, v] : r["RedirectRule"].items())
                        x += "<" + k + ">" + xml_escape(v.is_string() ? v.get<std::string>() : v.dump()) + "</" + k + ">";
                x += "</Redirect></RoutingRule>";
            }
            x += "</RoutingRules>";
        }
        return x + "</WebsiteConfiguration>";
    }
    std::string cors_xml(const json& c, const std::string& pointer) {
        if (!c.contains("CorsRules") || !c["CorsRules"].is_array()) fail(pointer, "CorsConfiguration needs CorsRules");
        std::string x = "<CORSConfiguration>";
        for (auto& r : c["CorsRules"]) {
            x += "<CORSRule>";
            if (r.contains("Id")) x += "<ID>" + xml_escape(r["Id"].get<std::string>()) + "</ID>";
            for (auto [cf, s3] : {std::pair{"AllowedOrigins", "AllowedOrigin"}, std::pair{"AllowedMethods", "AllowedMethod"},
                                  std::pair{"AllowedHeaders", "AllowedHeader"}, std::pair{"ExposedHeaders", "ExposeHeader"}})
                if (r.contains(cf))
                    for (auto& v : r[cf]) x += std::string("<") + s3 + ">" + xml_escape(v.get<std::string>()) + "</" + s3 + ">";
            if (r.contains("MaxAge")) x += "<MaxAgeSeconds>" + (r["MaxAge"].is_string() ? r["MaxAge"].get<std::string>() : r["MaxAge"].dump()) + "</MaxAgeSeconds>";
            x += "</CORSRule>";
        }
        return x + "</CORSConfiguration>";
    }

    void gateway_responses(gateway::ApiSpec& a, const json& props) {
        gateway::GatewayResponseSpec g;
        g.type = props.value("ResponseType", "");
        if (props.contains("StatusCode")) {
            auto& s = props["StatusCode"];
            g.status = s.is_string() ? std::atoi(s.get<std::string>().c_str()) : s.get<int>();
        }
        if (props.contains("ResponseParameters"))
            for (auto& [k, v] : props["ResponseParameters"].items()) {
                std::string prefix = "gatewayresponse.header.";
                if (k.rfind(prefix, 0) == 0 && v.is_string()) g.headers[k.substr(prefix.size())] = unquote(v.get<std::string>());
            }
        if (props.contains("ResponseTemplates"))
            for (auto& [k, v] : props["ResponseTemplates"].items())
                if (v.is_string()) g.templates[k] = v.get<std::string>();
        for (auto& x : a.gateway_responses)
            if (x.type == g.type) {
                x = g;
                return;
            }
        a.gateway_responses.push_back(std::move(g));
    }

    void stream_mapping(lambda::EventSourceMappingSpec m, const std::string& pointer) {
        if (m.event_source_arn.empty()) fail(pointer, "stream event without an arn");
        if (m.event_source_arn.rfind("arn:aws:kinesis:", 0) == 0) {
            notice(pointer, "Kinesis streams are not emulated: event ignored");
            return;
        }
        if (m.event_source_arn.rfind(stream_arn_marker, 0) != 0 && m.event_source_arn.find(":dynamodb:") == std::string::npos)
            fail(pointer, "stream arn '" + m.event_source_arn + "' is not a DynamoDB stream");
        app_.mappings.push_back(std::move(m));
    }

    void esm_resources() {
        for (auto& id : of_type({"AWS::Lambda::EventSourceMapping"})) {
            std::string p = res_ptr(id) + "/Properties";
            json props = val(p);
            lambda::EventSourceMappingSpec m;
            m.function = function_ref(props.value("FunctionName", ""));
            m.event_source_arn = stream_source(props.value("EventSourceArn", ""));
            if (m.event_source_arn.find(":sqs:") != std::string::npos || m.event_source_arn.find(":kafka:") != std::string::npos) {
                notice(p, "event source mapping " + id + ": only DynamoDB streams are emulated");
                continue;
            }
            esm_settings(props, m, p);
            stream_mapping(std::move(m), p);
        }
    }
    void esm_settings(const json& props, lambda::EventSourceMappingSpec& m, const std::string& p) {
        if (auto b = opt_int(child(p, "BatchSize"))) m.batch_size = static_cast<int>(*b);
        if (props.contains("StartingPosition")) m.starting_position = props["StartingPosition"].get<std::string>();
        if (auto e = opt_bool(child(p, "Enabled"))) m.enabled = *e;
        if (auto w = opt_int(child(p, "MaximumBatchingWindowInSeconds"))) m.maximum_batching_window_seconds = static_cast<int>(*w);
        if (auto r = opt_int(child(p, "MaximumRetryAttempts"))) m.maximum_retry_attempts = static_cast<int>(*r);
        if (auto r = opt_int(child(p, "MaximumRecordAgeInSeconds"))) m.maximum_record_age_seconds = static_cast<int>(*r);
        if (auto b = opt_bool(child(p, "BisectBatchOnFunctionError"))) m.bisect_batch_on_function_error = *b;
        if (props.contains("FunctionResponseTypes"))
            for (auto& t : props["FunctionResponseTypes"])
                if (t == "ReportBatchItemFailures") m.report_batch_item_failures = true;
        if (props.contains("FilterCriteria") && props["FilterCriteria"].contains("Filters"))
            for (auto& f : props["FilterCriteria"]["Filters"])
                if (f.contains("Pattern")) m.filter_patterns.push_back(f["Pattern"].is_string() ? f["Pattern"].get<std::string>() : f["Pattern"].dump());
        if (props.contains("DestinationConfig") && props["DestinationConfig"].contains("OnFailure"))
            m.on_failure_destination = props["DestinationConfig"]["OnFailure"].value("Destination", "");
    }

    void accept_others() {
        static const std::set<std::string> handled = {
            "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable", "AWS::Serverless::SimpleTable", "AWS::S3::Bucket",
            "AWS::S3::BucketPolicy", "AWS::Lambda::Function", "AWS::Serverless::Function", "AWS::Lambda::EventSourceMapping",
            "AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion",
            "AWS::ApiGateway::RestApi", "AWS::ApiGateway::Resource", "AWS::ApiGateway::Method", "AWS::ApiGateway::Authorizer",
            "AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage", "AWS::ApiGateway::GatewayResponse",
            "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration",
            "AWS::ApiGatewayV2::Authorizer", "AWS::ApiGatewayV2::Stage", "AWS::Serverless::Api", "AWS::Serverless::HttpApi",
            "AWS::CloudFront::Distribution"};
        // Accepted quietly: they change nothing offline.
        static const std::set<std::string> quiet = {
            "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::Lambda::Permission",
            "AWS::Logs::LogGroup", "AWS::CloudFront::OriginAccessControl", "AWS::CloudFront::CloudFrontOriginAccessIdentity",
            "AWS::ApiGateway::Account", "AWS::ApiGatewayV2::Deployment", "AWS::Lambda::Version", "AWS::Lambda::Alias",
            "AWS::CloudFront::CachePolicy", "AWS::CloudFront::OriginRequestPolicy", "AWS::CloudFront::ResponseHeadersPolicy"};
        for (auto& [id, t] : types_)
            if (!handled.count(t) && !quiet.count(t)) notice(res_ptr(id), "resource " + id + " (" + t + ") is not emulated");
    }

    // ---- raw API Gateway resources (REST) ----
    void raw_rest_apis() {
        for (auto& id : of_type({"AWS::ApiGateway::RestApi"})) {
            std::string p = res_ptr(id) + "/Properties";
            std::string stage;
            for (auto& s : of_type({"AWS::ApiGateway::Stage"}))
                if (opt_str(res_ptr(s) + "/Properties/RestApiId") == physical_name(id)) {
                    stage = opt_str(res_ptr(s) + "/Properties/StageName").value_or("");
                    break;
                }
            if (stage.empty())
                for (auto& d : of_type({"AWS::ApiGateway::Deployment"}))
                    if (opt_str(res_ptr(d) + "/Properties/RestApiId") == physical_name(id))
                        if (auto s = opt_str(res_ptr(d) + "/Properties/StageName")) stage = *s;
            auto& a = api(id, gateway::ApiType::rest, opt_str(child(p, "Name")).value_or(id), stage);
            for (auto& t : str_list(child(p, "BinaryMediaTypes"))) a.binary_media_types.push_back(t);
        }
        for (auto& id : of_type({"AWS::ApiGateway::Authorizer"})) {
            std::string p = res_ptr(id) + "/Properties";
            std::string api_ref = str(child(p, "RestApiId"));
            auto* a = api_by_id(api_ref);
            if (!a) fail(child(p, "RestApiId"), "authorizer " + id + ": RestApiId is not a RestApi of this template");
            std::string type = upper(opt_str(child(p, "Type")).value_or("TOKEN"));
            if (type == "COGNITO_USER_POOLS") {
                notice(p, "authorizer " + id + ": Cognito user pools are not emulated (routes using it are open)");
                continue;
            }
            gateway::AuthorizerSpec s;
            s.name = id;
            s.kind = type == "REQUEST" ? gateway::AuthorizerSpec::Kind::request : gateway::AuthorizerSpec::Kind::token;
            s.function = function_from(str(child(p, "AuthorizerUri")));
            if (auto src = opt_str(child(p, "IdentitySource"))) s.identity_sources = split(*src, ',');
            s.validation_expression = opt_str(child(p, "IdentityValidationExpression")).value_or("");
            if (auto ttl = opt_int(child(p, "AuthorizerResultTtlInSeconds"))) s.result_ttl_seconds = static_cast<int>(*ttl);
            add_authorizer(*a, std::move(s));
        }
        for (auto& id : of_type({"AWS::ApiGateway::Method"})) {
            std::string p = res_ptr(id) + "/Properties";
            std::string api_ref = str(child(p, "RestApiId"));
            auto* a = api_by_id(api_ref);
            if (!a) fail(child(p, "RestApiId"), "method " + id + ": RestApiId is not a RestApi of this template");
            std::string type = upper(opt_str((p + "/Integration/Type")).value_or(""));
            std::string method = upper(str(child(p, "HttpMethod")));
            if (type != "AWS_PROXY") {
                if (method != "OPTIONS")
                    notice(p, "method " + id + ": only AWS_PROXY (Lambda proxy) integrations are emulated; " +
                                  (type.empty() ? "none" : type) + " ignored");
                continue;
            }
            gateway::RouteSpec r;
            r.method = method;
            r.path = str(child(p, "ResourceId"));
            r.function = function_from(str((p + "/Integration/Uri")));
            std::string auth = upper(opt_str(child(p, "AuthorizationType")).value_or("NONE"));
            if (auth == "CUSTOM") r.authorizer = opt_str(child(p, "AuthorizerId")).value_or("");
            else if (auth == "AWS_IAM" || auth == "COGNITO_USER_POOLS")
                notice(p, "method " + id + ": authorization " + auth + " is not emulated (the route is open)");
            if (auto k = opt_bool(child(p, "ApiKeyRequired"))) r.api_key_required = *k;
            if (auto t = opt_int((p + "/Integration/TimeoutInMillis"))) r.timeout_ms = static_cast<int>(*t);
            add_route(*a, std::move(r), res_ptr(id));
        }
        for (auto& id : of_type({"AWS::ApiGateway::GatewayResponse"})) {
            std::string p = res_ptr(id) + "/Properties";
            auto api_ref = opt_str(child(p, "RestApiId"));
            gateway::ApiSpec* a = api_ref ? api_by_id(*api_ref) : nullptr;
            if (!a) fail(p, "gateway response " + id + ": RestApiId is not a REST API of this app");
            gateway_responses(*a, val(p));
        }
    }
    gateway::ApiSpec* api_by_id(const std::string& id) {
        for (auto& [k, a] : apis_)
            if (a.id == id) return &a;
        return nullptr;
    }

    // ---- raw API Gateway v2 resources (HTTP) ----
    void raw_http_apis() {
        for (auto& id : of_type({"AWS::ApiGatewayV2::Api"})) {
            std::string p = res_ptr(id) + "/Properties";
            std::string proto = upper(opt_str(child(p, "ProtocolType")).value_or("HTTP"));
            if (proto != "HTTP") {
                notice(p, "API " + id + ": " + proto + " APIs are not emulated");
                continue;
            }
            // Served on its $default stage at the root when it has one (or none declared),
            // else at /{stage} of the first named one.
            std::string stage;
            for (auto& s : of_type({"AWS::ApiGatewayV2::Stage"}))
                if (opt_str(res_ptr(s) + "/Properties/ApiId") == physical_name(id))
                    if (auto name = opt_str(res_ptr(s) + "/Properties/StageName"); name && (stage.empty() || *name == "$default"))
                        stage = *name;
            auto& a = api(id, gateway::ApiType::http, opt_str(child(p, "Name")).value_or(id), stage);
            if (at(child(p, "CorsConfiguration"))) a.cors = cors_from(child(p, "CorsConfiguration"), {"*"});
            if (auto target = opt_str(child(p, "Target"))) {  // quick create
                gateway::RouteSpec r;
                r.method = "$default";
                r.function = function_from(*target);
                add_route(a, std::move(r), p);
            }
        }
        std::map<std::string, std::pair<std::string, std::string>> integrations;  // id -> function, payload version
        for (auto& id : of_type({"AWS::ApiGatewayV2::Integration"})) {
            std::string p = res_ptr(id) + "/Properties";
            std::string type = upper(opt_str(child(p, "IntegrationType")).value_or(""));
            if (type != "AWS_PROXY") {
                notice(p, "integration " + id + ": only AWS_PROXY (Lambda) integrations are emulated");
                continue;
            }
            integrations[id] = {function_from(str(child(p, "IntegrationUri"))), opt_str(child(p, "PayloadFormatVersion")).value_or("2.0")};
        }
        for (auto& id : of_type({"AWS::ApiGatewayV2::Authorizer"})) {
            std::string p = res_ptr(id) + "/Properties";
            auto* a = api_by_id(str(child(p, "ApiId")));
            if (!a) fail(child(p, "ApiId"), "authorizer " + id + ": ApiId is not an HTTP API of this template");
            gateway::AuthorizerSpec s;
            s.name = id;
            std::string type = upper(opt_str(child(p, "AuthorizerType")).value_or("JWT"));
            s.identity_sources = str_list(child(p, "IdentitySource"));
            if (type == "JWT") {
                s.kind = gateway::AuthorizerSpec::Kind::jwt;
                s.issuer = opt_str((p + "/JwtConfiguration/Issuer")).value_or("");
                s.audiences = str_list((p + "/JwtConfiguration/Audience"));
            } else {
                s.kind = gateway::AuthorizerSpec::Kind::request;
                s.function = function_from(str(child(p, "AuthorizerUri")));
                s.payload_format_version = opt_str(child(p, "AuthorizerPayloadFormatVersion")).value_or("2.0");
                s.simple_responses = opt_bool(child(p, "EnableSimpleResponses")).value_or(false);
                if (auto ttl = opt_int(child(p, "AuthorizerResultTtlInSeconds"))) s.result_ttl_seconds = static_cast<int>(*ttl);
            }
            add_authorizer(*a, std::move(s));
        }
        for (auto& id : of_type({"AWS::ApiGatewayV2::Route"})) {
            std::string p = res_ptr(id) + "/Properties";
            auto* a = api_by_id(str(child(p, "ApiId")));
            if (!a) fail(child(p, "ApiId"), "route " + id + ": ApiId is not an HTTP API of this template");
            std::string key = str(child(p, "RouteKey"));
            gateway::RouteSpec r;
            if (key == "$default") r.method = "$default";
            else {
                auto sp = key.find(' ');
                if (sp == std::string::npos) fail(child(p, "RouteKey"), "RouteKey must be 'METHOD /path' or $default");
                r.method = key.substr(0, sp);
                r.path = key.substr(sp + 1);
            }
            std::string target = opt_str(child(p, "Target")).value_or("");
            std::string integ = target.rfind("integrations/", 0) == 0 ? target.substr(13) : target;
            auto it = integrations.find(integ);
            if (it == integrations.end()) {
                notice(p, "route " + id + " has no Lambda integration: ignored");
                continue;
            }
            r.function = it->second.first;
            r.payload_format_version = it->second.second;
            std::string auth = upper(opt_str(child(p, "AuthorizationType")).value_or("NONE"));
            if (auth == "JWT" || auth == "CUSTOM") r.authorizer = opt_str(child(p, "AuthorizerId")).value_or("");
            else if (auth == "AWS_IAM") notice(p, "route " + id + ": AWS_IAM authorization is not emulated (the route is open)");
            r.scopes = str_list(child(p, "AuthorizationScopes"));
            add_route(*a, std::move(r), res_ptr(id));
        }
    }

    // ---- CloudFront ----
    std::optional<Site> cloudfront_site() {
        for (auto& id : of_type({"AWS::CloudFront::Distribution"})) {
            std::string p = res_ptr(id) + "/Properties/DistributionConfig";
            json dc = val(p);
            if (!dc.is_object()) continue;
            std::map<std::string, std::string> bucket_origins;                          // origin id -> bucket
            std::map<std::string, std::pair<std::string, std::string>> api_origins;  // origin id -> api id, path
            for (auto& o : dc.value("Origins", json::array())) {
                std::string oid = o.value("Id", ""), domain = o.value("DomainName", "");
                auto s3 = domain.find(".s3");
                auto api = domain.find(".execute-api.");
                if (api != std::string::npos) api_origins[oid] = {domain.substr(0, api), o.value("OriginPath", "")};
                else if (s3 != std::string::npos) bucket_origins[oid] = domain.substr(0, s3);
            }
            std::string default_origin = dc.value("DefaultCacheBehavior", json::object()).value("TargetOriginId", "");
            auto b = bucket_origins.find(default_origin);
            if (b == bucket_origins.end()) {
                notice(p, "distribution " + id + ": its default behaviour's origin is not a bucket of this app; not served");
                continue;
            }
            Site s;
            s.config.bucket = b->second;
            s.config.spa = false;
            std::string root = dc.value("DefaultRootObject", "");
            if (!root.empty()) s.config.index = root;
            for (auto& e : dc.value("CustomErrorResponses", json::array())) {
                emulator::SiteConfig::ErrorResponse r;
                auto num = [](const json& v) { return v.is_string() ? std::atoi(v.get<std::string>().c_str()) : v.is_number() ? v.get<int>() : 0; };
                r.error_code = num(e.value("ErrorCode", json(404)));
                r.page = e.value("ResponsePagePath", "");
                r.response_code = num(e.value("ResponseCode", json(0)));
                s.config.error_responses.push_back(std::move(r));
            }
            for (auto& cb : dc.value("CacheBehaviors", json::array())) {
                auto a = api_origins.find(cb.value("TargetOriginId", ""));
                if (a == api_origins.end()) continue;
                std::string pattern = cb.value("PathPattern", "");
                while (!pattern.empty() && (pattern.back() == '*' || pattern.back() == '/')) pattern.pop_back();
                if (pattern.empty() || pattern[0] != '/') pattern = "/" + pattern;
                s.config.api_routes.push_back({pattern, a->second.second});
                s.api_id = a->second.first;
            }
            return s;
        }
        return std::nullopt;
    }

    std::optional<Site> website_bucket_site() {
        for (auto& b : app_.buckets) {
            auto w = b.configs.find("website");
            if (w == b.configs.end()) continue;
            Site s;
            s.config.bucket = b.name;
            auto grab = [&](const std::string& open, const std::string& close) -> std::string {
                auto a = w->second.find(open);
                if (a == std::string::npos) return "";
                auto z = w->second.find(close, a);
                return w->second.substr(a + open.size(), z - a - open.size());
            };
            std::string index = grab("<IndexDocument><Suffix>", "</Suffix>");
            std::string error = grab("<ErrorDocument><Key>", "</Key>");
            if (!index.empty()) s.config.index = index;
            s.config.spa = error.empty() || error == s.config.index;
            if (!s.config.spa) s.config.error_responses.push_back({404, "/" + error, 404});
            return s;
        }
        return std::nullopt;
    }

    void outputs(const std::string& pointer) {
        const json* o = at(pointer);
        if (!o || !o->is_object()) return;
        for (auto& [k, v] : o->items()) {
            if (!v.is_object() || !v.contains("Value")) continue;
            try {
                json x = ix_.eval(v["Value"], child(child(pointer, k), "Value"));
                app_.outputs[k] = x.is_string() ? x.get<std::string>() : x.dump();
            } catch (const ConfigError&) {
                // An output naming something not emulated is left out, not an error.
            }
        }
    }

    void finish_apis() {
        for (auto& key : api_order_) {
            auto& a = apis_.at(key);
            if (!a.routes.empty()) app_.apis.push_back(a);
        }
    }

    Document& doc_;
    App& app_;
    std::string base_;
    Intrinsics& ix_;
    std::map<std::string, std::string> types_;
    std::map<std::string, std::string> names_;
    std::set<std::string> naming_;
    std::map<std::string, gateway::ApiSpec> apis_;
    std::vector<std::string> api_order_;
    std::map<std::string, Mark> route_marks_;
    std::map<std::string, std::string> serverless_functions_;  // key -> deployed name
    std::map<std::string, std::string> serverless_layers_;     // key -> layer name

    // A function's Layers / layers: version ARNs or layers of this app (markers).
    std::vector<std::string> layer_list(const std::string& pointer) {
        json v = val(pointer);
        std::vector<std::string> out;
        if (v.is_null()) return out;
        if (!v.is_array()) fail(pointer, "layers must be a list of layer version ARNs or references to layers of this app");
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (!v[i].is_string()) fail(child(pointer, i), "a layer is a version ARN or a reference (Ref) to a layer of this app");
            out.push_back(v[i].get<std::string>());
        }
        if (out.size() > 5) fail(pointer, "a function uses at most 5 layers");
        return out;
    }
    // A layer directory of this app.
    void add_layer(const std::string& key, const std::string& name, const std::string& rel, const std::string& pointer,
                   std::vector<std::string> runtimes, std::string description) {
        Layer l;
        l.key = key;
        l.name = name;
        l.dir = (fs::path(app_.dir) / rel).lexically_normal().string();
        while (l.dir.size() > 1 && l.dir.back() == '/') l.dir.pop_back();
        if (!fs::is_directory(l.dir)) fail(pointer, "layer folder " + rel + " does not exist");
        l.compatible_runtimes = std::move(runtimes);
        l.description = std::move(description);
        l.mark = doc_.mark(pointer);
        app_.layers.push_back(std::move(l));
    }
};

// ---- serverless.yml ----

const std::set<std::string>& unsupported_events() {
    static const std::set<std::string> s = {"sqs", "sns", "alb", "alexaSkill", "alexaSmartHome", "iot", "iotFleetProvisioning",
                                            "cloudwatchEvent", "cloudwatchLog", "cognitoUserPool", "eventBridge", "kafka",
                                            "activemq", "rabbitmq", "msk", "websocket", "cloudFront"};
    return s;
}

std::optional<std::string> rest_authorizer(Builder& b, gateway::ApiSpec& a, const std::string& p) {
    json v = b.val(p);
    if (v.is_null()) return std::nullopt;
    gateway::AuthorizerSpec s;
    s.kind = gateway::AuthorizerSpec::Kind::token;
    std::string ref;
    if (v.is_string()) {
        ref = v.get<std::string>();
        if (core::ascii_lower(ref) == "aws_iam") {
            b.notice(p, "aws_iam authorization is not emulated (the route is open)");
            return std::nullopt;
        }
    } else if (v.is_object()) {
        std::string type = core::ascii_lower(v.value("type", "token"));
        std::string arn = v.value("arn", "");
        if (type == "aws_iam" || type == "cognito_user_pools" || arn.find("cognito-idp") != std::string::npos) {
            b.notice(p, "authorizer of type " + type + " is not emulated (the route is open)");
            return std::nullopt;
        }
        if (type == "request") s.kind = gateway::AuthorizerSpec::Kind::request;
        else if (type != "token") b.fail(child(p, "type"), "authorizer type must be token or request, got " + type);
        ref = v.value("functionName", v.value("arn", v.value("name", "")));
        if (v.contains("identitySource") && v["identitySource"].is_string()) s.identity_sources = split(v["identitySource"].get<std::string>(), ',');
        s.validation_expression = v.value("identityValidationExpression", "");
        if (v.contains("resultTtlInSeconds")) s.result_ttl_seconds = b.opt_int(child(p, "resultTtlInSeconds")).value_or(300);
        if (v.contains("name") && v["name"].is_string()) s.name = v["name"].get<std::string>();
    } else {
        b.fail(p, "authorizer must be a function name, an ARN or a mapping");
    }
    if (ref.empty()) b.fail(p, "authorizer names no function");
    s.function = b.function_ref(ref);
    if (s.name.empty()) s.name = function_from(ref);
    if (s.identity_sources.empty()) s.identity_sources = {"method.request.header.Authorization"};
    std::string name = s.name;
    b.add_authorizer(a, std::move(s));
    return name;
}

void serverless_http_event(Builder& b, Function& f, const std::string& p) {
    json v = b.val(p);
    gateway::RouteSpec r;
    r.function = f.name;
    auto& a = b.rest_api();
    if (v.is_string()) {
        auto parts = split(v.get<std::string>(), ' ');
        if (parts.size() != 2) b.fail(p, "http event must be 'METHOD path' or a mapping with method and path");
        r.method = parts[0];
        r.path = parts[1];
    } else if (v.is_object()) {
        if (!v.contains("path") || !v.contains("method")) b.fail(p, "http event needs a path and a method");
        r.path = b.str(child(p, "path"));
        r.method = b.str(child(p, "method"));
        if (v.contains("cors") && v["cors"] != false) {
            std::vector<std::string> methods = {upper(r.method) == "ANY" ? "*" : upper(r.method), "OPTIONS"};
            r.cors = b.cors_from(child(p, "cors"), methods);
        }
        if (auto priv = b.opt_bool(child(p, "private"))) r.api_key_required = *priv;
        if (auto auth = rest_authorizer(b, a, child(p, "authorizer"))) r.authorizer = *auth;
        std::string integration = core::ascii_lower(v.value("integration", "lambda-proxy"));
        if (integration != "lambda-proxy" && integration != "aws_proxy")
            b.notice(child(p, "integration"), "integration " + integration + " is emulated as lambda-proxy");
        if (v.contains("async") && v["async"] == true) b.notice(child(p, "async"), "async http events are invoked synchronously");
        if (auto t = b.opt_int(child(p, "timeout"))) r.timeout_ms = static_cast<int>(*t) * 1000;
    } else {
        b.fail(p, "http event must be 'METHOD path' or a mapping");
    }
    if (r.method == "any" || r.method == "*") r.method = "ANY";
    b.add_route(a, std::move(r), p);
}

void serverless_http_api_event(Builder& b, Function& f, const std::string& p, const json& provider_http) {
    json v = b.val(p);
    gateway::RouteSpec r;
    r.function = f.name;
    auto& a = b.http_api();
    std::string route;
    if (v.is_string()) route = v.get<std::string>();
    else if (v.is_object()) {
        std::string method = v.contains("method") ? b.str(child(p, "method")) : "*";
        std::string path = v.contains("path") ? b.str(child(p, "path")) : "*";
        route = path == "*" && method == "*" ? "*" : method + " " + path;
        json auth = v.value("authorizer", json());
        if (auth.is_string()) auth = json{{"name", auth}};
        if (auth.is_object()) {
            if (auth.contains("type") && core::ascii_lower(auth.value("type", "")) == "aws_iam") {
                b.notice(child(p, "authorizer"), "aws_iam authorization is not emulated (the route is open)");
            } else if (auth.contains("id")) {
                b.notice(child(p, "authorizer"), "authorizers of an existing API (authorizer.id) are not emulated");
            } else {
                std::string name = auth.value("name", "");
                const json* defs = provider_http.contains("authorizers") ? &provider_http["authorizers"] : nullptr;
                if (!defs || !defs->contains(name)) b.fail(child(p, "authorizer"), "no authorizer '" + name + "' in provider.httpApi.authorizers");
                r.authorizer = name;
                if (auth.contains("scopes")) r.scopes = b.str_list(child(child(p, "authorizer"), "scopes"));
            }
        }
        if (v.contains("payload")) r.payload_format_version = b.str(child(p, "payload"));
    } else {
        b.fail(p, "httpApi event must be 'METHOD path', '*' or a mapping");
    }
    route = trim(route);
    if (route == "*") r.method = "$default";
    else {
        auto parts = split(route, ' ');
        if (parts.size() != 2) b.fail(p, "httpApi event must be 'METHOD /path' or '*', got '" + route + "'");
        r.method = parts[0] == "*" ? "ANY" : parts[0];
        r.path = parts[1];
    }
    if (r.payload_format_version.empty() && provider_http.contains("payload") && provider_http["payload"].is_string())
        r.payload_format_version = provider_http["payload"].get<std::string>();
    b.add_route(a, std::move(r), p);
}

void serverless_http_api_config(Builder& b, const std::string& p) {
    const json* v = b.at(p);
    if (!v || !v->is_object()) return;
    auto& a = b.http_api();
    if (v->contains("cors") && (*v)["cors"] != false) a.cors = b.cors_from(child(p, "cors"), {"*"});
    if (v->contains("id")) b.notice(child(p, "id"), "provider.httpApi.id (an existing API): a new HTTP API is emulated");
    if (v->contains("authorizers") && (*v)["authorizers"].is_object())
        for (auto& [name, def] : (*v)["authorizers"].items()) {
            std::string ap = child(child(p, "authorizers"), name);
            gateway::AuthorizerSpec s;
            s.name = name;
            std::string type = core::ascii_lower(def.value("type", "jwt"));
            if (def.contains("identitySource")) s.identity_sources = b.str_list(child(ap, "identitySource"));
            if (type == "jwt") {
                s.kind = gateway::AuthorizerSpec::Kind::jwt;
                if (!def.contains("issuerUrl")) b.fail(ap, "JWT authorizer " + name + " needs an issuerUrl");
                s.issuer = b.str(child(ap, "issuerUrl"));
                s.audiences = b.str_list(child(ap, "audience"));
            } else if (type == "request") {
                s.kind = gateway::AuthorizerSpec::Kind::request;
                std::string fn = def.value("functionName", def.value("functionArn", ""));
                if (fn.empty()) b.fail(ap, "request authorizer " + name + " needs a functionName or functionArn");
                s.function = b.function_ref(fn);
                s.payload_format_version = def.value("payloadVersion", "2.0");
                s.simple_responses = def.value("enableSimpleResponses", false);
                if (auto ttl = b.opt_int(child(ap, "resultTtlInSeconds"))) s.result_ttl_seconds = static_cast<int>(*ttl);
            } else {
                b.fail(child(ap, "type"), "authorizer type must be jwt or request, got " + type);
            }
            b.add_authorizer(a, std::move(s));
        }
}

void serverless_stream_event(Builder& b, Function& f, const std::string& p) {
    json v = b.val(p);
    lambda::EventSourceMappingSpec m;
    m.function = f.name;
    if (v.is_string()) {
        m.event_source_arn = stream_source(v.get<std::string>());
    } else if (v.is_object()) {
        std::string type = v.value("type", "dynamodb");
        if (type == "kinesis") {
            b.notice(p, "Kinesis streams are not emulated: event ignored");
            return;
        }
        if (!v.contains("arn")) b.fail(p, "stream event needs an arn");
        json arn = v["arn"];
        if (!arn.is_string()) b.fail(child(p, "arn"), "stream arn must be a string or Fn::GetAtt [Table, StreamArn]");
        m.event_source_arn = stream_source(arn.get<std::string>());
        if (auto x = b.opt_int(child(p, "batchSize"))) m.batch_size = static_cast<int>(*x);
        if (v.contains("startingPosition")) m.starting_position = b.str(child(p, "startingPosition"));
        if (auto x = b.opt_bool(child(p, "enabled"))) m.enabled = *x;
        if (auto x = b.opt_int(child(p, "batchWindow"))) m.maximum_batching_window_seconds = static_cast<int>(*x);
        if (auto x = b.opt_int(child(p, "maximumRetryAttempts"))) m.maximum_retry_attempts = static_cast<int>(*x);
        if (auto x = b.opt_int(child(p, "maximumRecordAgeInSeconds"))) m.maximum_record_age_seconds = static_cast<int>(*x);
        if (auto x = b.opt_bool(child(p, "bisectBatchOnFunctionError"))) m.bisect_batch_on_function_error = *x;
        if (v.value("functionResponseType", "") == "ReportBatchItemFailures") m.report_batch_item_failures = true;
        if (v.contains("filterPatterns") && v["filterPatterns"].is_array())
            for (auto& fp : v["filterPatterns"]) m.filter_patterns.push_back(fp.is_string() ? fp.get<std::string>() : fp.dump());
        if (v.contains("destinations") && v["destinations"].contains("onFailure")) {
            auto& of = v["destinations"]["onFailure"];
            m.on_failure_destination = of.is_string() ? of.get<std::string>() : of.value("arn", "");
        }
    } else {
        b.fail(p, "stream event must be an ARN or a mapping");
    }
    b.stream_mapping(std::move(m), p);
}

void serverless_s3_event(Builder& b, Function& f, const std::string& p) {
    json v = b.val(p);
    BucketTrigger t;
    t.function = f.name;
    if (v.is_string()) {
        t.bucket = v.get<std::string>();
        t.events = {"s3:ObjectCreated:*"};
    } else if (v.is_object()) {
        if (!v.contains("bucket") || !v["bucket"].is_string()) b.fail(p, "s3 event needs a bucket name");
        t.bucket = v["bucket"].get<std::string>();
        t.events = {v.value("event", "s3:ObjectCreated:*")};
        if (v.contains("rules") && v["rules"].is_array())
            for (auto& r : v["rules"]) {
                if (r.contains("prefix")) t.prefix = r["prefix"].get<std::string>();
                if (r.contains("suffix")) t.suffix = r["suffix"].get<std::string>();
            }
    } else {
        b.fail(p, "s3 event must be a bucket name or a mapping");
    }
    // serverless creates the bucket unless `existing: true`; offline it is made either way.
    b.bucket(t.bucket, "", p);
    b.app_.bucket_triggers.push_back(std::move(t));
}

void serverless_schedule_event(Builder& b, Function& f, const std::string& p, int n) {
    json v = b.val(p);
    std::vector<std::string> rates;
    lambda::ScheduleSpec s;
    s.function = f.name;
    if (v.is_string()) rates = {v.get<std::string>()};
    else if (v.is_object()) {
        rates = b.str_list(child(p, "rate"));
        if (auto e = b.opt_bool(child(p, "enabled"))) s.enabled = *e;
        if (v.contains("input")) s.input = v["input"].is_string() ? v["input"].get<std::string>() : v["input"].dump();
        if (v.contains("inputPath")) s.input_path = b.str(child(p, "inputPath"));
        if (v.contains("inputTransformer")) {
            auto& it = v["inputTransformer"];
            if (it.contains("inputPathsMap")) s.input_paths_map = it["inputPathsMap"].dump();
            if (it.contains("inputTemplate")) s.input_template = it["inputTemplate"].get<std::string>();
        }
        if (v.contains("name")) s.name = b.str(child(p, "name"));
    } else {
        b.fail(p, "schedule event must be rate(...) / cron(...) or a mapping");
    }
    if (rates.empty()) b.fail(p, "schedule event needs a rate");
    std::string base = s.name.empty() ? f.name + "-schedule-" + std::to_string(n) : s.name;
    for (std::size_t i = 0; i < rates.size(); ++i) {
        auto& r = rates[i];
        if (r.rfind("rate(", 0) != 0 && r.rfind("cron(", 0) != 0)
            b.fail(p, "schedule must be rate(...) or cron(...), got '" + r + "'");
        lambda::ScheduleSpec one = s;
        one.expression = r;
        one.name = rates.size() == 1 ? base : base + "-" + std::to_string(i + 1);
        b.app_.schedules.push_back(std::move(one));
    }
}

std::vector<emulator::SiteConfig::ApiRoute> api_prefixes(Builder& b, const std::string& p, const std::string& default_origin_path) {
    std::vector<emulator::SiteConfig::ApiRoute> out;
    json v = b.val(p);
    if (v.is_null()) return out;
    json list = v.is_array() ? v : json::array({v});
    for (auto& x : list) {
        emulator::SiteConfig::ApiRoute r;
        if (x.is_string()) {
            r.prefix = x.get<std::string>();
            r.origin_path = default_origin_path;
        } else if (x.is_object()) {
            r.prefix = x.value("path", x.value("prefix", ""));
            r.origin_path = x.value("originPath", default_origin_path);
        }
        while (!r.prefix.empty() && (r.prefix.back() == '*' || r.prefix.back() == '/')) r.prefix.pop_back();
        if (r.prefix.empty() || r.prefix[0] != '/') b.fail(p, "apiPrefix must be a path such as /api");
        out.push_back(std::move(r));
    }
    return out;
}

void serverless_site(Builder& b, const std::string& custom) {
    App& app = b.app_;
    std::optional<Site> site;
    auto dir_of = [&](const std::string& d) { return (fs::path(app.dir) / d).lexically_normal().string(); };
    // serverless-finch
    if (const json* c = b.at(child(custom, "client")); c && c->is_object() && c->contains("bucketName")) {
        Site s;
        std::string p = child(custom, "client");
        s.config.bucket = b.str(child(p, "bucketName"));
        s.dir = dir_of(c->value("distributionFolder", "client/dist"));
        s.config.index = c->value("indexDocument", "index.html");
        std::string error = c->value("errorDocument", s.config.index);
        s.config.spa = error == s.config.index;
        if (!s.config.spa) s.config.error_responses.push_back({404, "/" + error, 404});
        site = s;
    }
    // serverless-s3-sync
    if (const json* c = b.at(child(custom, "s3Sync")); c && !site) {
        std::string p = child(custom, "s3Sync");
        json entries = c->is_object() && c->contains("buckets") ? (*c)["buckets"] : *c;
        if (c->is_object() && c->contains("buckets")) p = child(p, "buckets");
        if (entries.is_array())
            for (std::size_t i = 0; i < entries.size(); ++i) {
                auto& e = entries[i];
                std::string name;
                if (e.contains("bucketName")) name = b.str(child(child(p, i), "bucketName"));
                else if (e.contains("bucketNameKey")) {
                    auto o = app.outputs.find(e["bucketNameKey"].get<std::string>());
                    if (o != app.outputs.end()) name = o->second;
                }
                if (name.empty()) continue;
                bool website = false;
                for (auto& bk : app.buckets)
                    if (bk.name == name && bk.configs.count("website")) website = true;
                if (site && !website) continue;
                Site s;
                s.config.bucket = name;
                s.dir = dir_of(e.value("localDir", "dist"));
                site = s;
                if (website) break;
            }
    }
    if (!site) site = b.cloudfront_site();
    if (!site) site = b.website_bucket_site();
    // custom.stratus.site: stratus's own form, and settings over the conventions above.
    if (const json* c = b.at(child(child(custom, "stratus"), "site")); c && c->is_object()) {
        std::string p = child(child(custom, "stratus"), "site");
        if (!site) site = Site{};
        if (c->contains("bucket")) site->config.bucket = b.str(child(p, "bucket"));
        if (site->config.bucket.empty()) b.fail(p, "custom.stratus.site needs a bucket");
        if (c->contains("dir")) site->dir = dir_of(b.str(child(p, "dir")));
        if (auto spa = b.opt_bool(child(p, "spa"))) site->config.spa = *spa;
        if (c->contains("index")) site->config.index = b.str(child(p, "index"));
        if (c->contains("apiPrefix")) {
            bool http = false;
            for (auto& [k, a] : b.apis_)
                if (a.type == gateway::ApiType::http && !a.routes.empty()) http = true;
            auto routes = api_prefixes(b, child(p, "apiPrefix"), http ? "" : "/" + app.stage);
            site->config.api_routes = routes;
        }
    }
    if (site) {
        b.bucket(site->config.bucket, "", custom);
        if (!site->dir.empty() && !fs::is_directory(site->dir))
            b.notice(custom, "site folder " + site->dir + " does not exist yet: nothing synced until it does");
        app.site = std::move(site);
    }
}

void build_serverless(Document& doc, App& app, const LoadOptions& o) {
    const json& root = doc.root;
    if (!root.is_object()) doc.fail("", "serverless config must be a mapping");
    if (!root.contains("service")) doc.fail("", "no service name (service: my-app)");
    const json& svc = root["service"];
    app.service = svc.is_string() ? svc.get<std::string>() : svc.is_object() ? svc.value("name", "") : "";
    if (app.service.empty()) doc.fail("/service", "service must be a name");
    const json provider = root.value("provider", json::object());
    if (!provider.is_object()) doc.fail("/provider", "provider must be a mapping");
    if (provider.value("name", "aws") != "aws") doc.fail("/provider/name", "only provider aws is supported");
    app.stage = !o.stage.empty() ? o.stage : provider.value("stage", "dev");
    app.region = provider.value("region", "us-east-1");
    Intrinsics ix(doc, "/resources", {}, app.region, app.service + "-" + app.stage, app.notices);
    Builder b(doc, app, "/resources", ix);
    b.index_resources();

    const json* fns = b.at("/functions");
    if (fns && !fns->is_null() && !fns->is_object()) doc.fail("/functions", "functions must be a mapping");
    if (fns && fns->is_object())
        for (auto& [key, f] : fns->items())
            b.serverless_functions_[key] = f.is_object() && f.contains("name") && f["name"].is_string()
                                               ? f["name"].get<std::string>()
                                               : app.service + "-" + app.stage + "-" + key;
    if (const json* ls = b.at("/layers"); ls && !ls->is_null()) {
        if (!ls->is_object()) doc.fail("/layers", "layers must be a mapping");
        for (auto& [key, l] : ls->items()) {
            std::string p = child("/layers", key);
            if (!l.is_object() || !l.contains("path")) doc.fail(p, "layer " + key + " needs a path (its folder)");
            std::string name = b.opt_str(child(p, "name")).value_or(key);
            b.serverless_layers_[key] = name;
            b.add_layer(key, name, b.str(child(p, "path")), child(p, "path"), b.str_list(child(p, "compatibleRuntimes")),
                        b.opt_str(child(p, "description")).value_or(""));
        }
    }
    b.tables();
    b.buckets();
    serverless_http_api_config(b, "/provider/httpApi");
    const json http_config = provider.value("httpApi", json::object());
    if (const json* ag = b.at("/provider/apiGateway"); ag && ag->is_object()) {
        auto& a = b.rest_api();
        for (auto& t : b.str_list("/provider/apiGateway/binaryMediaTypes")) a.binary_media_types.push_back(t);
        if (ag->contains("restApiId")) b.notice("/provider/apiGateway/restApiId", "an existing REST API: a new one is emulated");
    }
    // API keys: provider.apiGateway.apiKeys (v3) or provider.apiKeys (v1/v2).
    for (std::string p : {"/provider/apiGateway/apiKeys", "/provider/apiKeys"}) {
        json keys = b.val(p);
        if (!keys.is_array()) continue;
        for (auto& k : keys) {
            std::string value;
            if (k.is_object()) value = k.value("value", "");
            if (value.empty()) {
                std::string name = k.is_string() ? k.get<std::string>() : k.value("name", "key");
                value = api_id(app.service + "/" + app.stage + "/key/" + name) + api_id(name + "/value");
                app.notices.push_back(ConfigError::format(doc.mark(p), "API key " + name + " has no value: use " + value));
            }
            b.rest_api().api_keys.push_back(value);
        }
    }
    if (fns && fns->is_object())
        for (auto& [key, fj] : fns->items()) {
            std::string p = child("/functions", key);
            if (!fj.is_object()) doc.fail(p, "function " + key + " must be a mapping");
            if (fj.contains("image")) doc.fail(child(p, "image"), "container image functions are not supported");
            if (!fj.contains("handler")) doc.fail(p, "function " + key + " has no handler");
            Function f;
            f.key = key;
            f.name = b.serverless_functions_[key];
            f.mark = doc.mark(p);
            f.handler = b.str(child(p, "handler"));
            f.runtime = fj.contains("runtime") ? b.str(child(p, "runtime")) : provider.value("runtime", "nodejs20.x");
            b.check_runtime(f.runtime, fj.contains("runtime") ? child(p, "runtime") : "/provider/runtime");
            f.code_dir = app.dir;
            b.check_handler(f, child(p, "handler"));
            f.timeout = static_cast<int>(b.opt_int(child(p, "timeout")).value_or(b.opt_int("/provider/timeout").value_or(6)));
            f.memory_size = static_cast<int>(b.opt_int(child(p, "memorySize")).value_or(b.opt_int("/provider/memorySize").value_or(1024)));
            if (auto rc = b.opt_int(child(p, "reservedConcurrency"))) f.reserved_concurrency = static_cast<int>(*rc);
            f.environment = b.environment("/provider/environment");
            for (auto& [k, v] : b.environment(child(p, "environment"))) f.environment[k] = v;
            if (fj.contains("url")) b.notice(child(p, "url"), "function URLs are not emulated yet");
            // A function's layers replace the provider's.
            f.layers = b.layer_list(fj.contains("layers") ? child(p, "layers") : "/provider/layers");
            if (const json* ev = b.at(child(p, "events")); ev && !ev->is_null()) {
                if (!ev->is_array()) doc.fail(child(p, "events"), "events must be a list");
                int schedules = 0;
                for (std::size_t i = 0; i < ev->size(); ++i) {
                    std::string ep = child(child(p, "events"), i);
                    const json& e = (*ev)[i];
                    if (!e.is_object() || e.size() != 1) doc.fail(ep, "an event is a mapping with one key (http, httpApi, stream, s3, schedule, ...)");
                    std::string type = e.begin().key();
                    std::string tp = child(ep, type);
                    if (type == "http") serverless_http_event(b, f, tp);
                    else if (type == "httpApi") serverless_http_api_event(b, f, tp, http_config);
                    else if (type == "stream") serverless_stream_event(b, f, tp);
                    else if (type == "s3") serverless_s3_event(b, f, tp);
                    else if (type == "schedule") serverless_schedule_event(b, f, tp, ++schedules);
                    else if (unsupported_events().count(type)) b.notice(tp, type + " events are not emulated: ignored");
                    else doc.fail(ep, "unknown event type '" + type + "' (stratus knows http, httpApi, stream, s3, schedule)");
                }
            }
            app.functions.push_back(std::move(f));
        }
    b.esm_resources();
    b.raw_rest_apis();
    b.raw_http_apis();
    for (auto& id : b.of_type({"AWS::ApiGateway::GatewayResponse"})) (void)id;  // handled by raw_rest_apis
    b.accept_others();
    b.outputs("/resources/Outputs");
    serverless_site(b, "/custom");
    b.finish_apis();
}

// ---- SAM / CloudFormation ----

void sam_rest_api_config(Builder& b, gateway::ApiSpec& a, const json& props, const std::string& p,
                         std::map<std::string, std::string>& default_auth, std::map<std::string, gateway::CorsSpec>& cors) {
    if (!props.is_object()) return;
    if (props.contains("Auth")) {
        auto& auth = props["Auth"];
        std::string ap = child(p, "Auth");
        if (auth.contains("Authorizers"))
            for (auto& [name, def] : auth["Authorizers"].items()) {
                std::string dp = child(child(ap, "Authorizers"), name);
                if (def.contains("UserPoolArn")) {
                    b.notice(dp, "authorizer " + name + ": Cognito user pools are not emulated (routes using it are open)");
                    continue;
                }
                gateway::AuthorizerSpec s;
                s.name = name;
                s.kind = upper(def.value("FunctionPayloadType", "TOKEN")) == "REQUEST" ? gateway::AuthorizerSpec::Kind::request
                                                                                       : gateway::AuthorizerSpec::Kind::token;
                if (!def.contains("FunctionArn")) b.fail(dp, "authorizer " + name + " needs a FunctionArn");
                s.function = b.function_ref(def["FunctionArn"].is_string() ? def["FunctionArn"].get<std::string>() : "");
                json id = def.value("Identity", json::object());
                if (s.kind == gateway::AuthorizerSpec::Kind::token) {
                    s.identity_sources = {"method.request.header." + id.value("Header", "Authorization")};
                } else {
                    for (auto& h : id.value("Headers", json::array())) s.identity_sources.push_back("method.request.header." + h.get<std::string>());
                    for (auto& q : id.value("QueryStrings", json::array())) s.identity_sources.push_back("method.request.querystring." + q.get<std::string>());
                }
                s.validation_expression = id.value("ValidationExpression", "");
                if (id.contains("ReauthorizeEvery")) s.result_ttl_seconds = id["ReauthorizeEvery"].is_number() ? id["ReauthorizeEvery"].get<int>() : 300;
                b.add_authorizer(a, std::move(s));
            }
        if (auth.contains("DefaultAuthorizer")) default_auth[a.id] = auth["DefaultAuthorizer"].get<std::string>();
        if (auth.contains("ApiKeyRequired") && auth["ApiKeyRequired"] == true) default_auth[a.id + "#key"] = "1";
    }
    if (props.contains("Cors")) cors[a.id] = b.cors_from(child(p, "Cors"), {"*"});
    if (props.contains("BinaryMediaTypes"))
        for (auto& t : props["BinaryMediaTypes"]) {
            std::string s = t.get<std::string>();
            for (std::size_t i; (i = s.find("~1")) != std::string::npos;) s.replace(i, 2, "/");
            a.binary_media_types.push_back(s);
        }
    if (props.contains("GatewayResponses"))
        for (auto& [type, def] : props["GatewayResponses"].items()) {
            json g = {{"ResponseType", type}};
            if (def.contains("StatusCode")) g["StatusCode"] = def["StatusCode"];
            if (def.contains("ResponseParameters") && def["ResponseParameters"].contains("Headers"))
                for (auto& [h, v] : def["ResponseParameters"]["Headers"].items()) g["ResponseParameters"]["gatewayresponse.header." + h] = v;
            if (def.contains("ResponseTemplates")) g["ResponseTemplates"] = def["ResponseTemplates"];
            b.gateway_responses(a, g);
        }
    if (props.contains("Variables") && props["Variables"].is_object())
        for (auto& [k, v] : props["Variables"].items())
            if (v.is_string()) a.stage_variables[k] = v.get<std::string>();
    if (props.contains("DefinitionBody") || props.contains("DefinitionUri"))
        b.notice(p, "OpenAPI definitions are not read: the API's routes come from its functions' events");
}

void sam_http_api_config(Builder& b, gateway::ApiSpec& a, const json& props, const std::string& p,
                         std::map<std::string, std::string>& default_auth) {
    if (!props.is_object()) return;
    if (props.contains("Auth")) {
        auto& auth = props["Auth"];
        std::string ap = child(p, "Auth");
        if (auth.contains("Authorizers"))
            for (auto& [name, def] : auth["Authorizers"].items()) {
                std::string dp = child(child(ap, "Authorizers"), name);
                gateway::AuthorizerSpec s;
                s.name = name;
                if (def.contains("JwtConfiguration")) {
                    s.kind = gateway::AuthorizerSpec::Kind::jwt;
                    auto& jc = def["JwtConfiguration"];
                    s.issuer = jc.value("issuer", jc.value("Issuer", ""));
                    json aud = jc.value("audience", jc.value("Audience", json::array()));
                    if (aud.is_string()) s.audiences = {aud.get<std::string>()};
                    else
                        for (auto& x : aud) s.audiences.push_back(x.get<std::string>());
                    if (def.contains("IdentitySource")) s.identity_sources = {def["IdentitySource"].get<std::string>()};
                } else if (def.contains("FunctionArn")) {
                    s.kind = gateway::AuthorizerSpec::Kind::request;
                    s.function = b.function_ref(def["FunctionArn"].get<std::string>());
                    s.payload_format_version = def.value("AuthorizerPayloadFormatVersion", json("2.0")).is_string()
                                                   ? def.value("AuthorizerPayloadFormatVersion", "2.0")
                                                   : def["AuthorizerPayloadFormatVersion"].dump();
                    s.simple_responses = def.value("EnableSimpleResponses", false);
                    json id = def.value("Identity", json::object());
                    for (auto& h : id.value("Headers", json::array())) s.identity_sources.push_back("$request.header." + h.get<std::string>());
                    if (id.contains("ReauthorizeEvery") && id["ReauthorizeEvery"].is_number()) s.result_ttl_seconds = id["ReauthorizeEvery"].get<int>();
                } else {
                    b.fail(dp, "HTTP API authorizer " + name + " needs JwtConfiguration or FunctionArn");
                }
                b.add_authorizer(a, std::move(s));
            }
        if (auth.contains("DefaultAuthorizer")) default_auth[a.id] = auth["DefaultAuthorizer"].get<std::string>();
    }
    if (props.contains("CorsConfiguration") && props["CorsConfiguration"] != false) a.cors = b.cors_from(child(p, "CorsConfiguration"), {"*"});
}

void build_sam(Document& doc, App& app, const LoadOptions& o) {
    const json& root = doc.root;
    if (!root.is_object() || !root.contains("Resources")) doc.fail("", "a template needs Resources");
    app.service = fs::path(app.dir).filename().string();
    if (auto it = o.params.find("StackName"); it != o.params.end()) app.service = it->second;
    app.stage = o.stage.empty() ? "Prod" : o.stage;
    // Parameters: defaults, overridden by --param K=V.
    std::map<std::string, json> params;
    if (root.contains("Parameters") && root["Parameters"].is_object())
        for (auto& [name, def] : root["Parameters"].items()) {
            std::string p = child("/Parameters", name);
            json v;
            if (auto it = o.params.find(name); it != o.params.end()) v = it->second;
            else if (def.contains("Default")) v = def["Default"];
            else doc.fail(p, "parameter " + name + " has no Default: give it with --param " + name + "=VALUE");
            std::string type = def.value("Type", "String");
            if (v.is_number()) v = v.is_number_integer() ? std::to_string(v.get<long long>()) : v.dump();
            if (v.is_boolean()) v = v.get<bool>() ? "true" : "false";
            if (def.contains("AllowedValues") && def["AllowedValues"].is_array()) {
                bool ok = false;
                for (auto& a : def["AllowedValues"]) ok = ok || (a.is_string() ? a.get<std::string>() : a.dump()) == v.get<std::string>();
                if (!ok) doc.fail(p, "parameter " + name + ": '" + v.get<std::string>() + "' is not one of its AllowedValues");
            }
            if (type == "CommaDelimitedList" || type.rfind("List<", 0) == 0) {
                json list = json::array();
                for (auto& s : split(v.get<std::string>(), ',')) list.push_back(s);
                v = list;
            }
            params[name] = v;
        }
    Intrinsics ix(doc, "", params, app.region, app.service, app.notices);
    Builder b(doc, app, "", ix);
    b.index_resources();
    json globals = root.value("Globals", json::object());
    json gf = globals.value("Function", json::object());

    for (auto& id : b.of_type({"AWS::Serverless::Function", "AWS::Lambda::Function"}))
        b.serverless_functions_[id] = b.physical_name(id);
    for (auto& id : b.of_type({"AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"})) {
        std::string p = b.res_ptr(id) + "/Properties";
        bool sam = b.type_of(id) == "AWS::Serverless::LayerVersion";
        std::string where = child(p, sam ? "ContentUri" : "Content");
        json content = b.val(where);
        // A local folder (what `sam build` / `aws cloudformation package` would upload).
        if (!content.is_string()) doc.fail(where, "layer " + id + ": give " + (sam ? "ContentUri" : "Content") + " a local folder (S3 content is not supported offline)");
        b.add_layer(id, b.physical_name(id), content.get<std::string>(), where, b.str_list(child(p, "CompatibleRuntimes")),
                    b.opt_str(child(p, "Description")).value_or(""));
    }
    b.tables();
    b.buckets();

    std::map<std::string, std::string> default_auth;
    std::map<std::string, gateway::CorsSpec> rest_cors;
    for (auto& id : b.of_type({"AWS::Serverless::Api"})) {
        std::string p = b.res_ptr(id) + "/Properties";
        json props = b.val(p);
        json merged = globals.value("Api", json::object());
        if (props.is_object())
            for (auto& [k, v] : props.items()) merged[k] = v;
        std::string stage = merged.value("StageName", json("Prod")).is_string() ? merged.value("StageName", "Prod") : "Prod";
        auto& a = b.api(id, gateway::ApiType::rest, merged.value("Name", id), stage);
        sam_rest_api_config(b, a, merged, p, default_auth, rest_cors);
    }
    for (auto& id : b.of_type({"AWS::Serverless::HttpApi"})) {
        std::string p = b.res_ptr(id) + "/Properties";
        json props = b.val(p);
        json merged = globals.value("HttpApi", json::object());
        if (props.is_object())
            for (auto& [k, v] : props.items()) merged[k] = v;
        // StageName: that stage, at /{stage} (SAM's default is $default, at the root).
        std::string stage = merged.value("StageName", json("$default")).is_string() ? merged.value("StageName", "$default") : "$default";
        auto& a = b.api(id, gateway::ApiType::http, merged.value("Name", id), stage);
        sam_http_api_config(b, a, merged, p, default_auth);
    }
    bool implicit_rest = false, implicit_http = false;
    auto implicit = [&](bool http) -> gateway::ApiSpec& {
        if (http) {
            auto& a = b.http_api();
            if (!implicit_http) sam_http_api_config(b, a, globals.value("HttpApi", json::object()), "/Globals/HttpApi", default_auth);
            implicit_http = true;
            return a;
        }
        auto& a = b.rest_api();
        if (!implicit_rest) sam_rest_api_config(b, a, globals.value("Api", json::object()), "/Globals/Api", default_auth, rest_cors);
        implicit_rest = true;
        return a;
    };

    for (auto& id : b.of_type({"AWS::Serverless::Function", "AWS::Lambda::Function"})) {
        std::string p = b.res_ptr(id) + "/Properties";
        bool sam = b.type_of(id) == "AWS::Serverless::Function";
        json props = b.val(p);
        if (!props.is_object()) props = json::object();
        auto prop = [&](const char* key) -> json {
            if (props.contains(key)) return props[key];
            if (sam && gf.contains(key)) return b.ix_.eval(gf[key], child("/Globals/Function", key));
            return json();
        };
        auto where = [&](const char* key) { return props.contains(key) ? child(p, key) : child("/Globals/Function", key); };
        if (prop("PackageType") == "Image") doc.fail(where("PackageType"), "container image functions are not supported");
        Function f;
        f.key = id;
        f.name = b.physical_name(id);
        f.mark = doc.mark(b.res_ptr(id));
        if (!prop("Handler").is_string()) doc.fail(p, "function " + id + " has no Handler");
        f.handler = prop("Handler").get<std::string>();
        f.runtime = prop("Runtime").is_string() ? prop("Runtime").get<std::string>() : "";
        if (f.runtime.empty()) doc.fail(p, "function " + id + " has no Runtime");
        b.check_runtime(f.runtime, where("Runtime"));
        json code = sam ? prop("CodeUri") : prop("Code");
        if (sam && props.contains("InlineCode")) doc.fail(child(p, "InlineCode"), "InlineCode is not supported: give CodeUri a folder");
        if (code.is_object()) {
            if (code.contains("ZipFile")) doc.fail(where(sam ? "CodeUri" : "Code"), "inline ZipFile code is not supported: give Code a local folder");
            doc.fail(where(sam ? "CodeUri" : "Code"), "code in S3 (Bucket / Key) is not supported offline: give a local folder");
        }
        std::string rel = code.is_string() ? code.get<std::string>() : ".";
        f.code_dir = (fs::path(app.dir) / rel).lexically_normal().string();
        while (f.code_dir.size() > 1 && f.code_dir.back() == '/') f.code_dir.pop_back();
        if (!fs::is_directory(f.code_dir)) doc.fail(where(sam ? "CodeUri" : "Code"), "code folder " + rel + " does not exist");
        b.check_handler(f, where("Handler"));
        f.timeout = prop("Timeout").is_number() ? prop("Timeout").get<int>() : 3;
        f.memory_size = prop("MemorySize").is_number() ? prop("MemorySize").get<int>() : 128;
        if (prop("ReservedConcurrentExecutions").is_number()) f.reserved_concurrency = prop("ReservedConcurrentExecutions").get<int>();
        if (props.contains("Layers")) f.layers = b.layer_list(child(p, "Layers"));
        else if (sam && gf.contains("Layers")) f.layers = b.layer_list("/Globals/Function/Layers");
        if (sam && gf.contains("Environment")) f.environment = b.environment("/Globals/Function/Environment/Variables");
        for (auto& [k, v] : b.environment((p + "/Environment/Variables"))) f.environment[k] = v;
        if (sam && props.contains("Events") && props["Events"].is_object())
            for (auto& [ename, ev] : props["Events"].items()) {
                std::string ep = child(child(p, "Events"), ename);
                std::string type = ev.value("Type", "");
                json e = ev.value("Properties", json::object());
                std::string pp = child(ep, "Properties");
                if (type == "Api") {
                    gateway::ApiSpec* a = nullptr;
                    if (e.contains("RestApiId")) {
                        a = b.api_by_id(e["RestApiId"].is_string() ? e["RestApiId"].get<std::string>() : "");
                        if (!a) doc.fail(child(pp, "RestApiId"), "RestApiId is not an AWS::Serverless::Api of this template");
                    } else {
                        a = &implicit(false);
                    }
                    gateway::RouteSpec r;
                    r.function = f.name;
                    if (!e.contains("Path") || !e.contains("Method")) doc.fail(pp, "Api event needs Path and Method");
                    r.path = e["Path"].get<std::string>();
                    r.method = e["Method"].get<std::string>();
                    std::string auth = default_auth.count(a->id) ? default_auth[a->id] : "";
                    if (e.contains("Auth")) {
                        auto& au = e["Auth"];
                        if (au.contains("Authorizer")) auth = au["Authorizer"].get<std::string>();
                        if (au.contains("ApiKeyRequired")) r.api_key_required = au["ApiKeyRequired"] == true;
                        if (au.contains("AuthorizationScopes"))
                            for (auto& s : au["AuthorizationScopes"]) r.scopes.push_back(s.get<std::string>());
                    } else if (default_auth.count(a->id + "#key")) {
                        r.api_key_required = true;
                    }
                    if (auth == "AWS_IAM") {
                        b.notice(pp, "AWS_IAM authorization is not emulated (the route is open)");
                        auth.clear();
                    }
                    if (!auth.empty() && auth != "NONE") {
                        bool known = false;
                        for (auto& x : a->authorizers) known = known || x.name == auth;
                        if (!known) doc.fail(pp, "authorizer " + auth + " is not defined on its API");
                        r.authorizer = auth;
                    }
                    if (rest_cors.count(a->id)) r.cors = rest_cors[a->id];
                    b.add_route(*a, std::move(r), ep);
                } else if (type == "HttpApi") {
                    gateway::ApiSpec* a = nullptr;
                    if (e.contains("ApiId")) {
                        a = b.api_by_id(e["ApiId"].is_string() ? e["ApiId"].get<std::string>() : "");
                        if (!a) doc.fail(child(pp, "ApiId"), "ApiId is not an AWS::Serverless::HttpApi of this template");
                    } else {
                        a = &implicit(true);
                    }
                    gateway::RouteSpec r;
                    r.function = f.name;
                    if (!e.contains("Path") && !e.contains("Method")) r.method = "$default";
                    else {
                        r.path = e.value("Path", "/");
                        r.method = e.value("Method", "ANY");
                        if (r.method == "*" || core::ascii_lower(r.method) == "x-amazon-apigateway-any-method") r.method = "ANY";
                    }
                    std::string auth = default_auth.count(a->id) ? default_auth[a->id] : "";
                    if (e.contains("Auth")) {
                        auto& au = e["Auth"];
                        if (au.contains("Authorizer")) auth = au["Authorizer"].get<std::string>();
                        if (au.contains("AuthorizationScopes"))
                            for (auto& s : au["AuthorizationScopes"]) r.scopes.push_back(s.get<std::string>());
                    }
                    if (!auth.empty() && auth != "NONE") {
                        bool known = false;
                        for (auto& x : a->authorizers) known = known || x.name == auth;
                        if (!known) doc.fail(pp, "authorizer " + auth + " is not defined on its API");
                        r.authorizer = auth;
                    }
                    if (e.contains("PayloadFormatVersion")) r.payload_format_version = e["PayloadFormatVersion"].get<std::string>();
                    if (e.contains("TimeoutInMillis") && e["TimeoutInMillis"].is_number()) r.timeout_ms = e["TimeoutInMillis"].get<int>();
                    b.add_route(*a, std::move(r), ep);
                } else if (type == "DynamoDB") {
                    lambda::EventSourceMappingSpec m;
                    m.function = f.name;
                    if (!e.contains("Stream") || !e["Stream"].is_string()) doc.fail(pp, "DynamoDB event needs a Stream");
                    m.event_source_arn = stream_source(e["Stream"].get<std::string>());
                    b.esm_settings(e, m, pp);
                    b.stream_mapping(std::move(m), pp);
                } else if (type == "S3") {
                    BucketTrigger t;
                    t.function = f.name;
                    if (!e.contains("Bucket") || !e["Bucket"].is_string()) doc.fail(pp, "S3 event needs a Bucket (!Ref a bucket of this template)");
                    t.bucket = e["Bucket"].get<std::string>();
                    json evs = e.value("Events", json("s3:ObjectCreated:*"));
                    if (evs.is_string()) t.events = {evs.get<std::string>()};
                    else
                        for (auto& x : evs) t.events.push_back(x.get<std::string>());
                    b.filter_rules(e, t);
                    b.bucket(t.bucket, "", pp);
                    app.bucket_triggers.push_back(std::move(t));
                } else if (type == "Schedule" || type == "ScheduleV2") {
                    lambda::ScheduleSpec s;
                    s.function = f.name;
                    s.expression = e.value(type == "Schedule" ? "Schedule" : "ScheduleExpression", "");
                    if (s.expression.empty()) doc.fail(pp, type + " event needs a schedule expression");
                    s.name = e.value("Name", f.name + "-" + ename);
                    if (e.contains("Enabled")) s.enabled = e["Enabled"] == true;
                    if (e.contains("State")) s.enabled = e["State"] == "ENABLED";
                    if (e.contains("Input")) s.input = e["Input"].is_string() ? e["Input"].get<std::string>() : e["Input"].dump();
                    app.schedules.push_back(std::move(s));
                } else if (type == "SQS" || type == "SNS" || type == "Kinesis" || type == "EventBridgeRule" || type == "CloudWatchEvent" ||
                           type == "IoTRule" || type == "Cognito" || type == "MSK" || type == "MQ" || type == "CloudWatchLogs" ||
                           type == "SelfManagedKafka" || type == "AlexaSkill" || type == "DocumentDB") {
                    b.notice(ep, type + " events are not emulated: ignored");
                } else {
                    doc.fail(child(ep, "Type"), "unknown event type '" + type + "' (stratus knows Api, HttpApi, DynamoDB, S3, Schedule)");
                }
            }
        app.functions.push_back(std::move(f));
    }
    b.esm_resources();
    b.raw_rest_apis();
    b.raw_http_apis();
    b.accept_others();
    b.outputs("/Outputs");
    if (auto s = b.cloudfront_site()) app.site = std::move(s);
    else if (auto w = b.website_bucket_site()) app.site = std::move(w);
    b.finish_apis();
}

}  // namespace

std::string api_id(const std::string& seed) {
    // FNV-1a, then base 36: stable across runs, so URLs stay the same.
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : seed) {
        h ^= c;
        h *= 1099511628211ull;
    }
    static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string out;
    for (int i = 0; i < 10; ++i) {
        out += digits[h % 36];
        h /= 36;
        if (h == 0) h = 0x9e3779b97f4a7c15ull ^ static_cast<std::uint64_t>(i);
    }
    return out;
}

std::optional<std::string> find_config(const std::string& target) {
    fs::path t(target.empty() ? "." : target);
    if (fs::is_regular_file(t)) return fs::absolute(t).lexically_normal().string();
    if (!fs::is_directory(t)) return std::nullopt;
    for (auto* name : {"serverless.yml", "serverless.yaml", "serverless.json", "template.yaml", "template.yml", "template.json"})
        if (fs::is_regular_file(t / name)) return fs::absolute(t / name).lexically_normal().string();
    return std::nullopt;
}

App load_app(const std::string& config_file, const LoadOptions& options) {
    App app;
    fs::path path = fs::absolute(config_file).lexically_normal();
    app.config_file = path.string();
    app.dir = path.parent_path().string();
    app.files.push_back(app.config_file);
    std::string shown = path.filename().string();
    Document doc = load_document(app.config_file, shown);
    bool sam = doc.root.is_object() && (doc.root.contains("Resources") || doc.root.contains("AWSTemplateFormatVersion") ||
                                        doc.root.contains("Transform")) &&
               !doc.root.contains("service");
    if (sam) {
        app.kind = "sam";
        build_sam(doc, app, options);
    } else {
        app.kind = "serverless";
        VariableOptions vo;
        vo.stage = options.stage;
        vo.params = options.params;
        vo.dir = app.dir;
        resolve_variables(doc, vo, app.files);
        build_serverless(doc, app, options);
    }
    // Triggers name functions of this app.
    for (auto& t : app.bucket_triggers)
        if (!app.function(t.function)) throw ConfigError(Mark{shown, 0, 0}, "bucket " + t.bucket + " triggers unknown function " + t.function);
    return app;
}

}  // namespace stratus::app

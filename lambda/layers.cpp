#include "lambda/layers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/crypto.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/protocol.hpp"
#include "lambda/function.hpp"
#include "lambda/zip.hpp"

namespace stratus::lambda {

namespace fs = std::filesystem;
using json = nlohmann::json;
using core::AwsError;

namespace {

AwsError invalid_value(std::string message) { return AwsError("InvalidParameterValueException", std::move(message), 400); }

std::string layer_arn(const std::string& name) { return fmt::format("arn:aws:lambda:{}:{}:layer:{}", region, account, name); }
std::string version_arn(const std::string& name, std::int64_t v) { return fmt::format("{}:{}", layer_arn(name), v); }

AwsError version_not_found(const std::string& name, std::int64_t v) {
    return AwsError("ResourceNotFoundException", fmt::format("Layer version {} does not exist.", version_arn(name, v)), 404);
}

// "name\0" + 8 bytes big-endian version: a layer's versions sort together, in order.
std::string key_of(const std::string& name, std::int64_t v) {
    std::string k = name;
    k.push_back('\0');
    for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff));
    return k;
}
std::string counter_key(const std::string& name) { return "#next\0" + name; }

void validate_layer_name(const std::string& name) {
    bool ok = !name.empty() && name.size() <= 64;
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') ok = false;
    if (!ok)
        throw AwsError::validation(fmt::format("1 validation error detected: Value '{}' at 'layerName' failed to satisfy "
                                               "constraint: Member must satisfy regular expression pattern: "
                                               "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{{12}}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+",
                                               name));
}

std::int64_t version_of(const std::string& text) {
    try {
        std::size_t used = 0;
        long long v = std::stoll(text, &used);
        if (used == text.size() && v >= 1) return v;
    } catch (const std::exception&) {
    }
    throw AwsError::validation(fmt::format("1 validation error detected: Value '{}' at 'versionNumber' failed to satisfy constraint: Member must be a number", text));
}

// "arn:aws:lambda:us-east-1:000000000000:layer:NAME:N" -> (NAME, N).
std::optional<std::pair<std::string, std::int64_t>> parse_version_arn(const std::string& arn) {
    auto pos = arn.find(":layer:");
    if (!arn.starts_with("arn:aws:lambda:") || pos == std::string::npos) return std::nullopt;
    std::string rest = arn.substr(pos + 7);
    auto colon = rest.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    try {
        std::size_t used = 0;
        long long v = std::stoll(rest.substr(colon + 1), &used);
        if (used != rest.size() - colon - 1 || v < 1) return std::nullopt;
        return std::make_pair(rest.substr(0, colon), static_cast<std::int64_t>(v));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

json body_of(const core::Request& r) {
    if (r.body.empty()) return json::object();
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw AwsError("InvalidRequestContentException", "Could not parse request body into json", 400);
    return j;
}

// Links (or copies) every file under `from` into `to`, replacing what is there.
void overlay(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(from, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        fs::path rel = fs::relative(it->path(), from, ec);
        fs::path dst = to / rel;
        if (it->is_directory()) {
            if (fs::is_symlink(dst) || (fs::exists(dst) && !fs::is_directory(dst))) fs::remove(dst, ec);
            fs::create_directories(dst, ec);
            continue;
        }
        if (fs::is_directory(dst) && !fs::is_symlink(dst)) fs::remove_all(dst, ec);
        else fs::remove(dst, ec);
        fs::create_directories(dst.parent_path(), ec);
        std::error_code link_ec;
        fs::create_hard_link(it->path(), dst, link_ec);
        if (link_ec) fs::copy_file(it->path(), dst, fs::copy_options::overwrite_existing, ec);
    }
}

// Merges are made on the API's threads and remade on the scheduler's.
std::mutex merge_mutex;

void merge_into(const fs::path& dir, const std::vector<LayerRef>& layers) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    std::string ids;
    for (auto& l : layers) {
        overlay(l.dir, dir);
        ids += l.arn + "\n";
    }
    std::ofstream(dir / ".stratus-merged") << ids;
}

}  // namespace

Layers::Layers(core::lmdb::Env& env, std::string root, std::function<std::string(const json&)> zip_from)
    : env_(env), dbi_(env.open_db("lambda_layers", MDB_CREATE)), root_(std::move(root)), zip_from_(std::move(zip_from)) {}

json Layers::version_json(const json& r, bool list_item) const {
    std::string name = r["LayerName"];
    std::int64_t v = r["Version"];
    json out = {{"LayerVersionArn", version_arn(name, v)},
                {"Version", v},
                {"Description", r.value("Description", "")},
                {"CreatedDate", r["CreatedDate"]}};
    if (r.contains("CompatibleRuntimes")) out["CompatibleRuntimes"] = r["CompatibleRuntimes"];
    if (r.contains("CompatibleArchitectures")) out["CompatibleArchitectures"] = r["CompatibleArchitectures"];
    if (r.contains("LicenseInfo")) out["LicenseInfo"] = r["LicenseInfo"];
    if (!list_item) {
        out["LayerArn"] = layer_arn(name);
        // Content.Location is left out: stratus does not serve layer archives (yet).
        out["Content"] = {{"CodeSha256", r["CodeSha256"]}, {"CodeSize", r["CodeSize"]}};
    }
    return out;
}

std::pair<json, int> Layers::handle(const core::Request& request, const std::vector<std::string>& parts, std::string& op) {
    const std::string& m = request.method;
    auto get = [&](const std::string& name, std::int64_t v) {
        auto rec = env_.read([&](core::lmdb::ReadTxn& txn) -> std::optional<json> {
            auto val = txn.get(dbi_, key_of(name, v));
            if (!val) return std::nullopt;
            return json::parse(*val);
        });
        if (!rec) throw version_not_found(name, v);
        return *rec;
    };
    auto put = [&](const json& rec) {
        env_.write([&](core::lmdb::WriteTxn& txn) { txn.put(dbi_, key_of(rec["LayerName"], rec["Version"]), rec.dump()); });
    };
    // GET /layers (ListLayers, or GetLayerVersionByArn with ?find=LayerVersion&Arn=).
    if (parts.size() == 2 || (parts.size() == 3 && parts[2].empty())) {
        if (m != "GET") throw AwsError("UnknownOperationException", "Unknown operation", 404);
        if (request.query_param("find").value_or("") == "LayerVersion") {
            op = "GetLayerVersionByArn";
            auto arn = request.query_param("Arn").value_or("");
            auto parsed = parse_version_arn(arn);
            if (!parsed)
                throw AwsError::validation(fmt::format("1 validation error detected: Value '{}' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{{2}}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{{1}}:\\d{{12}}:layer:[a-zA-Z0-9-_]+:[0-9]+", arn));
            return {version_json(get(parsed->first, parsed->second), false), 200};
        }
        op = "ListLayers";
        auto runtime = request.query_param("CompatibleRuntime");
        auto marker = request.query_param("Marker").value_or("");
        json layers = json::array();
        std::map<std::string, json> latest;  // name -> newest matching version
        env_.read([&](core::lmdb::ReadTxn& txn) {
            auto c = core::lmdb::Cursor::open(txn, dbi_);
            for (bool ok = c.first(); ok; ok = c.next()) {
                if (c.key().starts_with("#")) continue;
                json rec = json::parse(c.value());
                if (runtime) {
                    auto rt = rec.value("CompatibleRuntimes", json::array());
                    if (std::find(rt.begin(), rt.end(), *runtime) == rt.end()) continue;
                }
                latest[rec["LayerName"]] = rec;  // versions ascend: the last is the newest
            }
        });
        for (auto& [name, rec] : latest) {
            if (!marker.empty() && name <= marker) continue;
            layers.push_back({{"LayerName", name}, {"LayerArn", layer_arn(name)}, {"LatestMatchingVersion", version_json(rec, true)}});
        }
        return {{{"Layers", layers}}, 200};
    }
    const std::string& name = parts[2];
    validate_layer_name(name);
    if (parts.size() == 4 && parts[3] == "versions") {
        if (m == "POST") {
            op = "PublishLayerVersion";
            json in = body_of(request);
            auto content = in.find("Content");
            if (content == in.end() || !content->is_object())
                throw AwsError::validation("1 validation error detected: Value null at 'content' failed to satisfy constraint: Member must not be null");
            std::string zip = zip_from_(*content);
            std::lock_guard lock(mutex_);
            std::int64_t v = env_.read([&](core::lmdb::ReadTxn& txn) -> std::int64_t {
                auto n = txn.get(dbi_, counter_key(name));
                return n ? std::stoll(std::string(*n)) : 1;
            });
            fs::path dir = fs::path(root_) / name / std::to_string(v);
            std::error_code ec;
            fs::remove_all(dir, ec);
            try {
                unzip(zip, dir.string(), 250u * 1024 * 1024);
            } catch (const ZipError& e) {
                fs::remove_all(dir, ec);
                throw invalid_value(fmt::format("Unzipped size must be smaller than 262144000 bytes or the archive is invalid: {}", e.what()));
            }
            json rec = {{"LayerName", name},
                        {"Version", v},
                        {"Description", in.value("Description", "")},
                        {"CreatedDate", now_last_modified()},
                        {"CodeSha256", sha256_base64(zip)},
                        {"CodeSize", zip.size()},
                        {"dir", dir.string()},
                        {"policy", json::array()}};
            for (const char* k : {"CompatibleRuntimes", "CompatibleArchitectures"})
                if (in.contains(k) && in[k].is_array()) rec[k] = in[k];
            if (in.contains("LicenseInfo") && in["LicenseInfo"].is_string()) rec["LicenseInfo"] = in["LicenseInfo"];
            env_.write([&](core::lmdb::WriteTxn& txn) {
                txn.put(dbi_, key_of(name, v), rec.dump());
                txn.put(dbi_, counter_key(name), std::to_string(v + 1));
            });
            return {version_json(rec, false), 201};
        }
        if (m == "GET") {
            op = "ListLayerVersions";
            auto runtime = request.query_param("CompatibleRuntime");
            json versions = json::array();
            env_.read([&](core::lmdb::ReadTxn& txn) {
                auto c = core::lmdb::Cursor::open(txn, dbi_);
                std::string prefix = name + std::string(1, '\0');
                for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
                    json rec = json::parse(c.value());
                    if (runtime) {
                        auto rt = rec.value("CompatibleRuntimes", json::array());
                        if (std::find(rt.begin(), rt.end(), *runtime) == rt.end()) continue;
                    }
                    versions.insert(versions.begin(), version_json(rec, true));  // newest first, as AWS lists them
                }
            });
            return {{{"LayerVersions", versions}}, 200};
        }
    }
    if (parts.size() >= 5 && parts[3] == "versions") {
        std::int64_t v = version_of(parts[4]);
        if (parts.size() == 5) {
            if (m == "GET") {
                op = "GetLayerVersion";
                return {version_json(get(name, v), false), 200};
            }
            if (m == "DELETE") {
                // Idempotent, as AWS's; functions using it keep their copy of the content.
                op = "DeleteLayerVersion";
                env_.write([&](core::lmdb::WriteTxn& txn) { txn.del(dbi_, key_of(name, v)); });
                return {nullptr, 204};
            }
        }
        if (parts.size() == 6 && parts[5] == "policy") {
            std::lock_guard lock(mutex_);
            json rec = get(name, v);
            auto policy_doc = [&](const json& statements) {
                return json{{"Version", "2012-10-17"}, {"Id", "default"}, {"Statement", statements}}.dump();
            };
            if (m == "POST") {
                op = "AddLayerVersionPermission";
                json in = body_of(request);
                for (const char* k : {"StatementId", "Action", "Principal"})
                    if (!in.contains(k) || !in[k].is_string())
                        throw AwsError::validation(fmt::format("1 validation error detected: Value null at '{}{}' failed to satisfy constraint: Member must not be null",
                                                               static_cast<char>(std::tolower(k[0])), k + 1));
                if (in["Action"] != "lambda:GetLayerVersion")
                    throw AwsError::validation(fmt::format("1 validation error detected: Value '{}' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion", in["Action"].get<std::string>()));
                if (auto rev = in.find("RevisionId"); rev != in.end() && *rev != rec.value("revision", ""))
                    throw AwsError("PreconditionFailedException", "The RevisionId provided does not match the latest RevisionId for the Lambda function or alias. Call the GetFunction or the GetAlias API to retrieve the latest RevisionId for your resource.", 412);
                for (auto& s : rec["policy"])
                    if (s["Sid"] == in["StatementId"])
                        throw AwsError("ResourceConflictException", fmt::format("The statement id ({}) provided already exists. Please provide a new statement id, or remove the existing statement.", in["StatementId"].get<std::string>()), 409);
                std::string principal = in["Principal"];
                json statement = {{"Sid", in["StatementId"]},
                                  {"Effect", "Allow"},
                                  {"Principal", principal == "*" ? json("*") : json{{"AWS", fmt::format("arn:aws:iam::{}:root", principal)}}},
                                  {"Action", "lambda:GetLayerVersion"},
                                  {"Resource", version_arn(name, v)}};
                if (in.contains("OrganizationId") && in["OrganizationId"].is_string())
                    statement["Condition"] = {{"StringEquals", {{"aws:PrincipalOrgID", in["OrganizationId"]}}}};
                rec["policy"].push_back(statement);
                rec["revision"] = core::random_uuid();
                put(rec);
                return {{{"Statement", statement.dump()}, {"RevisionId", rec["revision"]}}, 201};
            }
            if (m == "GET") {
                op = "GetLayerVersionPolicy";
                if (rec["policy"].empty())
                    throw AwsError("ResourceNotFoundException", "No policy is associated with the given resource.", 404);
                return {{{"Policy", policy_doc(rec["policy"])}, {"RevisionId", rec.value("revision", "")}}, 200};
            }
        }
        if (parts.size() == 7 && parts[5] == "policy" && m == "DELETE") {
            op = "RemoveLayerVersionPermission";
            std::lock_guard lock(mutex_);
            json rec = get(name, v);
            auto& st = rec["policy"];
            auto it = std::find_if(st.begin(), st.end(), [&](const json& s) { return s["Sid"] == parts[6]; });
            if (it == st.end())
                throw AwsError("ResourceNotFoundException", "Statement " + parts[6] + " is not found in resource policy.", 404);
            st.erase(it);
            rec["revision"] = core::random_uuid();
            put(rec);
            return {nullptr, 204};
        }
    }
    throw AwsError("UnknownOperationException", fmt::format("Unknown operation {} {}", request.method, request.path), 404);
}

std::vector<LayerRef> Layers::resolve(const json& arns) {
    if (!arns.is_array()) throw invalid_value("Layers must be a list of layer version ARNs");
    if (arns.size() > 5) throw invalid_value("Cannot reference more than 5 layers.");
    std::vector<LayerRef> out;
    for (auto& a : arns) {
        if (!a.is_string()) throw invalid_value("Layers must be a list of layer version ARNs");
        std::string arn = a.get<std::string>();
        auto parsed = parse_version_arn(arn);
        if (!parsed) throw AwsError::validation(fmt::format("1 validation error detected: Value '[{}]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular expression pattern: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{{12}}:layer:[a-zA-Z0-9-_]+:[0-9]+]", arn));
        auto rec = env_.read([&](core::lmdb::ReadTxn& txn) -> std::optional<json> {
            auto val = txn.get(dbi_, key_of(parsed->first, parsed->second));
            if (!val) return std::nullopt;
            return json::parse(*val);
        });
        // AWS answers an unknown layer version on CreateFunction with this (not confirmed
        // against AWS: the code is what its documentation lists for the case).
        if (!rec) throw invalid_value(fmt::format("Layer version {} does not exist.", arn));
        for (auto& prev : out)
            if (prev.arn.substr(0, prev.arn.rfind(':')) == arn.substr(0, arn.rfind(':')))
                throw invalid_value("Two different versions of the same layer are not allowed to be referenced in the same function.");
        out.push_back({version_arn(parsed->first, parsed->second), (*rec)["CodeSize"].get<std::int64_t>(), (*rec)["dir"],
                       rec->value("external", false)});
    }
    return out;
}

std::string Layers::merge(const std::string& function, const std::vector<LayerRef>& layers) {
    if (layers.empty()) return {};
    std::string ids;
    for (auto& l : layers) ids += l.arn + "\n";
    fs::path dir = fs::path(root_).parent_path() / "opt" / (function + "-" + core::crypto::sha256_hex(ids).substr(0, 16));
    std::lock_guard lock(merge_mutex);
    std::error_code ec;
    bool external = std::any_of(layers.begin(), layers.end(), [](const LayerRef& l) { return l.external; });
    if (!external && fs::exists(dir / ".stratus-merged", ec)) return dir.string();
    merge_into(dir, layers);
    if (fs::exists(dir / "extensions", ec))
        core::log::info("lambda: {}: its layers' /opt/extensions are not run by stratus (extensions are not supported)", function);
    return dir.string();
}

void rebuild_merged(const std::string& opt, const std::vector<LayerRef>& layers) {
    if (opt.empty()) return;
    std::lock_guard lock(merge_mutex);
    merge_into(opt, layers);
}

std::string Layers::publish_directory(const std::string& name, const std::string& dir,
                                      const std::vector<std::string>& compatible_runtimes, const std::string& description) {
    validate_layer_name(name);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw invalid_value("layer directory " + dir + " does not exist");
    std::string abs = fs::absolute(dir).lexically_normal().string();
    json runtimes = compatible_runtimes;
    std::lock_guard lock(mutex_);
    std::optional<json> newest;
    std::int64_t v = env_.read([&](core::lmdb::ReadTxn& txn) -> std::int64_t {
        auto n = txn.get(dbi_, counter_key(name));
        std::int64_t next = n ? std::stoll(std::string(*n)) : 1;
        if (next > 1)
            if (auto val = txn.get(dbi_, key_of(name, next - 1))) newest = json::parse(*val);
        return next;
    });
    if (newest && newest->value("external", false) && newest->value("dir", "") == abs &&
        newest->value("CompatibleRuntimes", json::array()) == runtimes && newest->value("Description", "") == description)
        return version_arn(name, v - 1);
    json rec = {{"LayerName", name},
                {"Version", v},
                {"Description", description},
                {"CreatedDate", now_last_modified()},
                {"CodeSha256", sha256_base64(abs)},  // as for functions declared with a directory
                {"CodeSize", 0},
                {"dir", abs},
                {"external", true},
                {"policy", json::array()}};
    if (!compatible_runtimes.empty()) rec["CompatibleRuntimes"] = runtimes;
    env_.write([&](core::lmdb::WriteTxn& txn) {
        txn.put(dbi_, key_of(name, v), rec.dump());
        txn.put(dbi_, counter_key(name), std::to_string(v + 1));
    });
    return version_arn(name, v);
}

void Layers::reset() {
    std::lock_guard lock(mutex_);
    env_.write([&](core::lmdb::WriteTxn& txn) { txn.clear(dbi_); });
    std::error_code ec;
    fs::remove_all(root_, ec);
    fs::remove_all(fs::path(root_).parent_path() / "opt", ec);
}

void layer_environment(const std::string& opt, const std::string& runtime, std::map<std::string, std::string>& env,
                       const std::map<std::string, std::string>& function_env) {
    if (opt.empty()) return;
    auto join = [](std::initializer_list<std::string> parts, const std::string& rest) {
        std::string out;
        for (auto& p : parts) out += (out.empty() ? "" : ":") + p;
        if (!rest.empty()) out += ":" + rest;
        return out;
    };
    // AWS's NODE_PATH: /opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:... (the
    // node major of the runtime).
    std::string node_major = "20";
    if (runtime.starts_with("nodejs")) {
        auto x = runtime.find('.', 6);
        node_major = runtime.substr(6, x == std::string::npos ? std::string::npos : x - 6);
    }
    if (!function_env.count("NODE_PATH"))
        env["NODE_PATH"] = join({opt + "/nodejs/node" + node_major + "/node_modules", opt + "/nodejs/node_modules"},
                                env.count("NODE_PATH") ? env["NODE_PATH"] : "");
    if (runtime.starts_with("python") && !function_env.count("PYTHONPATH")) {
        // "python3.12" -> /opt/python/lib/python3.12/site-packages.
        std::string version = runtime.substr(6);
        env["PYTHONPATH"] = join({opt + "/python", opt + "/python/lib/python" + version + "/site-packages"},
                                 env.count("PYTHONPATH") ? env["PYTHONPATH"] : "");
    }
    if (!function_env.count("PATH")) env["PATH"] = join({opt + "/bin"}, env.count("PATH") ? env["PATH"] : "");
    if (!function_env.count("LD_LIBRARY_PATH"))
        env["LD_LIBRARY_PATH"] = join({opt + "/lib"}, env.count("LD_LIBRARY_PATH") ? env["LD_LIBRARY_PATH"] : "");
    // "/opt" in the function's own values (NODE_PATH=/opt/x, CONFIG=/opt/conf.json) is the merged tree.
    for (auto& [k, v] : function_env) {
        std::string out;
        for (std::size_t i = 0; i < v.size();) {
            bool at_start = i == 0 || v[i - 1] == ':' || v[i - 1] == '=' || v[i - 1] == ' ';
            if (at_start && v.compare(i, 4, "/opt") == 0 && (i + 4 == v.size() || v[i + 4] == '/' || v[i + 4] == ':')) {
                out += opt;
                i += 4;
            } else {
                out.push_back(v[i++]);
            }
        }
        env[k] = out;
    }
}

}  // namespace stratus::lambda

#include "emulator/app/variables.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

namespace stratus::app {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
    return std::string(s);
}

// Where the "}" closing the "${" at `open` is; npos when unbalanced.
std::size_t closing(const std::string& s, std::size_t open) {
    int depth = 0;
    char quote = 0;
    for (std::size_t i = open; i < s.size(); ++i) {
        char c = s[i];
        if (quote) {
            if (c == quote) quote = 0;
            continue;
        }
        if ((c == '\'' || c == '"') && depth > 0) quote = c;
        else if (c == '$' && i + 1 < s.size() && s[i + 1] == '{') {
            ++depth;
            ++i;
        } else if (c == '}') {
            if (--depth == 0) return i;
        }
    }
    return std::string::npos;
}

// The top-level alternatives of "a, b, 'c, d'".
std::vector<std::string> alternatives(const std::string& inner) {
    std::vector<std::string> out;
    int depth = 0, parens = 0;
    char quote = 0;
    std::string cur;
    for (std::size_t i = 0; i < inner.size(); ++i) {
        char c = inner[i];
        if (quote) {
            if (c == quote) quote = 0;
            cur += c;
            continue;
        }
        if (c == '\'' || c == '"') quote = c;
        else if (c == '$' && i + 1 < inner.size() && inner[i + 1] == '{') {
            ++depth;
            cur += "${";
            ++i;
            continue;
        } else if (c == '}') --depth;
        else if (c == '(') ++parens;
        else if (c == ')') --parens;
        else if (c == ',' && depth == 0 && parens == 0) {
            out.push_back(trim(cur));
            cur.clear();
            continue;
        }
        cur += c;
    }
    out.push_back(trim(cur));
    return out;
}

constexpr std::string_view sources[] = {"self:", "opt:", "sls:", "env:", "file(", "aws:", "param:", "cf:",
                                        "cf(",   "ssm:", "ssm(", "s3:",  "strToBool(", "git:", "sls("};

bool is_variable(std::string_view inner) {
    std::string t = trim(inner);
    for (auto s : sources)
        if (std::string_view(t).starts_with(s)) return true;
    return false;
}

std::string stringify(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return "null";
    return v.dump();
}

class Resolver {
public:
    Resolver(Document& doc, const VariableOptions& o, std::vector<std::string>& files)
        : doc_(doc), o_(o), files_(files) {}

    void run() {
        // The stage and region first: ${sls:stage} and ${aws:region} depend on them.
        resolve_at("");
    }

    // Resolves the node at `pointer` in place (once).
    void resolve_at(const std::string& pointer) {
        if (done_.count(pointer)) return;
        if (active_.count(pointer)) doc_.fail(pointer, "variables refer to each other in a cycle");
        active_.insert(pointer);
        json::json_pointer jp(pointer);
        if (doc_.root.contains(jp)) {
            json& node = doc_.root[jp];
            if (node.is_string()) {
                json v = resolve_string(node.get<std::string>(), pointer);
                doc_.root[jp] = std::move(v);
            }
            json& again = doc_.root[jp];
            if (again.is_object()) {
                std::vector<std::string> keys;
                for (auto& [k, _] : again.items()) keys.push_back(k);
                for (auto& k : keys) resolve_at(child(pointer, k));
            } else if (again.is_array()) {
                for (std::size_t i = 0; i < again.size(); ++i) resolve_at(child(pointer, i));
            }
        }
        active_.erase(pointer);
        done_.insert(pointer);
    }

private:
    // A string with ${...} in it: the value (any JSON type when the string is one variable).
    json resolve_string(const std::string& s, const std::string& pointer) {
        std::size_t pos = s.find("${");
        if (pos == std::string::npos) return s;
        std::string out;
        std::size_t last = 0;
        bool any = false;
        while (pos != std::string::npos) {
            std::size_t end = closing(s, pos);
            if (end == std::string::npos) doc_.fail(pointer, "unterminated variable in '" + s + "'");
            std::string inner = s.substr(pos + 2, end - pos - 2);
            if (!is_variable(inner)) {
                // Fn::Sub's ${Name}: not ours. Its nested ${..} may still be.
                out += s.substr(last, pos - last);
                json nested = resolve_string(inner, pointer);
                out += "${" + stringify(nested) + "}";
                last = end + 1;
                pos = s.find("${", last);
                continue;
            }
            json v = evaluate(inner, pointer);
            if (pos == 0 && end + 1 == s.size() && !any) return v;
            if (v.is_object() || v.is_array())
                doc_.fail(pointer, "variable ${" + inner + "} is an object or a list and cannot be part of a string");
            out += s.substr(last, pos - last);
            out += stringify(v);
            any = true;
            last = end + 1;
            pos = s.find("${", last);
        }
        out += s.substr(last);
        return out;
    }

    json evaluate(const std::string& inner, const std::string& pointer) {
        auto alts = alternatives(inner);
        std::string why;
        for (auto& alt : alts) {
            if (alt.empty()) continue;
            if ((alt.front() == '\'' || alt.front() == '"') && alt.size() >= 2 && alt.back() == alt.front())
                return alt.substr(1, alt.size() - 2);
            if (alt == "null") return nullptr;
            if (alt == "true") return true;
            if (alt == "false") return false;
            if (alt.find_first_not_of("0123456789.-") == std::string::npos && alt.find_first_of("0123456789") != std::string::npos) {
                try {
                    if (alt.find('.') == std::string::npos) return std::stoll(alt);
                    return std::stod(alt);
                } catch (const std::exception&) {
                }
            }
            // Nested variables inside the reference ("self:custom.${sls:stage}.table").
            std::string ref = alt;
            if (ref.find("${") != std::string::npos) {
                try {
                    ref = stringify(resolve_string(ref, pointer));
                } catch (const ConfigError& e) {
                    why = e.message();
                    continue;
                }
            }
            if (!is_variable(ref)) {
                if (ref.starts_with("${")) {
                    why = "cannot resolve '" + ref + "'";
                    continue;
                }
                return ref;  // a bare fallback word
            }
            auto v = source(ref, pointer, why);
            if (v) return *v;
        }
        doc_.fail(pointer, "cannot resolve variable ${" + inner + "}" + (why.empty() ? "" : ": " + why));
    }

    std::string stage() {
        if (!o_.stage.empty()) return o_.stage;
        json::json_pointer jp("/provider/stage");
        if (doc_.root.contains(jp)) {
            resolve_at("/provider/stage");
            if (doc_.root[jp].is_string()) return doc_.root[jp].get<std::string>();
        }
        return "dev";
    }
    std::string region() {
        if (!o_.region.empty()) return o_.region;
        json::json_pointer jp("/provider/region");
        if (doc_.root.contains(jp)) {
            resolve_at("/provider/region");
            if (doc_.root[jp].is_string()) return doc_.root[jp].get<std::string>();
        }
        return "us-east-1";
    }

    std::optional<json> lookup_self(const std::string& path, std::string& why) {
        std::string pointer;
        std::size_t start = 0;
        std::string p = path;
        while (start < p.size()) {
            auto dot = p.find('.', start);
            std::string part = p.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
            pointer = child(pointer, part);
            // Resolve as we go: a key may come from a variable-valued parent.
            json::json_pointer jp(pointer);
            if (!doc_.root.contains(jp)) {
                why = "no value at self:" + path;
                return std::nullopt;
            }
            if (dot == std::string::npos) break;
            start = dot + 1;
        }
        resolve_at(pointer);
        json v = doc_.root[json::json_pointer(pointer)];
        if (v.is_null()) {
            why = "self:" + path + " is null";
            return std::nullopt;
        }
        return v;
    }

    std::optional<json> source(const std::string& ref, const std::string& pointer, std::string& why) {
        auto colon = ref.find(':');
        std::string kind = ref.substr(0, ref.find_first_of(":("));
        std::string arg = colon == std::string::npos ? "" : trim(ref.substr(colon + 1));
        if (kind == "self") return self_ ? self_->lookup_self(arg, why) : lookup_self(arg, why);
        if (kind == "opt") {
            if (arg == "stage" && !o_.stage.empty()) return json(o_.stage);
            if (arg == "region" && !o_.region.empty()) return json(o_.region);
            why = "no --" + arg + " option given";
            return std::nullopt;
        }
        if (kind == "sls") {
            if (arg == "stage") return json(stage());
            if (arg == "instanceId") return json("stratus-offline");
            why = "unknown sls variable " + arg;
            return std::nullopt;
        }
        if (kind == "aws") {
            if (arg == "region") return json(region());
            if (arg == "accountId") return json("000000000000");
            why = "unknown aws variable " + arg;
            return std::nullopt;
        }
        if (kind == "env") {
            auto get = o_.getenv ? o_.getenv : [](const char* n) -> const char* { return std::getenv(n); };
            if (const char* v = get(arg.c_str())) return json(std::string(v));
            why = "environment variable " + arg + " is not set";
            return std::nullopt;
        }
        if (kind == "param") {
            if (auto it = o_.params.find(arg); it != o_.params.end()) return json(it->second);
            for (std::string where : {"/params/" + stage() + "/" + arg, "/params/default/" + arg}) {
                json::json_pointer jp(where);
                if (doc_.root.contains(jp)) {
                    resolve_at(where);
                    return doc_.root[jp];
                }
            }
            why = "no --param " + arg + "=... and no params." + stage() + "." + arg + " or params.default." + arg;
            return std::nullopt;
        }
        if (kind == "strToBool") {
            auto open = ref.find('('), close = ref.rfind(')');
            std::string v = trim(ref.substr(open + 1, close - open - 1));
            return json(v == "true" || v == "1");
        }
        if (kind == "file") return file(ref, pointer, why);
        why = ref.substr(0, ref.find_first_of(":(")) +
              " variables need an AWS account; give a fallback for offline use (${" + ref + ", 'local value'})";
        return std::nullopt;
    }

    std::optional<json> file(const std::string& ref, const std::string& pointer, std::string& why) {
        auto open = ref.find('('), close = ref.find(')');
        if (close == std::string::npos) doc_.fail(pointer, "bad file() variable: " + ref);
        std::string rel = trim(ref.substr(open + 1, close - open - 1));
        if (rel.size() >= 2 && (rel.front() == '\'' || rel.front() == '"')) rel = rel.substr(1, rel.size() - 2);
        std::string sub = close + 1 < ref.size() && ref[close + 1] == ':' ? trim(ref.substr(close + 2)) : "";
        fs::path path = fs::path(rel).is_absolute() ? fs::path(rel) : fs::path(o_.dir) / rel;
        path = path.lexically_normal();
        if (!fs::exists(path)) {
            why = "file " + rel + " does not exist";
            return std::nullopt;
        }
        files_.push_back(path.string());
        std::string ext = path.extension().string();
        if (ext == ".js" || ext == ".cjs" || ext == ".mjs" || ext == ".ts")
            doc_.fail(pointer, "${file(" + rel + ")}: JavaScript variable files are not supported offline");
        if (ext != ".yml" && ext != ".yaml" && ext != ".json") {
            // Any other file is its text (PEM keys, templates).
            std::ifstream in(path, std::ios::binary);
            std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            if (!sub.empty()) doc_.fail(pointer, "${file(" + rel + "):" + sub + "}: only YAML and JSON files have keys");
            return json(text);
        }
        Document inc = load_document(path.string(), rel);
        VariableOptions o = o_;
        o.dir = path.parent_path().string();
        Resolver r(inc, o, files_);
        r.self_ = this;
        r.run();
        json v = inc.root;
        if (!sub.empty()) {
            std::size_t start = 0;
            while (start <= sub.size()) {
                auto dot = sub.find('.', start);
                std::string part = sub.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
                if (!v.is_object() || !v.contains(part)) {
                    why = "no key " + sub + " in " + rel;
                    return std::nullopt;
                }
                v = json(v[part]);
                if (dot == std::string::npos) break;
                start = dot + 1;
            }
        }
        return v;
    }

    Document& doc_;
    const VariableOptions& o_;
    std::vector<std::string>& files_;
    Resolver* self_ = nullptr;  // an included file's ${self:} refers to the main config
    std::set<std::string> done_, active_;

    friend void resolve_variables(Document&, const VariableOptions&, std::vector<std::string>&);
};

}  // namespace

void resolve_variables(Document& doc, const VariableOptions& options, std::vector<std::string>& files) {
    Resolver r(doc, options, files);
    r.run();
}

}  // namespace stratus::app

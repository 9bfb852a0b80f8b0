#include "emulator/app/intrinsics.hpp"

#include "core/base64.hpp"

namespace stratus::app {

namespace {

using json = nlohmann::json;

const json& no_value() {
    static const json v = {{"__stratus_no_value__", true}};
    return v;
}

std::string scalar_text(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return std::to_string(v.get<long long>());
    if (v.is_number()) return v.dump();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    return "";
}

}  // namespace

bool is_no_value(const json& v) { return v == no_value(); }

Intrinsics::Intrinsics(const Document& doc, std::string base, std::map<std::string, json> parameters,
                       std::string region, std::string stack_name, std::vector<std::string>& notices)
    : doc_(doc), base_(std::move(base)), parameters_(std::move(parameters)), region_(std::move(region)), stack_name_(std::move(stack_name)),
      notices_(notices) {}

json Intrinsics::eval(const json& value, const std::string& pointer) {
    if (value.is_object()) {
        if (value.size() == 1) {
            auto it = value.begin();
            const std::string& k = it.key();
            if (k == "Ref" || k.rfind("Fn::", 0) == 0 || k == "Condition")
                if (k != "Condition" || it->is_string()) {
                    // "Condition" is an intrinsic only inside conditions; elsewhere (a
                    // resource's Condition) the caller reads it.
                    if (k != "Condition") return fn(k, *it, child(pointer, k));
                }
        }
        json out = json::object();
        for (auto& [k, v] : value.items()) {
            json e = eval(v, child(pointer, k));
            if (!is_no_value(e)) out[k] = std::move(e);
        }
        return out;
    }
    if (value.is_array()) {
        json out = json::array();
        for (std::size_t i = 0; i < value.size(); ++i) {
            json e = eval(value[i], child(pointer, i));
            if (!is_no_value(e)) out.push_back(std::move(e));
        }
        return out;
    }
    return value;
}

std::string Intrinsics::eval_string(const json& value, const std::string& pointer) {
    json v = eval(value, pointer);
    if (v.is_string() || v.is_number() || v.is_boolean()) return scalar_text(v);
    doc_.fail(pointer, "expected a string, got " + v.dump());
}

json Intrinsics::ref(const std::string& name, const std::string& pointer) {
    if (name == "AWS::Region") return region_;
    if (name == "AWS::AccountId") return "000000000000";
    if (name == "AWS::StackName") return stack_name_;
    if (name == "AWS::StackId")
        return "arn:aws:cloudformation:" + region_ + ":000000000000:stack/" + stack_name_ + "/00000000-0000-0000-0000-000000000000";
    if (name == "AWS::Partition") return "aws";
    if (name == "AWS::URLSuffix") return "amazonaws.com";
    if (name == "AWS::NoValue") return no_value();
    if (name == "AWS::NotificationARNs") return json::array();
    if (auto it = parameters_.find(name); it != parameters_.end()) return it->second;
    if (ref_)
        if (auto v = ref_(name)) return *v;
    doc_.fail(pointer, "Ref to '" + name + "', which is neither a parameter nor a resource of this template");
}

json Intrinsics::sub(const json& arg, const std::string& pointer) {
    std::string text;
    std::map<std::string, json> vars;
    if (arg.is_string()) {
        text = arg.get<std::string>();
    } else if (arg.is_array() && arg.size() == 2 && arg[0].is_string() && arg[1].is_object()) {
        text = arg[0].get<std::string>();
        for (auto& [k, v] : arg[1].items()) vars[k] = eval(v, child(child(pointer, 1), k));
    } else {
        doc_.fail(pointer, "Fn::Sub takes a string, or [string, {variables}]");
    }
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        auto open = text.find("${", i);
        if (open == std::string::npos) {
            out += text.substr(i);
            break;
        }
        out += text.substr(i, open - i);
        auto close = text.find('}', open);
        if (close == std::string::npos) doc_.fail(pointer, "Fn::Sub: unterminated ${ in '" + text + "'");
        std::string name = text.substr(open + 2, close - open - 2);
        i = close + 1;
        if (!name.empty() && name[0] == '!') {  // ${!Literal}
            out += "${" + name.substr(1) + "}";
            continue;
        }
        if (auto it = vars.find(name); it != vars.end()) {
            out += scalar_text(it->second);
            continue;
        }
        auto dot = name.find('.');
        if (dot != std::string::npos && name.rfind("AWS::", 0) != 0) {
            json v = fn("Fn::GetAtt", json::array({name.substr(0, dot), name.substr(dot + 1)}), pointer);
            out += scalar_text(v);
        } else {
            out += scalar_text(ref(name, pointer));
        }
    }
    return out;
}

bool Intrinsics::condition(const std::string& name, const std::string& pointer) {
    if (auto it = conditions_.find(name); it != conditions_.end()) return it->second;
    std::string where = child(base_ + "/Conditions", name);
    json::json_pointer jp(where);
    if (!doc_.root.contains(jp)) doc_.fail(pointer, "unknown condition '" + name + "'");
    if (!evaluating_.insert(name).second) doc_.fail(pointer, "condition '" + name + "' refers to itself");
    json v = eval(doc_.root[jp], where);
    const json& raw = doc_.root[jp];
    if (raw.is_object() && raw.size() == 1 && raw.contains("Condition")) v = condition(raw["Condition"].get<std::string>(), where);
    evaluating_.erase(name);
    if (!v.is_boolean()) doc_.fail(where, "a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition");
    conditions_[name] = v.get<bool>();
    return v.get<bool>();
}

bool Intrinsics::resource_enabled(const json& resource, const std::string& pointer) {
    if (!resource.is_object() || !resource.contains("Condition")) return true;
    if (!resource["Condition"].is_string()) doc_.fail(child(pointer, "Condition"), "Condition must be a condition's name");
    return condition(resource["Condition"].get<std::string>(), child(pointer, "Condition"));
}

json Intrinsics::fn(const std::string& name, const json& arg, const std::string& pointer) {
    auto list = [&](std::size_t n, const char* shape) -> json {
        json a = arg.is_array() ? arg : json();
        if (!a.is_array() || (n && a.size() != n)) doc_.fail(pointer, name + " takes " + shape);
        return a;
    };
    auto as_bool = [&](const json& v, const std::string& p) -> bool {
        if (v.is_object() && v.size() == 1 && v.contains("Condition") && v["Condition"].is_string())
            return condition(v["Condition"].get<std::string>(), p);
        json e = eval(v, p);
        if (e.is_boolean()) return e.get<bool>();
        if (e.is_string() && (e == "true" || e == "false")) return e == "true";
        doc_.fail(p, "expected a condition, got " + e.dump());
    };
    if (name == "Ref") {
        if (!arg.is_string()) doc_.fail(pointer, "Ref takes a name");
        return ref(arg.get<std::string>(), pointer);
    }
    if (name == "Fn::GetAtt") {
        json a = arg;
        if (a.is_string()) {
            std::string s = a.get<std::string>();
            auto dot = s.find('.');
            if (dot == std::string::npos) doc_.fail(pointer, "Fn::GetAtt takes [Resource, Attribute]");
            a = json::array({s.substr(0, dot), s.substr(dot + 1)});
        }
        if (!a.is_array() || a.size() != 2) doc_.fail(pointer, "Fn::GetAtt takes [Resource, Attribute]");
        std::string res = eval_string(a[0], child(pointer, 0)), attr = eval_string(a[1], child(pointer, 1));
        if (get_att_)
            if (auto v = get_att_(res, attr)) return *v;
        doc_.fail(pointer, "Fn::GetAtt [" + res + ", " + attr + "]: no such resource or attribute in this template");
    }
    if (name == "Fn::Sub") return sub(arg, pointer);
    if (name == "Fn::Join") {
        json a = list(2, "[delimiter, [values]]");
        std::string delim = eval_string(a[0], child(pointer, 0));
        json values = eval(a[1], child(pointer, 1));
        if (!values.is_array()) doc_.fail(pointer, "Fn::Join's second argument must be a list");
        std::string out;
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (i) out += delim;
            if (!values[i].is_primitive() || values[i].is_null())
                doc_.fail(child(child(pointer, 1), i), "Fn::Join joins strings, got " + values[i].dump());
            out += scalar_text(values[i]);
        }
        return out;
    }
    if (name == "Fn::Select") {
        json a = list(2, "[index, [values]]");
        json idx = eval(a[0], child(pointer, 0));
        json values = eval(a[1], child(pointer, 1));
        long long i = idx.is_number_integer() ? idx.get<long long>() : idx.is_string() ? std::atoll(idx.get<std::string>().c_str()) : -1;
        if (!values.is_array() || i < 0 || static_cast<std::size_t>(i) >= values.size())
            doc_.fail(pointer, "Fn::Select: index " + idx.dump() + " is out of range");
        return values[static_cast<std::size_t>(i)];
    }
    if (name == "Fn::Split") {
        json a = list(2, "[delimiter, string]");
        std::string delim = eval_string(a[0], child(pointer, 0)), s = eval_string(a[1], child(pointer, 1));
        if (delim.empty()) doc_.fail(pointer, "Fn::Split: empty delimiter");
        json out = json::array();
        std::size_t start = 0;
        for (;;) {
            auto at = s.find(delim, start);
            out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
            if (at == std::string::npos) break;
            start = at + delim.size();
        }
        return out;
    }
    if (name == "Fn::If") {
        json a = list(3, "[condition, value if true, value if false]");
        if (!a[0].is_string()) doc_.fail(pointer, "Fn::If's first argument is a condition's name");
        bool c = condition(a[0].get<std::string>(), child(pointer, 0));
        return eval(a[c ? 1 : 2], child(pointer, c ? 1 : 2));
    }
    if (name == "Fn::Equals") {
        json a = list(2, "[value, value]");
        json x = eval(a[0], child(pointer, 0)), y = eval(a[1], child(pointer, 1));
        if (x.is_primitive() && y.is_primitive()) return scalar_text(x) == scalar_text(y);
        return x == y;
    }
    if (name == "Fn::Not") {
        json a = list(1, "[condition]");
        return !as_bool(a[0], child(pointer, 0));
    }
    if (name == "Fn::And" || name == "Fn::Or") {
        json a = list(0, "a list of conditions");
        bool is_and = name == "Fn::And";
        bool acc = is_and;
        for (std::size_t i = 0; i < a.size(); ++i) {
            bool b = as_bool(a[i], child(pointer, i));
            acc = is_and ? acc && b : acc || b;
        }
        return acc;
    }
    if (name == "Condition") {
        if (!arg.is_string()) doc_.fail(pointer, "Condition takes a condition's name");
        return condition(arg.get<std::string>(), pointer);
    }
    if (name == "Fn::FindInMap") {
        json a = list(0, "[map, top-level key, second-level key]");
        if (a.size() < 3) doc_.fail(pointer, "Fn::FindInMap takes [map, top-level key, second-level key]");
        std::string m = eval_string(a[0], child(pointer, 0)), k1 = eval_string(a[1], child(pointer, 1)),
                    k2 = eval_string(a[2], child(pointer, 2));
        json::json_pointer jp(base_ + "/Mappings");
        const json* maps = doc_.root.contains(jp) ? &doc_.root[jp] : nullptr;
        if (maps && maps->contains(m) && (*maps)[m].contains(k1) && (*maps)[m][k1].contains(k2)) return (*maps)[m][k1][k2];
        if (a.size() == 4 && a[3].is_object() && a[3].contains("DefaultValue")) return eval(a[3]["DefaultValue"], pointer);
        doc_.fail(pointer, "Fn::FindInMap: no " + m + "." + k1 + "." + k2 + " in Mappings");
    }
    if (name == "Fn::ImportValue") {
        std::string export_name = eval_string(arg, pointer);
        notices_.push_back(ConfigError::format(doc_.mark(pointer), "Fn::ImportValue " + export_name +
                                                                        ": there are no other stacks offline; its value is its name"));
        return export_name;
    }
    if (name == "Fn::Base64") return core::base64_encode(eval_string(arg, pointer));
    if (name == "Fn::GetAZs") return json::array({region_ + "a", region_ + "b", region_ + "c"});
    if (name == "Fn::Length") {
        json v = eval(arg, pointer);
        if (!v.is_array()) doc_.fail(pointer, "Fn::Length takes a list");
        return v.size();
    }
    if (name == "Fn::ToJsonString") return eval(arg, pointer).dump();
    doc_.fail(pointer, "unknown intrinsic function " + name);
}

}  // namespace stratus::app

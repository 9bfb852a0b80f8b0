#include "emulator/app/document.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

namespace stratus::app {

namespace {

using json = nlohmann::json;

Mark mark_of(const YAML::Mark& m, const std::string& file) {
    if (m.line < 0) return Mark{file, 0, 0};
    return Mark{file, m.line + 1, m.column + 1};
}

// YAML 1.2 core schema for plain scalars.
json plain_scalar(const std::string& s) {
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    static const std::regex integer("[-+]?[0-9]+");
    static const std::regex octal("0o[0-7]+");
    static const std::regex hex("0x[0-9a-fA-F]+");
    static const std::regex floating(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
    try {
        if (std::regex_match(s, integer)) {
            // Leading zeros ("007") or values past 64 bits stay strings (ids, account numbers).
            std::string digits = s[0] == '-' || s[0] == '+' ? s.substr(1) : s;
            if (digits.size() > 1 && digits[0] == '0') return s;
            if (digits.size() > 18) return s;
            return std::stoll(s);
        }
        if (std::regex_match(s, octal)) return std::stoll(s.substr(2), nullptr, 8);
        if (std::regex_match(s, hex)) return std::stoll(s.substr(2), nullptr, 16);
        if (std::regex_match(s, floating)) {
            double d = std::stod(s);
            if (std::isfinite(d)) return d;
        }
    } catch (const std::exception&) {
    }
    if (s == ".inf" || s == ".Inf" || s == "+.inf") return s;  // not JSON: kept as text
    return s;
}

class Converter {
public:
    Converter(Document& doc) : doc_(doc) {}

    json convert(const YAML::Node& node, const std::string& pointer) {
        doc_.marks.emplace(pointer, mark_of(node.Mark(), doc_.file));
        const std::string& tag = node.Tag();
        json value = untagged(node, pointer);
        if (tag.empty() || tag == "?" || tag == "!" || tag.rfind("tag:yaml.org,2002:", 0) == 0) {
            if (tag == "tag:yaml.org,2002:str" && node.IsScalar()) return node.Scalar();
            return value;
        }
        // A local tag: a CloudFormation intrinsic's short form.
        std::string name = tag.substr(tag[0] == '!' ? 1 : 0);
        if (name == "Ref") return json{{"Ref", value}};
        if (name == "Condition") return json{{"Condition", value}};
        if (name == "GetAtt" && value.is_string()) {
            // !GetAtt Resource.Attribute (the attribute may itself hold dots).
            std::string s = value.get<std::string>();
            auto dot = s.find('.');
            if (dot == std::string::npos)
                doc_.fail(pointer, "!GetAtt needs Resource.Attribute, got '" + s + "'");
            return json{{"Fn::GetAtt", json::array({s.substr(0, dot), s.substr(dot + 1)})}};
        }
        static const char* known[] = {"GetAtt", "Sub",    "Join",   "Select", "Split",       "If",  "Equals",
                                      "Not",    "And",    "Or",     "FindInMap", "ImportValue", "Base64",
                                      "GetAZs", "Cidr",   "Transform", "Length", "ToJsonString"};
        for (auto* k : known)
            if (name == k) return json{{"Fn::" + name, value}};
        doc_.fail(pointer, "unknown tag !" + name + " (CloudFormation's short forms are !Ref, !GetAtt, !Sub, !Join, "
                                                    "!Select, !Split, !If, !Equals, !Not, !And, !Or, !FindInMap, "
                                                    "!ImportValue, !Base64, !Condition)");
    }

private:
    json untagged(const YAML::Node& node, const std::string& pointer) {
        switch (node.Type()) {
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined:
            return nullptr;
        case YAML::NodeType::Scalar:
            if (node.Tag() == "?") return plain_scalar(node.Scalar());
            return node.Scalar();
        case YAML::NodeType::Sequence: {
            json a = json::array();
            std::size_t i = 0;
            for (const auto& item : node) a.push_back(convert(item, child(pointer, i++)));
            return a;
        }
        case YAML::NodeType::Map: {
            json o = json::object();
            std::vector<json> merges;
            for (const auto& kv : node) {
                std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
                if (!kv.first.IsScalar()) doc_.fail(pointer, "a mapping key must be a plain value");
                if (key == "<<") {  // YAML merge key: `<<: *defaults`
                    json m = convert(kv.second, child(pointer, key));
                    if (m.is_array())
                        for (auto& x : m) merges.push_back(x);
                    else
                        merges.push_back(m);
                    continue;
                }
                if (o.contains(key)) {
                    Mark m = mark_of(kv.first.Mark(), doc_.file);
                    throw ConfigError(m, "duplicate key '" + key + "'");
                }
                o[key] = convert(kv.second, child(pointer, key));
            }
            for (auto& m : merges)
                if (m.is_object())
                    for (auto& [k, v] : m.items())
                        if (!o.contains(k)) o[k] = v;
            return o;
        }
        }
        return nullptr;
    }

    Document& doc_;
};

}  // namespace

std::string child(const std::string& pointer, const std::string& key) {
    std::string escaped;
    for (char c : key) {
        if (c == '~') escaped += "~0";
        else if (c == '/') escaped += "~1";
        else escaped += c;
    }
    return pointer + "/" + escaped;
}

std::string child(const std::string& pointer, std::size_t index) { return pointer + "/" + std::to_string(index); }

Mark Document::mark(const std::string& pointer) const {
    std::string p = pointer;
    for (;;) {
        auto it = marks.find(p);
        if (it != marks.end()) return it->second;
        if (p.empty()) return Mark{file, 0, 0};
        auto slash = p.rfind('/');
        p = slash == std::string::npos ? "" : p.substr(0, slash);
    }
}

void Document::fail(const std::string& pointer, const std::string& message) const {
    throw ConfigError(mark(pointer), message);
}

Document parse_document(const std::string& text, const std::string& file) {
    Document doc;
    doc.file = file;
    YAML::Node node;
    try {
        node = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw ConfigError(mark_of(e.mark, file), e.msg);
    }
    Converter c(doc);
    doc.root = c.convert(node, "");
    if (doc.root.is_null()) doc.root = json::object();
    return doc;
}

Document load_document(const std::string& path, const std::string& shown_name) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(Mark{shown_name, 0, 0}, "cannot read the file");
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_document(ss.str(), shown_name);
}

}  // namespace stratus::app

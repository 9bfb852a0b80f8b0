#include "lambda/event_filter.hpp"

#include <arpa/inet.h>

#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/text.hpp"

namespace stratus::lambda {

using json = nlohmann::json;

namespace {

[[noreturn]] void bad_pattern(const std::string& why) { throw std::invalid_argument(why); }

// '*' matches any run of characters (EventBridge's wildcard; "\*" is a literal star).
bool glob(std::string_view pattern, std::string_view text) {
    std::size_t p = 0, t = 0, star_p = std::string_view::npos, star_t = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '\\' && p + 1 < pattern.size() && pattern[p + 1] == '*') {
            if (text[t] == '*') {
                p += 2;
                ++t;
                continue;
            }
        } else if (p < pattern.size() && pattern[p] == '*') {
            star_p = p++;
            star_t = t;
            continue;
        } else if (p < pattern.size() && pattern[p] == text[t]) {
            ++p;
            ++t;
            continue;
        }
        if (star_p == std::string_view::npos) return false;
        p = star_p + 1;
        t = ++star_t;
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

struct Ip {
    std::array<unsigned char, 16> bytes{};
    bool v6 = false;
};

std::optional<Ip> parse_ip(const std::string& s) {
    Ip ip;
    if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
    if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) {
        ip.v6 = true;
        return ip;
    }
    return std::nullopt;
}

struct Matcher {
    enum class Kind { exact_string, exact_number, exact_bool, exact_null, prefix, suffix, equals_ic, wildcard,
                      anything_but, numeric, exists, cidr };
    Kind kind = Kind::exact_null;
    bool ignore_case = false;
    std::string text;
    double number = 0;
    bool flag = false;
    std::vector<Matcher> excluded;  // anything-but: what must not match
    // numeric: bounds (value, inclusive)
    std::optional<std::pair<double, bool>> lower, upper;
    // cidr
    Ip net;
    int bits = 0;

    bool matches(const json& v) const;
};

bool Matcher::matches(const json& v) const {
    switch (kind) {
        case Kind::exists: return flag;
        case Kind::exact_string: return v.is_string() && v.get_ref<const std::string&>() == text;
        case Kind::exact_number: return v.is_number() && v.get<double>() == number;
        case Kind::exact_bool: return v.is_boolean() && v.get<bool>() == flag;
        case Kind::exact_null: return v.is_null();
        case Kind::prefix:
        case Kind::suffix:
        case Kind::equals_ic:
        case Kind::wildcard: {
            if (!v.is_string()) return false;
            const std::string& s = v.get_ref<const std::string&>();
            std::string hay = ignore_case ? core::ascii_lower(s) : s;
            if (kind == Kind::prefix) return std::string_view(hay).starts_with(text);
            if (kind == Kind::suffix) return std::string_view(hay).ends_with(text);
            if (kind == Kind::equals_ic) return hay == text;
            return glob(text, s);
        }
        case Kind::numeric: {
            if (!v.is_number()) return false;
            double x = v.get<double>();
            if (lower && (lower->second ? x < lower->first : x <= lower->first)) return false;
            if (upper && (upper->second ? x > upper->first : x >= upper->first)) return false;
            return true;
        }
        case Kind::cidr: {
            if (!v.is_string()) return false;
            auto ip = parse_ip(v.get<std::string>());
            if (!ip || ip->v6 != net.v6) return false;
            int full = bits / 8, rest = bits % 8;
            for (int i = 0; i < full; ++i)
                if (ip->bytes[static_cast<std::size_t>(i)] != net.bytes[static_cast<std::size_t>(i)]) return false;
            if (rest) {
                auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
                if ((ip->bytes[static_cast<std::size_t>(full)] & mask) != (net.bytes[static_cast<std::size_t>(full)] & mask))
                    return false;
            }
            return true;
        }
        case Kind::anything_but: {
            if (!v.is_string() && !v.is_number() && !v.is_boolean()) return false;
            for (auto& m : excluded)
                if (m.matches(v)) return false;
            return true;
        }
    }
    return false;
}

Matcher exact(const json& v) {
    Matcher m;
    if (v.is_string()) {
        m.kind = Matcher::Kind::exact_string;
        m.text = v.get<std::string>();
    } else if (v.is_number()) {
        m.kind = Matcher::Kind::exact_number;
        m.number = v.get<double>();
    } else if (v.is_boolean()) {
        m.kind = Matcher::Kind::exact_bool;
        m.flag = v.get<bool>();
    } else if (v.is_null()) {
        m.kind = Matcher::Kind::exact_null;
    } else {
        bad_pattern("a match value must be a string, a number, a boolean or null");
    }
    return m;
}

// "prefix" / "suffix": a string, or {"equals-ignore-case": string}.
Matcher affix(Matcher::Kind kind, const json& v, const char* name) {
    Matcher m;
    m.kind = kind;
    if (v.is_string()) {
        m.text = v.get<std::string>();
    } else if (v.is_object() && v.size() == 1 && v.contains("equals-ignore-case") && v["equals-ignore-case"].is_string()) {
        m.ignore_case = true;
        m.text = core::ascii_lower(v["equals-ignore-case"].get<std::string>());
    } else {
        bad_pattern(std::string(name) + " must be a string");
    }
    return m;
}

Matcher string_matcher(Matcher::Kind kind, const json& v, const char* name) {
    if (!v.is_string()) bad_pattern(std::string(name) + " must be a string");
    Matcher m;
    m.kind = kind;
    if (kind == Matcher::Kind::equals_ic) {
        m.ignore_case = true;
        m.text = core::ascii_lower(v.get<std::string>());
    } else {
        m.text = v.get<std::string>();
        if (kind == Matcher::Kind::wildcard && m.text.find("**") != std::string::npos)
            bad_pattern("consecutive wildcard characters are not allowed");
    }
    return m;
}

Matcher numeric(const json& v) {
    if (!v.is_array() || v.empty() || v.size() % 2 != 0 || v.size() > 4) bad_pattern("numeric needs 1 or 2 operator/value pairs");
    Matcher m;
    m.kind = Matcher::Kind::numeric;
    for (std::size_t i = 0; i < v.size(); i += 2) {
        if (!v[i].is_string() || !v[i + 1].is_number()) bad_pattern("numeric takes operators and numbers");
        std::string op = v[i].get<std::string>();
        double n = v[i + 1].get<double>();
        if (op == "=") {
            if (v.size() != 2) bad_pattern("numeric '=' stands alone");
            m.lower = {n, true};
            m.upper = {n, true};
        } else if (op == ">" || op == ">=") {
            if (m.lower) bad_pattern("numeric has two lower bounds");
            m.lower = {n, op == ">="};
        } else if (op == "<" || op == "<=") {
            if (m.upper) bad_pattern("numeric has two upper bounds");
            m.upper = {n, op == "<="};
        } else {
            bad_pattern("unknown numeric operator " + op);
        }
    }
    if (m.lower && m.upper && m.lower->first > m.upper->first) bad_pattern("numeric range is empty");
    return m;
}

Matcher cidr(const json& v) {
    if (!v.is_string()) bad_pattern("cidr must be a string");
    std::string s = v.get<std::string>();
    auto slash = s.find('/');
    Matcher m;
    m.kind = Matcher::Kind::cidr;
    auto ip = parse_ip(s.substr(0, slash));
    if (!ip) bad_pattern("cidr must be an IP address or prefix");
    m.net = *ip;
    int max_bits = ip->v6 ? 128 : 32;
    m.bits = max_bits;
    if (slash != std::string::npos) {
        try {
            std::size_t used = 0;
            m.bits = std::stoi(s.substr(slash + 1), &used);
            if (used != s.size() - slash - 1) throw std::invalid_argument("");
        } catch (const std::exception&) {
            bad_pattern("bad cidr prefix length");
        }
        if (m.bits < 0 || m.bits > max_bits) bad_pattern("bad cidr prefix length");
    }
    return m;
}

Matcher anything_but(const json& v) {
    Matcher m;
    m.kind = Matcher::Kind::anything_but;
    if (v.is_array()) {
        if (v.empty()) bad_pattern("anything-but needs values");
        for (auto& x : v) {
            if (!x.is_string() && !x.is_number()) bad_pattern("anything-but takes strings or numbers");
            m.excluded.push_back(exact(x));
        }
    } else if (v.is_object()) {
        if (v.size() != 1) bad_pattern("anything-but takes one operator");
        auto only = v.begin();
        const std::string& op = only.key();
        const json& arg = only.value();
        auto one_or_many = [&](Matcher::Kind kind, const char* name) {
            if (arg.is_array()) {
                if (arg.empty()) bad_pattern(std::string(name) + " needs values");
                for (auto& x : arg) m.excluded.push_back(string_matcher(kind, x, name));
            } else {
                m.excluded.push_back(string_matcher(kind, arg, name));
            }
        };
        if (op == "prefix") m.excluded.push_back(string_matcher(Matcher::Kind::prefix, arg, "prefix"));
        else if (op == "suffix") m.excluded.push_back(string_matcher(Matcher::Kind::suffix, arg, "suffix"));
        else if (op == "equals-ignore-case") one_or_many(Matcher::Kind::equals_ic, "equals-ignore-case");
        else if (op == "wildcard") one_or_many(Matcher::Kind::wildcard, "wildcard");
        else bad_pattern("anything-but does not take " + op);
        // A prefix / suffix inside anything-but is case sensitive (EventBridge).
    } else if (v.is_string() || v.is_number()) {
        m.excluded.push_back(exact(v));
    } else {
        bad_pattern("anything-but takes a value, a list of values or an operator");
    }
    return m;
}

Matcher parse_matcher(const json& v) {
    if (!v.is_object()) return exact(v);
    if (v.size() != 1) bad_pattern("a matcher object has exactly one operator");
    auto only = v.begin();
    const std::string& op = only.key();
    const json& arg = only.value();
    if (op == "prefix") return affix(Matcher::Kind::prefix, arg, "prefix");
    if (op == "suffix") return affix(Matcher::Kind::suffix, arg, "suffix");
    if (op == "equals-ignore-case") return string_matcher(Matcher::Kind::equals_ic, arg, "equals-ignore-case");
    if (op == "wildcard") return string_matcher(Matcher::Kind::wildcard, arg, "wildcard");
    if (op == "anything-but") return anything_but(arg);
    if (op == "numeric") return numeric(arg);
    if (op == "cidr") return cidr(arg);
    if (op == "exists") {
        if (!arg.is_boolean()) bad_pattern("exists must be true or false");
        Matcher m;
        m.kind = Matcher::Kind::exists;
        m.flag = arg.get<bool>();
        return m;
    }
    bad_pattern("unknown operator " + op);
}

}  // namespace

struct EventPattern::Node {
    struct Field {
        std::string name;
        std::shared_ptr<const Node> nested;  // an object pattern
        std::vector<Matcher> leaf;           // else: an array of matchers
    };
    std::vector<Field> fields;
    std::vector<std::vector<std::shared_ptr<const Node>>> ors;  // each "$or": its alternatives

    static std::shared_ptr<const Node> parse(const json& j, int depth);
    bool matches(const json* event) const;
};

namespace {

bool match_leaf(const std::vector<Matcher>& leaf, const json* v) {
    if (!v) {
        for (auto& m : leaf)
            if (m.kind == Matcher::Kind::exists && !m.flag) return true;
        return false;
    }
    for (auto& m : leaf) {
        if (m.kind == Matcher::Kind::exists) {
            if (m.flag && !(v->is_array() && v->empty())) return true;
            continue;
        }
        if (v->is_array()) {
            for (auto& e : *v)
                if (m.matches(e)) return true;
        } else if (m.matches(*v)) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::shared_ptr<const EventPattern::Node> EventPattern::Node::parse(const json& j, int depth) {
    if (depth > 32) bad_pattern("pattern nests too deep");
    if (!j.is_object()) bad_pattern("a pattern must be a JSON object");
    auto node = std::make_shared<Node>();
    for (auto& [name, v] : j.items()) {
        if (name == "$or") {
            if (!v.is_array() || v.size() < 2) bad_pattern("$or takes at least two patterns");
            std::vector<std::shared_ptr<const Node>> alts;
            for (auto& alt : v) alts.push_back(parse(alt, depth + 1));
            node->ors.push_back(std::move(alts));
            continue;
        }
        Field f;
        f.name = name;
        if (v.is_object()) {
            f.nested = parse(v, depth + 1);
        } else if (v.is_array()) {
            if (v.empty()) bad_pattern("empty match list for " + name);
            for (auto& m : v) f.leaf.push_back(parse_matcher(m));
        } else {
            bad_pattern("the value of " + name + " must be an object or an array");
        }
        node->fields.push_back(std::move(f));
    }
    return node;
}

bool EventPattern::Node::matches(const json* event) const {
    for (auto& f : fields) {
        const json* v = nullptr;
        if (event && event->is_object()) {
            auto it = event->find(f.name);
            if (it != event->end()) v = &*it;
        }
        if (f.nested) {
            bool ok = false;
            if (v && v->is_array() && !v->empty()) {
                for (auto& e : *v)
                    if (f.nested->matches(&e)) {
                        ok = true;
                        break;
                    }
            } else {
                ok = f.nested->matches(v && v->is_object() ? v : nullptr);
            }
            if (!ok) return false;
        } else if (!match_leaf(f.leaf, v)) {
            return false;
        }
    }
    for (auto& alts : ors) {
        bool any = false;
        for (auto& a : alts)
            if (a->matches(event)) {
                any = true;
                break;
            }
        if (!any) return false;
    }
    return true;
}

EventPattern EventPattern::parse(std::string_view text) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) bad_pattern("a pattern must be JSON");
    EventPattern p;
    p.root_ = Node::parse(j, 0);
    return p;
}

bool EventPattern::matches(const json& event) const { return root_ && root_->matches(&event); }

}  // namespace stratus::lambda

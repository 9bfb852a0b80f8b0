#include "s3/policy.hpp"

#include "core/text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

namespace stratus::s3::policy {

namespace {

using json = nlohmann::json;

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool has_wildcard(std::string_view s) { return s.find_first_of("*?") != std::string_view::npos; }

[[noreturn]] void fail(std::string message) { throw PolicyError(std::move(message)); }

// The S3 actions a bucket policy may name (lowercased, without "s3:"), and whether each
// applies to objects (true) or to the bucket (false).
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
struct KnownAction {
    std::string_view name;
    bool object;
};
constexpr KnownAction known_actions[] = {
    {"abortmultipartupload", true},         {"deleteobject", true},
    {"deleteobjecttagging", true},          {"deleteobjectversion", true},
    {"deleteobjectversiontagging", true},   {"getobject", true},
    {"getobjectacl", true},                 {"getobjectattributes", true},
    {"getobjectlegalhold", true},           {"getobjectretention", true},
    {"getobjecttagging", true},             {"getobjecttorrent", true},
    {"getobjectversion", true},             {"getobjectversionacl", true},
    {"getobjectversionattributes", true},   {"getobjectversiontagging", true},
    {"getobjectversiontorrent", true},      {"listmultipartuploadparts", true},
    {"putobject", true},                    {"putobjectacl", true},
    {"putobjectlegalhold", true},           {"putobjectretention", true},
    {"putobjecttagging", true},             {"putobjectversionacl", true},
    {"putobjectversiontagging", true},      {"restoreobject", true},
    {"bypassgovernanceretention", true},    {"replicateobject", true},
    {"replicatedelete", true},              {"replicatetags", true},
    {"createbucket", false},                {"deletebucket", false},
    {"deletebucketpolicy", false},          {"deletebucketwebsite", false},
    {"deletebucketownershipcontrols", false}, {"getaccelerateconfiguration", false},
    {"getbucketacl", false},                {"getbucketcors", false},
    {"getbucketlocation", false},           {"getbucketlogging", false},
    {"getbucketnotification", false},       {"getbucketobjectlockconfiguration", false},
    {"getbucketownershipcontrols", false},  {"getbucketpolicy", false},
    {"getbucketpolicystatus", false},       {"getbucketpublicaccessblock", false},
    {"getbucketrequestpayment", false},     {"getbuckettagging", false},
    {"getbucketversioning", false},         {"getbucketwebsite", false},
    {"getencryptionconfiguration", false},  {"getlifecycleconfiguration", false},
    {"getreplicationconfiguration", false}, {"listbucket", false},
    {"listbucketmultipartuploads", false},  {"listbucketversions", false},
    {"putaccelerateconfiguration", false},  {"putbucketacl", false},
    {"putbucketcors", false},               {"putbucketlogging", false},
    {"putbucketnotification", false},       {"putbucketobjectlockconfiguration", false},
    {"putbucketownershipcontrols", false},  {"putbucketpolicy", false},
    {"putbucketpublicaccessblock", false},  {"putbucketrequestpayment", false},
    {"putbuckettagging", false},            {"putbucketversioning", false},
    {"putbucketwebsite", false},            {"putencryptionconfiguration", false},
    {"putlifecycleconfiguration", false},   {"putreplicationconfiguration", false},
    {"listallmybuckets", false},
};

const KnownAction* known_action(std::string_view name) {
    for (auto& a : known_actions)
        if (a.name == name) return &a;
    return nullptr;
}

// The condition operators IAM knows (without IfExists / ForAnyValue: / ForAllValues:).
constexpr std::string_view operators[] = {
    "StringEquals",      "StringNotEquals",       "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
    "StringLike",        "StringNotLike",         "NumericEquals",          "NumericNotEquals",
    "NumericLessThan",   "NumericLessThanEquals", "NumericGreaterThan",     "NumericGreaterThanEquals",
    "DateEquals",        "DateNotEquals",         "DateLessThan",           "DateLessThanEquals",
    "DateGreaterThan",   "DateGreaterThanEquals", "Bool",                   "BinaryEquals",
    "IpAddress",         "NotIpAddress",          "ArnEquals",              "ArnLike",
    "ArnNotEquals",      "ArnNotLike",            "Null",
};

struct Operator {
    std::string base;
    bool if_exists = false;
    enum class Set { single, any, all } set = Set::single;
};

std::optional<Operator> split_operator(std::string_view op) {
    Operator o;
    if (op.starts_with("ForAnyValue:")) {
        o.set = Operator::Set::any;
        op.remove_prefix(12);
    } else if (op.starts_with("ForAllValues:")) {
        o.set = Operator::Set::all;
        op.remove_prefix(13);
    }
    if (op.ends_with("IfExists") && op != "IfExists") {
        o.if_exists = true;
        op.remove_suffix(8);
    }
    for (auto known : operators)
        if (known == op) {
            o.base = std::string(op);
            if (o.base == "Null" && o.if_exists) return std::nullopt;
            return o;
        }
    return std::nullopt;
}

bool negated(std::string_view base) {
    return base == "StringNotEquals" || base == "StringNotEqualsIgnoreCase" || base == "StringNotLike" ||
           base == "NumericNotEquals" || base == "DateNotEquals" || base == "NotIpAddress" ||
           base == "ArnNotEquals" || base == "ArnNotLike";
}

std::vector<std::string> strings_of(const json& v, const char* field) {
    std::vector<std::string> out;
    auto one = [&](const json& x) {
        if (!x.is_string()) fail(std::string("Invalid policy syntax."));
        out.push_back(x.get<std::string>());
    };
    if (v.is_array()) {
        if (v.empty()) fail(std::string("Missing required field ") + field);
        for (auto& x : v) one(x);
    } else {
        one(v);
    }
    return out;
}

bool valid_account_principal(std::string_view p) {
    if (p == "*") return true;
    auto digits = [](std::string_view s) {
        return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (digits(p)) return true;
    constexpr std::string_view iam = "arn:aws:iam::";
    if (!p.starts_with(iam)) return false;
    p.remove_prefix(iam.size());
    auto colon = p.find(':');
    if (colon == std::string_view::npos) return false;
    std::string_view account = p.substr(0, colon), rest = p.substr(colon + 1);
    if (!digits(account) && account != "*") return false;
    return rest == "root" || rest.starts_with("user/") || rest.starts_with("role/") ||
           rest.starts_with("assumed-role/") || rest.starts_with("federated-user/");
}

std::vector<std::string> parse_principal(const json& v) {
    std::vector<std::string> out;
    if (v.is_string()) {
        if (v.get<std::string>() != "*") fail("Invalid principal in policy");
        out.emplace_back("*");
        return out;
    }
    if (!v.is_object() || v.empty()) fail("Invalid principal in policy");
    for (auto& [type, value] : v.items()) {
        if (type != "AWS" && type != "Service" && type != "CanonicalUser" && type != "Federated")
            fail("Invalid principal in policy");
        std::vector<std::string> ids;
        if (value.is_string()) ids.push_back(value.get<std::string>());
        else if (value.is_array()) {
            for (auto& x : value) {
                if (!x.is_string()) fail("Invalid principal in policy");
                ids.push_back(x.get<std::string>());
            }
        } else {
            fail("Invalid principal in policy");
        }
        if (ids.empty()) fail("Invalid principal in policy");
        for (auto& id : ids) {
            if (id.empty()) fail("Invalid principal in policy");
            if (type == "AWS" && !valid_account_principal(id)) fail("Invalid principal in policy");
            out.push_back(type == "AWS" && id == "*" ? std::string("*") : type + ":" + id);
        }
    }
    return out;
}

// An action S3 accepts in a policy: "*", or "s3:" and a known name (any case), or a
// pattern over names.
std::string parse_action(const std::string& a) {
    std::string l = lower(a);
    if (l == "*") return l;
    if (!l.starts_with("s3:") || l.size() == 3) fail("Policy has invalid action");
    std::string_view name = std::string_view(l).substr(3);
    if (!has_wildcard(name) && !known_action(name)) fail("Policy has invalid action");
    return l;
}

void check_resource(const std::string& r, std::string_view bucket) {
    constexpr std::string_view arn = "arn:aws:s3:::";
    if (!std::string_view(r).starts_with(arn)) fail("Policy has invalid resource");
    std::string_view rest = std::string_view(r).substr(arn.size());
    std::string_view bucket_part = rest.substr(0, rest.find('/'));
    if (bucket_part.empty()) fail("Policy has invalid resource");
    // A pattern over bucket names must cover this bucket ("arn:aws:s3:::*" does).
    if (!glob(bucket_part, bucket) && !glob(rest, bucket)) fail("Policy has invalid resource");
}

Statement parse_statement(const json& s, std::string_view bucket) {
    if (!s.is_object()) fail("Invalid policy syntax.");
    for (auto& [k, v] : s.items()) {
        static constexpr std::string_view fields[] = {"Sid",    "Effect",   "Principal",   "NotPrincipal", "Action",
                                                      "NotAction", "Resource", "NotResource", "Condition"};
        if (std::find(std::begin(fields), std::end(fields), k) == std::end(fields)) fail("Unknown field " + k);
    }
    Statement st;
    if (!s.contains("Effect")) fail("Missing required field Effect");
    if (!s["Effect"].is_string()) fail("Invalid policy syntax.");
    std::string effect = s["Effect"].get<std::string>();
    if (effect != "Allow" && effect != "Deny") fail("Invalid effect: " + effect);
    st.allow = effect == "Allow";

    bool has_p = s.contains("Principal"), has_np = s.contains("NotPrincipal");
    if (!has_p && !has_np) fail("Missing required field Principal");
    if (has_p && has_np) fail("Invalid policy syntax.");
    st.not_principal = has_np;
    st.principals = parse_principal(s[has_p ? "Principal" : "NotPrincipal"]);

    bool has_a = s.contains("Action"), has_na = s.contains("NotAction");
    if (!has_a && !has_na) fail("Missing required field Action");
    if (has_a && has_na) fail("Invalid policy syntax.");
    st.not_action = has_na;
    for (auto& a : strings_of(s[has_a ? "Action" : "NotAction"], "Action")) st.actions.push_back(parse_action(a));

    bool has_r = s.contains("Resource"), has_nr = s.contains("NotResource");
    if (!has_r && !has_nr) fail("Missing required field Resource");
    if (has_r && has_nr) fail("Invalid policy syntax.");
    st.not_resource = has_nr;
    st.resources = strings_of(s[has_r ? "Resource" : "NotResource"], "Resource");
    for (auto& r : st.resources) check_resource(r, bucket);

    // Every named action must have a resource of its kind: object actions an object ARN
    // (".../key", or a pattern that reaches past the bucket), bucket actions the bucket's.
    if (!st.not_action && !st.not_resource) {
        std::string bucket_arn = "arn:aws:s3:::" + std::string(bucket);
        for (auto& a : st.actions) {
            if (a == "*" || has_wildcard(a)) continue;
            const KnownAction* k = known_action(std::string_view(a).substr(3));
            bool fits = false;
            for (auto& r : st.resources) {
                std::string_view rest = std::string_view(r).substr(13);
                bool object_level = rest.find('/') != std::string_view::npos || rest.ends_with("*");
                if (k->object ? object_level : glob(r, bucket_arn)) fits = true;
            }
            if (!fits) fail("Action does not apply to any resource(s) in statement");
        }
    }

    if (s.contains("Condition")) {
        const json& c = s["Condition"];
        if (!c.is_object()) fail("Invalid policy syntax.");
        for (auto& [op, block] : c.items()) {
            if (!split_operator(op)) fail("Invalid Condition type : " + op);
            if (!block.is_object()) fail("Invalid policy syntax.");
            for (auto& [key, values] : block.items()) {
                std::string k = lower(key);
                if (!(k.starts_with("aws:") || k.starts_with("s3:")) || k.find(':') + 1 == k.size())
                    fail("Policy has an invalid condition key");
                Condition cond{op, k, {}};
                auto add = [&](const json& x) {
                    if (x.is_string()) cond.values.push_back(x.get<std::string>());
                    else if (x.is_boolean()) cond.values.emplace_back(x.get<bool>() ? "true" : "false");
                    else if (x.is_number()) cond.values.push_back(x.dump());
                    else fail("Invalid policy syntax.");
                };
                if (values.is_array()) {
                    for (auto& x : values) add(x);
                } else {
                    add(values);
                }
                st.conditions.push_back(std::move(cond));
            }
        }
    }
    return st;
}

// Seconds since the epoch of an ISO 8601 date ("2026-12-02", "2026-12-02T17:00:00Z") or a
// number of seconds.
std::optional<double> date_value(std::string_view s) {
    if (s.empty()) return std::nullopt;
    if (std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }))
        return std::strtod(std::string(s).c_str(), nullptr);
    std::tm tm{};
    std::string str(s);
    const char* end = strptime(str.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) end = strptime(str.c_str(), "%Y-%m-%d", &tm);
    if (!end) return std::nullopt;
    return static_cast<double>(timegm(&tm));
}

std::optional<double> number_value(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::string str(s);
    char* end = nullptr;
    double d = std::strtod(str.c_str(), &end);
    if (end != str.c_str() + str.size()) return std::nullopt;
    return d;
}

// The positive form of `base` (StringNotLike -> StringLike's test) for one request value
// against one policy value.
bool positive_match(std::string_view base, std::string_view have, std::string_view want) {
    if (base == "StringEquals" || base == "StringNotEquals" || base == "BinaryEquals") return have == want;
    if (base == "StringEqualsIgnoreCase" || base == "StringNotEqualsIgnoreCase") return lower(have) == lower(want);
    if (base == "StringLike" || base == "StringNotLike" || base == "ArnLike" || base == "ArnNotLike" ||
        base == "ArnEquals" || base == "ArnNotEquals")
        return glob(want, have);
    if (base == "Bool") return lower(have) == lower(want);
    if (base == "IpAddress" || base == "NotIpAddress") return ip_in(have, want);
    bool numeric = base.starts_with("Numeric");
    auto a = numeric ? number_value(have) : date_value(have);
    auto b = numeric ? number_value(want) : date_value(want);
    if (!a || !b) return false;
    std::string_view rel = base.substr(numeric ? 7 : 4);
    if (rel == "Equals" || rel == "NotEquals") return *a == *b;
    if (rel == "LessThan") return *a < *b;
    if (rel == "LessThanEquals") return *a <= *b;
    if (rel == "GreaterThan") return *a > *b;
    if (rel == "GreaterThanEquals") return *a >= *b;
    return false;
}

bool condition_holds(const Condition& c, const Request& r) {
    auto op = split_operator(c.op);
    if (!op) return false;
    auto it = r.context.find(c.key);
    bool present = it != r.context.end() && !it->second.empty();
    if (op->base == "Null") {
        // "Null": true asks for the key to be absent.
        for (auto& v : c.values)
            if ((lower(v) == "true") == !present) return true;
        return false;
    }
    bool neg = negated(op->base);
    if (!present) {
        // A key the request lacks: IfExists and negated operators hold, ForAllValues holds
        // vacuously, anything else fails.
        return op->if_exists || neg || op->set == Operator::Set::all;
    }
    auto one = [&](const std::string& have) {
        bool any = std::any_of(c.values.begin(), c.values.end(),
                               [&](const std::string& want) { return positive_match(op->base, have, want); });
        return neg ? !any : any;
    };
    const auto& have = it->second;
    if (op->set == Operator::Set::all) return std::all_of(have.begin(), have.end(), one);
    return std::any_of(have.begin(), have.end(), one);
}

bool principal_matches(const Statement& st, const Request& r) {
    // Anonymous requests match the wildcard alone; an IAM user of the owner's account also
    // matches its own ARN, and (in a Deny) its account.
    bool hit = false;
    for (const std::string& p : st.principals) {
        if (p == "*") hit = true;
        else if (!r.principal_arn.empty() && p.starts_with("AWS:")) {
            std::string_view id = std::string_view(p).substr(4);
            if (id == r.principal_arn) hit = true;
            bool account = id == r.account || id == "arn:aws:iam::" + r.account + ":root";
            // NotPrincipal naming the account does not exempt its users (AWS: name them).
            if (account && !st.allow && !st.not_principal) hit = true;
        }
    }
    return st.not_principal ? !hit : hit;
}

bool statement_matches(const Statement& st, const Request& r) {
    if (!principal_matches(st, r)) return false;
    bool action = std::any_of(st.actions.begin(), st.actions.end(),
                              [&](const std::string& a) { return glob(a, r.action, true); });
    if (action == st.not_action) return false;
    bool resource = std::any_of(st.resources.begin(), st.resources.end(),
                                [&](const std::string& p) { return glob(p, r.resource); });
    if (resource == st.not_resource) return false;
    return std::all_of(st.conditions.begin(), st.conditions.end(),
                       [&](const Condition& c) { return condition_holds(c, r); });
}

struct Address {
    std::array<unsigned char, 16> bytes{};
    bool v4 = false;
};

std::optional<Address> parse_address(std::string_view s) {
    std::string str(s);
    Address a;
    in_addr v4{};
    if (inet_pton(AF_INET, str.c_str(), &v4) == 1) {
        a.v4 = true;
        std::memcpy(a.bytes.data(), &v4, 4);
        return a;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, str.c_str(), &v6) != 1) return std::nullopt;
    std::memcpy(a.bytes.data(), &v6, 16);
    static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.bytes.data(), mapped, 12) == 0) {
        std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
        a.v4 = true;
    }
    return a;
}

// The prefix length of a CIDR value (the address's full length without one); nullopt
// when unparsable.
std::optional<std::pair<Address, int>> parse_cidr(std::string_view cidr) {
    auto slash = cidr.find('/');
    auto addr = parse_address(cidr.substr(0, slash));
    if (!addr) return std::nullopt;
    int bits = addr->v4 ? 32 : 128;
    if (slash != std::string_view::npos) {
        std::string_view p = cidr.substr(slash + 1);
        if (p.empty() || p.size() > 3 || !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        int n = std::stoi(std::string(p));
        if (n > bits) return std::nullopt;
        bits = n;
    }
    return std::make_pair(*addr, bits);
}

bool wildcard_principal(const Statement& st) {
    if (st.not_principal) return true;
    for (auto& p : st.principals)
        if (p == "*" || (p.starts_with("AWS:") && has_wildcard(p))) return true;
    return false;
}

// A condition that pins a statement to fixed callers (the keys S3 counts, with a positive
// exact-match operator and no wildcard in the values).
bool pins(const Condition& c) {
    auto op = split_operator(c.op);
    if (!op || op->if_exists || op->set == Operator::Set::all) return false;
    if (c.key == "aws:sourceip") {
        if (op->base != "IpAddress" || c.values.empty()) return false;
        for (auto& v : c.values) {
            auto cidr = parse_cidr(v);
            if (!cidr || cidr->second < (cidr->first.v4 ? 8 : 32)) return false;
        }
        return true;
    }
    static constexpr std::string_view fixed_keys[] = {
        "aws:sourcearn",      "aws:sourcevpc",      "aws:sourcevpce",   "aws:sourceaccount",
        "aws:sourceowner",    "aws:principalorgid", "aws:principalaccount", "aws:principalarn",
        "aws:userid",         "s3:dataaccesspointarn", "s3:dataaccesspointaccount",
    };
    if (std::find(std::begin(fixed_keys), std::end(fixed_keys), c.key) == std::end(fixed_keys)) return false;
    if (op->base != "StringEquals" && op->base != "StringEqualsIgnoreCase" && op->base != "ArnEquals" &&
        op->base != "StringLike" && op->base != "ArnLike")
        return false;
    if (c.values.empty()) return false;
    return std::none_of(c.values.begin(), c.values.end(), [](const std::string& v) { return has_wildcard(v); });
}

}  // namespace

bool glob(std::string_view pattern, std::string_view text, bool ignore_case) {
    return core::wildcard_match(pattern, text, true, ignore_case);
}

bool ip_in(std::string_view address, std::string_view cidr) {
    auto a = parse_address(address);
    auto c = parse_cidr(cidr);
    if (!a || !c || a->v4 != c->first.v4) return false;
    int bits = c->second;
    for (int i = 0; bits > 0; ++i, bits -= 8) {
        unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
        if ((a->bytes[i] & mask) != (c->first.bytes[i] & mask)) return false;
    }
    return true;
}

Policy parse(std::string_view text, std::string_view bucket) {
    // AWS insists on the first byte too (no leading whitespace).
    if (text.empty() || text.front() != '{')
        fail("Policies must be valid JSON and the first byte must be '{'");
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) fail("Policies must be valid JSON and the first byte must be '{'");
    for (auto& [k, v] : doc.items())
        if (k != "Version" && k != "Id" && k != "Statement") fail("Unknown field " + k);
    if (doc.contains("Version")) {
        const json& v = doc["Version"];
        if (!v.is_string() || (v.get<std::string>() != "2012-10-17" && v.get<std::string>() != "2008-10-17"))
            fail("The policy must contain a valid version string");
    }
    if (!doc.contains("Statement")) fail("Missing required field Statement");
    const json& s = doc["Statement"];
    Policy p;
    if (s.is_array()) {
        if (s.empty()) fail("Missing required field Statement");
        for (auto& st : s) p.statements.push_back(parse_statement(st, bucket));
    } else {
        p.statements.push_back(parse_statement(s, bucket));
    }
    return p;
}

Decision evaluate(const Policy& p, const Request& r) {
    Decision d = Decision::none;
    for (auto& st : p.statements) {
        if (!statement_matches(st, r)) continue;
        if (!st.allow) return Decision::deny;
        d = Decision::allow;
    }
    return d;
}

bool is_public(const Policy& p) {
    for (auto& st : p.statements) {
        if (!st.allow || !wildcard_principal(st)) continue;
        if (std::none_of(st.conditions.begin(), st.conditions.end(), pins)) return true;
    }
    return false;
}

}  // namespace stratus::s3::policy

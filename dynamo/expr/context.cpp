// The request-wide half of expressions: placeholder maps, #n / :v resolution with the
// used-set bookkeeping, and every check that needs resolved names or values (reserved
// words, operand types of :values, BETWEEN bounds, overlapping update paths, key
// condition shape).
#include <algorithm>
#include <cctype>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "dynamo/expr/ast.hpp"

namespace stratus::dynamo::expr {

using core::AwsError;
using namespace detail;

namespace {

bool valid_placeholder(const std::string& key, char sigil) {
    if (key.size() < 2 || key[0] != sigil) return false;
    return std::all_of(key.begin() + 1, key.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

void check_text(std::string_view text, Kind kind) {
    // AWS: "The maximum length of any expression string is 4 KB".
    if (text.size() > max_expression_bytes)
        fail(kind, fmt::format("Expression size has exceeded the maximum allowed size; expression size: {}",
                               text.size()));
    bool blank = std::all_of(text.begin(), text.end(),
                             [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
    if (blank) fail(kind, "The expression can not be empty;");
}

// Resolves #n and :v in source order, so the first bad placeholder or reserved word
// in the text is the one reported, and records what was used for check_unused().
struct Resolver {
    Kind kind;
    const Names& names;
    const std::map<std::string, std::shared_ptr<const AttributeValue>>& values;
    std::set<std::string>& used_names;
    std::set<std::string>& used_values;
    std::vector<std::string>& top_names;  // top-level attributes read or written
    std::set<std::string> seen_top{};

    void node(Node& n) {
        if (n.kind == NodeKind::path) return path(n);
        if (n.kind == NodeKind::value) return value(n);
        for (Node& c : n.children) node(c);
    }

    void path(Node& n) {
        n.path.clear();
        n.path.reserve(n.raw.size());
        for (const RawStep& s : n.raw) {
            PathStep step;
            switch (s.kind) {
            case RawStep::Kind::name:
                if (is_reserved_word(s.text))
                    fail(kind, fmt::format("Attribute name is a reserved keyword; reserved keyword: {}", s.text));
                step.name = s.text;
                break;
            case RawStep::Kind::ref: {
                auto it = names.find(s.text);
                if (it == names.end())
                    fail(kind, fmt::format("An expression attribute name used in the document path is not "
                                           "defined; attribute name: {}",
                                           s.text));
                used_names.insert(s.text);
                step.name = it->second;
                break;
            }
            case RawStep::Kind::index:
                step.is_index = true;
                step.index = s.index;
                break;
            }
            n.path.push_back(std::move(step));
        }
        if (seen_top.insert(n.path[0].name).second) top_names.push_back(n.path[0].name);
    }

    void value(Node& n) {
        auto it = values.find(n.text);
        if (it == values.end())
            fail(kind, fmt::format("An expression attribute value used in expression is not defined; "
                                   "attribute value: {}",
                                   n.text));
        used_values.insert(n.text);
        n.shared = it->second;
    }
};

bool scalar(Type t) { return t == Type::S || t == Type::N || t == Type::B; }

[[noreturn]] void operand_type(Kind kind, std::string_view op, Type t) {
    fail(kind, fmt::format("Incorrect operand type for operator or function; operator or function: {}, "
                           "operand type: {}",
                           op, type_name(t)));
}

// Checks on :values that DynamoDB makes before reading any item (in source order).
void check_condition(const Node& n, Kind kind) {
    switch (n.kind) {
    case NodeKind::compare:
        // Only = and <> accept every type; the ordering comparators need S, N or B.
        if (n.cmp != Cmp::eq && n.cmp != Cmp::ne)
            for (const Node& c : n.children)
                if (c.kind == NodeKind::value && !scalar(c.value().type)) operand_type(kind, cmp_name(n.cmp), c.value().type);
        break;
    case NodeKind::between: {
        for (std::size_t i = 0; i < 3; ++i) {
            const Node& c = n.children[i];
            if (c.kind == NodeKind::value && !scalar(c.value().type)) operand_type(kind, "BETWEEN", c.value().type);
        }
        const Node& lo = n.children[1];
        const Node& hi = n.children[2];
        if (lo.kind == NodeKind::value && hi.kind == NodeKind::value) {
            // Wording of the same-type message recalled, not verified.
            if (lo.value().type != hi.value().type)
                fail(kind, fmt::format("The BETWEEN operator requires same data type for lower and upper bounds; "
                                       "lower operand: {}, upper operand: {}",
                                       describe_value(lo.value()), describe_value(hi.value())));
            auto order = compare_values(lo.value(), hi.value());
            if (order && *order > 0)
                fail(kind, fmt::format("The BETWEEN operator requires upper bound to be greater than or equal to "
                                       "lower bound; lower operand: {}, upper operand: {}",
                                       describe_value(lo.value()), describe_value(hi.value())));
        }
        break;
    }
    case NodeKind::function: {
        // size(...) as an argument is a number.
        auto type_of = [](const Node& c) -> std::optional<Type> {
            if (c.kind == NodeKind::value) return c.value().type;
            if (c.kind == NodeKind::function && c.fn == Fn::size) return Type::N;
            return std::nullopt;
        };
        if (n.fn == Fn::begins_with) {
            for (const Node& c : n.children)
                if (auto t = type_of(c); t && *t != Type::S && *t != Type::B) operand_type(kind, "begins_with", *t);
        } else if (n.fn == Fn::size) {
            if (auto t = type_of(n.children[0]); t && (*t == Type::N || *t == Type::BOOL || *t == Type::NUL))
                operand_type(kind, "size", *t);
        } else if (n.fn == Fn::attribute_type) {
            const Node& t = n.children[1];
            if (auto type = type_of(t); type && *type != Type::S) operand_type(kind, "attribute_type", *type);
            if (t.kind == NodeKind::value) {
                static constexpr std::string_view valid[] = {"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"};
                if (std::find(std::begin(valid), std::end(valid), t.value().s) == std::end(valid))
                    fail(kind, fmt::format("Invalid attribute type name found; type: {}, valid types: "
                                           "{{ B,BOOL,BS,L,M,N,NS,NULL,S,SS }}",
                                           t.value().s));
            }
        }
        break;
    }
    default:
        break;
    }
    for (const Node& c : n.children) check_condition(c, kind);
}

void check_set_value(const Node& n) {
    if (n.kind == NodeKind::plus || n.kind == NodeKind::minus) {
        // "operator or function: +" for a non-number :value is our reading of AWS's
        // pattern; at run time a non-number is "An operand in the update expression has an
        // incorrect data type".
        for (const Node& c : n.children)
            if (c.kind == NodeKind::value && c.value().type != Type::N)
                operand_type(Kind::update, n.kind == NodeKind::plus ? "+" : "-", c.value().type);
    } else if (n.kind == NodeKind::function && n.fn == Fn::list_append) {
        for (const Node& c : n.children)
            if (c.kind == NodeKind::value && c.value().type != Type::L) operand_type(Kind::update, "list_append", c.value().type);
    }
    for (const Node& c : n.children) check_set_value(c);
}

// Relation of two paths: one a prefix of the other (overlap), or the same prefix followed
// by a map key in one and a list index in the other (conflict).
enum class Relation { none, overlap, conflict };

Relation relate(const Path& a, const Path& b) {
    std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i].is_index != b[i].is_index) return Relation::conflict;
        if (a[i].is_index ? a[i].index != b[i].index : a[i].name != b[i].name) return Relation::none;
    }
    return Relation::overlap;
}

bool path_less(const Path& a, const Path& b) {
    std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i].is_index != b[i].is_index) return a[i].is_index;
        if (a[i].is_index) {
            if (a[i].index != b[i].index) return a[i].index < b[i].index;
        } else if (a[i].name != b[i].name) {
            return a[i].name < b[i].name;
        }
    }
    return a.size() < b.size();
}

// "Two document paths overlap / conflict with each other" for UpdateExpression targets
// and ProjectionExpression paths. Sorted, any overlap or conflict shows up between
// neighbours, so this is O(n log n) even for the ~2,000 paths 4 KB can hold. AWS's
// choice among several offending pairs is unknown: we report the pair whose later path
// comes first in the text, earlier path as "path one".
void check_paths(Kind kind, const std::vector<const Path*>& paths) {
    std::vector<std::size_t> order(paths.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return path_less(*paths[a], *paths[b]); });
    std::size_t best_one = 0, best_two = 0;
    Relation best = Relation::none;
    for (std::size_t k = 1; k < order.size(); ++k) {
        std::size_t one = std::min(order[k - 1], order[k]);
        std::size_t two = std::max(order[k - 1], order[k]);
        Relation r = relate(*paths[one], *paths[two]);
        if (r == Relation::none) continue;
        if (best == Relation::none || two < best_two || (two == best_two && one < best_one))
            best = r, best_one = one, best_two = two;
    }
    if (best == Relation::none) return;
    fail(kind, fmt::format("Two document paths {} with each other; must remove or rewrite one of these paths; "
                           "path one: {}, path two: {}",
                           best == Relation::overlap ? "overlap" : "conflict", format_path(*paths[best_one]),
                           format_path(*paths[best_two])));
}

// ---- KeyConditionExpression

[[noreturn]] void invalid_key_operator(std::string_view op) {
    throw AwsError::validation(fmt::format("Invalid operator used in KeyConditionExpression: {}", op));
}
[[noreturn]] void key_not_supported() { throw AwsError::validation("Query key condition not supported"); }
[[noreturn]] void missed_key(const std::string& name) {
    throw AwsError::validation(fmt::format("Query condition missed key schema element: {}", name));
}

void flatten_and(const Node& n, std::vector<const Node*>& out) {
    if (n.kind == NodeKind::logical_and) {
        for (const Node& c : n.children) flatten_and(c, out);
        return;
    }
    out.push_back(&n);
}

struct KeyPart {
    const std::string* name = nullptr;
    RangeOp op = RangeOp::eq;
    const AttributeValue* value = nullptr;
    const AttributeValue* upper = nullptr;
};

// The key attribute an operand names, or nullptr for a :value.
const std::string* key_operand(const Node& n) {
    if (n.kind == NodeKind::value) return nullptr;
    if (n.kind == NodeKind::function) invalid_key_operator(n.text);  // size()
    // A nested path can never name a key attribute. AWS's wording for this case is
    // unknown; ours follows its other key condition messages.
    if (n.path.size() != 1)
        fail(Kind::key_condition, "KeyConditionExpressions cannot have conditions on nested attributes");
    return &n.path[0].name;
}

KeyPart key_part(const Node& n) {
    KeyPart part;
    switch (n.kind) {
    case NodeKind::logical_or: invalid_key_operator("OR");
    case NodeKind::logical_not: invalid_key_operator("NOT");
    case NodeKind::in: invalid_key_operator("IN");
    case NodeKind::compare: {
        if (n.cmp == Cmp::ne) invalid_key_operator("<>");
        const std::string* left = key_operand(n.children[0]);
        const std::string* right = key_operand(n.children[1]);
        if ((left == nullptr) == (right == nullptr)) key_not_supported();  // two keys or two values
        static constexpr RangeOp ops[] = {RangeOp::eq, RangeOp::eq, RangeOp::lt, RangeOp::le, RangeOp::gt, RangeOp::ge};
        static constexpr RangeOp flipped[] = {RangeOp::eq, RangeOp::eq, RangeOp::gt, RangeOp::ge, RangeOp::lt, RangeOp::le};
        const auto c = static_cast<std::size_t>(n.cmp);
        // ":v < k" is "k > :v".
        part.name = left ? left : right;
        part.op = left ? ops[c] : flipped[c];
        part.value = &n.children[left ? 1 : 0].value();
        return part;
    }
    case NodeKind::between:
        part.name = key_operand(n.children[0]);
        if (!part.name || key_operand(n.children[1]) || key_operand(n.children[2])) key_not_supported();
        part.op = RangeOp::between;
        part.value = &n.children[1].value();
        part.upper = &n.children[2].value();
        return part;
    case NodeKind::function:
        if (n.fn != Fn::begins_with) invalid_key_operator(n.text);
        part.name = key_operand(n.children[0]);
        if (!part.name || key_operand(n.children[1])) key_not_supported();
        part.op = RangeOp::begins_with;
        part.value = &n.children[1].value();
        return part;
    default:
        key_not_supported();
    }
}

void check_key_value(const AttributeValue& v, const KeyElement& key) {
    if (v.type != key.type)
        throw AwsError::validation("One or more parameter values were invalid: Condition parameter type does not "
                                   "match schema type");
}

KeyCondition analyse_key_condition(const Node& root, const KeySchema& schema) {
    std::vector<const Node*> conditions;
    flatten_and(root, conditions);
    std::vector<KeyPart> parts;
    parts.reserve(conditions.size());
    for (const Node* c : conditions) parts.push_back(key_part(*c));

    const KeyPart* hash = nullptr;
    const KeyPart* range = nullptr;
    bool other = false;
    for (const KeyPart& p : parts) {
        const KeyPart** slot = nullptr;
        if (*p.name == schema.hash.name)
            slot = &hash;
        else if (schema.range && *p.name == schema.range->name)
            slot = &range;
        if (!slot) {
            other = true;
            continue;
        }
        // Wording recalled from DynamoDB ("id = :a AND id = :b").
        if (*slot) fail(Kind::key_condition, "KeyConditionExpressions must only contain one condition per key");
        *slot = &p;
    }
    // A condition on a non-key attribute: DynamoDB names the key it then misses (as when a
    // GSI is queried by the table's key). Without a missing key, the message is our guess.
    if (!hash) missed_key(schema.hash.name);
    if (other) {
        if (schema.range && !range) missed_key(schema.range->name);
        key_not_supported();
    }
    if (hash->op != RangeOp::eq) key_not_supported();
    check_key_value(*hash->value, schema.hash);
    // Key attributes cannot be empty, in queries as in items.
    if ((hash->value->type == Type::S || hash->value->type == Type::B) && hash->value->s.empty())
        throw AwsError::validation(fmt::format(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
            "empty {} value. Key: {}",
            hash->value->type == Type::S ? "string" : "binary", schema.hash.name));

    KeyCondition out;
    out.hash_name = schema.hash.name;
    out.hash = *hash->value;
    if (range) {
        check_key_value(*range->value, *schema.range);
        if (range->upper) check_key_value(*range->upper, *schema.range);
        if (range->op == RangeOp::begins_with && schema.range->type == Type::N)
            operand_type(Kind::key_condition, "begins_with", Type::N);
        RangeCondition rc;
        rc.name = schema.range->name;
        rc.op = range->op;
        rc.value = *range->value;
        if (range->upper) rc.upper = *range->upper;
        out.range = std::move(rc);
    }
    return out;
}

std::string join_keys(const std::vector<std::string>& keys) {
    std::string out;
    for (const auto& k : keys) {
        if (!out.empty()) out += ", ";
        out += k;
    }
    return out;
}

}  // namespace

Context::Context(Names&& names, Values&& values) : names_(std::move(names)) {
    for (const auto& [key, name] : names_) {
        if (!valid_placeholder(key, '#'))
            throw AwsError::validation(
                fmt::format("ExpressionAttributeNames contains invalid key: Syntax error; key: \"{}\"", key));
        // Wording recalled, not verified.
        if (name.empty())
            throw AwsError::validation(
                fmt::format("ExpressionAttributeNames contains invalid value: Empty attribute name for key {}", key));
    }
    for (auto& [key, value] : values) {
        if (!valid_placeholder(key, ':'))
            throw AwsError::validation(
                fmt::format("ExpressionAttributeValues contains invalid key: Syntax error; key: \"{}\"", key));
        values_.emplace(key, std::make_shared<const AttributeValue>(std::move(value)));
    }
}

Condition Context::condition(std::string_view text, Kind kind) {
    // A programming error, not a client one (the operation picks the kind).
    if (kind != Kind::condition && kind != Kind::filter)
        throw std::invalid_argument("expr::Context::condition: kind must be condition or filter");
    check_text(text, kind);
    auto root = std::make_shared<Node>(parse_condition(text, kind));
    Condition out;
    Resolver{kind, names_, values_, used_names_, used_values_, out.names_}.node(*root);
    check_condition(*root, kind);
    out.root_ = std::move(root);
    return out;
}

Update Context::update(std::string_view text) {
    check_text(text, Kind::update);
    auto ast = std::make_shared<UpdateAst>(parse_update(text));
    Update out;
    std::vector<std::string> read_names;  // attributes only read (right-hand sides)
    Resolver targets{Kind::update, names_, values_, used_names_, used_values_, out.names_};
    Resolver reads{Kind::update, names_, values_, used_names_, used_values_, read_names};
    for (Action& a : ast->actions) {
        targets.node(a.target);
        if (a.kind != ActionKind::remove) reads.node(a.value);
    }
    for (const Action& a : ast->actions) {
        if (a.kind == ActionKind::set || a.kind == ActionKind::add) out.creates_ = true;
        switch (a.kind) {
        case ActionKind::set: check_set_value(a.value); break;
        case ActionKind::add: {
            Type t = a.value.value().type;
            if (t != Type::N && t != Type::SS && t != Type::NS && t != Type::BS)
                fail(Kind::update, fmt::format("Incorrect operand type for operator or function; operator: ADD, "
                                               "operand type: {}",
                                               long_type(t)));
            break;
        }
        case ActionKind::del: {
            Type t = a.value.value().type;
            if (t != Type::SS && t != Type::NS && t != Type::BS)
                fail(Kind::update, fmt::format("Incorrect operand type for operator or function; operator: DELETE, "
                                               "operand type: {}",
                                               long_type(t)));
            break;
        }
        case ActionKind::remove: break;
        }
    }
    std::vector<const Path*> paths;
    paths.reserve(ast->actions.size());
    for (const Action& a : ast->actions) paths.push_back(&a.target.path);
    check_paths(Kind::update, paths);

    std::vector<Path> copies;
    copies.reserve(paths.size());
    for (const Path* p : paths) copies.push_back(*p);
    out.targets_ = Projection(std::move(copies));
    out.ast_ = std::move(ast);
    return out;
}

Projection Context::projection(std::string_view text) {
    check_text(text, Kind::projection);
    std::vector<Node> nodes = parse_projection(text);
    std::vector<std::string> top;
    Resolver r{Kind::projection, names_, values_, used_names_, used_values_, top};
    std::vector<const Path*> paths;
    paths.reserve(nodes.size());
    for (Node& n : nodes) {
        r.node(n);
        paths.push_back(&n.path);
    }
    check_paths(Kind::projection, paths);
    std::vector<Path> out;
    out.reserve(nodes.size());
    for (Node& n : nodes) out.push_back(std::move(n.path));
    return Projection(std::move(out));
}

KeyCondition Context::key_condition(std::string_view text, const KeySchema& key) {
    check_text(text, Kind::key_condition);
    Node root = parse_condition(text, Kind::key_condition);
    std::vector<std::string> top;
    Resolver{Kind::key_condition, names_, values_, used_names_, used_values_, top}.node(root);
    check_condition(root, Kind::key_condition);
    return analyse_key_condition(root, key);
}

void Context::check_unused() const {
    // AWS lists the keys in braces; the order among several is ours (sorted).
    std::vector<std::string> unused;
    for (const auto& entry : names_)
        if (!used_names_.count(entry.first)) unused.push_back(entry.first);
    if (!unused.empty())
        throw AwsError::validation(
            fmt::format("Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}", join_keys(unused)));
    for (const auto& entry : values_)
        if (!used_values_.count(entry.first)) unused.push_back(entry.first);
    if (!unused.empty())
        throw AwsError::validation(
            fmt::format("Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}", join_keys(unused)));
}

}  // namespace stratus::dynamo::expr

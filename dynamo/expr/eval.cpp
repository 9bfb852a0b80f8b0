// Evaluation of conditions, filters and key conditions against an item, with DynamoDB's
// comparison rules: a missing attribute or a type mismatch makes a comparison false (never
// an error), except <>, which is true whenever = is not; N compares numerically, S and B by
// unsigned bytes; sets, maps, lists, BOOL and NULL support only = and <>.
#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>

#include "dynamo/expr/ast.hpp"

namespace stratus::dynamo::expr {

using namespace detail;

std::optional<std::strong_ordering> compare_values(const AttributeValue& a, const AttributeValue& b) {
    if (a.type != b.type) return std::nullopt;
    switch (a.type) {
    case Type::N: return a.n <=> b.n;
    case Type::S:
    case Type::B: {
        // UTF-8 strings and binaries both order by unsigned bytes (memcmp).
        std::size_t n = std::min(a.s.size(), b.s.size());
        int c = n ? std::memcmp(a.s.data(), b.s.data(), n) : 0;
        if (c != 0) return c < 0 ? std::strong_ordering::less : std::strong_ordering::greater;
        return a.s.size() <=> b.s.size();
    }
    default: return std::nullopt;
    }
}

namespace {

bool starts_with(const AttributeValue& v, const AttributeValue& prefix) {
    if (v.type != prefix.type || (v.type != Type::S && v.type != Type::B)) return false;
    return std::string_view(v.s).substr(0, prefix.s.size()) == prefix.s;
}

// contains(path, operand): a substring of S or B, an element of a set of the matching
// type, or an element of a list (deep equality).
bool contains(const AttributeValue& v, const AttributeValue& x) {
    switch (v.type) {
    case Type::S:
    case Type::B: return x.type == v.type && v.s.find(x.s) != std::string::npos;
    case Type::SS: return x.type == Type::S && std::find(v.strings.begin(), v.strings.end(), x.s) != v.strings.end();
    case Type::BS: return x.type == Type::B && std::find(v.strings.begin(), v.strings.end(), x.s) != v.strings.end();
    case Type::NS: return x.type == Type::N && std::find(v.numbers.begin(), v.numbers.end(), x.n) != v.numbers.end();
    case Type::L: return std::find(v.l->begin(), v.l->end(), x) != v.l->end();
    default: return false;
    }
}

// size(): bytes of S (UTF-8) and B, elements of sets and lists, entries of maps. N, BOOL
// and NULL have no size, so a comparison with it is false.
std::optional<std::size_t> size_of(const AttributeValue& v) {
    switch (v.type) {
    case Type::S:
    case Type::B: return v.s.size();
    case Type::SS:
    case Type::BS: return v.strings.size();
    case Type::NS: return v.numbers.size();
    case Type::M: return v.m->size();
    case Type::L: return v.l->size();
    default: return std::nullopt;
    }
}

// An operand's value: points into the item or the AST, or at `owned` for size().
// Not copyable, so the pointer never dangles.
struct Operand {
    const AttributeValue* p = nullptr;
    AttributeValue owned;
    Operand() = default;
    Operand(const Operand&) = delete;
    Operand& operator=(const Operand&) = delete;
};

// A function's first argument: a document path, or (attribute_type, begins_with, size) a
// :value.
const AttributeValue* first_argument(const Node& fn, const Item& item) {
    const Node& a = fn.children[0];
    return a.kind == NodeKind::value ? &a.value() : lookup(item, a.path);
}

void operand(const Node& n, const Item& item, Operand& out) {
    switch (n.kind) {
    case NodeKind::path: out.p = lookup(item, n.path); return;
    case NodeKind::value: out.p = &n.value(); return;
    case NodeKind::function:
        if (n.fn == Fn::size) {
            const AttributeValue* v = first_argument(n, item);
            if (auto size = v ? size_of(*v) : std::nullopt) {
                out.owned = AttributeValue::number(Number::from_int(static_cast<std::int64_t>(*size)));
                out.p = &out.owned;
            }
        }
        return;
    default: return;
    }
}

bool equal(const AttributeValue* a, const AttributeValue* b) { return a && b && *a == *b; }

bool ordered(const AttributeValue* a, const AttributeValue* b, Cmp c) {
    if (!a || !b) return false;
    auto order = compare_values(*a, *b);
    if (!order) return false;
    switch (c) {
    case Cmp::lt: return *order < 0;
    case Cmp::le: return *order <= 0;
    case Cmp::gt: return *order > 0;
    case Cmp::ge: return *order >= 0;
    default: return false;
    }
}

}  // namespace

namespace detail {

const AttributeValue* lookup(const Item& item, const Path& path) {
    if (path.empty() || path[0].is_index) return nullptr;
    auto it = item.find(path[0].name);
    if (it == item.end()) return nullptr;
    const AttributeValue* v = &it->second;
    for (std::size_t i = 1; i < path.size(); ++i) {
        const PathStep& s = path[i];
        if (s.is_index) {
            if (v->type != Type::L || s.index >= v->l->size()) return nullptr;
            v = &(*v->l)[s.index];
        } else {
            if (v->type != Type::M) return nullptr;
            auto f = v->m->find(s.name);
            if (f == v->m->end()) return nullptr;
            v = &f->second;
        }
    }
    return v;
}

// Recursion follows the AST, whose depth the parser bounds (max_nesting, and AND / OR
// chains are flat).
bool evaluate(const Node& n, const Item& item) {
    switch (n.kind) {
    case NodeKind::logical_and:
        return std::all_of(n.children.begin(), n.children.end(), [&](const Node& c) { return evaluate(c, item); });
    case NodeKind::logical_or:
        return std::any_of(n.children.begin(), n.children.end(), [&](const Node& c) { return evaluate(c, item); });
    case NodeKind::logical_not: return !evaluate(n.children[0], item);
    case NodeKind::compare: {
        Operand a, b;
        operand(n.children[0], item, a);
        operand(n.children[1], item, b);
        if (n.cmp == Cmp::eq) return equal(a.p, b.p);
        // A missing attribute is "not equal": DynamoDB's `version <> :v` holds for an item
        // without `version`.
        if (n.cmp == Cmp::ne) return !equal(a.p, b.p);
        return ordered(a.p, b.p, n.cmp);
    }
    case NodeKind::between: {
        Operand v, lo, hi;
        operand(n.children[0], item, v);
        operand(n.children[1], item, lo);
        operand(n.children[2], item, hi);
        return ordered(v.p, lo.p, Cmp::ge) && ordered(v.p, hi.p, Cmp::le);
    }
    case NodeKind::in: {
        Operand v;
        operand(n.children[0], item, v);
        if (!v.p) return false;
        for (std::size_t i = 1; i < n.children.size(); ++i) {
            Operand o;
            operand(n.children[i], item, o);
            if (equal(v.p, o.p)) return true;
        }
        return false;
    }
    case NodeKind::function: {
        Operand first;  // a path, a :value or size(...)
        operand(n.children[0], item, first);
        const AttributeValue* v = first.p;
        switch (n.fn) {
        case Fn::attribute_exists: return v != nullptr;
        case Fn::attribute_not_exists: return v == nullptr;
        case Fn::attribute_type: {
            Operand t;
            operand(n.children[1], item, t);
            return v && t.p && t.p->type == Type::S && type_name(v->type) == t.p->s;
        }
        case Fn::begins_with: {
            Operand prefix;
            operand(n.children[1], item, prefix);
            return v && prefix.p && starts_with(*v, *prefix.p);
        }
        case Fn::contains: {
            Operand x;
            operand(n.children[1], item, x);
            return v && x.p && contains(*v, *x.p);
        }
        default: return false;  // size, if_not_exists, list_append: rejected by the parser
        }
    }
    default: return false;  // operands are not conditions (rejected by the parser)
    }
}

}  // namespace detail

bool Condition::evaluate(const Item& item) const { return !root_ || detail::evaluate(*root_, item); }

bool RangeCondition::matches(const AttributeValue& v) const {
    switch (op) {
    case RangeOp::eq: return v == value;
    case RangeOp::lt: return ordered(&v, &value, Cmp::lt);
    case RangeOp::le: return ordered(&v, &value, Cmp::le);
    case RangeOp::gt: return ordered(&v, &value, Cmp::gt);
    case RangeOp::ge: return ordered(&v, &value, Cmp::ge);
    case RangeOp::between: return ordered(&v, &value, Cmp::ge) && ordered(&v, &upper, Cmp::le);
    case RangeOp::begins_with: return starts_with(v, value);
    }
    return false;
}

bool KeyCondition::matches(const Item& item) const {
    auto h = item.find(hash_name);
    if (h == item.end() || !(h->second == hash)) return false;
    if (!range) return true;
    auto r = item.find(range->name);
    return r != item.end() && range->matches(r->second);
}

}  // namespace stratus::dynamo::expr

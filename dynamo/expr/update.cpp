// UpdateExpression application. DynamoDB applies an update fully or not at all and every
// right-hand side reads the item as it was before the update, so apply() first evaluates
// all SET values against the old item, then edits a copy. Nested maps and lists are shared
// between the copy and the old item (AttributeValue holds them by shared_ptr); each one is
// copied before it is edited (copy on write), so the old item is never touched and an
// error part-way leaves nothing behind.
#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "dynamo/expr/ast.hpp"

namespace stratus::dynamo::expr {

using core::AwsError;
using namespace detail;

namespace {

// Run-time errors carry no "Invalid UpdateExpression:" prefix in DynamoDB.
[[noreturn]] void incorrect_type() {
    throw AwsError::validation("An operand in the update expression has an incorrect data type");
}
[[noreturn]] void missing_attribute() {
    throw AwsError::validation("The provided expression refers to an attribute that does not exist in the item");
}
[[noreturn]] void invalid_path() {
    throw AwsError::validation("The document path provided in the update expression is invalid for update");
}

// DynamoDB's 400 KB item limit. The operation checks the final item; apply() stops as soon
// as the values it computes are too big on their own, so an expression that names one
// large :value a thousand times (list_append(:big, :big), SET a = :big, b = :big, ...)
// cannot make it build gigabytes first. The new item holds every SET value whole (target
// paths never overlap), so their sizes are a lower bound of its size.
constexpr std::size_t max_item_bytes = 400 * 1024;
[[noreturn]] void too_large() {
    throw AwsError::validation("Item size to update has exceeded the maximum allowed size");
}

AttributeValue eval_value(const Node& n, const Item& old) {
    switch (n.kind) {
    case NodeKind::value: return n.value();
    case NodeKind::path: {
        const AttributeValue* v = lookup(old, n.path);
        if (!v) missing_attribute();
        return *v;
    }
    case NodeKind::plus:
    case NodeKind::minus: {
        AttributeValue a = eval_value(n.children[0], old);
        AttributeValue b = eval_value(n.children[1], old);
        if (a.type != Type::N || b.type != Type::N) incorrect_type();
        return AttributeValue::number(n.kind == NodeKind::plus ? a.n + b.n : a.n - b.n);
    }
    case NodeKind::function:
        if (n.fn == Fn::if_not_exists) {
            if (const AttributeValue* v = lookup(old, n.children[0].path)) return *v;
            return eval_value(n.children[1], old);
        }
        if (n.fn == Fn::list_append) {
            AttributeValue a = eval_value(n.children[0], old);
            AttributeValue b = eval_value(n.children[1], old);
            if (a.type != Type::L || b.type != Type::L) incorrect_type();
            if (value_size(a) + value_size(b) > max_item_bytes) too_large();
            List joined;
            joined.reserve(a.l->size() + b.l->size());
            joined.insert(joined.end(), a.l->begin(), a.l->end());
            joined.insert(joined.end(), b.l->begin(), b.l->end());
            return AttributeValue::list(std::move(joined));
        }
        break;
    default: break;
    }
    incorrect_type();  // unreachable: the parser admits nothing else in SET
}

// Gives `v` its own copy of its map or list before it is edited.
void own(AttributeValue& v) {
    if (v.type == Type::M && v.m.use_count() != 1) v.m = std::make_shared<Map>(*v.m);
    if (v.type == Type::L && v.l.use_count() != 1) v.l = std::make_shared<List>(*v.l);
}

// The (owned) map or list that holds the last step of `p` (at least two steps), or nullptr
// when an intermediate step is missing (`*missing` set) or the holder has the wrong type.
AttributeValue* holder(Item& item, const Path& p, bool* missing = nullptr) {
    auto gone = [&]() -> AttributeValue* {
        if (missing) *missing = true;
        return nullptr;
    };
    auto it = item.find(p[0].name);
    if (it == item.end()) return gone();
    AttributeValue* cur = &it->second;
    for (std::size_t k = 1; k + 1 < p.size(); ++k) {
        const PathStep& s = p[k];
        if (s.is_index) {
            if (cur->type != Type::L) return nullptr;
            if (s.index >= cur->l->size()) return gone();
            own(*cur);
            cur = &(*cur->l)[s.index];
        } else {
            if (cur->type != Type::M) return nullptr;
            own(*cur);  // before find: the iterator must point into our copy
            auto f = cur->m->find(s.name);
            if (f == cur->m->end()) return gone();
            cur = &f->second;
        }
    }
    if (p.back().is_index ? cur->type != Type::L : cur->type != Type::M) return nullptr;
    own(*cur);
    return cur;
}

// Where an attribute at `p` lives, for read-modify-write.
struct Slot {
    Item* item = nullptr;          // top-level path
    AttributeValue* in = nullptr;  // nested: the owned map or list holding it
    const PathStep* step = nullptr;

    AttributeValue* find() const {
        if (item) {
            auto it = item->find(step->name);
            return it == item->end() ? nullptr : &it->second;
        }
        if (step->is_index) return step->index < in->l->size() ? &(*in->l)[step->index] : nullptr;
        auto it = in->m->find(step->name);
        return it == in->m->end() ? nullptr : &it->second;
    }
    // SET a[i] past the end of the list appends, as in DynamoDB.
    void put(AttributeValue&& v) const {
        if (item)
            (*item)[step->name] = std::move(v);
        else if (!step->is_index)
            (*in->m)[step->name] = std::move(v);
        else if (step->index < in->l->size())
            (*in->l)[step->index] = std::move(v);
        else
            in->l->push_back(std::move(v));
    }
    void erase() const {
        if (item)
            item->erase(step->name);
        else if (!step->is_index)
            in->m->erase(step->name);
        else if (step->index < in->l->size())
            in->l->erase(in->l->begin() + static_cast<std::ptrdiff_t>(step->index));
    }
};

// Nested targets need their parent to exist with the right type: "a.b" with no map `a`
// is invalid for SET, ADD, REMOVE and DELETE alike. (For REMOVE and DELETE, DynamoDB's
// behaviour on a missing parent is our reading; it could also be a silent no-op.)
Slot slot(Item& item, const Path& p) {
    Slot s;
    s.step = &p.back();
    if (p.size() == 1) {
        s.item = &item;
        return s;
    }
    s.in = holder(item, p);
    if (!s.in) invalid_path();
    return s;
}

AttributeValue set_union(const AttributeValue& a, const AttributeValue& b) {
    if (a.type == Type::NS) {
        std::vector<Number> all = a.numbers;
        all.insert(all.end(), b.numbers.begin(), b.numbers.end());
        return AttributeValue::number_set(std::move(all));
    }
    std::vector<std::string> all = a.strings;
    all.insert(all.end(), b.strings.begin(), b.strings.end());
    return a.type == Type::SS ? AttributeValue::string_set(std::move(all)) : AttributeValue::binary_set(std::move(all));
}

// a minus b; nullopt when nothing is left (DynamoDB then removes the attribute, since
// sets cannot be empty).
std::optional<AttributeValue> set_difference(const AttributeValue& a, const AttributeValue& b) {
    if (a.type == Type::NS) {
        std::set<Number> drop(b.numbers.begin(), b.numbers.end());
        std::vector<Number> left;
        for (const Number& n : a.numbers)
            if (!drop.count(n)) left.push_back(n);
        if (left.empty()) return std::nullopt;
        return AttributeValue::number_set(std::move(left));
    }
    std::set<std::string> drop(b.strings.begin(), b.strings.end());
    std::vector<std::string> left;
    for (const std::string& s : a.strings)
        if (!drop.count(s)) left.push_back(s);
    if (left.empty()) return std::nullopt;
    return a.type == Type::SS ? AttributeValue::string_set(std::move(left)) : AttributeValue::binary_set(std::move(left));
}

bool is_set(Type t) { return t == Type::SS || t == Type::NS || t == Type::BS; }

// REMOVE order: deepest-last index first, so removing a[1] and a[3] (indexes of the list
// as it was) removes the right two elements; index steps compare numerically.
bool path_greater(const Path& a, const Path& b) {
    std::size_t n = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i].is_index != b[i].is_index) return a[i].is_index < b[i].is_index;
        if (a[i].is_index) {
            if (a[i].index != b[i].index) return a[i].index > b[i].index;
        } else if (a[i].name != b[i].name) {
            return a[i].name > b[i].name;
        }
    }
    return a.size() > b.size();
}

}  // namespace

UpdateResult Update::apply(const Item& old) const {
    UpdateResult out;
    if (!ast_) {
        out.item = old;
        return out;
    }
    const auto& actions = ast_->actions;

    // 1. Every SET value, from the old item.
    std::vector<AttributeValue> values(actions.size());
    std::size_t total = 0;
    for (std::size_t i = 0; i < actions.size(); ++i) {
        if (actions[i].kind != ActionKind::set) continue;
        values[i] = eval_value(actions[i].value, old);
        total += value_size(values[i]);
        if (total > max_item_bytes) too_large();
    }

    // 2. SET, ADD and DELETE, then REMOVE. Targets never overlap, so their order changes
    // nothing but where several writes past the end of one list land: DynamoDB appends
    // them in index order (SET a[9] = :x, a[5] = :y gives [..., y, x]), so they are
    // applied in path order (list indexes numerically).
    Item item = old;
    std::vector<const Path*> removals;
    std::vector<std::size_t> order(actions.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        return path_greater(actions[y].target.path, actions[x].target.path);
    });
    for (std::size_t i : order) {
        const Action& a = actions[i];
        const Path& p = a.target.path;
        switch (a.kind) {
        case ActionKind::set: slot(item, p).put(std::move(values[i])); break;
        case ActionKind::remove: removals.push_back(&p); break;
        case ActionKind::add: {
            Slot s = slot(item, p);
            const AttributeValue& v = a.value.value();
            AttributeValue* cur = s.find();
            if (!cur) {
                s.put(AttributeValue(v));  // ADD creates the attribute (a number starts at 0)
            } else if (cur->type != v.type) {
                incorrect_type();
            } else if (v.type == Type::N) {
                *cur = AttributeValue::number(cur->n + v.n);
            } else {
                *cur = set_union(*cur, v);
            }
            break;
        }
        case ActionKind::del: {
            Slot s = slot(item, p);
            const AttributeValue& v = a.value.value();
            AttributeValue* cur = s.find();
            if (!cur) break;  // deleting from a missing set is a no-op
            if (cur->type != v.type || !is_set(cur->type)) incorrect_type();
            if (auto left = set_difference(*cur, v))
                *cur = std::move(*left);
            else
                s.erase();
            break;
        }
        }
    }
    std::sort(removals.begin(), removals.end(), [](const Path* a, const Path* b) { return path_greater(*a, *b); });
    for (const Path* p : removals) {
        // REMOVE a.b where a (or a list element on the way) is missing removes nothing, as
        // in DynamoDB (also on a missing item); a parent of the wrong type is invalid.
        if (p->size() > 1) {
            bool missing = false;
            if (!holder(item, *p, &missing)) {
                if (missing) continue;
                invalid_path();
            }
        }
        slot(item, *p).erase();
    }

    // Top-level attributes that differ between old and new, for UPDATED_* bookkeeping.
    std::set<std::string> touched(names_.begin(), names_.end());
    for (const std::string& name : touched) {
        auto before = old.find(name);
        auto after = item.find(name);
        bool had = before != old.end(), has = after != item.end();
        if (had != has || (had && !(before->second == after->second))) out.changed_attributes.push_back(name);
    }
    out.item = std::move(item);
    return out;
}

}  // namespace stratus::dynamo::expr

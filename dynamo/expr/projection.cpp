// ProjectionExpression application. The paths become a tree (one node per map key or list
// index); projecting walks the item and the tree together, so each attribute is visited
// once however many paths share its prefix. As in DynamoDB, list indexes collapse: a[1]
// and a[3] of a five-element list give a two-element list, in index order; a path missing
// from the item contributes nothing, and a map or list left with nothing is omitted.
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "dynamo/expr/ast.hpp"

namespace stratus::dynamo::expr {

using namespace detail;

namespace {

// Depth is bounded by the paths' length (max_path_depth for parsed paths).
std::optional<AttributeValue> project(const AttributeValue& v, const ProjectionTree& t) {
    if (t.leaf) return v;
    if (v.type == Type::M && !t.fields.empty()) {
        Map out;
        for (const auto& [name, sub] : t.fields) {
            auto it = v.m->find(name);
            if (it == v.m->end()) continue;
            if (auto p = project(it->second, sub)) out.emplace(name, std::move(*p));
        }
        if (out.empty()) return std::nullopt;
        return AttributeValue::map(std::move(out));
    }
    if (v.type == Type::L && !t.indexes.empty()) {
        List out;
        for (const auto& [index, sub] : t.indexes) {
            if (index >= v.l->size()) break;  // std::map: ascending
            if (auto p = project((*v.l)[index], sub)) out.push_back(std::move(*p));
        }
        if (out.empty()) return std::nullopt;
        return AttributeValue::list(std::move(out));
    }
    return std::nullopt;
}

}  // namespace

Projection::Projection(std::vector<Path>&& paths) : paths_(std::move(paths)) {
    auto tree = std::make_shared<ProjectionTree>();
    for (const Path& p : paths_) {
        ProjectionTree* node = tree.get();
        for (const PathStep& s : p) {
            if (node->leaf) break;  // a shorter path already takes the whole value
            node = s.is_index ? &node->indexes[s.index] : &node->fields[s.name];
        }
        node->leaf = true;
        node->fields.clear();
        node->indexes.clear();
    }
    tree_ = std::move(tree);
}

Item Projection::apply(const Item& item) const {
    Item out;
    if (!tree_) return out;
    for (const auto& [name, sub] : tree_->fields) {
        auto it = item.find(name);
        if (it == item.end()) continue;
        if (auto p = project(it->second, sub)) out.emplace(name, std::move(*p));
    }
    return out;
}

std::vector<std::string> Projection::attribute_names() const {
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const Path& p : paths_)
        if (!p.empty() && !p[0].is_index && seen.insert(p[0].name).second) out.push_back(p[0].name);
    return out;
}

}  // namespace stratus::dynamo::expr

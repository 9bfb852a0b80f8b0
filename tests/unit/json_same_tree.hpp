// Test helper: two nlohmann trees equal value for value AND type for type (nlohmann's ==
// treats 1u and 1 as equal), discarded values included. Used by the JSON parser's unit test
// and its fuzz target.
#pragma once

#include <nlohmann/json.hpp>

namespace stratus::test {

inline bool same_tree(const nlohmann::json& a, const nlohmann::json& b) {
    if (a.type() != b.type() || a.is_discarded() != b.is_discarded()) return false;
    if (a.is_object()) {
        if (a.size() != b.size()) return false;
        for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib)
            if (ia.key() != ib.key() || !same_tree(*ia, *ib)) return false;
        return true;
    }
    if (a.is_array()) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (!same_tree(a[i], b[i])) return false;
        return true;
    }
    if (a.is_number_float()) return a.dump() == b.dump();  // -0.0 apart from 0.0
    return a.is_discarded() || a == b;
}

}  // namespace stratus::test

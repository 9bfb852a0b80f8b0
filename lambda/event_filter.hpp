// AWS's event filter patterns (Lambda event source mappings' FilterCriteria; EventBridge's
// event patterns): a JSON object whose keys name event fields and whose leaves are arrays
// of matchers. Supported, as Lambda's developer guide ("Lambda event filtering") and
// EventBridge's ("Event patterns", "Content filtering") describe them:
//   exact values (strings, numbers compared numerically, booleans, null),
//   {"prefix": "s"} / {"prefix": {"equals-ignore-case": "s"}}, {"suffix": ...} likewise,
//   {"equals-ignore-case": "s"}, {"wildcard": "a*b"},
//   {"anything-but": v | [v...] | {"prefix": s} | {"suffix": s} | {"equals-ignore-case": s|[s]}
//                    | {"wildcard": s|[s]}},
//   {"numeric": [">", 0, "<=", 5]} / ["=", 3], {"exists": true|false},
//   {"cidr": "10.0.0.0/24"} (IPv4 and IPv6), nested objects, and "$or": [pattern, ...].
// A leaf matches a field when any of its matchers does; when the field is an array, when
// any element does. A missing field matches only {"exists": false}. Every key of a pattern
// must match ("and"), as must one alternative of each "$or".
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace stratus::lambda {

class EventPattern {
public:
    // Throws std::invalid_argument (with the reason) for text that is not a valid pattern.
    static EventPattern parse(std::string_view json_text);
    bool matches(const nlohmann::json& event) const;

    struct Node;  // event_filter.cpp

private:
    std::shared_ptr<const Node> root_;
};

}  // namespace stratus::lambda

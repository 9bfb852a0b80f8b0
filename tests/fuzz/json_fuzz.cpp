// libFuzzer target: core::parse_json (simdjson, nlohmann's parser as the fallback) against
// nlohmann::json::parse itself. Both must accept the same texts and build the same trees,
// number types included; anything else aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json_parse.hpp"

namespace {

using nlohmann::json;

bool same_tree(const json& a, const json& b) {
    if (a.type() != b.type()) return false;
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
    if (a.is_number_float()) return a.dump() == b.dump();
    return a.is_discarded() || a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    json expected = json::parse(text, nullptr, false);
    json got = stratus::core::parse_json(text);
    if (!same_tree(expected, got)) std::abort();
    return 0;
}

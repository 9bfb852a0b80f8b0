// libFuzzer target: core::parse_json (simdjson, nlohmann's parser as the fallback) against
// nlohmann::json::parse itself. Both must accept the same texts and build the same trees,
// number types included; anything else aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json_parse.hpp"
#include "tests/unit/json_same_tree.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    nlohmann::json expected = nlohmann::json::parse(text, nullptr, false);
    nlohmann::json got = stratus::core::parse_json(text);
    if (!stratus::test::same_tree(expected, got)) std::abort();
    return 0;
}

// JSON request bodies parsed fast: simdjson (Debian's libsimdjson) validates and parses
// the text, and the nlohmann tree the services read is built from its result. nlohmann's
// own parser walks the text a character at a time through a token buffer; simdjson's
// stage 1 classifies 64 bytes per step, so a small request costs a few thousand
// instructions less and a large one (BatchWriteItem, PutItem with big items) far less.
//
// The answer is always nlohmann's: whatever simdjson refuses (malformed text, invalid
// UTF-8, nesting beyond its depth, integers beyond 64 bits, ...) is handed to nlohmann's
// parser, so errors and edge cases keep nlohmann's meaning; where both accept, the trees
// are equal (tests/unit/json_parse_test.cpp compares them, the fuzz target too).
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

namespace stratus::core {

// Parses `text` as one JSON document; a discarded value (is_discarded()) when it is not
// JSON, as nlohmann::json::parse(text, nullptr, false) answers.
nlohmann::json parse_json(std::string_view text);

}  // namespace stratus::core

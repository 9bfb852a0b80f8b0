#include "core/json_parse.hpp"

#include <simdjson.h>

#include <memory>

namespace stratus::core {

namespace {

using json = nlohmann::json;

// Documents up to this size reuse one parser per thread (its buffers stay allocated);
// larger ones get a parser of their own, freed afterwards, so no thread keeps the
// memory of the largest request it ever saw.
constexpr std::size_t reused_parser_bytes = 64 * 1024;

// `zero` is set when an integer 0 was read: simdjson reads "0" and "-0" alike, nlohmann
// types the second as signed, so the caller then checks the text.
void build(const simdjson::dom::element& e, json& out, bool& zero) {
    using T = simdjson::dom::element_type;
    switch (e.type()) {
        case T::OBJECT: {
            out = json::object();
            auto& obj = out.get_ref<json::object_t&>();
            for (auto field : simdjson::dom::object(e)) {
                // Repeated names: the last wins, as in nlohmann's parser.
                json& slot = obj[std::string(field.key)];
                build(field.value, slot, zero);
            }
            return;
        }
        case T::ARRAY: {
            out = json::array();
            auto& arr = out.get_ref<json::array_t&>();
            simdjson::dom::array a(e);
            arr.reserve(a.size());
            for (auto v : a) build(v, arr.emplace_back(), zero);
            return;
        }
        case T::STRING: out = std::string(std::string_view(e)); return;
        // nlohmann types a number without a minus sign as unsigned, one with it as signed.
        case T::INT64: {
            std::int64_t v = int64_t(e);
            zero = zero || v == 0;
            if (v >= 0) out = static_cast<json::number_unsigned_t>(v);
            else out = static_cast<json::number_integer_t>(v);
            return;
        }
        case T::UINT64: out = static_cast<json::number_unsigned_t>(std::uint64_t(e)); return;
        case T::DOUBLE: out = double(e); return;
        case T::BOOL: out = bool(e); return;
        case T::NULL_VALUE: out = nullptr; return;
    }
}

}  // namespace

json parse_json(std::string_view text) {
    thread_local simdjson::dom::parser reused;
    std::unique_ptr<simdjson::dom::parser> own;
    simdjson::dom::parser* parser = &reused;
    if (text.size() > reused_parser_bytes) {
        own = std::make_unique<simdjson::dom::parser>();
        parser = own.get();
    }
    simdjson::dom::element doc;
    if (parser->parse(text.data(), text.size()).get(doc) == simdjson::SUCCESS) {
        json out;
        bool zero = false;
        build(doc, out, zero);
        if (!zero || text.find("-0") == std::string_view::npos) return out;
    }
    return json::parse(text, nullptr, false);
}

}  // namespace stratus::core

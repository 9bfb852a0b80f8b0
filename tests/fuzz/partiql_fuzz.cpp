// libFuzzer target for DynamoDB's PartiQL dialect (dynamo/expr/partiql): arbitrary bytes
// are parsed as a statement, bound to as many parameters as it has `?`, rendered into the
// expression language and, when that is accepted, evaluated against a small item. The
// only acceptable failure is core::AwsError (a ValidationException); anything else (a
// crash, a sanitizer report, another exception, a stack overflow) is a bug.
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//       tests/fuzz/partiql_fuzz.cpp dynamo/expr/*.cpp dynamo/model/*.cpp -lfmt -lcrypto -o partiql_fuzz
//   ./partiql_fuzz -max_len=8300 -timeout=5
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "dynamo/expr/expr.hpp"
#include "dynamo/expr/partiql.hpp"
#include "dynamo/model/value.hpp"

namespace {

using namespace stratus::dynamo;

const Item& sample_item() {
    static const Item item = [] {
        Item i;
        i["pk"] = AttributeValue::string("k");
        i["sk"] = AttributeValue::number(Number::from_int(5));
        i["s"] = AttributeValue::string("abc");
        i["l"] = AttributeValue::list({AttributeValue::number(Number::from_int(1)), AttributeValue::string("x")});
        i["m"] = AttributeValue::map({{"a", AttributeValue::map({{"b", AttributeValue::boolean_value(true)}})}});
        i["ss"] = AttributeValue::string_set({"a", "b"});
        return i;
    }();
    return item;
}

// Parameters cycle through a few types, so `?` meets strings, numbers, lists and sets.
AttributeValue parameter(std::size_t i) {
    switch (i % 5) {
    case 0: return AttributeValue::string("k");
    case 1: return AttributeValue::number(Number::from_int(static_cast<std::int64_t>(i)));
    case 2: return AttributeValue::list({AttributeValue::null()});
    case 3: return AttributeValue::string_set({"a", "z"});
    default: return AttributeValue::map({{"a", AttributeValue::boolean_value(false)}});
    }
}

void run(std::string_view text) {
    partiql::Statement st = partiql::parse(text, true);
    std::vector<AttributeValue> params;
    for (std::size_t i = 0; i < st.parameters && i < 1000; ++i) params.push_back(parameter(i));
    partiql::bind(st, params);
    partiql::Renderer r;
    std::string where = st.where ? r.condition(*st.where) : std::string();
    std::string update = st.actions.empty() ? std::string() : r.update(st.actions);
    std::string projection;
    for (const auto& p : st.projection) projection += (projection.empty() ? "" : ", ") + r.path(p);
    (void)partiql::conjuncts(st.where ? *st.where : partiql::Expr{});
    expr::Context ctx(r.take_names(), r.take_values());
    if (!where.empty()) (void)ctx.filter(where).evaluate(sample_item());
    if (!update.empty()) (void)ctx.update(update).apply(sample_item());
    if (!projection.empty()) (void)ctx.projection(projection).apply(sample_item());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        run(text);
    } catch (const stratus::core::AwsError&) {
        // Expected: every rejection is a ValidationException.
    }
    return 0;
}

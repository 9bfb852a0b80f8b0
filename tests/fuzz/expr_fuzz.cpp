// libFuzzer target for the DynamoDB expression language (dynamo/expr): arbitrary bytes are
// parsed as every expression kind and, when they parse, evaluated against a small item.
// The only acceptable failure is core::AwsError (a ValidationException); anything else
// (a crash, a sanitizer report, another exception, a stack overflow) is a bug.
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. \
//       tests/fuzz/expr_fuzz.cpp dynamo/expr/*.cpp dynamo/model/*.cpp -lfmt -o expr_fuzz
//   ./expr_fuzz -max_len=4200 -timeout=2
//
// The first input byte picks the kind, so the fuzzer can specialise per grammar; the rest
// is the expression text. Placeholders #n, #m, :s, :n, :l, :m, :ss are always defined.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "dynamo/expr/expr.hpp"
#include "dynamo/model/table.hpp"
#include "dynamo/model/value.hpp"

namespace {

using namespace stratus::dynamo;

const Item& sample_item() {
    static const Item item = [] {
        Item i;
        i["id"] = AttributeValue::string("k");
        i["n"] = AttributeValue::number(Number::from_int(5));
        i["s"] = AttributeValue::string("abc");
        i["l"] = AttributeValue::list({AttributeValue::number(Number::from_int(1)), AttributeValue::string("x")});
        i["m"] = AttributeValue::map({{"a", AttributeValue::map({{"b", AttributeValue::boolean_value(true)}})}});
        i["ss"] = AttributeValue::string_set({"a", "b"});
        return i;
    }();
    return item;
}

expr::Context make_context() {
    expr::Names names{{"#n", "n"}, {"#m", "m"}};
    expr::Values values{
        {":s", AttributeValue::string("ab")},
        {":n", AttributeValue::number(Number::from_int(2))},
        {":l", AttributeValue::list({AttributeValue::null()})},
        {":m", AttributeValue::map({})},
        {":ss", AttributeValue::string_set({"b", "c"})},
    };
    return expr::Context(std::move(names), std::move(values));
}

void run(unsigned which, std::string_view text) {
    const KeySchema schema{KeyElement{"id", Type::S}, KeyElement{"n", Type::N}};
    expr::Context ctx = make_context();
    switch (which % 5) {
    case 0: (void)ctx.condition(text).evaluate(sample_item()); break;
    case 1: (void)ctx.filter(text).evaluate(sample_item()); break;
    case 2: {
        expr::Update u = ctx.update(text);
        expr::UpdateResult r = u.apply(sample_item());
        (void)u.updated_paths().apply(r.item);
        break;
    }
    case 3: (void)ctx.projection(text).apply(sample_item()); break;
    case 4: (void)ctx.key_condition(text, schema).matches(sample_item()); break;
    }
    ctx.check_unused();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        run(data[0], text);
    } catch (const stratus::core::AwsError&) {
        // Expected: every rejection is a ValidationException.
    }
    return 0;
}

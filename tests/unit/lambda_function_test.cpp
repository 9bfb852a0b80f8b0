// parse_function_ref: the FunctionName forms of Lambda's API model (name, name:qualifier,
// partial and full ARNs), a plain name's shortcut past the regex included.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "core/error.hpp"
#include "lambda/function.hpp"

using stratus::lambda::parse_function_ref;

TEST_CASE("parse_function_ref reads every form of FunctionName") {
    auto check = [](std::string text, std::string name, std::optional<std::string> qualifier) {
        CAPTURE(text);
        auto ref = parse_function_ref(text);
        CHECK(ref.name == name);
        CHECK(ref.qualifier == qualifier);
    };
    check("my-fn_1", "my-fn_1", std::nullopt);
    check(std::string(64, 'a'), std::string(64, 'a'), std::nullopt);
    check("arn", "arn", std::nullopt);
    check("function", "function", std::nullopt);
    check("fn:live", "fn", "live");
    check("fn:$LATEST", "fn", "$LATEST");
    check("fn:7", "fn", "7");
    check("function:fn", "fn", std::nullopt);
    check("123456789012:function:fn", "fn", std::nullopt);
    check("arn:aws:lambda:us-east-1:123456789012:function:fn", "fn", std::nullopt);
    check("arn:aws:lambda:us-east-1:123456789012:function:fn:prod", "fn", "prod");
    check("us-gov-west-1:123456789012:function:fn:3", "fn", "3");
}

TEST_CASE("parse_function_ref refuses what the pattern refuses") {
    for (std::string bad : {std::string(), std::string(65, 'a'), std::string("fn with space"), std::string("fn/x"),
                            std::string("fn:"), std::string(":fn"), std::string("fn:a:b:c"), std::string("é")}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_function_ref(bad), stratus::core::AwsError);
    }
}

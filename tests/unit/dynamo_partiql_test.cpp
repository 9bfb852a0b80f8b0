// DynamoDB's PartiQL dialect (dynamo/expr/partiql): statement shapes, parameters and
// literals, rendering into the expression language (evaluated by its evaluator), WHERE
// analysis helpers, and malformed or hostile statements failing with a
// ValidationException rather than a crash.
#include "dynamo/expr/partiql.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/error.hpp"
#include "dynamo/expr/expr.hpp"

namespace {

namespace partiql = stratus::dynamo::partiql;
namespace expr = stratus::dynamo::expr;
using stratus::core::AwsError;
using stratus::dynamo::AttributeValue;
using stratus::dynamo::Item;
using stratus::dynamo::Number;
using stratus::dynamo::Type;

AttributeValue S(std::string s) { return AttributeValue::string(std::move(s)); }
AttributeValue N(long v) { return AttributeValue::number(Number::from_int(v)); }

std::string error_of(const std::string& text, std::vector<AttributeValue> params = {}, bool exists = false) {
    try {
        partiql::Statement st = partiql::parse(text, exists);
        partiql::bind(st, params);
    } catch (const AwsError& e) {
        CHECK(e.code() == "ValidationException");
        return e.message();
    }
    return "";
}

partiql::Statement parsed(const std::string& text, std::vector<AttributeValue> params = {}) {
    partiql::Statement st = partiql::parse(text, true);
    partiql::bind(st, params);
    return st;
}

// Does WHERE hold for `item`, evaluated as the operations evaluate it.
bool where_holds(const std::string& text, const Item& item, std::vector<AttributeValue> params = {}) {
    partiql::Statement st = parsed(text, std::move(params));
    partiql::Renderer r;
    std::string cond = r.condition(*st.where);
    expr::Context ctx(r.take_names(), r.take_values());
    return ctx.filter(cond).evaluate(item);
}

const std::string malformed = "Statement wasn't well formed, can't be processed: ";

}  // namespace

TEST_CASE("partiql: SELECT shapes: projections, index sources, WHERE, ORDER BY") {
    auto st = parsed(R"(select a, "b c".d[2], m['k'] FROM "Tab"."Idx" where pk = 'x' order by sk desc, pk)");
    CHECK(st.kind == partiql::Kind::select);
    CHECK(st.table == "Tab");
    CHECK(st.index == "Idx");
    CHECK_FALSE(st.select_all);
    REQUIRE(st.projection.size() == 3);
    CHECK(expr::format_path(st.projection[1]) == "[b c, d, [2]]");
    CHECK(expr::format_path(st.projection[2]) == "[m, k]");
    REQUIRE(st.order_by.size() == 2);
    CHECK(st.order_by[0].name == "sk");
    CHECK(st.order_by[0].descending);
    CHECK_FALSE(st.order_by[1].descending);
    auto all = parsed("SELECT * FROM t;");
    CHECK(all.select_all);
    CHECK_FALSE(all.where);
}

TEST_CASE("partiql: INSERT, UPDATE, DELETE and EXISTS shapes") {
    auto ins = parsed("INSERT INTO t VALUE {'pk': ?, 'n': -1.5e2, 'l': [TRUE, NULL], 's': <<1, 2, 2>>}", {S("k")});
    REQUIRE(ins.value.value.type == Type::M);
    const auto& m = *ins.value.value.m;
    CHECK(m.at("pk") == S("k"));
    CHECK(m.at("n").n.to_string() == "-150");
    CHECK(m.at("l").l->size() == 2);
    CHECK(m.at("s").type == Type::NS);
    CHECK(m.at("s").numbers.size() == 2);

    auto up = parsed("UPDATE t SET a = 1, b.c = a + ? REMOVE d[0] SET s = set_add(s, <<'x'>>) WHERE pk = 'k' "
                     "RETURNING MODIFIED NEW *",
                     {N(2)});
    CHECK(up.kind == partiql::Kind::update);
    CHECK(up.actions.size() == 4);
    CHECK(up.actions[2].remove);
    CHECK(up.returning == partiql::Returning::modified_new);
    partiql::Renderer r;
    CHECK(r.update(up.actions) == "SET #p0 = :v0, #p1.#p2 = #p0 + :v1 REMOVE #p3[0] ADD #p4 :v2");

    auto del = parsed("DELETE FROM t WHERE pk = 'k' RETURNING ALL OLD *");
    CHECK(del.kind == partiql::Kind::del);
    CHECK(del.returning == partiql::Returning::all_old);
    auto ex = parsed("EXISTS(SELECT * FROM t WHERE pk = 'k' AND a > 1)");
    CHECK(ex.kind == partiql::Kind::exists);
    CHECK(error_of("EXISTS(SELECT * FROM t WHERE pk = 'k')") == "EXISTS is only supported in ExecuteTransaction");
}

TEST_CASE("partiql: keywords are case-insensitive; names are not and may be quoted") {
    auto st = parsed(R"(SeLeCt "select", Value2 FrOm "from" WhErE "where" = 1)");
    CHECK(st.table == "from");
    CHECK(st.projection[0][0].name == "select");
    CHECK(st.projection[1][0].name == "Value2");
    CHECK(error_of("SELECT value FROM t") == malformed + "Unexpected keyword: value");
    CHECK(error_of("SELECT \"a\"\"b\" FROM t").empty());  // "" inside a quoted name is one "
    CHECK(parsed("SELECT * FROM t WHERE a = 'it''s'").where->children[1].value == S("it's"));
}

TEST_CASE("partiql: parameters are counted and bound in order") {
    auto st = parsed("SELECT * FROM t WHERE a = ? AND b IN [?, ?] AND c = [?, {'k': ?}]",
                     {S("a"), N(1), N(2), S("x"), S("y")});
    CHECK(st.parameters == 5);
    CHECK(error_of("SELECT * FROM t WHERE a = ?") == "Number of parameters in request and statement don't match.");
    CHECK(error_of("SELECT * FROM t", {S("x")}) == "Number of parameters in request and statement don't match.");
}

TEST_CASE("partiql: WHERE evaluates with the expression evaluator") {
    Item item{{"pk", S("k")},
              {"n", N(5)},
              {"s", S("hello world")},
              {"l", AttributeValue::list({N(1), S("x")})},
              {"z", AttributeValue::null()},
              {"ss", AttributeValue::string_set({"a", "b"})}};
    CHECK(where_holds("SELECT * FROM t WHERE n = 5 AND pk = 'k'", item));
    CHECK(where_holds("SELECT * FROM t WHERE n != 4 AND n <> 3", item));
    CHECK(where_holds("SELECT * FROM t WHERE n BETWEEN 1 AND 5", item));
    CHECK_FALSE(where_holds("SELECT * FROM t WHERE n NOT BETWEEN 1 AND 5", item));
    CHECK(where_holds("SELECT * FROM t WHERE n IN (1, 5)", item));
    CHECK(where_holds("SELECT * FROM t WHERE n NOT IN [1, 2]", item));
    CHECK(where_holds("SELECT * FROM t WHERE begins_with(s, 'hell') AND contains(s, 'o w')", item));
    CHECK(where_holds("SELECT * FROM t WHERE contains(ss, 'b') AND contains(l, 'x')", item));
    CHECK(where_holds("SELECT * FROM t WHERE attribute_type(l, 'L') AND size(l) = 2 AND size(s) > 10", item));
    CHECK(where_holds("SELECT * FROM t WHERE absent IS MISSING AND n IS NOT MISSING", item));
    CHECK(where_holds("SELECT * FROM t WHERE z IS NULL AND absent IS NULL AND n IS NOT NULL", item));
    CHECK(where_holds("SELECT * FROM t WHERE l[1] = 'x' AND l = [1, 'x']", item));
    CHECK(where_holds("SELECT * FROM t WHERE NOT (n = 1 OR n = 2) AND (n = 5 OR n = 6)", item));
    CHECK_FALSE(where_holds("SELECT * FROM t WHERE n = 5 AND NOT n IS NOT MISSING", item));
    CHECK(where_holds("SELECT * FROM t WHERE ss = <<'b', 'a'>>", item));
    CHECK(where_holds("SELECT * FROM t WHERE n = ?", item, {N(5)}));
}

TEST_CASE("partiql: WHERE helpers find conjuncts and key equalities") {
    auto st = parsed("SELECT * FROM t WHERE (pk = 'k' AND 3 = sk) AND (a = 1 OR b = 2) AND c.d = 1");
    auto parts = partiql::conjuncts(*st.where);
    REQUIRE(parts.size() == 4);
    auto pk = partiql::equality(*parts[0]);
    REQUIRE(pk);
    CHECK(pk->first == "pk");
    auto sk = partiql::equality(*parts[1]);
    REQUIRE(sk);
    CHECK(sk->first == "sk");
    CHECK(sk->second->value == N(3));
    CHECK_FALSE(partiql::equality(*parts[2]));
    CHECK_FALSE(partiql::equality(*parts[3]));  // a nested path is never a key
}

TEST_CASE("partiql: rendering never produces parentheses the expression parser refuses") {
    auto st = parsed("SELECT * FROM t WHERE NOT ((a = 1)) AND ((b = 2 OR c IS NULL))");
    partiql::Renderer r;
    CHECK(r.condition(*st.where) == "NOT #p0 = :v0 AND (#p1 = :v1 OR (attribute_not_exists(#p2) OR "
                                    "attribute_type(#p2, :v2)))");
}

TEST_CASE("partiql: malformed statements") {
    for (const char* text : {"", "SELEC * FROM t", "SELECT * t", "SELECT * FROM", "SELECT * FROM t WHERE",
                             "SELECT * FROM t WHERE a =", "SELECT * FROM t WHERE a = 1 b", "SELECT a. FROM t",
                             "INSERT INTO t VALUES {'a': 1}", "INSERT INTO t VALUE 1", "INSERT INTO t.i VALUE {'a': 1}",
                             "UPDATE t WHERE a = 1", "UPDATE t SET a = 1", "DELETE t WHERE a = 1",
                             "DELETE FROM t", "SELECT * FROM t WHERE a = 'open", "SELECT * FROM \"t",
                             "SELECT * FROM t WHERE a = 1e", "SELECT * FROM t WHERE a = 12ab", "SELECT * FROM t WHERE a ! b",
                             "SELECT * FROM t WHERE a = @", "SELECT * FROM t WHERE a IS 1", "SELECT * FROM t WHERE nope(a)",
                             "SELECT * FROM t WHERE size(a)", "SELECT * FROM t WHERE begins_with(a, 'x') = 1",
                             "SELECT * FROM t WHERE begins_with('a', a)", "SELECT * FROM t WHERE contains(a)",
                             "SELECT * FROM t WHERE a = [b]", "SELECT * FROM t WHERE a IN b",
                             "UPDATE t SET a = 1 WHERE pk = 1 RETURNING ALL", "DELETE FROM t WHERE a = 1 RETURNING ALL NEW *",
                             "SELECT * FROM t WHERE a[1x] = 1", "SELECT * FROM t WHERE a[99999999999] = 1"}) {
        CAPTURE(text);
        std::string msg = error_of(text);
        CHECK(msg.rfind(malformed, 0) == 0);
    }
    CHECK(error_of("SELECT * FROM t WHERE a = <<>>") == malformed + "An empty set is not supported");
    CHECK(error_of("SELECT * FROM t WHERE a = <<1, 'x'>>").find("A set must contain values of one type") !=
          std::string::npos);
    CHECK(error_of("SELECT * FROM t WHERE a = 1e999").find("Number overflow") != std::string::npos);
    CHECK(error_of("INSERT INTO t VALUE {'a': 1, 'a': 2}") == malformed + "Duplicate key in tuple: a");
}

TEST_CASE("partiql: hostile statements fail fast") {
    std::string deep = "SELECT * FROM t WHERE " + std::string(5000, '(') + "a = 1" + std::string(5000, ')');
    CHECK(error_of(deep).find("too many nesting levels") != std::string::npos);
    std::string nots = "SELECT * FROM t WHERE ";
    for (int i = 0; i < 5000; ++i) nots += "NOT ";
    nots += "a = 1";
    CHECK_FALSE(error_of(nots).empty());
    std::string lists = "SELECT * FROM t WHERE a = " + std::string(5000, '[') + std::string(5000, ']');
    CHECK(error_of(lists).find("too many nesting levels") != std::string::npos);
    std::string ors = "SELECT * FROM t WHERE a = 1";
    for (int i = 0; i < 400; ++i) ors += " OR a = 1";
    CHECK(error_of(ors).find("too many operators") != std::string::npos);
}

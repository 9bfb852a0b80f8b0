// Internal to dynamo/expr: the tokens, the AST every expression kind shares, and the
// helpers the parser, the resolver and the evaluators have in common. Not for operations:
// they use expr.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dynamo/expr/expr.hpp"

namespace stratus::dynamo::expr::detail {

// ---- tokens

enum class Tok : std::uint8_t {
    name,       // attribute name, keyword or function name: [A-Za-z_][A-Za-z0-9_]*
    name_ref,   // #[A-Za-z0-9_]+
    value_ref,  // :[A-Za-z0-9_]+
    number,     // [0-9]+ (list indexes)
    lparen, rparen, lbracket, rbracket, comma, dot,
    eq, ne, lt, le, gt, ge, plus, minus,
    invalid,    // any other character (reported when the parser reaches it)
    eof,
};

struct Token {
    Tok kind = Tok::eof;
    std::size_t pos = 0;  // byte offset in the expression
    std::size_t len = 0;
};

// Never throws: bad characters become Tok::invalid so the parser reports the first error
// in reading order, with its neighbours as context. Always ends with one Tok::eof.
std::vector<Token> tokenize(std::string_view src);

// ---- AST

enum class NodeKind : std::uint8_t {
    path, value, function,
    compare, between, in,            // children: operands
    logical_and, logical_or,         // n-ary, flattened (a AND b AND c is one node)
    logical_not,
    plus, minus,                     // SET a = x + y
};

enum class Cmp : std::uint8_t { eq, ne, lt, le, gt, ge };

enum class Fn : std::uint8_t {
    attribute_exists, attribute_not_exists, attribute_type, begins_with, contains, size,
    if_not_exists, list_append,
};

// A path step as written, before #n resolution.
struct RawStep {
    enum class Kind : std::uint8_t { name, ref, index };
    Kind kind = Kind::name;
    std::string text;          // the name, or "#ref"
    std::uint32_t index = 0;
};

struct Node {
    NodeKind kind = NodeKind::value;
    Cmp cmp = Cmp::eq;
    Fn fn = Fn::size;
    std::size_t pos = 0;        // offset of the node's first token
    bool parenthesized = false; // a condition written in parentheses (for redundant ones)
    std::string text;           // ":v" or the function name, as written
    std::vector<RawStep> raw;   // path as written
    Path path;                  // path, resolved
    // :v, resolved: shared with the Context, never copied, so a large value used a
    // thousand times costs one copy (and the node stays small for the parser's stack).
    std::shared_ptr<const AttributeValue> shared;
    std::vector<Node> children;

    const AttributeValue& value() const { return *shared; }
};

enum class ActionKind : std::uint8_t { set, remove, add, del };

struct Action {
    ActionKind kind = ActionKind::set;
    Node target;  // a path
    Node value;   // SET: right-hand side; ADD/DELETE: the :value; REMOVE: unused
};

struct UpdateAst {
    std::vector<Action> actions;  // in expression order
};

struct ProjectionTree {
    bool leaf = false;
    std::map<std::string, ProjectionTree> fields;
    std::map<std::uint32_t, ProjectionTree> indexes;
};

// ---- parsing (parser.cpp). `text` must already be checked for size and emptiness.

Node parse_condition(std::string_view text, Kind kind);
UpdateAst parse_update(std::string_view text);
std::vector<Node> parse_projection(std::string_view text);

// ---- shared helpers (common.cpp)

// Throws ValidationException "Invalid <Kind>: <why>".
[[noreturn]] void fail(Kind kind, std::string_view why);
std::string_view cmp_name(Cmp c);   // "=", "<>", ...
std::string_view fn_name(Fn f);     // "attribute_exists", ...
// Type names as the "operator: ADD" messages spell them: "STRING", "MAP", ... (the short
// "S", "NULL" of other messages are dynamo::type_name).
std::string_view long_type(Type t);
// "AttributeValue: {N:5}", as the BETWEEN messages show operands.
std::string describe_value(const AttributeValue& v);

// ---- evaluation (eval.cpp)

// The value at `path` in `item`, or nullptr when any step is missing or of the wrong type.
const AttributeValue* lookup(const Item& item, const Path& path);
bool evaluate(const Node& n, const Item& item);

}  // namespace stratus::dynamo::expr::detail

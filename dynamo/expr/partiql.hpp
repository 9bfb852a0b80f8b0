// DynamoDB's PartiQL dialect: SELECT, INSERT, UPDATE, DELETE and (in transactions) EXISTS,
// parsed into an AST, bound to the request's `?` parameters, and turned into the
// expression language's text with #n / :v placeholders (Renderer), so conditions,
// filters, projections and updates are evaluated by the one expression evaluator and
// writes go through PutItem / UpdateItem / DeleteItem / TransactWriteItems.
//
//   using namespace stratus::dynamo;
//   partiql::Statement st = partiql::parse(text);        // syntax only
//   partiql::bind(st, parameters);                       // `?` -> values, literal checks
//   partiql::Renderer r;
//   std::string filter = r.condition(*st.where);        // "#p0 = :v0 AND size(#p1) > :v1"
//   expr::Context ctx(r.take_names(), r.take_values());
//
// Grammar (DynamoDB developer guide, "PartiQL - a SQL-compatible query language"):
//   select   ::= SELECT ('*' | path {',' path}) FROM source [WHERE cond]
//                [ORDER BY name [ASC|DESC] {',' ...}]
//   source   ::= name ['.' name]                  ("table"."index")
//   insert   ::= INSERT INTO name VALUE value
//   update   ::= UPDATE name (SET path '=' setval {',' path '=' setval} | REMOVE path {',' path})+
//                WHERE cond [RETURNING (ALL|MODIFIED) (OLD|NEW) '*']
//   delete   ::= DELETE FROM name WHERE cond [RETURNING ALL OLD '*']
//   exists   ::= EXISTS '(' select ')'           (ExecuteTransaction only)
//   cond     ::= or;  or ::= and {OR and};  and ::= not {AND not};  not ::= NOT not | pred
//   pred     ::= '(' cond ')' | function | operand (cmp operand | [NOT] BETWEEN operand AND
//                operand | [NOT] IN list | IS [NOT] (MISSING | NULL))
//   operand  ::= path | literal | '?' | size '(' path ')'
//   setval   ::= operand [('+' | '-') operand] | list_append(..) | set_add(path, ..) |
//                set_delete(path, ..) | if_not_exists(path, ..)
//   literal  ::= 'string' | number | TRUE | FALSE | NULL | '[' .. ']' | '{' 'k': v, .. '}' | '<<' .. '>>'
//   path     ::= name {'.' name | '[' digits ']' | '[' 'string' ']'};  name ::= ident | "quoted"
// Keywords are case-insensitive; names are case-sensitive.
//
// Every error is a core::AwsError ValidationException. AWS documents none of PartiQL's
// syntax error texts; ours all start as AWS's do ("Statement wasn't well formed, can't be
// processed: ") and name the token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dynamo/expr/expr.hpp"
#include "dynamo/model/value.hpp"

namespace stratus::dynamo::partiql {

// DynamoDB's statement length limit (the botocore model: PartiQLStatement max 8192).
inline constexpr std::size_t max_statement_bytes = 8192;

enum class ExprKind : std::uint8_t {
    path, literal, param, list, map, bag,   // operands (list / map / bag until bound)
    compare, between, in, is_missing, is_null,
    logical_and, logical_or, logical_not,
    function,                               // begins_with, contains, attribute_type, size, ...
    plus, minus,                            // SET a = b + 1
};

enum class Cmp : std::uint8_t { eq, ne, lt, le, gt, ge };

struct Expr {
    ExprKind kind = ExprKind::literal;
    Cmp cmp = Cmp::eq;
    bool negated = false;          // NOT BETWEEN, NOT IN, IS NOT MISSING, IS NOT NULL
    std::string name;              // function name, lower case
    expr::Path path;               // path
    AttributeValue value;          // literal (and every bound list / map / bag / param)
    std::vector<std::string> keys; // map: the keys of `children`, in order
    std::size_t param = 0;         // param: 0-based position among the statement's `?`
    std::size_t pos = 0;           // byte offset in the statement
    std::vector<Expr> children;
};

enum class Kind : std::uint8_t { select, insert, update, del, exists };
enum class Returning : std::uint8_t { none, all_old, modified_old, all_new, modified_new };

struct SetAction {
    bool remove = false;
    expr::Path path;
    Expr value;  // SET's right-hand side
};

struct OrderBy {
    std::string name;
    bool descending = false;
};

struct Statement {
    Kind kind = Kind::select;
    std::string table;
    std::optional<std::string> index;     // SELECT ... FROM "table"."index"
    bool select_all = true;               // SELECT *
    std::vector<expr::Path> projection;   // SELECT a, b.c
    std::optional<Expr> where;
    std::vector<OrderBy> order_by;
    Expr value;                           // INSERT's item (a map)
    std::vector<SetAction> actions;       // UPDATE's SET / REMOVE, in statement order
    Returning returning = Returning::none;
    std::size_t parameters = 0;           // how many `?`
};

// Parses one statement. `allow_exists`: EXISTS(SELECT ...) is a statement of its own
// (ExecuteTransaction's condition check).
Statement parse(std::string_view text, bool allow_exists = false);

// Replaces every `?` by its parameter and folds list / map / bag literals into values,
// checking them as DynamoDB checks attribute values (sets non-empty, of one type).
// "Number of parameters in request and statement don't match." when the counts differ.
void bind(Statement& st, const std::vector<AttributeValue>& parameters);

// Turns bound expressions into the expression language's text, collecting the
// placeholders: every name becomes #pN (one per distinct name), every value :vN.
class Renderer {
public:
    std::string condition(const Expr& e);
    std::string operand(const Expr& e);
    std::string path(const expr::Path& p);
    std::string name(const std::string& n);
    std::string value(const AttributeValue& v);
    // "SET #p0 = :v0, ... REMOVE #p1 ADD #p2 :v1 DELETE #p3 :v2"
    std::string update(const std::vector<SetAction>& actions);

    expr::Names take_names() { return std::move(names_); }
    expr::Values take_values() { return std::move(values_); }
    const expr::Names& names() const { return names_; }
    const expr::Values& values() const { return values_; }

private:
    std::string logical(const Expr& e, std::string_view word);
    expr::Names names_;
    std::map<std::string, std::string> name_refs_;  // attribute name -> #pN
    expr::Values values_;
};

// The top-level conjuncts of a WHERE (a AND (b AND c) -> a, b, c).
std::vector<const Expr*> conjuncts(const Expr& where);
// When `e` is `name = value` (either way round) on a top-level attribute: the name, and
// the value's node.
std::optional<std::pair<std::string, const Expr*>> equality(const Expr& e);

}  // namespace stratus::dynamo::partiql

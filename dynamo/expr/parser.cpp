// Tokenizer and recursive-descent parser for every DynamoDB expression kind. The parser
// only builds the AST and reports what the grammar alone decides: syntax errors, unknown
// functions and their arity, operator and nesting limits. #n / :v resolution and type
// checks of :values happen afterwards (context.cpp).
//
// Grammar (DynamoDB developer guide, "Comparison operator and function reference" and
// "Update expressions"); keywords are case-insensitive, function names are not:
//   condition ::= or
//   or        ::= and { OR and }
//   and       ::= not { AND not }
//   not       ::= NOT not | primary
//   primary   ::= '(' condition ')'
//               | operand comparator operand
//               | operand BETWEEN operand AND operand
//               | operand IN '(' operand { ',' operand } ')'
//               | function                  (attribute_exists, begins_with, ...)
//   operand   ::= path | :value | size '(' path ')'
//   path      ::= (name | #name) { '.' (name | #name) | '[' digits ']' }
//   update    ::= clause { clause },  each of SET / REMOVE / ADD / DELETE at most once
//   SET a = value {, ...}        value ::= uoperand [ ('+' | '-') uoperand ]
//   uoperand  ::= path | :value | if_not_exists(path, uoperand) | list_append(uoperand, uoperand)
//   REMOVE path {, path}   ADD path :value {, ...}   DELETE path :value {, ...}
//   projection ::= path { ',' path }
//
// Recursion happens only through parentheses, NOT and function arguments, each guarded by
// max_nesting before descending, and AND / OR chains are flattened into one n-ary node,
// so neither parsing nor evaluating a hostile expression can exhaust the stack.
#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "dynamo/expr/ast.hpp"

namespace stratus::dynamo::expr::detail {

namespace {

// DynamoDB's names start with a letter: "_x" is a syntax error at "_".
bool ident_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0;
}
bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// Bytes of the UTF-8 sequence a lead byte starts, so a bad token is a whole character and
// the messages quoting it stay valid UTF-8.
std::size_t utf8_length(unsigned char c) {
    if (c >= 0xF0 && c < 0xF8) return 4;
    if (c >= 0xE0) return c < 0xF0 ? 3 : 1;
    if (c >= 0xC0) return 2;
    return 1;
}

struct FunctionInfo {
    std::string_view name;
    Fn fn;
    std::size_t arity;
    bool update;  // allowed in UpdateExpression (and only there)
};
// Function names are case-sensitive in DynamoDB ("Size(a)" is an invalid function name).
constexpr std::array<FunctionInfo, 8> functions = {{
    {"attribute_exists", Fn::attribute_exists, 1, false},
    {"attribute_not_exists", Fn::attribute_not_exists, 1, false},
    {"attribute_type", Fn::attribute_type, 2, false},
    {"begins_with", Fn::begins_with, 2, false},
    {"contains", Fn::contains, 2, false},
    {"size", Fn::size, 1, false},
    {"if_not_exists", Fn::if_not_exists, 2, true},
    {"list_append", Fn::list_append, 2, true},
}};

const FunctionInfo* find_function(std::string_view name) {
    for (const auto& f : functions)
        if (f.name == name) return &f;
    return nullptr;
}

bool comparator(Tok t, Cmp& out) {
    switch (t) {
    case Tok::eq: out = Cmp::eq; return true;
    case Tok::ne: out = Cmp::ne; return true;
    case Tok::lt: out = Cmp::lt; return true;
    case Tok::le: out = Cmp::le; return true;
    case Tok::gt: out = Cmp::gt; return true;
    case Tok::ge: out = Cmp::ge; return true;
    default: return false;
    }
}

class Parser {
public:
    Parser(std::string_view src, Kind kind) : src_(src), kind_(kind), toks_(tokenize(src)) {}

    Node condition() {
        Node n = parse_or();
        if (cur().kind != Tok::eof) syntax_error();
        return n;
    }

    UpdateAst update() {
        UpdateAst ast;
        static constexpr std::array<std::string_view, 4> clauses = {"SET", "REMOVE", "ADD", "DELETE"};
        std::array<bool, 4> seen{};
        while (cur().kind != Tok::eof) {
            std::size_t c = 0;
            while (c < clauses.size() && !keyword(cur(), clauses[c])) ++c;
            if (c == clauses.size()) syntax_error();
            if (seen[c])
                fail(kind_, fmt::format("The \"{}\" section can only be used once in an update expression;",
                                        clauses[c]));
            seen[c] = true;
            ++i_;
            auto action_kind = static_cast<ActionKind>(c);  // same order as `clauses`
            for (;;) {
                Action a;
                a.kind = action_kind;
                a.target = parse_path();
                if (action_kind == ActionKind::set) {
                    expect(Tok::eq);
                    a.value = parse_set_value();
                } else if (action_kind != ActionKind::remove) {
                    // ADD and DELETE take a :value only, never a path or a function.
                    if (cur().kind != Tok::value_ref) syntax_error();
                    a.value = value_node();
                }
                ast.actions.push_back(std::move(a));
                if (cur().kind != Tok::comma) break;
                ++i_;
            }
        }
        return ast;
    }

    std::vector<Node> projection() {
        std::vector<Node> out;
        for (;;) {
            out.push_back(parse_path());
            if (cur().kind != Tok::comma) break;
            ++i_;
        }
        if (cur().kind != Tok::eof) syntax_error();
        return out;
    }

private:
    std::string_view src_;
    Kind kind_;
    std::vector<Token> toks_;
    std::size_t i_ = 0;
    std::size_t depth_ = 0;
    std::size_t operators_ = 0;

    // Counts one level of parentheses / NOT / function call, refusing to go deeper than
    // max_nesting before the caller recurses.
    class Nest {
    public:
        explicit Nest(Parser& p) : p_(p) {
            if (++p_.depth_ > max_nesting)
                fail(p_.kind_, fmt::format("The expression has too many nesting levels; nesting levels: {}",
                                           p_.depth_));
        }
        ~Nest() { --p_.depth_; }
        Nest(const Nest&) = delete;
        Nest& operator=(const Nest&) = delete;

    private:
        Parser& p_;
    };

    const Token& cur() const { return toks_[i_]; }
    const Token& ahead(std::size_t k) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
    std::string_view text(const Token& t) const { return src_.substr(t.pos, t.len); }

    bool keyword(const Token& t, std::string_view kw) const {
        return t.kind == Tok::name && iequals(text(t), kw);
    }
    // Words the grammar of this kind uses, which therefore cannot start a path. Elsewhere
    // they are plain (reserved) names: "SET and = :v" is "reserved keyword: and".
    bool grammar_keyword(const Token& t) const {
        if (t.kind != Tok::name) return false;
        std::string_view w = text(t);
        if (kind_ == Kind::update)
            return iequals(w, "SET") || iequals(w, "REMOVE") || iequals(w, "ADD") || iequals(w, "DELETE");
        if (kind_ == Kind::projection) return false;
        return iequals(w, "AND") || iequals(w, "OR") || iequals(w, "NOT") || iequals(w, "BETWEEN") ||
               iequals(w, "IN");
    }

    // DynamoDB quotes the offending token and the text from the token before it to the
    // token after it: "Syntax error; token: \"-\", near: \"a-b\""; at the end the token is
    // "<EOF>" and the context is the last token. (The exact extent of "near" is our
    // reading of AWS's messages, not documented.)
    [[noreturn]] void syntax_error() const {
        const Token& t = cur();
        std::string token = t.kind == Tok::eof ? std::string("<EOF>") : std::string(text(t));
        std::size_t start = i_ > 0 ? toks_[i_ - 1].pos : t.pos;
        std::size_t end = t.pos + t.len;
        if (t.kind == Tok::eof)
            end = i_ > 0 ? toks_[i_ - 1].pos + toks_[i_ - 1].len : t.pos;
        else if (toks_[i_ + 1].kind != Tok::eof)
            end = toks_[i_ + 1].pos + toks_[i_ + 1].len;
        fail(kind_, fmt::format("Syntax error; token: \"{}\", near: \"{}\"", token, src_.substr(start, end - start)));
    }

    void expect(Tok k) {
        if (cur().kind != k) syntax_error();
        ++i_;
    }

    // AWS: "The maximum number of operators or functions allowed in an UpdateExpression is
    // 300"; we apply it to every kind. The message is ours: AWS's wording is unknown.
    void count_operator() {
        if (++operators_ > max_operators)
            fail(kind_, fmt::format("The expression contains too many operators; operator count: {}", operators_));
    }

    // ---- conditions

    // The recursive chain of parentheses (or -> and -> not -> primary -> or) keeps its
    // frames small: n-ary groups and predicates, with their several Nodes, live in
    // separate non-inlined functions off that path (about 1 KB of stack per level at -O2).
    Node parse_or() {
        Nest nest(*this);
        Node first = parse_and();
        if (!keyword(cur(), "OR")) return first;
        return parse_group_of(NodeKind::logical_or, std::move(first));
    }

    Node parse_and() {
        Node first = parse_not();
        if (!keyword(cur(), "AND")) return first;
        return parse_group_of(NodeKind::logical_and, std::move(first));
    }

    // a AND b AND c (or OR) as one n-ary node, so long chains add no depth.
    [[gnu::noinline]] Node parse_group_of(NodeKind kind, Node&& first) {
        const std::string_view word = kind == NodeKind::logical_or ? "OR" : "AND";
        Node n;
        n.kind = kind;
        n.pos = first.pos;
        n.children.push_back(std::move(first));
        while (keyword(cur(), word)) {
            ++i_;
            count_operator();
            n.children.push_back(kind == NodeKind::logical_or ? parse_and() : parse_not());
        }
        return n;
    }

    Node parse_not() {
        if (!keyword(cur(), "NOT")) return parse_primary();
        Node n;
        n.kind = NodeKind::logical_not;
        n.pos = cur().pos;
        ++i_;
        count_operator();
        Nest nest(*this);
        n.children.push_back(parse_not());
        return n;
    }

    // "((a = :v))": DynamoDB refuses parentheses directly around a parenthesised condition.
    Node parse_primary() {
        if (cur().kind != Tok::lparen || parenthesized_operand_ahead()) return parse_predicate();
        ++i_;
        Node n = parse_or();
        expect(Tok::rparen);
        if (n.parenthesized) fail(kind_, "The expression has redundant parentheses;");
        n.parenthesized = true;
        return n;
    }

    // operand comparator operand | BETWEEN | IN | a boolean function.
    [[gnu::noinline]] Node parse_predicate() {
        Node left = parse_operand();
        Cmp cmp;
        Node n;
        n.pos = left.pos;
        if (comparator(cur().kind, cmp)) {
            ++i_;
            count_operator();
            n.kind = NodeKind::compare;
            n.cmp = cmp;
            Node right = parse_operand();
            require_operand(left);
            require_operand(right);
            n.children.push_back(std::move(left));
            n.children.push_back(std::move(right));
            check_distinct(n, cmp_name(cmp));
            return n;
        }
        if (keyword(cur(), "BETWEEN")) {
            ++i_;
            count_operator();
            n.kind = NodeKind::between;
            require_operand(left);
            n.children.push_back(std::move(left));
            n.children.push_back(parse_operand());
            if (!keyword(cur(), "AND")) syntax_error();
            ++i_;
            n.children.push_back(parse_operand());
            require_operand(n.children[1]);
            require_operand(n.children[2]);
            check_distinct(n, "BETWEEN");
            return n;
        }
        if (keyword(cur(), "IN")) {
            ++i_;
            count_operator();
            n.kind = NodeKind::in;
            require_operand(left);
            n.children.push_back(std::move(left));
            expect(Tok::lparen);
            for (;;) {
                n.children.push_back(parse_operand());
                require_operand(n.children.back());
                if (cur().kind != Tok::comma) break;
                ++i_;
            }
            expect(Tok::rparen);
            // AWS: "The maximum number of operands for the IN comparator is 100". The
            // wording of the message is our guess.
            if (n.children.size() - 1 > max_in_operands)
                fail(kind_, fmt::format("The IN operator is provided with too many operands; number of operands: {}",
                                        n.children.size() - 1));
            check_distinct(n, "IN");
            return n;
        }
        if (left.kind == NodeKind::function) {
            // A function standing alone must be a boolean one: size(a) is not a condition.
            if (left.fn == Fn::size) not_this_way(left);
            return left;
        }
        syntax_error();
    }

    // "a = a", "contains(a, a)": DynamoDB refuses an operator whose first operand, a
    // document path, appears again among the others (paths compared as written, since
    // #names are not resolved yet; ours and AWS's agree for plain names).
    void check_distinct(const Node& n, std::string_view op) const {
        const Node& first = n.children[0];
        if (first.kind != NodeKind::path) return;
        for (std::size_t k = 1; k < n.children.size(); ++k) {
            const Node& o = n.children[k];
            if (o.kind != NodeKind::path || o.raw.size() != first.raw.size()) continue;
            bool same = true;
            for (std::size_t s = 0; s < o.raw.size() && same; ++s)
                same = o.raw[s].kind == first.raw[s].kind && o.raw[s].text == first.raw[s].text &&
                       o.raw[s].index == first.raw[s].index;
            if (!same) continue;
            std::string shown;
            for (const RawStep& step : first.raw)
                shown += step.kind == RawStep::Kind::index ? "[" + step.text + "]"
                                                           : (shown.empty() ? "" : ".") + step.text;
            fail(kind_, fmt::format("The first operand must be distinct from the remaining operands for this operator "
                                    "or function; operator: {}, first operand: [{}]",
                                    op, shown));
        }
    }

    // Operands of comparisons are paths, :values or size(); the boolean functions are not.
    void require_operand(const Node& n) const {
        if (n.kind == NodeKind::function && n.fn != Fn::size) not_this_way(n);
    }

    // Wording recalled from DynamoDB, not verified against the service.
    [[noreturn]] void not_this_way(const Node& fn) const {
        fail(kind_, fmt::format("The function is not allowed to be used this way in an expression; function: {}",
                                fn.text));
    }

    // Whether the '(' here opens an operand ("(a) = :v", "(size(a)) > :n") rather than a
    // condition: the token after its matching ')' is a comparator, BETWEEN or IN.
    bool parenthesized_operand_ahead() const {
        std::size_t depth = 0, k = 0;
        for (;; ++k) {
            Tok t = ahead(k).kind;
            if (t == Tok::eof) return false;
            if (t == Tok::lparen) ++depth;
            if (t == Tok::rparen && --depth == 0) break;
        }
        const Token& after = ahead(k + 1);
        Cmp cmp;
        return comparator(after.kind, cmp) || keyword(after, "BETWEEN") || keyword(after, "IN");
    }

    // path | :value | function call, in every kind; parse_call decides which functions the
    // kind admits (size in conditions, if_not_exists / list_append in updates). Outside
    // updates an operand may stand in one pair of parentheses; two pairs are redundant
    // (dynalite's grammar, written against DynamoDB: "(a) = :v" passes, "((a)) = :v" not).
    Node parse_operand() {
        const Token& t = cur();
        if (t.kind == Tok::lparen) {
            ++i_;
            if (cur().kind == Tok::lparen) {
                // Updates have no redundant-parentheses rule: a second pair is simply not
                // in their grammar (dynalite's update grammar).
                if (kind_ == Kind::update) syntax_error();
                fail(kind_, "The expression has redundant parentheses;");
            }
            Node n = parse_operand();
            expect(Tok::rparen);
            return n;
        }
        if (t.kind == Tok::value_ref) return value_node();
        if (t.kind == Tok::name && !grammar_keyword(t) && ahead(1).kind == Tok::lparen) return parse_call();
        return parse_path();
    }

    // ---- update values

    // A SET value may also stand in parentheses as a whole: "SET a = (b + :n)" (its
    // operands may too, one pair each), as dynalite's update grammar has it.
    Node parse_set_value() {
        if (cur().kind == Tok::lparen) {
            std::size_t depth = 0, k = 0;
            for (;; ++k) {
                Tok tk = ahead(k).kind;
                if (tk == Tok::eof) break;
                if (tk == Tok::lparen) ++depth;
                if (tk == Tok::rparen && --depth == 0) break;
            }
            Tok after = ahead(k + 1).kind;
            if (ahead(k).kind == Tok::rparen && after != Tok::plus && after != Tok::minus) {
                ++i_;
                Node n = parse_arithmetic();
                expect(Tok::rparen);
                return n;
            }
        }
        return parse_arithmetic();
    }

    Node parse_arithmetic() {
        Node left = parse_operand();
        if (cur().kind != Tok::plus && cur().kind != Tok::minus) return left;
        Node n;
        n.kind = cur().kind == Tok::plus ? NodeKind::plus : NodeKind::minus;
        n.pos = left.pos;
        ++i_;
        count_operator();
        n.children.push_back(std::move(left));
        n.children.push_back(parse_operand());
        return n;
    }

    // ---- shared pieces

    Node value_node() {
        Node n;
        n.kind = NodeKind::value;
        n.pos = cur().pos;
        n.text = std::string(text(cur()));
        ++i_;
        return n;
    }

    Node parse_call() {
        const Token& t = cur();
        std::string name(text(t));
        const FunctionInfo* info = find_function(name);
        if (!info) fail(kind_, fmt::format("Invalid function name; function: {}", name));
        // A function of the other kind is unknown to this one: dynalite, written against
        // DynamoDB, answers "Invalid function name" for size in an update and for
        // if_not_exists / list_append in a condition.
        if (info->update != (kind_ == Kind::update)) fail(kind_, fmt::format("Invalid function name; function: {}", name));
        count_operator();
        Nest nest(*this);
        Node n;
        n.kind = NodeKind::function;
        n.fn = info->fn;
        n.text = name;
        n.pos = t.pos;
        ++i_;
        expect(Tok::lparen);
        if (cur().kind != Tok::rparen) {
            for (;;) {
                n.children.push_back(parse_operand());
                if (cur().kind != Tok::comma) break;
                ++i_;
            }
        }
        expect(Tok::rparen);
        if (n.children.size() != info->arity)
            fail(kind_, fmt::format("Incorrect number of operands for operator or function; "
                                    "operator or function: {}, number of operands: {}",
                                    name, n.children.size()));
        // In conditions a function's arguments are paths, :values and size(...) (whose type
        // is N, checked with the :values' types); the boolean functions are never arguments.
        // Rules as dynalite (written against DynamoDB) applies them.
        if (kind_ != Kind::update)
            for (const Node& arg : n.children)
                if (arg.kind == NodeKind::function && arg.fn != Fn::size) not_this_way(arg);
        // attribute_type, begins_with and size also take a :value or size() first (AWS accepts
        // "begins_with(:v, :p)"); the others need a document path.
        bool value_first = info->fn == Fn::attribute_type || info->fn == Fn::begins_with || info->fn == Fn::size;
        if (info->fn != Fn::list_append && n.children[0].kind != NodeKind::path &&
            !(value_first && n.children[0].kind != NodeKind::path))
            fail(kind_, fmt::format("Operator or function requires a document path; operator or function: {}", name));
        // attribute_type's type is a :value; for a path, whose type is not known before an
        // item is read, DynamoDB names every type (dynalite's wording, in Java's set order).
        if (info->fn == Fn::attribute_type && n.children[1].kind == NodeKind::path)
            fail(kind_, "Incorrect operand type for operator or function; operator or function: attribute_type, "
                        "operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}");
        if (info->fn == Fn::contains || info->fn == Fn::begins_with) check_distinct(n, name);
        return n;
    }

    Node parse_path() {
        Node n;
        n.kind = NodeKind::path;
        const Token& first = cur();
        n.pos = first.pos;
        if (first.kind == Tok::name_ref)
            n.raw.push_back({RawStep::Kind::ref, std::string(text(first)), 0});
        else if (first.kind == Tok::name && !grammar_keyword(first))
            n.raw.push_back({RawStep::Kind::name, std::string(text(first)), 0});
        else
            syntax_error();
        ++i_;
        for (;;) {
            if (cur().kind == Tok::dot) {
                ++i_;
                const Token& t = cur();
                if (t.kind == Tok::name)
                    n.raw.push_back({RawStep::Kind::name, std::string(text(t)), 0});
                else if (t.kind == Tok::name_ref)
                    n.raw.push_back({RawStep::Kind::ref, std::string(text(t)), 0});
                else
                    syntax_error();
                ++i_;
            } else if (cur().kind == Tok::lbracket) {
                ++i_;
                const Token& t = cur();
                if (t.kind != Tok::number) syntax_error();
                std::uint64_t index = 0;
                for (char c : text(t)) {
                    index = index * 10 + static_cast<unsigned>(c - '0');
                    // An index beyond what a 400 KB item can hold; AWS's message for it
                    // is unknown, so it is reported as a syntax error on the number.
                    if (index > 0xFFFFFFFFu) syntax_error();
                }
                n.raw.push_back({RawStep::Kind::index, std::string(text(t)), static_cast<std::uint32_t>(index)});
                ++i_;
                expect(Tok::rbracket);
            } else {
                break;
            }
            // AWS documents 32 levels of nesting; the message is recalled, not verified.
            if (n.raw.size() > max_path_depth)
                fail(kind_, fmt::format("The document path has too many nesting levels; nesting levels: {}",
                                        n.raw.size()));
        }
        return n;
    }
};

}  // namespace

std::vector<Token> tokenize(std::string_view s) {
    std::vector<Token> out;
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        const char c = s[i];
        if (space(c)) {
            ++i;
            continue;
        }
        const std::size_t start = i;
        Tok kind = Tok::invalid;
        if (ident_start(c)) {
            while (i < n && ident_char(s[i])) ++i;
            kind = Tok::name;
        } else if (std::isdigit(static_cast<unsigned char>(c))) {
            // "1a" is one bad token, not a number followed by a name.
            bool digits = true;
            for (; i < n && ident_char(s[i]); ++i)
                if (!std::isdigit(static_cast<unsigned char>(s[i]))) digits = false;
            kind = digits ? Tok::number : Tok::invalid;
        } else if (c == '#' || c == ':') {
            ++i;
            const std::size_t body = i;
            while (i < n && ident_char(s[i])) ++i;
            kind = i == body ? Tok::invalid : c == '#' ? Tok::name_ref : Tok::value_ref;
        } else {
            ++i;
            switch (c) {
            case '(': kind = Tok::lparen; break;
            case ')': kind = Tok::rparen; break;
            case '[': kind = Tok::lbracket; break;
            case ']': kind = Tok::rbracket; break;
            case ',': kind = Tok::comma; break;
            case '.': kind = Tok::dot; break;
            case '=': kind = Tok::eq; break;
            case '+': kind = Tok::plus; break;
            case '-': kind = Tok::minus; break;
            case '<':
                kind = Tok::lt;
                if (i < n && s[i] == '=') kind = Tok::le, ++i;
                else if (i < n && s[i] == '>') kind = Tok::ne, ++i;
                break;
            case '>':
                kind = Tok::gt;
                if (i < n && s[i] == '=') kind = Tok::ge, ++i;
                break;
            default:
                i = std::min(n, start + utf8_length(static_cast<unsigned char>(c)));
                break;
            }
        }
        out.push_back({kind, start, i - start});
    }
    out.push_back({Tok::eof, n, 0});
    return out;
}

Node parse_condition(std::string_view text, Kind kind) { return Parser(text, kind).condition(); }
UpdateAst parse_update(std::string_view text) { return Parser(text, Kind::update).update(); }
std::vector<Node> parse_projection(std::string_view text) { return Parser(text, Kind::projection).projection(); }

}  // namespace stratus::dynamo::expr::detail
